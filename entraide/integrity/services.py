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

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
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
from entraide.funds.services import save_fund_settings
from entraide.integrity import exact, linkage
from entraide.integrity.evaluation import normalise_pair
from entraide.integrity.models import IntegritySettings, Link, LinkageRun, Person, PersonRecord
from entraide.integrity.records import IDENTIFIER_FIELDS, ApplicantRecord
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
# Applications from one origin within the window that are flagged, and named in the note.
MAX_BURST = 500
NAMED_IN_BURST = 10
# A full check running this long lost its worker (300,000 applications take about a minute).
STALE_AFTER = dt.timedelta(hours=2)
# The largest groups of applications that may be one person kept on a full check's page.
MAX_GROUPS_KEPT = 100
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
    if Decimal(values["listed_threshold"]) < 0:
        raise ValidationFailed(
            _("The resemblance threshold cannot be negative."), field="listed_threshold"
        )
    if int(values["origin_burst"]) < 2:
        raise ValidationFailed(_("At least two submissions."), field="origin_burst")
    return save_fund_settings(
        actor=actor,
        fund=fund,
        model=IntegritySettings,
        fields=SETTINGS_FIELDS,
        values=values,
        action="integrity.settings_changed",
    )


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

    @property
    def duplicate_threshold(self) -> float:
        return float(min(s.duplicate_threshold for s in self.settings.values()))

    def only_one(self, fund_id: int, other_fund_id: int) -> bool:
        """Whether the application of ``fund_id`` may not be granted beside one of the same
        person's in ``other_fund_id``."""
        return fund_id == other_fund_id or fund_id in self.one_per_programme

    def codes(
        self, fund_id: int, other_fund_id: int, reasons: list[str], weight: float | None
    ) -> list[str]:
        """The flags a link raises on its application of ``fund_id``."""
        fund_settings = self.settings[fund_id]
        likely_same = "nir" in reasons or (
            weight is not None and weight >= float(fund_settings.duplicate_threshold)
        )
        if likely_same and not self.only_one(fund_id, other_fund_id):
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


def current_model(scope: Scope) -> dict[str, Any]:
    """The model of the last full check of one of the scope's funds (each covers them all),
    else the platform's default; the default too if that model compares otherwise than the
    code does now (trained before its comparisons changed: the next full check trains
    again)."""
    run = (
        LinkageRun.objects.filter(
            fund_id__in=scope.fund_ids, status=LinkageRun.Status.DONE, trained=True
        )
        .order_by("-finished_at", "-pk")
        .only("model")
        .first()
    )
    if run is None or not linkage.compares_as_now(run.model):
        return linkage.DEFAULT_MODEL
    return run.model


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
    known: QuerySet[Link],
) -> Stored:
    """Write the links the findings make (new ones open, known ones rescored; a decided link
    keeps its decision) and raise the flags of the open ones, in the caller's transaction.
    ``known`` are the links the findings may already have: locked, so that a decision made
    meanwhile is seen, or waits for this."""
    existing = {(link.left_id, link.right_id): link for link in known.select_for_update()}
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
        link.reasons = finding.reasons
        if finding.scored is not None:  # else the score it had (of a check that scored it)
            link.match_weight = finding.scored.match_weight
            link.match_probability = finding.scored.match_probability
            link.evidence = [
                {"field": e.field, "level": e.level, "weight": round(e.weight, 3)}
                for e in finding.scored.evidence
            ]
        codes = {
            own: scope.codes(own_fund, other_fund, finding.reasons, link.match_weight)
            for own, own_fund, _other, other_fund in sides
        }
        link.flagged = link.flagged or any(codes.values())
        link.scored_at = now
        if link.status != Link.Status.OPEN:
            continue
        for own, own_fund, other, _other_fund in sides:
            to_flag.extend((own, own_fund, code, reference_of[other]) for code in codes[own])
    # A check of another application may have written one of these meanwhile: it stays.
    Link.objects.bulk_create(new, batch_size=SLICE, ignore_conflicts=True)
    Link.objects.bulk_update(
        rescored,
        ["reasons", "match_weight", "match_probability", "evidence", "flagged", "scored_at"],
        batch_size=SLICE,
    )
    raised = 0
    for start in range(0, len(to_flag), SLICE):
        raised += len(flags.raise_platform_flags(to_flag[start : start + SLICE], check=check))
    return Stored(links_created=len(new), flags_raised=raised)


