"""Reading decisions and the approvals waiting for a second person."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from entraide.funds.models import Fund
from entraide.review.models import Assignment, Decision, Flag, SecondApproval


def decision_for(application_id: int) -> Decision | None:
    return (
        Decision.objects.filter(application_id=application_id)
        .select_related("decided_by", "proposed_by", "rule_version")
        .first()
    )


def pending_second_approval(application_id: int) -> SecondApproval | None:
    return (
        SecondApproval.objects.filter(
            application_id=application_id, status=SecondApproval.Status.PENDING
        )
        .select_related("proposed_by")
        .first()
    )


def second_approvals_of(application_id: int) -> QuerySet[SecondApproval]:
    """Every proposal made for the application, newest first (the history of four eyes)."""
    return (
        SecondApproval.objects.filter(application_id=application_id)
        .select_related("proposed_by", "answered_by")
        .order_by("-proposed_at")
    )


def second_approvals_waiting(fund: Fund) -> QuerySet[SecondApproval]:
    return SecondApproval.objects.filter(fund=fund, status=SecondApproval.Status.PENDING)


# Filters and columns of an application query (the back office's queues and list).


# The fund is named in each (the applications' own): the side tables' indexes start with it.


def has_open_flag(fund: Fund) -> Exists:
    return Exists(
        Flag.objects.filter(fund=fund, application=OuterRef("pk"), resolved_at__isnull=True)
    )


def open_flag_count() -> Coalesce:
    """The number of the application's open flags (an annotation)."""
    return Coalesce(
        Subquery(
            Flag.objects.filter(application=OuterRef("pk"), resolved_at__isnull=True)
            .order_by()
            .values("application")
            .annotate(count=Count("pk"))
            .values("count")
        ),
        0,
    )


def waits_for_second_approval(fund: Fund) -> Exists:
    return Exists(
        SecondApproval.objects.filter(
            fund=fund, application=OuterRef("pk"), status=SecondApproval.Status.PENDING
        )
    )


def assigned_to(fund: Fund, user: Any) -> Q:
    return Q(assignment__fund=fund, assignment__reviewer=user)


def unassigned() -> Any:
    # NOT EXISTS, not a LEFT JOIN with IS NULL: PostgreSQL then estimates how many remain.
    return ~Exists(Assignment.objects.filter(application=OuterRef("pk")))


# What ``select_related`` follows from an application to the reviewer it is assigned to.
ASSIGNEE = "assignment__reviewer"


def platform_flag_counts(fund: Fund, codes: Sequence[str]) -> dict[str, tuple[int, int]]:
    """``code: (raised, still open)`` of the flags the platform's checks raised on the fund's
    applications with these codes, in one query (a code never raised is absent)."""
    rows = (
        Flag.objects.filter(fund=fund, raised_by__isnull=True, code__in=codes)
        .order_by()
        .values("code")
        .annotate(raised=Count("pk"), still_open=Count("pk", filter=Q(resolved_at__isnull=True)))
    )
    return {row["code"]: (row["raised"], row["still_open"]) for row in rows}
