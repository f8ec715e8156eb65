"""Actions on a fund's rules: drafting and publishing versions, evaluating applications under
them, previewing a version on the pending applications and re-evaluating them.

Each action is one transaction with its audit event. Editing, publishing and re-evaluating the
pending applications need ``manage_fund``; evaluating one application needs ``decide`` or
``manage_fund`` (or is done by the platform itself, ``actor=None``, after a submission).

Which date an application is evaluated at: the day it was submitted, in the fund's time zone
(``evaluation_date`` of the rules, e.g. "does not receive benefits *now*"). The version that
applies is the published one with the latest ``effective_from`` on or before that day, unless
an operator explicitly re-evaluates the pending applications under another published version.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.audit import services as audit
from entraide.core.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from entraide.evidence import selectors as evidence_selectors
from entraide.funds import ledger
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities, require
from entraide.rules import selectors
from entraide.rules.document import Problem, RuleDocument, RuleDocumentError, build, load
from entraide.rules.engine import CENT, Evaluation, FactError, evaluate, explain, facts_from
from entraide.rules.models import ApplicationEvaluation, RuleSet, RuleSetVersion
from entraide.rules.records import PersonEvidence

# Applications not decided yet: what a new version may still change.
PENDING_STATUSES = (
    Application.Status.RECEIVED,
    Application.Status.UNDER_REVIEW,
    Application.Status.INFO_REQUESTED,
    Application.Status.WAITLISTED,
)
# Above this many pending applications, re-evaluating them runs as a background task.
SYNC_REEVALUATION_LIMIT = 500
REEVALUATION_CHUNK = 200
EVALUATING_CAPABILITIES = frozenset({Capability.DECIDE, Capability.MANAGE_FUND})


class RuleDocumentInvalid(ValidationFailed):
    """The document does not validate; ``problems`` says what, each with its document path."""

    code = "rule_document_invalid"
    default_message = _("The rules have problems: each one is shown where it is.")

    def __init__(self, problems: list[Problem], message: Any = None) -> None:
        super().__init__(message, field="source")
        self.problems = problems


class NoRulesInForce(DomainError):
    code = "no_rules_in_force"
    default_message = _("No published version of the fund's rules applies to this application.")


class FactsUnreadable(DomainError):
    code = "facts_unreadable"
    default_message = _("What the applicant declared cannot be read by the rules.")


class PreviewOutdated(DomainError):
    code = "preview_outdated"
    default_message = _(
        "The pending applications or their evidence changed since the preview. "
        "Check the new figures, then confirm again."
    )


# -- drafting and publishing ----------------------------------------------------------------


def validate_source(source: str, *, fund: Fund) -> RuleDocument:
    """The document, or :class:`RuleDocumentInvalid` with every problem and its path."""
    try:
        document = load(source)
    except RuleDocumentError as error:
        raise RuleDocumentInvalid(error.problems) from None
    if document.currency != fund.currency:
        raise RuleDocumentInvalid(
            [
                Problem(
                    "currency",
                    gettext("the fund pays in %(currency)s") % {"currency": fund.currency},
                )
            ]
        )
    return document


def _digest_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_draft(*, actor: Any, fund: Fund, source: str) -> RuleSetVersion:
    """Validate ``source`` and keep it as the fund's draft version (the next number if there is
    no draft yet). A document with problems is refused with all of them."""
    document = validate_source(source, fund=fund)
    values = {
        "source": source,
        "document": document.source,
        "label": document.version[:100],
        "effective_from": document.effective_from,
    }
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        rule_set, _created = RuleSet.objects.get_or_create(fund=fund)
        # Drafts of one fund queue here: two first saves cannot both create version n + 1.
        rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
        draft = RuleSetVersion.objects.filter(
            rule_set=rule_set, status=RuleSetVersion.Status.DRAFT
        ).first()
        if draft is None:
            number = (rule_set.versions.aggregate(top=Max("number"))["top"] or 0) + 1
            draft = RuleSetVersion.objects.create(
                rule_set=rule_set, number=number, created_by=actor, **values
            )
            audit.record(
                actor=actor,
                action="rule_version.draft_created",
                obj=draft,
                changes=audit.created(
                    {
                        "number": number,
                        "label": draft.label,
                        "effective_from": draft.effective_from,
                        "source_sha256": _digest_text(source),
                    }
                ),
                fund_id=fund.pk,
            )
            return draft
        before = {
            "label": draft.label,
            "effective_from": draft.effective_from,
            "source_sha256": _digest_text(draft.source),
        }
        for name, value in values.items():
            setattr(draft, name, value)
        draft.save(update_fields=list(values))
        after = {
            "label": draft.label,
            "effective_from": draft.effective_from,
            "source_sha256": _digest_text(source),
        }
        audit.record(
            actor=actor,
            action="rule_version.draft_saved",
            obj=draft,
            changes={"number": draft.number, **audit.diff(before, after)},
            fund_id=fund.pk,
        )
    return draft


def start_draft(*, actor: Any, fund: Fund) -> RuleSetVersion:
    """The fund's draft: the one being prepared, or a new one copied from the latest version
    (or from a small starting document when the fund has no rules yet)."""
    from entraide.rules.editor import starter_source

    require(actor, fund, Capability.MANAGE_FUND)
    draft = selectors.draft_of(fund)
    if draft is not None:
        return draft
    latest = selectors.latest_version(fund)
    source = latest.source if latest is not None else starter_source(fund)
    return save_draft(actor=actor, fund=fund, source=source)


def publish_version(*, actor: Any, version: RuleSetVersion) -> RuleSetVersion:
    """Publish a draft: from its ``effective_from`` on, new evaluations use it. Once only."""
    with transaction.atomic(durable=True):
        fund = fund_selectors.fund_by_id(version.rule_set.fund_id)
        require(actor, fund, Capability.MANAGE_FUND)
        version = RuleSetVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != RuleSetVersion.Status.DRAFT:
            raise InvalidTransition(_("This version is already published."))
        try:
            build(version.document)
        except RuleDocumentError as error:
            raise RuleDocumentInvalid(error.problems) from None
        version.status = RuleSetVersion.Status.PUBLISHED
        version.published_by = actor
        version.published_at = timezone.now()
        version.save(update_fields=["status", "published_by", "published_at"])
        transaction.on_commit(selectors.forget_documents_in_force)
        audit.record(
            actor=actor,
            action="rule_version.published",
            obj=version,
            changes={
                "number": version.number,
                "effective_from": str(version.effective_from),
                "status": {"before": "draft", "after": "published"},
            },
            fund_id=fund.pk,
        )
    return version


# -- evaluating one application -------------------------------------------------------------


def evaluation_date(application: Application, fund: Fund | None = None) -> dt.date:
    """The day the application was submitted, in the fund's time zone."""
    fund = fund or application.fund
    return application.submitted_at.astimezone(ZoneInfo(fund.time_zone)).date()


