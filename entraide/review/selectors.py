"""Reading decisions and the budget they commit."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from entraide.core.money import ZERO
from entraide.funds.models import Fund
from entraide.review.models import Decision


def committed_total(fund: Fund) -> Decimal:
    total = Decision.objects.filter(fund=fund, outcome=Decision.Outcome.APPROVED).aggregate(
        total=Sum("amount")
    )["total"]
    return total if total is not None else ZERO


def budget_left(fund: Fund) -> Decimal:
    return fund.budget - committed_total(fund)


def decision_for(application_id: int) -> Decision | None:
    return (
        Decision.objects.filter(application_id=application_id)
        .select_related("decided_by", "rule_version")
        .first()
    )