def _without(record: ApplicantRecord, crowded: frozenset[str]) -> ApplicantRecord:
    """The record with its crowded identifiers (:data:`signals.REASONS`) blank, as the full
    check compares it."""
    blanks: dict[str, Any] = dict.fromkeys((IDENTIFIER_FIELDS[reason] for reason in crowded), "")
    return dataclasses.replace(record, **blanks)


def check_application(application_id: int) -> Stored:
    """Compare a new application with the others of its fund and programme that share one of
    its identifiers or its date of birth; link, score and flag what is found (the worker,
    after the submission). An identifier shared by too many applications is left out, as the
    full check leaves it out. Running it again finds the same links and raises nothing twice."""
    application = application_selectors.application_by_id(application_id)
    scope = scope_of(application.fund)
    crowded = frozenset(
        application_selectors.crowded_identifiers(
            application, scope.fund_ids, more_than=exact.MAX_GROUP
        )
    )
    # From the row already read, not read again.
    identity = [getattr(application, name) for name in application_selectors.IDENTITY_FIELDS]
    record = _without(record_of(identity), crowded)
    candidates = [
        _without(record_of(row), crowded)
        for row in application_selectors.identity_candidates(
            application, scope.fund_ids, limit=CANDIDATES, leaving_out=crowded
        )
    ]
    scored = {
        (pair.left_id, pair.right_id): pair
        for pair in linkage.score_pairs(current_model(scope), record, candidates)
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
            known=Link.objects.filter(Q(left=application) | Q(right=application)),
        )
        origin_flags = _flag_origin_burst(application, scope.settings[application.fund_id])
    return Stored(stored.links_created, stored.flags_raised + origin_flags)


def _flag_origin_burst(application: Application, fund_settings: IntegritySettings) -> int:
    """Flag the fund's applications sent from the application's origin within the fund's
    window when there are as many as its settings call a burst (a script, or a desk filling
    in applications for others). The note names the first of them."""
    since = application.submitted_at - dt.timedelta(minutes=fund_settings.origin_window_minutes)
    burst = application_selectors.references_from_origin(
        application, [application.fund_id], since=since, limit=MAX_BURST
    )
    if len(burst) < fund_settings.origin_burst:
        return 0
    named = [reference for _pk, reference in burst[:NAMED_IN_BURST]]
    note = ", ".join(named) + (" …" if len(burst) > len(named) else "")
    return len(
        flags.raise_platform_flags(
            [(pk, application.fund_id, SHARED_ORIGIN, note) for pk, _reference in burst],
            check=application,
        )
    )


# -- full checks -------------------------------------------------------------------------------


def request_linkage_run(*, actor: Any, fund: Fund) -> LinkageRun:
    """Queue a full duplicate check of the fund (with the other funds of its programme) for
    the worker; one at a time per fund. A check running for longer than STALE_AFTER is one
    whose worker died: it is recorded as failed, and a new one may start."""
    from entraide.integrity.tasks import run_linkage

    with transaction.atomic(durable=True):
        require(actor, fund, Capability.DECIDE)
        fund_selectors.lock_fund(fund.pk)
        now = timezone.now()
        for stale in LinkageRun.objects.filter(
            fund=fund, status=LinkageRun.Status.RUNNING, started_at__lt=now - STALE_AFTER
        ):
            _record_failure(stale, _("The worker stopped before the check finished."))
        if LinkageRun.objects.filter(
            fund=fund, status__in=[LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING]
        ).exists():
            raise CheckAlreadyQueued()
        run = LinkageRun.objects.create(fund=fund, requested_by=actor, requested_at=now)
        enqueue_with_transaction(run_linkage, run.pk)
        audit.record(actor=actor, action="integrity.check_requested", obj=run, fund_id=fund.pk)
    return run


