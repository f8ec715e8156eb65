"""The application window as instants on the fund's clock: opening and closing times, time
zones, the changes of clocks, and the sentence that tells applicants where it stands."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import gettext

from entraide.funds.models import Fund
from entraide.funds.window import evaluation_day, window_state

UTC = dt.UTC


def fund(**values: Any) -> Fund:
    """An unsaved fund: the window needs no database."""
    return Fund(
        **{
            "opens_on": dt.date(2020, 4, 15),
            "opening_time": dt.time(9, 0),
            "closes_on": dt.date(2020, 4, 30),
            "closing_time": dt.time(23, 59),
            "time_zone": "Europe/Paris",
            **values,
        }
    )


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        ("2020-04-15T06:59:59", False),  # 08:59:59 in Paris (UTC+2)
        ("2020-04-15T07:00:00", True),  # 09:00 in Paris
        ("2020-04-30T21:59:00", True),  # 23:59 in Paris: the closing minute
        ("2020-04-30T21:59:59.999999", True),  # still the closing minute
        ("2020-04-30T22:00:00", False),  # midnight in Paris
    ],
)
def test_the_window_opens_and_closes_at_its_times_on_the_funds_clock(
    now: str, is_open: bool
) -> None:
    assert window_state(fund(), at(now)).is_open is is_open
    assert fund().is_open(at(now)) is is_open


def test_the_same_times_are_other_instants_in_another_time_zone() -> None:
    montreal = fund(time_zone="America/Montreal")  # UTC-4 in April
    state = window_state(montreal, at("2020-04-15T12:00:00"))
    assert (state.opens_at, state.closes_at) == (
        at("2020-04-15T13:00:00"),
        at("2020-05-01T03:59:00"),
    )
    assert not state.is_open


def test_a_closing_time_on_the_day_clocks_go_forward_uses_summer_time() -> None:
    # 29 March 2020: Paris goes from UTC+1 to UTC+2 at 02:00; 23:59 that day is 21:59 UTC.
    spring = fund(opens_on=dt.date(2020, 3, 1), closes_on=dt.date(2020, 3, 29))
    assert window_state(spring, at("2020-03-29T21:59:30")).is_open
    assert not window_state(spring, at("2020-03-29T22:00:00")).is_open


def test_a_time_the_clocks_repeat_opens_at_its_first_and_closes_at_its_second_occurrence() -> None:
    # 25 October 2020: Paris goes back from 03:00 (UTC+2) to 02:00 (UTC+1); 02:30 happens twice.
    autumn = fund(
        opens_on=dt.date(2020, 10, 25),
        opening_time=dt.time(2, 30),
        closes_on=dt.date(2020, 10, 25),
        closing_time=dt.time(2, 30),
    )
    state = window_state(autumn, at("2020-10-25T01:00:00"))
    assert (state.opens_at, state.closes_at) == (
        at("2020-10-25T00:30:00"),
        at("2020-10-25T01:30:00"),
    )
    assert state.is_open  # 02:00 on the second pass of the clock


def test_a_time_the_clocks_skip_is_read_with_the_offset_before_the_change() -> None:
    # 29 March 2020, 02:30 does not exist in Paris: read as 02:30 UTC+1, that is 03:30 UTC+2.
    skipped = fund(opens_on=dt.date(2020, 3, 29), opening_time=dt.time(2, 30))
    state = window_state(skipped, at("2020-03-29T01:29:00"))
    assert state.opens_at == at("2020-03-29T01:30:00")
    assert not state.is_open
    with translation.override("en"):
        assert "3:30" in window_state(skipped, at("2020-03-29T01:29:00")).message


def test_the_messages_say_when_with_the_date_time_and_time_zone_in_english() -> None:
    with translation.override("en"):
        before = window_state(fund(), at("2020-04-01T10:00:00")).message
        during = window_state(fund(), at("2020-04-20T10:00:00")).message
        after = window_state(fund(), at("2020-05-01T10:00:00")).message

    assert before == "Applications open on April 15, 2020 at 9:00\u202fAM (Paris time)."
    assert during == "Applications are open until April 30, 2020 at 11:59\u202fPM (Paris time)."
    assert after == "Applications closed on April 30, 2020 at 11:59\u202fPM (Paris time)."


def test_the_messages_are_in_french_with_french_dates_and_times() -> None:
    with translation.override("fr"):
        message = window_state(fund(), at("2020-04-01T10:00:00")).message
        expected = gettext("Applications open on %(date)s at %(time)s (%(zone)s).") % {
            "date": "15 avril 2020",
            "time": "09:00",
            "zone": gettext("%(city)s time") % {"city": "Paris"},
        }
    assert message == expected


def test_the_zone_is_named_by_its_city_in_the_readers_language() -> None:
    london = fund(time_zone="Europe/London")
    with translation.override("fr"):
        message = window_state(london, at("2020-04-01T10:00:00")).message
        assert gettext("%(city)s time") % {"city": "Londres"} in message


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2020-04-01T10:00:00", dt.date(2020, 4, 15)),  # before: the opening day
        ("2020-04-20T10:00:00", dt.date(2020, 4, 20)),
        ("2020-04-30T22:30:00", dt.date(2020, 4, 30)),  # 00:30 on 1 May in Paris: the last day
    ],
)
def test_an_application_made_now_is_evaluated_on_a_day_of_the_window(
    today: str, expected: dt.date
) -> None:
    assert evaluation_day(fund(), at(today)) == expected
