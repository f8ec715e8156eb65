from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template

from entraide.audit.labels import action_label
from entraide.core.dates import format_day, format_moment
from entraide.core.money import format_money

register = template.Library()


@register.simple_tag
def money(amount: Decimal | None, currency: str) -> str:
    return format_money(amount, currency)


@register.filter
def day(value: dt.date | None) -> str:
    return format_day(value)


@register.simple_tag
def moment(value: dt.datetime | None, tz: str = "Europe/Paris") -> str:
    return format_moment(value, tz)


@register.filter
def audit_action(action: str) -> str:
    return action_label(action)