def applicant_record(application: Application) -> dict[str, Any]:
    """What the applicant declared, in the shape of ``applicants.jsonl`` (FORMATS.md)."""
    return record_of(
        application.reference, application.profession, application.birth_date, application.declared
    )


def record_of(
    reference: str, profession: str, birth_date: dt.date, declared: dict[str, Any] | None
) -> dict[str, Any]:
    """:func:`applicant_record` from an application's values (for a whole fund at once)."""
    return {
        "ref": reference,
        "profession": profession,
        "birth_date": birth_date,
        "declared": declared or {},
    }


def inputs_digest(
    version: RuleSetVersion, at: dt.date, facts: Mapping[str, Any], evidence: PersonEvidence
) -> str:
    """Fingerprint of everything an evaluation reads: same digest, same result."""
    payload = {
        "version": version.pk,
        "document": version.document,
        "at": at.isoformat(),
        "facts": facts,
        "evidence": dataclasses.asdict(evidence),
    }
    # Decimals and dates are written as text (str), tuples as lists.
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return _digest_text(text)


@dataclass(frozen=True)
class Outcome:
    """One application evaluated under one version, not stored yet."""

    application: Application
    version: RuleSetVersion
    at: dt.date
    digest: str
    evaluation: Evaluation
    result: dict[str, Any]


