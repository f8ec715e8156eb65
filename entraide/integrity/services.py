"""Duplicate and fraud checks: what changes state.

Two applications are *linked* when they share an identifier (NIR, IBAN, e-mail, telephone) or
when the linkage model scores them as possibly one person (:mod:`entraide.integrity.linkage`).
A link that matters raises the platform's flags on both applications (entraide.review.flags),
which keep them from being approved until someone decides: *same person* (the two are then
one :class:`Person`, every application kept as submitted) or *different people*. Links are
found when an application arrives (:func:`check_application`, against the applications that
share one of its identifiers or its date of birth) and by a full check of a fund with the
other funds of its programme (:func:`perform_linkage_run`, in the worker).

A pair of one fund, or of two funds of a programme whose rules allow one application per
person, that is likely one person is a possible duplicate. Otherwise what different people
share (a bank account, an e-mail address or a telephone) is flagged as the fund's settings say.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from entraide.applications import selectors as application_selectors
from entraide.applications.models import DECIDABLE_STATUSES, Application
from entraide.audit import services as audit
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.core.tasks import enqueue_with_transaction
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, capabilities, require
from entraide.integrity import exact, linkage
from entraide.integrity.evaluation import normalise_pair
from entraide.integrity.models import IntegritySettings, Link, LinkageRun, Person, PersonRecord
from entraide.integrity.records import ApplicantRecord
from entraide.integrity.signals import (
    LINK_CODES,
    SAME_PERSON,
    SHARED_ACCOUNT,
    SHARED_CONTACT,
    SHARED_ORIGIN,
    codes_of_link,
    shared_identifiers,
)
from entraide.review import flags

logger = logging.getLogger(__name__)

# A new application is compared with at most this many others sharing an identifier or its
# date of birth (the most recent): enough for a person, bounded for a crowded date.
CANDIDATES = 200
# Flags are raised and links written in slices of this many (SQLite's parameter limit).
SLICE = 2000
SETTINGS_FIELDS = (
    "duplicate_threshold",
    "listed_threshold",
    "flag_shared_account",
    "flag_shared_contact",
    "origin_window_minutes",
    "origin_burst",
)


class CheckAlreadyQueued(InvalidTransition):
    code = "check_already_queued"

    def __init__(self) -> None:
        super().__init__(_("A duplicate check of this fund is already queued or running."))


# -- settings ----------------------------------------------------------------------------------


def settings_of(fund: Fund) -> IntegritySettings:
    """The fund's settings (the defaults, unsaved, until someone changes them)."""
    found = IntegritySettings.objects.filter(fund=fund).first()
    return found if found is not None else IntegritySettings(fund=fund)


def save_integrity_settings(*, actor: Any, fund: Fund, values: dict[str, Any]) -> IntegritySettings:
    """Change how the fund's checks flag (those who manage the fund). Audited, before and
    after. Applies to the links found from now on."""
    if Decimal(values["listed_threshold"]) > Decimal(values["duplicate_threshold"]):
        raise ValidationFailed(
            _("The resemblance threshold cannot be above the duplicate threshold."),
            field="listed_threshold",
        )
    if int(values["origin_burst"]) < 2:
        raise ValidationFailed(_("At least two submissions."), field="origin_burst")
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        current, _created = IntegritySettings.objects.select_for_update().get_or_create(fund=fund)
        before = audit.snapshot(current, SETTINGS_FIELDS)
        for name in SETTINGS_FIELDS:
            setattr(current, name, values[name])
        current.updated_by = actor
        current.save()
        audit.record(
            actor=actor,
            action="integrity.settings_changed",
            obj=fund,
            changes=audit.diff(before, audit.snapshot(current, SETTINGS_FIELDS)),
            fund_id=fund.pk,
        )
    return current


# -- what is compared --------------------------------------------------------------------------


def record_of(row: Sequence[Any]) -> ApplicantRecord:
    """An application's identity (a row of applications.selectors.IDENTITY_FIELDS)."""
    return ApplicantRecord(*row)