def _record_failure(run: LinkageRun, error: str) -> None:
    run.status = LinkageRun.Status.FAILED
    run.finished_at = timezone.now()
    run.error = error[:2000]
    run.save(update_fields=["status", "finished_at", "error"])
    audit.record(
        actor=None,
        action="integrity.check_failed",
        obj=run,
        changes={"error": run.error},
        fund_id=run.fund_id,
    )


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
        with transaction.atomic():
            _record_failure(run, str(error) or type(error).__name__)
    return run


def _run(run: LinkageRun) -> None:
    scope = scope_of(run.fund)
    rows = list(application_selectors.identities_in_funds(scope.fund_ids))
    records = exact.records_frame([record_of(row) for row in rows])
    shared = {
        (left, right): list(reasons)
        for left, right, reasons in exact.exact_links(records).iter_rows()
    }
    model = linkage.train_model(records)
    pairs = linkage.predict(
        records, model, min_weight=scope.listed_threshold, every_shared_identifier=True
    )
    scored = {(pair.left_id, pair.right_id): pair for pair in pairs}
    findings = [
        Finding(left, right, shared.get((left, right), []), scored.get((left, right)))
        for left, right in sorted(scored.keys() | shared.keys())
    ]
    groups = linkage.clusters(pairs, min_weight=scope.duplicate_threshold)
    crowded = [
        {"key": key, "size": size, "applications": ids[:50]}
        for key, _value, size, ids in exact.crowded_values(records).iter_rows()
    ]
    fund_of = dict(application_selectors.funds_of_applications(scope.fund_ids))
    with transaction.atomic(durable=True):
        involved = sorted({pk for f in findings for pk in (f.left_id, f.right_id)})
        stored = _store_findings(
            findings,
            scope=scope,
            fund_of=fund_of,
            reference_of=application_selectors.references_by_id(involved),
            check=run,
            run=run,
            known=Link.objects.filter(left_fund_id__in=scope.fund_ids),
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
        run.group_count = len(groups)
        run.groups = [
            sorted(group)
            for group in sorted(groups, key=lambda group: (-len(group), min(group)))
            if len(group) > 2
        ][:MAX_GROUPS_KEPT]
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
                "groups": run.group_count,
                "trained": run.trained,
            },
            fund_id=run.fund_id,
        )


# -- decisions ---------------------------------------------------------------------------------


