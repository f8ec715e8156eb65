"""What the review app holds about a person, for the privacy app (entraide.privacy): the
decision as the applicant's copy of their data shows it, the open flags that hold an erasure,
and the free texts erased with the application (the outcome, amount, criteria not met and
rule version stay: the fund's figures and accounts need them).

Changes run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from entraide.review.models import Decision, Flag, SecondApproval


def decisions_of(application_ids: Iterable[int]) -> dict[int, Decision]:
    """application id → its decision."""
    return {
        decision.application_id: decision
        for decision in Decision.objects.filter(
            application_id__in=list(application_ids)
        ).select_related("rule_version")
    }


def decision_data(decision: Decision) -> dict[str, Any]:
    """The decision as its applicant may read it (who decided is the fund's staff: not named)."""
    return {
        "outcome": decision.outcome,
        "outcome_label": str(decision.get_outcome_display()),
        "amount": decision.amount,
        "currency": decision.currency,
        "decided_at": decision.decided_at,
        "reason_given": decision.reason,
        "criteria_not_met": decision.reasons,
        "rule_version": decision.rule_version.number if decision.rule_version else None,
    }


def with_open_flags(application_ids: Iterable[int]) -> set[int]:
    """The applications with a flag not resolved yet (a reviewer's or the integrity checks')."""
    return set(
        Flag.objects.filter(
            application_id__in=list(application_ids), resolved_at__isnull=True
        ).values_list("application_id", flat=True)
    )


def erase(application_ids: Iterable[int]) -> dict[str, int]:
    """Blank the free texts written about these applications: the reason given with the
    decision, the notes and answers of second approvals, the flags' notes and resolutions."""
    ids = list(application_ids)
    return {
        "decision_reasons": Decision.objects.filter(application_id__in=ids)
        .exclude(reason="")
        .update(reason=""),
        "second_approval_notes": SecondApproval.objects.filter(application_id__in=ids).update(
            note="", answer=""
        ),
        "flag_notes": Flag.objects.filter(application_id__in=ids).update(note="", resolution=""),
    }