@dataclass(frozen=True)
class Scope:
    """The funds a fund's applications are compared with, and how each of them flags."""

    fund_ids: list[int]
    settings: dict[int, IntegritySettings]
    # Funds whose rules allow one application per person across the programme.
    one_per_programme: frozenset[int]

    @property
    def listed_threshold(self) -> float:
        return float(min(s.listed_threshold for s in self.settings.values()))

    def codes(
        self, fund_id: int, other_fund_id: int, reasons: list[str], weight: float | None
    ) -> list[str]:
        """The flags a link raises on its application of ``fund_id``."""
        fund_settings = self.settings[fund_id]
        likely_same = "nir" in reasons or (
            weight is not None and weight >= float(fund_settings.duplicate_threshold)
        )
        if likely_same and fund_id != other_fund_id and fund_id not in self.one_per_programme:
            return []  # one person may apply to several funds of this programme
        codes = codes_of_link(reasons, duplicate=likely_same)
        if not fund_settings.flag_shared_account and SHARED_ACCOUNT in codes:
            codes.remove(SHARED_ACCOUNT)
        if not fund_settings.flag_shared_contact and SHARED_CONTACT in codes:
            codes.remove(SHARED_CONTACT)
        return codes


def scope_of(fund: Fund) -> Scope:
    from entraide.applications.services import rules_for_submission

    fund_ids = fund_selectors.fund_ids_of_programme(fund)
    saved = {s.fund_id: s for s in IntegritySettings.objects.filter(fund_id__in=fund_ids)}
    funds = fund_selectors.funds_with_ids(fund_ids)  # type: ignore[arg-type]
    one_per_programme = frozenset(
        other.pk
        for other in funds
        if other.programme_id is not None
        and (document := rules_for_submission(other, other.local_today())) is not None
        and document.one_per_person == "programme"
    )
    return Scope(
        fund_ids=fund_ids,
        settings={
            fund_id: saved.get(fund_id, IntegritySettings(fund_id=fund_id)) for fund_id in fund_ids
        },
        one_per_programme=one_per_programme,
    )


def current_model(fund: Fund) -> dict[str, Any]:
    """The model of the fund's last full check, else the platform's default."""
    run = (
        LinkageRun.objects.filter(fund=fund, status=LinkageRun.Status.DONE, trained=True)
        .order_by("-finished_at", "-pk")
        .only("model")
        .first()
    )
    return run.model if run is not None else linkage.DEFAULT_MODEL


# -- links -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Two applications a check compared: what they share and how the model scored them."""

    left_id: int
    right_id: int
    reasons: list[str]
    scored: linkage.ScoredPair | None

    @property
    def weight(self) -> float | None:
        return self.scored.match_weight if self.scored is not None else None


@dataclass(frozen=True)
class Stored:
    links_created: int
    flags_raised: int