def _facts(document: RuleDocument, application: Application) -> dict[str, Any]:
    try:
        return facts_from(document, applicant_record(application))
    except FactError as error:
        raise FactsUnreadable(
            _("The declared fact “%(fact)s” cannot be read by the rules.") % {"fact": error.fact_id}
        ) from None


def result_json(
    document: RuleDocument,
    evaluation: Evaluation,
    *,
    reference: str,
    at: dt.date,
    version: RuleSetVersion,
) -> dict[str, Any]:
    """``Evaluation.as_json()`` plus the amount's components, the evaluation date, the version
    number, and each criterion's label and explanation in every language of the site."""
    result = evaluation.as_json(reference)
    result["rule_set"]["number"] = version.number
    result["evaluation_date"] = at.isoformat()
    result["components"] = {
        name: str(amount.quantize(CENT)) for name, amount in evaluation.components.items()
    }
    languages = [code for code, _name in settings.LANGUAGES]
    for item in result["criteria"]:
        criterion = document.criterion(item["id"])
        item["label"] = {language: criterion.label.get(language) for language in languages}
        explanations = {}
        for language in languages:
            with translation.override(language):
                explanations[language] = explain(
                    document, criterion, item["passed"], evaluation.values, language
                )
        item["explanations"] = explanations
    return result


def _outcome(
    application: Application,
    version: RuleSetVersion,
    document: RuleDocument,
    evidence: PersonEvidence,
    at: dt.date,
    facts: dict[str, Any] | None = None,
    digest: str | None = None,
) -> Outcome:
    facts = _facts(document, application) if facts is None else facts
    digest = digest or inputs_digest(version, at, facts, evidence)
    evaluation = evaluate(document, facts=facts, evidence=evidence, at=at, language="fr")
    result = result_json(
        document, evaluation, reference=application.reference, at=at, version=version
    )
    return Outcome(application, version, at, digest, evaluation, result)


def _store(
    outcomes: list[Outcome], *, actor: Any, now: dt.datetime | None = None
) -> list[ApplicationEvaluation]:
    """Make each outcome its application's current evaluation (inside the caller's action)."""
    if not outcomes:
        return []
    now = now or timezone.now()
    ApplicationEvaluation.objects.filter(
        application_id__in=[outcome.application.pk for outcome in outcomes], is_current=True
    ).update(is_current=False)
    evaluated_by = actor if actor is not None and actor.is_authenticated else None
    return ApplicationEvaluation.objects.bulk_create(
        [
            ApplicationEvaluation(
                application=outcome.application,
                version=outcome.version,
                eligible=outcome.evaluation.eligible,
                amount=outcome.evaluation.amount,
                currency=outcome.evaluation.currency,
                result=outcome.result,
                evaluated_on=outcome.at,
                inputs_digest=outcome.digest,
                evaluated_by=evaluated_by,
                evaluated_at=now,
                is_current=True,
            )
            for outcome in outcomes
        ],
        batch_size=500,
    )


def may_evaluate(user: Any, fund: Fund) -> bool:
    return bool(capabilities(user, fund) & EVALUATING_CAPABILITIES)