def decide_link(*, actor: Any, link: Link, same_person: bool, note: str = "") -> Link:
    """A reviewer of either fund says whether the two applications are one person. Same
    person: they become one :class:`Person` (with the other applications already confirmed
    as theirs, and the open links between them confirmed too), and where only one may be
    granted, each still undecided application is flagged to decide only one. Different
    people: say why (refused for two applications already confirmed as one person). A link's
    flags close on each application that has no other open link flagged. Audited in each
    fund of the link."""
    note = note.strip()
    if not same_person and not note:
        raise ValidationFailed(_("Say why these are different people."), field="note")
    with transaction.atomic(durable=True):
        # The applications first, in one order: two decisions about one of them (or a check
        # raising its flags) wait for each other, and see what the other did.
        application_selectors.lock_applications(
            application_selectors.ids_in([link.left_id, link.right_id])
        )
        link = (
            Link.objects.select_for_update(of=("self",))
            .select_related("left", "right", "left_fund", "right_fund")
            .get(pk=link.pk)
        )
        if not any(
            Capability.DECIDE in capabilities(actor, fund)
            for fund in (link.left_fund, link.right_fund)
        ):
            raise PermissionDenied()
        if link.status != Link.Status.OPEN:
            raise InvalidTransition(_("This link has already been decided."))
        if not same_person and _one_person(link.left_id, link.right_id):
            raise InvalidTransition(_("These applications were already confirmed as one person's."))
        now = timezone.now()
        decided = [link]
        person = None
        if same_person:
            person, merged = _merge(link, now)
            decided += _confirm_within(person, actor=actor, note=note, now=now, exclude=link)
        link.status = Link.Status.CONFIRMED if same_person else Link.Status.DISMISSED
        link.decided_by = actor
        link.decided_at = now
        link.decision_note = note
        link.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        changes: dict[str, Any] = {
            "left": link.left.reference,
            "right": link.right.reference,
            "note": note,
        }
        if person is not None:
            changes |= {"person": person.pk, "people_merged": merged}
            changes["also_confirmed"] = [other.pk for other in decided[1:]]
        for fund_id in sorted({link.left_fund_id, link.right_fund_id}):
            audit.record(
                actor=actor,
                action="integrity.link_confirmed" if same_person else "integrity.link_dismissed",
                obj=link,
                changes=changes,
                fund_id=fund_id,
            )
        _close_flags(decided, actor=actor, same_person=same_person, note=note)
        if same_person:
            _flag_decide_only_one(link)
    return link


def _one_person(*application_ids: int) -> bool:
    return PersonRecord.objects.filter(application_id__in=application_ids).values(
        "person_id"
    ).distinct().count() == 1 and PersonRecord.objects.filter(
        application_id__in=application_ids
    ).count() == len(application_ids)


def _merge(link: Link, now: dt.datetime) -> tuple[Person, list[int]]:
    """The two applications become one person's, with those already confirmed as either's;
    the people merged into it (when each was someone already) are returned."""
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
    return person, person_ids[1:]


def _confirm_within(
    person: Person, *, actor: Any, note: str, now: dt.datetime, exclude: Link
) -> list[Link]:
    """The open links between applications of the person, confirmed with the link that made
    them one (a reviewer cannot then say two of them are different people)."""
    ids = person.records.values("application_id")
    within = list(
        Link.objects.select_for_update()
        .filter(left_id__in=ids, right_id__in=ids, status=Link.Status.OPEN)
        .exclude(pk=exclude.pk)
        .select_related("left", "right")
    )
    for other in within:
        other.status = Link.Status.CONFIRMED
        other.decided_by = actor
        other.decided_at = now
        other.decision_note = note
    Link.objects.bulk_update(within, ["status", "decided_by", "decided_at", "decision_note"])
    return within


def _close_flags(decided: list[Link], *, actor: Any, same_person: bool, note: str) -> None:
    """Close the link flags of each application of the decided links that has no other open
    link flagged, saying which decision closed them."""
    sides = [
        side for link in decided for side in ((link.left, link.right), (link.right, link.left))
    ]
    still_open = {
        pk
        for pair in Link.objects.filter(
            Q(left_id__in=[own.pk for own, _other in sides])
            | Q(right_id__in=[own.pk for own, _other in sides]),
            status=Link.Status.OPEN,
            flagged=True,
        ).values_list("left_id", "right_id")
        for pk in pair
    }
    for own, other in sides:
        if own.pk in still_open:
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


def _flag_decide_only_one(link: Link) -> None:
    """Each undecided application of the confirmed pair that may not be granted beside the
    other is flagged to decide only one."""
    scope = scope_of(link.left_fund)
    pending = [
        (own.pk, own.fund_id, SAME_PERSON, other.reference)
        for own, other in ((link.left, link.right), (link.right, link.left))
        if own.status in DECIDABLE_STATUSES and scope.only_one(own.fund_id, other.fund_id)
    ]
    flags.raise_platform_flags(pending, check=link)