def _store_findings(
    findings: Iterable[Finding],
    *,
    scope: Scope,
    fund_of: dict[int, int],
    reference_of: dict[int, str],
    check: Any,
    run: LinkageRun | None,
    existing: dict[tuple[int, int], Link],
) -> Stored:
    """Write the links the findings make (new ones open, known ones rescored; a decided link
    keeps its decision) and raise the flags of the open ones, in the caller's transaction."""
    now = timezone.now()
    new: list[Link] = []
    rescored: list[Link] = []
    to_flag: list[tuple[int, int, str, str]] = []
    for finding in findings:
        weight = finding.weight
        if not finding.reasons and (weight is None or weight < scope.listed_threshold):
            continue
        left_fund, right_fund = fund_of[finding.left_id], fund_of[finding.right_id]
        sides = (
            (finding.left_id, left_fund, finding.right_id, right_fund),
            (finding.right_id, right_fund, finding.left_id, left_fund),
        )
        codes = {
            own: scope.codes(own_fund, other_fund, finding.reasons, weight)
            for own, own_fund, _other, other_fund in sides
        }
        link = existing.get((finding.left_id, finding.right_id))
        if link is None:
            link = Link(
                left_id=finding.left_id,
                right_id=finding.right_id,
                left_fund_id=left_fund,
                right_fund_id=right_fund,
                found_at=now,
                run=run,
            )
            new.append(link)
        else:
            rescored.append(link)
            if run is not None:
                link.run = run
        link.reasons = finding.reasons
        link.match_weight = weight
        link.match_probability = finding.scored.match_probability if finding.scored else None
        link.evidence = (
            [
                {"field": e.field, "level": e.level, "weight": round(e.weight, 3)}
                for e in finding.scored.evidence
            ]
            if finding.scored
            else []
        )
        link.flagged = link.flagged or any(codes.values())
        link.scored_at = now
        if link.status != Link.Status.OPEN:
            continue
        for own, own_fund, other, _other_fund in sides:
            note = reference_of[other] + (f" · {weight:.1f}" if weight is not None else "")
            to_flag.extend((own, own_fund, code, note) for code in codes[own])
    Link.objects.bulk_create(new, batch_size=SLICE)
    Link.objects.bulk_update(
        rescored,
        ["reasons", "match_weight", "match_probability", "evidence", "flagged", "scored_at", "run"],
        batch_size=SLICE,
    )
    raised = 0
    for start in range(0, len(to_flag), SLICE):
        raised += len(flags.raise_platform_flags(to_flag[start : start + SLICE], check=check))
    return Stored(links_created=len(new), flags_raised=raised)


def check_application(application_id: int) -> Stored:
    """Compare a new application with the others of its fund and programme that share one of
    its identifiers or its date of birth; link, score and flag what is found (the worker,
    after the submission). Running it again finds the same links and raises nothing twice."""
    application = application_selectors.application_by_id(application_id)
    scope = scope_of(application.fund)
    record = record_of(
        application_selectors.identities_in_funds([application.fund_id]).get(pk=application_id)
    )
    candidates = [
        record_of(row)
        for row in application_selectors.identity_candidates(
            application, scope.fund_ids, limit=CANDIDATES
        )
    ]
    scored = {
        (pair.left_id, pair.right_id): pair
        for pair in linkage.score_pairs(current_model(application.fund), record, candidates)
    }
    findings = []
    for candidate in candidates:
        left_id, right_id = normalise_pair(record.record_id, candidate.record_id)
        findings.append(
            Finding(
                left_id,
                right_id,
                shared_identifiers(record, candidate),
                scored.get((left_id, right_id)),
            )
        )
    others = application_selectors.applications_by_ids([c.record_id for c in candidates])
    fund_of = {pk: other.fund_id for pk, other in others.items()} | {
        application.pk: application.fund_id
    }
    reference_of = {pk: other.reference for pk, other in others.items()} | {
        application.pk: application.reference
    }
    with transaction.atomic(durable=True):
        stored = _store_findings(
            findings,
            scope=scope,
            fund_of=fund_of,
            reference_of=reference_of,
            check=application,
            run=None,
            existing={
                (link.left_id, link.right_id): link
                for link in Link.objects.filter(Q(left=application) | Q(right=application))
            },
        )
        origin_flags = _flag_origin_burst(application, scope)
    return Stored(stored.links_created, stored.flags_raised + origin_flags)


def _flag_origin_burst(application: Application, scope: Scope) -> int:
    """Flag the applications sent from the application's origin within the fund's window
    when there are as many as its settings call a burst (a script, or a desk filling in
    applications for others)."""
    fund_settings = scope.settings[application.fund_id]
    since = application.submitted_at - dt.timedelta(minutes=fund_settings.origin_window_minutes)
    burst = application_selectors.references_from_origin(application, scope.fund_ids, since=since)
    if len(burst) < fund_settings.origin_burst:
        return 0
    others = application_selectors.applications_by_ids([pk for pk, _reference in burst])
    note = ", ".join(reference for _pk, reference in burst)
    return len(
        flags.raise_platform_flags(
            [(pk, others[pk].fund_id, SHARED_ORIGIN, note) for pk, _reference in burst],
            check=application,
        )
    )