def evaluate_application(
    *,
    actor: Any,
    application: Application,
    version: RuleSetVersion | None = None,
    at: dt.date | None = None,
) -> ApplicationEvaluation:
    """Evaluate a pending application under the version in force (or ``version``) and keep the
    result as its current evaluation. Evaluating again with the same version, facts and evidence
    returns the current evaluation and stores nothing. A decided application is not evaluated
    again."""
    with transaction.atomic(durable=True):
        fund = application.fund
        if actor is not None and not may_evaluate(actor, fund):
            raise PermissionDenied()
        application = application_selectors.lock_application(application.pk)
        if application.status not in PENDING_STATUSES:
            # The evaluation of a decided application stays the one it was decided on.
            raise InvalidTransition(
                _("This application has been decided: its evaluation is kept as it was.")
            )
        at = at or evaluation_date(application, fund)
        if version is None:
            version = selectors.version_in_force(fund, at)
            if version is None:
                raise NoRulesInForce()
        elif version.rule_set.fund_id != fund.pk:
            raise NotFound()
        if version.status != RuleSetVersion.Status.PUBLISHED:
            raise InvalidTransition(_("Only a published version can be used to evaluate."))
        document = selectors.document_of(version)
        evidence = evidence_selectors.person_evidence(application.nir_index)
        facts = _facts(document, application)
        digest = inputs_digest(version, at, facts, evidence)
        current = selectors.current_evaluation(application.pk)
        if (
            current is not None
            and current.version_id == version.pk
            and current.inputs_digest == digest
        ):
            return current
        outcome = _outcome(application, version, document, evidence, at, facts, digest)
        (stored,) = _store([outcome], actor=actor)
        audit.record(
            actor=actor,
            action="application.evaluated",
            obj=application,
            changes={
                "rule_version": version.number,
                "evaluation_date": at,
                **audit.diff(
                    {"eligible": current.eligible, "amount": current.amount} if current else {},
                    {"eligible": stored.eligible, "amount": stored.amount},
                ),
            },
            fund_id=fund.pk,
        )
    return stored


# -- previewing a version on the pending applications, and re-evaluating them ----------------


@dataclass(frozen=True)
class Change:
    """How one pending application fares under the candidate version."""

    application_id: int
    reference: str
    name: str
    before_eligible: bool | None  # None: never evaluated
    before_amount: Decimal
    after_eligible: bool
    after_amount: Decimal

    @property
    def difference(self) -> Decimal:
        return self.after_amount - self.before_amount

    @property
    def gains(self) -> bool:
        if self.after_eligible and not self.before_eligible:
            return True
        return bool(self.after_eligible and self.after_amount > self.before_amount)

    @property
    def loses(self) -> bool:
        if self.before_eligible and not self.after_eligible:
            return True
        return bool(self.before_eligible and self.after_amount < self.before_amount)


@dataclass(frozen=True)
class Unreadable:
    application_id: int
    reference: str
    message: str


@dataclass(frozen=True)
class Preview:
    """The candidate version applied to the fund's pending applications, against their current
    evaluations and the budget left."""

    fund: Fund
    version: RuleSetVersion
    currency: str
    pending: int
    eligible: int
    total: Decimal
    eligible_before: int
    total_before: Decimal
    budget_left: Decimal
    gainers: list[Change]
    losers: list[Change]
    unchanged: int
    unreadable: list[Unreadable]
    fingerprint: str
    outcomes: list[Outcome] = dataclasses.field(repr=False, compare=False)
    current: dict[int, ApplicationEvaluation] = dataclasses.field(repr=False, compare=False)

    @property
    def over_budget(self) -> Decimal:
        return max(self.total - self.budget_left, Decimal("0.00"))

    @property
    def difference(self) -> Decimal:
        return self.total - self.total_before

    def counts(self) -> dict[str, Any]:
        return {
            "rule_version": self.version.number,
            "pending": self.pending,
            "eligible": self.eligible,
            "total": str(self.total),
            "eligible_before": self.eligible_before,
            "total_before": str(self.total_before),
            "gainers": len(self.gainers),
            "losers": len(self.losers),
            "unchanged": self.unchanged,
            "unreadable": len(self.unreadable),
        }


