"""Programmes' figures in words, for their pages and the donor's report."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal
from django.utils.translation import gettext as _

from entraide.core.money import current_locale
from entraide.programmes import rates
from entraide.programmes.models import Allocation


def rate_text(rate: Decimal, source: str, target: str) -> str:
    """``1 USD = 0.80787974 GBP``: every decimal kept, so that the figures can be checked."""
    number = format_decimal(rate, format="#,##0.########", locale=current_locale())
    return _("1 %(source)s = %(rate)s %(target)s") % {
        "source": source,
        "rate": number,
        "target": target,
    }


@dataclass(frozen=True)
class AllocationRow:
    allocation: Allocation
    rates_read: str  # the rate used and where the rates it came from were read


def allocation_row(allocation: Allocation, currency: str) -> AllocationRow:
    """The allocation with the sentence of its conversion, from the rates it kept."""
    conversion = rates.Conversion(
        source=currency,
        target=allocation.converted_currency,
        rate=allocation.rate,
        day=allocation.rate_day,
        # The source currency's rate first, as a conversion reads them.
        rates=tuple(
            sorted(allocation.rates_used.all(), key=lambda row: (row.currency != currency, row.pk))
        ),
    )
    return AllocationRow(allocation=allocation, rates_read=conversion.describe())