# -- full checks -------------------------------------------------------------------------------


def request_linkage_run(*, actor: Any, fund: Fund) -> LinkageRun:
    """Queue a full duplicate check of the fund (with the other funds of its programme) for
    the worker; one at a time per fund."""
    from entraide.integrity.tasks import run_linkage

    with transaction.atomic(durable=True):
        require(actor, fund, Capability.DECIDE)
        fund_selectors.lock_fund(fund.pk)
        if LinkageRun.objects.filter(
            fund=fund, status__in=[LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING]
        ).exists():
            raise CheckAlreadyQueued()
        run = LinkageRun.objects.create(fund=fund, requested_by=actor, requested_at=timezone.now())
        enqueue_with_transaction(run_linkage, run.pk)
        audit.record(actor=actor, action="integrity.check_requested", obj=run, fund_id=fund.pk)
    return run


def perform_linkage_run(run_id: int) -> LinkageRun:
    """The full check (the worker): every application of the fund's programme compared with
    every other by the model trained on them, and by their shared identifiers; the links
    written and flagged. A failure is kept on the run, which can be requested again."""
    with transaction.atomic():
        run = LinkageRun.objects.select_for_update().select_related("fund").get(pk=run_id)
        if run.status != LinkageRun.Status.QUEUED:
            return run  # a retried task: the first one ran it
        run.status = LinkageRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    try:
        _run(run)
    except Exception as error:  # kept on the run for its page; the worker logs it too
        logger.exception("duplicate check %s failed", run.pk)
        LinkageRun.objects.filter(pk=run.pk).update(
            status=LinkageRun.Status.FAILED, finished_at=timezone.now(), error=str(error)[:2000]
        )
        run.refresh_from_db()
    return run


def _run(run: LinkageRun) -> None:
    scope = scope_of(run.fund)
    rows = list(application_selectors.identities_in_funds(scope.fund_ids))
    records = exact.records_frame([record_of(row) for row in rows])
    model = linkage.train_model(records)
    pairs = linkage.predict(records, model, min_weight=scope.listed_threshold)
    scored = {(pair.left_id, pair.right_id): pair for pair in pairs}
    shared = {
        (left, right): list(reasons)
        for left, right, reasons in exact.exact_links(records).iter_rows()
    }
    findings = [
        Finding(left, right, shared.get((left, right), []), scored.get((left, right)))
        for left, right in sorted(scored.keys() | shared.keys())
    ]
    crowded = [
        {"key": key, "size": size, "applications": ids[:50]}
        for key, _value, size, ids in exact.crowded_values(records).iter_rows()
    ]
    fund_of = dict(application_selectors.funds_of_applications(scope.fund_ids))
    with transaction.atomic(durable=True):
        involved = sorted(
            {pk for finding in findings for pk in (finding.left_id, finding.right_id)}
        )
        reference_of = application_selectors.references_by_id(involved)
        existing = {
            (link.left_id, link.right_id): link
            for link in Link.objects.filter(left_fund_id__in=scope.fund_ids)
        }
        stored = _store_findings(
            findings,
            scope=scope,
            fund_of=fund_of,
            reference_of=reference_of,
            check=run,
            run=run,
            existing=existing,
        )
        run.status = LinkageRun.Status.DONE
        run.finished_at = timezone.now()
        run.records = len(rows)
        run.trained = model != linkage.DEFAULT_MODEL
        run.model = model if run.trained else {}
        run.pairs = len(findings)
        run.links_created = stored.links_created
        run.flags_raised = stored.flags_raised
        run.crowded = crowded
        run.save()
        audit.record(
            actor=None,
            action="integrity.check_finished",
            obj=run,
            changes={
                "applications": run.records,
                "pairs": run.pairs,
                "links_created": run.links_created,
                "flags_raised": run.flags_raised,
                "trained": run.trained,
            },
            fund_id=run.fund_id,
        )


