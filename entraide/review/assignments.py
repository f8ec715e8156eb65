"""Who reviews which application: assignments to reviewers, and the lock of the one deciding.

An assignment says whose queue an application is in; a review lock says who is deciding it right
now, so that two reviewers never work on the same application at once. A lock expires on its
own (a reviewer who closes the tab does not block the application for ever).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_time
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from entraide.accounts.models import User
from entraide.applications.models import DECIDABLE_STATUSES, Application
from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from entraide.core.money import current_locale
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, has_capability, require, roles_granting
from entraide.review.models import Assignment, ReviewLock

# Applications still waiting for a decision: those a reviewer may be given or may lock.
PENDING_STATUSES = DECIDABLE_STATUSES | {Application.Status.INFO_REQUESTED}

# Ids per query: well under SQLite's and PostgreSQL's limits on bound parameters.
ID_CHUNK = 5000


class BeingReviewed(DomainError):
    code = "being_reviewed"
    default_message = _("Someone else is reviewing this application.")

    @classmethod
    def by(cls, lock: ReviewLock, time_zone: str) -> BeingReviewed:
        return cls(
            gettext("%(holder)s is reviewing this application until %(time)s.")
            % {"holder": lock.holder, "time": lock_until(lock, time_zone)}
        )


class AssignmentConflict(DomainError):
    code = "assignment_conflict"
    default_message = _("Someone assigned some of these applications at the same time. Try again.")


def lock_until(lock: ReviewLock, time_zone: str) -> str:
    """The hour a lock expires, in the fund's time zone (``14:35``)."""
    return format_time(
        lock.expires_at, format="short", tzinfo=ZoneInfo(time_zone), locale=current_locale()
    )


# -- selectors -----------------------------------------------------------------------------------