def pending_applications(fund: Fund) -> QuerySet[Application]:
    return Application.objects.filter(fund=fund, status__in=PENDING_STATUSES).order_by(
        "submitted_at", "pk"
    )


def _check_version_of(fund: Fund, version: RuleSetVersion) -> None:
    if version.rule_set.fund_id != fund.pk:
        raise NotFound()


def _evaluate_all(
    fund: Fund,
    version: RuleSetVersion,
    applications: Iterable[Application],
    evidence: Mapping[str, PersonEvidence],
) -> tuple[list[Outcome], list[Unreadable]]:
    document = selectors.document_of(version)
    outcomes, unreadable = [], []
    for application in applications:
        try:
            outcomes.append(
                _outcome(
                    application,
                    version,
                    document,
                    evidence.get(application.nir_index, PersonEvidence()),
                    evaluation_date(application, fund),
                )
            )
        except FactsUnreadable as error:
            unreadable.append(Unreadable(application.pk, application.reference, str(error)))
    return outcomes, unreadable


def _change(outcome: Outcome, current: ApplicationEvaluation | None) -> Change:
    application = outcome.application
    return Change(
        application_id=application.pk,
        reference=application.reference,
        name=application.full_name,
        before_eligible=current.eligible if current is not None else None,
        before_amount=current.amount if current is not None and current.eligible else Decimal(0),
        after_eligible=outcome.evaluation.eligible,
        after_amount=outcome.evaluation.amount if outcome.evaluation.eligible else Decimal(0),
    )


def _fingerprint(outcomes: list[Outcome], unreadable: list[Unreadable]) -> str:
    lines = sorted(
        [f"{o.application.pk}:{o.digest}:{o.evaluation.amount}" for o in outcomes]
        + [f"{u.application_id}:unreadable" for u in unreadable]
    )
    return _digest_text("\n".join(lines))


def _preview(fund: Fund, version: RuleSetVersion) -> Preview:
    pending = pending_applications(fund)
    applications = list(pending)
    evidence = evidence_selectors.evidence_by_nir(pending.values("nir_index"))
    current = selectors.current_evaluations(pending.values("pk"))
    outcomes, unreadable = _evaluate_all(fund, version, applications, evidence)
    changes = [_change(outcome, current.get(outcome.application.pk)) for outcome in outcomes]
    by_size = sorted(changes, key=lambda c: (-abs(c.difference), c.reference))
    gainers = [change for change in by_size if change.gains]
    losers = [change for change in by_size if change.loses]
    before = [e for e in current.values() if e.eligible]
    return Preview(
        fund=fund,
        version=version,
        currency=fund.currency,
        pending=len(applications),
        eligible=sum(1 for o in outcomes if o.evaluation.eligible),
        total=sum((c.after_amount for c in changes), Decimal("0.00")),
        eligible_before=len(before),
        total_before=sum((e.amount for e in before), Decimal("0.00")),
        budget_left=ledger.totals(fund).left,
        gainers=gainers,
        losers=losers,
        unchanged=len(changes) - len(gainers) - len(losers),
        unreadable=unreadable,
        fingerprint=_fingerprint(outcomes, unreadable),
        outcomes=outcomes,
        current=current,
    )


def preview_version(*, actor: Any, fund: Fund, version: RuleSetVersion) -> Preview:
    """What ``version`` (draft or published) would say about the fund's pending applications,
    against what their current evaluations say: nothing is stored."""
    require(actor, fund, Capability.MANAGE_FUND)
    _check_version_of(fund, version)
    return _preview(fund, version)


@dataclass(frozen=True)
class Reevaluation:
    """Either done (``counts``), or running in the background (``task_id``)."""

    task_id: str | None
    counts: dict[str, Any] | None


def _changed(
    outcomes: list[Outcome], current: Mapping[int, ApplicationEvaluation]
) -> list[Outcome]:
    """The outcomes that differ from the current evaluation (another version or other inputs)."""
    changed = []
    for outcome in outcomes:
        existing = current.get(outcome.application.pk)
        if (
            existing is None
            or existing.version_id != outcome.version.pk
            or existing.inputs_digest != outcome.digest
        ):
            changed.append(outcome)
    return changed