# -- decisions ---------------------------------------------------------------------------------


def decide_link(*, actor: Any, link: Link, same_person: bool, note: str = "") -> Link:
    """A reviewer of either fund says whether the two applications are one person. Same
    person: they become one :class:`Person` (with the other applications already confirmed
    as theirs), and where only one may be granted, each still undecided application is
    flagged to decide only one. Different people: say why. The link's flags close on each
    application that has no other open link flagged. Audited."""
    note = note.strip()
    if not same_person and not note:
        raise ValidationFailed(_("Say why these are different people."), field="note")
    with transaction.atomic(durable=True):
        link = (
            Link.objects.select_for_update(of=("self",))
            .select_related("left", "right", "left_fund", "right_fund")
            .get(pk=link.pk)
        )
        deciding_funds = [
            fund
            for fund in (link.left_fund, link.right_fund)
            if Capability.DECIDE in capabilities(actor, fund)
        ]
        if not deciding_funds:
            raise PermissionDenied()
        if link.status != Link.Status.OPEN:
            raise InvalidTransition(_("This link has already been decided."))
        link.status = Link.Status.CONFIRMED if same_person else Link.Status.DISMISSED
        link.decided_by = actor
        link.decided_at = timezone.now()
        link.decision_note = note
        link.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit.record(
            actor=actor,
            action="integrity.link_confirmed" if same_person else "integrity.link_dismissed",
            obj=link,
            changes={"left": link.left.reference, "right": link.right.reference, "note": note},
            fund_id=link.left_fund_id,
        )
        for own, other in ((link.left, link.right), (link.right, link.left)):
            if Link.objects.filter(
                Q(left=own) | Q(right=own), status=Link.Status.OPEN, flagged=True
            ).exists():
                continue
            resolution = (
                _("Same person as %(reference)s.")
                if same_person
                else _("Not the same person as %(reference)s: %(note)s")
            ) % {"reference": other.reference, "note": note}
            for code in LINK_CODES:
                flags.resolve_platform_flags(
                    actor=actor, application_ids=[own.pk], code=code, resolution=resolution
                )
        if same_person:
            _merge(link)
            _flag_decide_only_one(link)
    return link


def _merge(link: Link) -> Person:
    """The two applications become one person's, with those already confirmed as either's."""
    now = timezone.now()
    ids = [link.left_id, link.right_id]
    known = list(PersonRecord.objects.select_for_update().filter(application_id__in=ids))
    person_ids = sorted({record.person_id for record in known})
    if person_ids:
        person = Person.objects.get(pk=person_ids[0])
        # Two people confirmed the same: one person, every application kept.
        PersonRecord.objects.filter(person_id__in=person_ids[1:]).update(person=person)
        Person.objects.filter(pk__in=person_ids[1:]).delete()
    else:
        person = Person.objects.create(created_at=now)
    placed = {record.application_id for record in known}
    PersonRecord.objects.bulk_create(
        PersonRecord(person=person, application_id=pk, link=link, added_at=now)
        for pk in ids
        if pk not in placed
    )
    return person


def _flag_decide_only_one(link: Link) -> None:
    scope = scope_of(link.left_fund)
    only_one = link.left_fund_id == link.right_fund_id or (
        link.left_fund_id in scope.one_per_programme
        and link.right_fund_id in scope.one_per_programme
    )
    if not only_one:
        return
    pending = [
        (own.pk, own.fund_id, SAME_PERSON, other.reference)
        for own, other in ((link.left, link.right), (link.right, link.left))
        if own.status in DECIDABLE_STATUSES
    ]
    flags.raise_platform_flags(pending, check=link)