def reviewers_of(fund: Fund) -> QuerySet[User]:
    """The people who may decide on the fund's applications (its reviewers and approvers)."""
    return (
        User.objects.filter(
            is_active=True,
            fund_roles__fund=fund,
            fund_roles__role__in=roles_granting(Capability.DECIDE),
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


def assignment_of(application: Application) -> Assignment | None:
    return Assignment.objects.select_related("reviewer").filter(application=application).first()


def lock_holder(application: Application) -> ReviewLock | None:
    """The unexpired lock on the application, with its holder."""
    return (
        ReviewLock.objects.select_related("holder")
        .filter(application=application, expires_at__gt=timezone.now())
        .first()
    )


def check_not_locked_by_other(actor: Any, application: Application) -> None:
    """Refuse if someone else is reviewing the application. Runs inside the caller's action
    (a decision), so it opens no transaction of its own."""
    lock = lock_holder(application)
    if lock is not None and lock.holder_id != actor.pk:
        raise BeingReviewed.by(lock, application.fund.time_zone)


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    unique = sorted(set(ids))
    for start in range(0, len(unique), ID_CHUNK):
        yield unique[start : start + ID_CHUNK]


def _pending_ids(fund: Fund, application_ids: Sequence[int], *, unassigned: bool) -> list[int]:
    """The given applications that belong to the fund and still wait for a decision, in
    submission order."""
    found: list[tuple[Any, int]] = []
    for chunk in _chunks(application_ids):
        pending = Application.objects.filter(fund=fund, pk__in=chunk, status__in=PENDING_STATUSES)
        if unassigned:
            pending = pending.filter(assignment__isnull=True)
        found.extend(pending.values_list("submitted_at", "pk"))
    return [pk for _submitted, pk in sorted(found)]


# -- assignments ---------------------------------------------------------------------------------


def assign(*, actor: Any, fund: Fund, application_ids: Sequence[int], reviewer: Any) -> int:
    """Give the fund's pending applications among ``application_ids`` to ``reviewer``,
    replacing any earlier assignment; returns how many were assigned.

    A fund manager assigns to anyone who may decide; a reviewer may only take applications for
    themselves, and only those nobody has (not a colleague's)."""
    with transaction.atomic(durable=True):
        manages = has_capability(actor, fund, Capability.MANAGE_FUND)
        if not manages and not (
            reviewer.pk == actor.pk and has_capability(actor, fund, Capability.DECIDE)
        ):
            raise PermissionDenied()
        if not has_capability(reviewer, fund, Capability.DECIDE):
            raise ValidationFailed(_not_a_reviewer(reviewer), field="reviewer")
        ids = _pending_ids(fund, application_ids, unassigned=not manages)
        if not ids:
            return 0
        now = timezone.now()
        # One upsert per chunk: an earlier assignment is replaced in the same statement.
        for chunk in _chunks(ids):
            Assignment.objects.bulk_create(
                [
                    Assignment(
                        application_id=pk,
                        fund=fund,
                        reviewer=reviewer,
                        assigned_by=actor,
                        assigned_at=now,
                    )
                    for pk in chunk
                ],
                update_conflicts=True,
                unique_fields=["application"],
                update_fields=["fund", "reviewer", "assigned_by", "assigned_at"],
            )
        audit.record(
            actor=actor,
            action="assignment.assigned",
            obj=fund,
            changes={"reviewer": reviewer.email, "reviewer_id": reviewer.pk, "count": len(ids)},
            fund_id=fund.pk,
        )
    return len(ids)


def assign_round_robin(
    *,
    actor: Any,
    fund: Fund,
    application_ids: Sequence[int],
    reviewers: Sequence[Any] | None = None,
) -> dict[int, int]:
    """Spread the unassigned pending applications among ``application_ids``, in submission
    order, over ``reviewers`` (default: everyone who may decide on the fund), each to the
    least loaded reviewer at that point (ties: the lowest user id). The load is the number of
    pending applications a reviewer is already assigned.

    Returns ``{reviewer_id: number assigned}`` for the reviewers who were given some."""
    try:
        with transaction.atomic(durable=True):
            require(actor, fund, Capability.MANAGE_FUND)
            people = list(reviewers_of(fund) if reviewers is None else reviewers)
            for person in people:
                if not has_capability(person, fund, Capability.DECIDE):
                    raise ValidationFailed(_not_a_reviewer(person), field="reviewers")
            if not people:
                raise ValidationFailed(
                    _("Nobody may decide on this fund's applications yet."), field="reviewers"
                )
            ids = _pending_ids(fund, application_ids, unassigned=True)
            if not ids:
                return {}
            given = _spread(fund, ids, {person.pk: person for person in people})
            now = timezone.now()
            Assignment.objects.bulk_create(
                [
                    Assignment(
                        application_id=pk,
                        fund=fund,
                        reviewer_id=reviewer_id,
                        assigned_by=actor,
                        assigned_at=now,
                    )
                    for pk, reviewer_id in given
                ],
                batch_size=ID_CHUNK,
            )
            counts: dict[int, int] = {}
            for _pk, reviewer_id in given:
                counts[reviewer_id] = counts.get(reviewer_id, 0) + 1
            audit.record(
                actor=actor,
                action="assignment.spread",
                obj=fund,
                changes={"count": len(ids), "reviewers": {str(k): v for k, v in counts.items()}},
                fund_id=fund.pk,
            )
    except IntegrityError as error:
        # Someone assigned one of them between our read and our insert: nothing was written.
        raise AssignmentConflict() from error
    return counts


def _not_a_reviewer(person: Any) -> str:
    return gettext("%(person)s may not decide on this fund's applications.") % {"person": person}


def _spread(fund: Fund, ids: list[int], people: dict[int, Any]) -> list[tuple[int, int]]:
    """``(application_id, reviewer_id)`` pairs: each application to the least loaded."""
    loads = dict.fromkeys(people, 0)
    loads.update(
        Assignment.objects.filter(
            fund=fund, reviewer_id__in=list(people), application__status__in=PENDING_STATUSES
        )
        .values_list("reviewer_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    heap = [(load, reviewer_id) for reviewer_id, load in loads.items()]
    heapq.heapify(heap)
    given: list[tuple[int, int]] = []
    for pk in ids:
        load, reviewer_id = heapq.heappop(heap)
        given.append((pk, reviewer_id))
        heapq.heappush(heap, (load + 1, reviewer_id))
    return given


def unassign(*, actor: Any, fund: Fund, application_ids: Sequence[int]) -> int:
    """Take applications out of their reviewer's queue; returns how many. A fund manager
    unassigns anyone's; a reviewer only gives back their own."""
    with transaction.atomic(durable=True):
        managing = has_capability(actor, fund, Capability.MANAGE_FUND)
        if not managing:
            require(actor, fund, Capability.DECIDE)
        removed = 0
        for chunk in _chunks(application_ids):
            assignments = Assignment.objects.filter(fund=fund, application_id__in=chunk)
            if not managing:
                assignments = assignments.filter(reviewer=actor)
            removed += assignments.delete()[0]
        if removed:
            audit.record(
                actor=actor,
                action="assignment.removed",
                obj=fund,
                changes={"count": removed},
                fund_id=fund.pk,
            )
    return removed


# -- review locks --------------------------------------------------------------------------------


def claim(*, actor: Any, application: Application, minutes: int | None = None) -> ReviewLock:
    """ "I am deciding this one": lock the application for ``minutes`` (default
    ``settings.REVIEW_LOCK_MINUTES``). Renews the actor's own lock and replaces an expired one;
    refuses while someone else's lock runs."""
    minutes = settings.REVIEW_LOCK_MINUTES if minutes is None else minutes
    if minutes <= 0:
        raise ValidationFailed(_("A review lasts at least one minute."), field="minutes")
    fund = application.fund
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.DECIDE)
        if application.status not in PENDING_STATUSES:
            raise InvalidTransition(_("This application has already been decided."))
        now = timezone.now()
        expires_at = now + dt.timedelta(minutes=minutes)
        # Claims queue on the lock row, not on the application: a decision locks the fund then
        # the application, and a claim taking them in another order could deadlock with it.
        lock = _locked_row(application)
        if lock is None:
            try:
                with transaction.atomic():  # a savepoint: a lost race leaves the action usable
                    lock = ReviewLock.objects.create(
                        application=application, holder=actor, locked_at=now, expires_at=expires_at
                    )
            except IntegrityError:
                # Another claim inserted its lock first; it is committed now: judge it below.
                lock = _locked_row(application)
                assert lock is not None
            else:
                _record_claim(actor, application, lock, previous=None)
                return lock
        if lock.holder_id != actor.pk and lock.expires_at > now:
            raise BeingReviewed.by(lock, fund.time_zone)
        previous = None if lock.holder_id == actor.pk else lock.holder
        if previous is not None:
            lock.holder, lock.locked_at = actor, now
        lock.expires_at = expires_at
        lock.save(update_fields=["holder", "locked_at", "expires_at"])
        _record_claim(actor, application, lock, previous=previous)
    return lock


def _locked_row(application: Application) -> ReviewLock | None:
    return ReviewLock.objects.select_for_update().filter(application=application).first()


def _record_claim(actor: Any, application: Application, lock: ReviewLock, *, previous: Any) -> None:
    changes: dict[str, Any] = {"expires_at": lock.expires_at}
    if previous is not None:
        changes["expired_lock_of"] = previous.email
    audit.record(
        actor=actor,
        action="review_lock.claimed",
        obj=application,
        changes=changes,
        fund_id=application.fund_id,
    )


def release(*, actor: Any, application: Application) -> None:
    """Stop reviewing: the holder releases their lock; a fund manager may break anyone's
    (audited as such). Nothing happens if there is no lock."""
    fund = application.fund
    with transaction.atomic(durable=True):
        lock = ReviewLock.objects.select_for_update().filter(application=application).first()
        if lock is None:
            if not (
                has_capability(actor, fund, Capability.DECIDE)
                or has_capability(actor, fund, Capability.MANAGE_FUND)
            ):
                raise PermissionDenied()
            return
        if lock.holder_id == actor.pk:
            lock.delete()
            audit.record(
                actor=actor,
                action="review_lock.released",
                obj=application,
                fund_id=application.fund_id,
            )
            return
        require(actor, fund, Capability.MANAGE_FUND)
        holder = lock.holder
        expired = lock.expires_at <= timezone.now()
        lock.delete()
        audit.record(
            actor=actor,
            action="review_lock.broken",
            obj=application,
            changes={"holder": holder.email, "expired": expired},
            fund_id=application.fund_id,
        )
