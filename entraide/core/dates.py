"""Dates and times formatted per locale with Babel, in the time zone they belong to."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from entraide.core.money import current_locale


def format_day(value: dt.date | None, locale: str | None = None) -> str:
    if value is None:
        return ""
    return format_date(value, format="long", locale=locale or current_locale())


def format_moment(
    value: dt.datetime | None, tz: str = "Europe/Paris", locale: str | None = None
) -> str:
    if value is None:
        return ""
    return format_datetime(
        value, format="medium", tzinfo=ZoneInfo(tz), locale=locale or current_locale()
    )