def _require_published(version: RuleSetVersion) -> None:
    if version.status != RuleSetVersion.Status.PUBLISHED:
        raise InvalidTransition(_("Publish this version before re-evaluating with it."))


def reevaluate_pending(
    *,
    actor: Any,
    fund: Fund,
    version: RuleSetVersion,
    expected_fingerprint: str | None = None,
) -> Reevaluation:
    """Make ``version`` (published) the basis of every pending application's evaluation, after
    the operator saw its preview (``expected_fingerprint``: refused if the figures changed).

    Up to :data:`SYNC_REEVALUATION_LIMIT` applications, done here in one transaction with one
    audit event; beyond, a background task does it in chunks and reports its progress.
    """
    _check_version_of(fund, version)
    require(actor, fund, Capability.MANAGE_FUND)
    version = selectors.version_by_id(version.pk)  # as it is now, published or not
    _require_published(version)
    if pending_applications(fund).count() > SYNC_REEVALUATION_LIMIT:
        if (
            expected_fingerprint is not None
            and _preview(fund, version).fingerprint != expected_fingerprint
        ):
            raise PreviewOutdated()
        from entraide.rules.tasks import reevaluate_pending_applications

        with transaction.atomic(durable=True):
            require(actor, fund, Capability.MANAGE_FUND)
            # Stored in this transaction by the database tasks backend: the task runs only if
            # the request is committed, and is never lost if it is.
            task = reevaluate_pending_applications.enqueue(fund.pk, version.pk, actor.pk)
            audit.record(
                actor=actor,
                action="rule_set.reevaluation_requested",
                obj=version,
                changes={"task": str(task.id), "rule_version": version.number},
                fund_id=fund.pk,
            )
        return Reevaluation(task_id=str(task.id), counts=None)
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        # Decisions on the fund wait: no application leaves "pending" while this runs.
        fund_selectors.lock_fund(fund.pk)
        preview = _preview(fund, version)
        if expected_fingerprint is not None and preview.fingerprint != expected_fingerprint:
            raise PreviewOutdated()
        stored = _store(_changed(preview.outcomes, preview.current), actor=actor)
        counts = {**preview.counts(), "stored": len(stored)}
        audit.record(
            actor=actor,
            action="rule_set.pending_reevaluated",
            obj=version,
            changes=counts,
            fund_id=fund.pk,
        )
    return Reevaluation(task_id=None, counts=counts)


def reevaluate_chunk(
    *, actor: Any, fund: Fund, version: RuleSetVersion, application_ids: list[int]
) -> tuple[int, list[Change], int]:
    """Re-evaluate some pending applications, inside the caller's transaction (the background
    task's chunks). Returns how many were stored, their changes, and how many were unreadable.
    Already re-evaluated applications are left as they are, so a retried chunk is harmless."""
    applications = list(
        pending_applications(fund).filter(pk__in=application_ids).select_for_update()
    )
    evidence = evidence_selectors.evidence_by_nir([a.nir_index for a in applications])
    current = selectors.current_evaluations([a.pk for a in applications])
    outcomes, unreadable = _evaluate_all(fund, version, applications, evidence)
    stored = _store(_changed(outcomes, current), actor=actor)
    changes = [_change(outcome, current.get(outcome.application.pk)) for outcome in outcomes]
    return len(stored), changes, len(unreadable)


def record_reevaluation(
    *, actor: Any, fund: Fund, version: RuleSetVersion, counts: dict[str, Any]
) -> None:
    """The one audit event of a re-evaluation done in the background (caller's transaction)."""
    audit.record(
        actor=actor,
        action="rule_set.pending_reevaluated",
        obj=version,
        changes={"rule_version": version.number, **counts},
        fund_id=fund.pk,
    )
