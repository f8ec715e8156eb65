"""A fund's application window as instants, and the sentence that tells applicants where it
stands.

The window opens at ``opens_on`` + ``opening_time`` and closes at ``closes_on`` +
``closing_time``, on the clock of the fund's time zone. The closing minute is still open: a
person who reads 23:59 on their clock is on time. A time the clocks repeat (autumn) opens at its
first occurrence and closes at its second, in the applicant's favour; a time they skip (spring)
is read as the standard library reads it, with the offset before the change (02:30 → 03:30).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_time, get_timezone_location
from django.utils import timezone
from django.utils.translation import gettext

from entraide.core.dates import format_day
from entraide.core.money import current_locale

if TYPE_CHECKING:
    from entraide.funds.models import Fund

CLOSING_MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class WindowState:
    is_open: bool
    opens_at: dt.datetime  # aware, UTC
    closes_at: dt.datetime  # aware, UTC: the closing minute as shown; it is still open
    message: str  # in the active language


def on_clock(day: dt.date, time: dt.time, zone: ZoneInfo, *, closing: bool) -> dt.datetime:
    """``day`` at ``time`` on ``zone``'s clock, as an instant in UTC."""
    first, second = (
        dt.datetime.combine(day, time).replace(tzinfo=zone, fold=fold).astimezone(dt.UTC)
        for fold in (0, 1)
    )
    # Repeated, the first reading is the earlier instant; skipped, it is the later one.
    repeated = first < second
    return second if repeated and closing else first


def bounds(fund: Fund) -> tuple[dt.datetime, dt.datetime]:
    """When the window opens and the minute it closes, in UTC."""
    zone = ZoneInfo(fund.time_zone)
    return (
        on_clock(fund.opens_on, fund.opening_time, zone, closing=False),
        on_clock(fund.closes_on, fund.closing_time, zone, closing=True),
    )


def _within(opens_at: dt.datetime, closes_at: dt.datetime, now: dt.datetime) -> bool:
    return opens_at <= now < closes_at + CLOSING_MINUTE


def is_open_at(fund: Fund, now: dt.datetime | None = None) -> bool:
    """Whether applications are open at ``now``, without the sentence of :func:`window_state`."""
    return _within(*bounds(fund), now or timezone.now())


def zone_name(time_zone: str) -> str:
    """The zone as people name it, by its city: "Paris time", "heure de New York"."""
    city = get_timezone_location(ZoneInfo(time_zone), locale=current_locale(), return_city=True)
    return gettext("%(city)s time") % {"city": city}


def describe(moment: dt.datetime, time_zone: str) -> dict[str, str]:
    """The day, time and zone of ``moment`` on the fund's clock, for a sentence."""
    local = moment.astimezone(ZoneInfo(time_zone))
    return {
        "date": format_day(local.date()),
        "time": format_time(local.time(), format="short", locale=current_locale()),
        "zone": zone_name(time_zone),
    }


def moment_text(moment: dt.datetime, time_zone: str) -> str:
    """A moment for a sentence: "15 April 2020 at 09:00 (Paris time)"."""
    return gettext("%(date)s at %(time)s (%(zone)s)") % describe(moment, time_zone)


def evaluation_day(fund: Fund, now: dt.datetime | None = None) -> dt.date:
    """The day an application made now would be evaluated: today on the fund's clock, brought
    within the window (its first day before it opens, its last after it closed)."""
    return min(max(fund.local_today(now), fund.opens_on), fund.closes_on)


def window_state(fund: Fund, now: dt.datetime | None = None) -> WindowState:
    now = now or timezone.now()
    opens_at, closes_at = bounds(fund)
    is_open = _within(opens_at, closes_at, now)
    if now < opens_at:
        message = gettext("Applications open on %(date)s at %(time)s (%(zone)s).") % describe(
            opens_at, fund.time_zone
        )
    elif is_open:
        message = gettext(
            "Applications are open until %(date)s at %(time)s (%(zone)s)."
        ) % describe(closes_at, fund.time_zone)
    else:
        message = gettext("Applications closed on %(date)s at %(time)s (%(zone)s).") % describe(
            closes_at, fund.time_zone
        )
    return WindowState(is_open=is_open, opens_at=opens_at, closes_at=closes_at, message=message)
