"""Reading the privacy records: a fund's retention policy, its erasure requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from entraide.funds.models import Fund
from entraide.privacy.models import (
    ACCOUNTING_HOLD_YEARS,
    ErasedApplication,
    ErasureRequest,
    FundRetentionPolicy,
)


def policy_of(fund: Fund) -> FundRetentionPolicy:
    """The fund's policy, or the defaults (not saved) when its operator kept them."""
    policy = FundRetentionPolicy.objects.filter(fund=fund).first()
    return policy if policy is not None else FundRetentionPolicy(fund=fund)


def policies_of(funds: list[Fund]) -> dict[int, FundRetentionPolicy]:
    found = {p.fund_id: p for p in FundRetentionPolicy.objects.filter(fund__in=funds)}
    return {fund.pk: found.get(fund.pk) or FundRetentionPolicy(fund=fund) for fund in funds}


def months_before(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` less ``months`` calendar months (the 31st becomes the month's last day)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def accounting_hold_until(paid_at: dt.datetime) -> dt.date:
    """The end of the accounting hold of a transfer: ten years after the end of the financial
    year it was booked in (the calendar year)."""
    return dt.date(paid_at.year + ACCOUNTING_HOLD_YEARS, 12, 31)


def requests_of(fund: Fund) -> QuerySet[ErasureRequest]:
    return ErasureRequest.objects.filter(fund=fund).select_related("application", "recorded_by")


def request_of(fund: Fund, reference: str) -> ErasureRequest:
    return get_object_or_404(requests_of(fund), reference=reference)


def open_requests(fund_id: int) -> QuerySet[ErasureRequest]:
    return ErasureRequest.objects.filter(
        fund_id=fund_id, status=ErasureRequest.Status.OPEN
    ).select_related("application")


def erased_ids(fund_id: int) -> QuerySet[ErasedApplication, Any]:
    return ErasedApplication.objects.filter(fund_id=fund_id).values_list(
        "application_id", flat=True
    )


def erasure_of(application_id: int) -> ErasedApplication | None:
    return ErasedApplication.objects.filter(application_id=application_id).first()


def holds_ended(fund_id: int, today: dt.date) -> QuerySet[ErasedApplication]:
    """Erased applications whose held data may go now."""
    return ErasedApplication.objects.filter(
        fund_id=fund_id, hold_until__lt=today, hold_ended_at__isnull=True
    ).exclude(hold="")


def fund_ids_with_erasures() -> set[int]:
    return set(
        ErasedApplication.objects.filter(hold_ended_at__isnull=True)
        .exclude(hold="")
        .values_list("fund_id", flat=True)
        .distinct()
        .order_by()
    ) | set(
        ErasureRequest.objects.filter(status=ErasureRequest.Status.OPEN)
        .values_list("fund_id", flat=True)
        .distinct()
        .order_by()
    )
