"""Money: ``Decimal`` amounts with an ISO 4217 currency, formatted per locale with Babel."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from django.utils.translation import get_language, to_locale

CURRENCY_CHOICES = [("EUR", "EUR"), ("GBP", "GBP"), ("USD", "USD"), ("INR", "INR")]
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def current_locale() -> str:
    return to_locale(get_language() or "fr")


def format_money(amount: Decimal | None, currency: str, locale: str | None = None) -> str:
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=locale or current_locale())
