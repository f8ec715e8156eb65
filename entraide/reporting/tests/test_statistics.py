"""The statistics: every figure of a known fund exact, days on the fund's clock, a programme's
figures over its funds, and the suppression of small counts (with a property: no hidden figure
can be worked out from those shown and the totals)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from itertools import pairwise

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.programmes.rollup import rollup
from entraide.reporting import statistics
from entraide.reporting.statistics import (
    APPLICATIONS,
    GRANTED,
    PAID,
    Column,
    Hidden,
    Period,
    Row,
    Table,
    suppress,
)
from entraide.reporting.tests.figures import (
    example_fund,
    example_programme,
    grant,
    utc,
)
from entraide.rules.tests.factories import RuleSetFactory, RuleSetVersionFactory, rules_with

D = dt.date
FEW, WITHHELD = Hidden.FEW, Hidden.WITHHELD


def by_day(table: Table) -> dict[dt.date, tuple[object, ...]]:
    return {row.label: row.values for row in table.rows}  # type: ignore[misc]


def by_key(table: Table) -> dict[str, tuple[object, ...]]:
    return {row.key: row.values for row in table.rows}


# -- a fund ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_applications_count_on_the_day_of_the_funds_clock_around_midnight_and_summer_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    figures = statistics.fund_statistics(example_fund(monkeypatch).fund)

    assert by_day(figures.per_day) == {
        D(2026, 3, 27): (1,),  # 23:59 in winter (UTC+1)
        D(2026, 3, 28): (1,),  # midnight
        D(2026, 3, 29): (1,),  # 23:59 in summer (UTC+2)
        D(2026, 3, 30): (2,),
        D(2026, 3, 31): (1,),
        D(2026, 4, 1): (0,),
        D(2026, 4, 2): (0,),
    }
    assert figures.per_day.total == (6,)


@pytest.mark.django_db
def test_decisions_are_the_approvals_rejections_and_waiting_list_of_each_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    figures = statistics.fund_statistics(example_fund(monkeypatch).fund)

    decisions = by_day(figures.decisions)
    assert [column.key for column in figures.decisions.columns] == [
        "approved",
        "rejected",
        "waitlisted",
    ]
    # From the window's first day to the last decision, after the window closed.
    assert min(decisions) == D(2026, 3, 27)
    assert max(decisions) == D(2026, 4, 3)
    assert {day: values for day, values in decisions.items() if values != (0, 0, 0)} == {
        D(2026, 4, 1): (1, 0, 0),  # 23:30 in Paris
        D(2026, 4, 2): (1, 1, 0),  # 00:30 in Paris, and a rejection
        D(2026, 4, 3): (0, 0, 1),
    }
    assert figures.decisions.total == (2, 1, 1)


@pytest.mark.django_db
def test_money_each_day_running_totals_and_burndown_are_the_ledgers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    money = statistics.fund_statistics(example_fund(monkeypatch).fund).money
    e = Decimal

    per_day = by_day(money.per_day)
    assert min(per_day) == D(2026, 3, 26)  # the fund's first credit, before it opened
    assert max(per_day) == D(2026, 4, 4)  # the payment
    assert {day: values for day, values in per_day.items() if values != (0, 0)} == {
        D(2026, 4, 1): (e("500.00"), e("0.00")),
        D(2026, 4, 2): (e("500.00"), e("0.00")),
        D(2026, 4, 4): (e("0.00"), e("500.00")),
    }
    assert money.per_day.total == (e("1000.00"), e("500.00"))
    cumulative = by_day(money.cumulative)
    assert cumulative[D(2026, 3, 31)] == (0, 0)
    assert cumulative[D(2026, 4, 2)] == (e("1000.00"), 0)
    assert cumulative[D(2026, 4, 4)] == (e("1000.00"), e("500.00"))
    assert money.cumulative.total is None  # running totals do not add up
    assert [values[1] for values in by_day(money.burndown).values()] == [
        *[e("10000.00")] * 6,  # 26 to 31 March
        e("9500.00"),  # 1 April
        e("9000.00"),  # 2 April
        e("10000.00"),  # 3 April: €1,000 credited
        e("10000.00"),  # 4 April: paying takes nothing more from what is left
    ]
    assert by_day(money.burndown)[D(2026, 4, 3)][0] == e("11000.00")


@pytest.mark.django_db
def test_breakdowns_count_applications_grants_payments_and_their_money(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    e = Decimal
    zero = e("0.00")
    example = example_fund(monkeypatch)
    with translation.override("en"):
        figures = statistics.fund_statistics(example.fund)

        # (applications, granted, paid, committed, paid out)
        assert by_key(figures.by_region) == {
            "FR-94": (2, 1, 0, e("500.00"), zero),  # Corsica: 2A and 2B
            "FR-11": (1, 1, 1, e("500.00"), e("500.00")),
            "FR-04": (1, 0, 0, zero, zero),  # La Réunion: waiting for budget is not granted
            "BE": (1, 0, 0, zero, zero),
            "unknown": (1, 0, 0, zero, zero),
        }
        assert [str(row.label) for row in figures.by_region.rows] == [
            "Corse",
            "Île-de-France",
            "La Réunion",
            "Belgium",
            "Unknown",
        ]
        assert figures.by_region.total == (6, 2, 1, e("1000.00"), e("500.00"))
        assert by_key(figures.by_profession) == {
            "technician": (4, 0, 0, zero, zero),
            "artist": (2, 2, 1, e("1000.00"), e("500.00")),
        }
        assert [(row.key, str(row.label)) for row in figures.by_partner.rows] == [
            ("portal", "Applicant portal"),
            (f"partner-{example.partner.pk}", "Syndicat des techniciens"),
        ]
        assert figures.by_partner.rows[0].values == (4, 2, 1, e("1000.00"), e("500.00"))
        assert figures.by_partner.rows[1].values == (2, 0, 0, zero, zero)


@pytest.mark.django_db
def test_a_period_keeps_its_days_and_the_applications_submitted_in_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fund = example_fund(monkeypatch).fund

    figures = statistics.fund_statistics(fund, Period(D(2026, 3, 29), D(2026, 4, 2)))

    assert list(by_day(figures.per_day)) == [D(2026, 3, 29) + dt.timedelta(n) for n in range(5)]
    assert figures.per_day.total == (4,)
    assert figures.by_region.total[:3] == (4, 0, 0)  # type: ignore[index]
    assert figures.decisions.total == (2, 1, 0)
    # Running totals are the ledger's at the end of each day, whatever the period.
    assert by_day(figures.money.cumulative)[D(2026, 4, 2)] == (Decimal("1000.00"), 0)
    assert figures.money.per_day.total == (Decimal("1000.00"), 0)


@pytest.mark.django_db
def test_a_fund_that_does_not_collect_gender_has_no_such_table() -> None:
    fund: Fund = FundFactory()
    ApplicationFactory(fund=fund)

    assert statistics.fund_statistics(fund).by_gender is None


GENDER_QUESTION = """facts:
  - id: gender
    type: choice
    required: false
    label: {fr: Genre, en: Gender}
    choices:
      - {value: woman, label: {fr: Femme, en: Woman}}
      - {value: man, label: {fr: Homme, en: Man}}
"""


def fund_asking_gender() -> Fund:
    fund: Fund = FundFactory()
    RuleSetVersionFactory(
        rule_set=RuleSetFactory(fund=fund), source=rules_with(**{"facts:\n": GENDER_QUESTION})
    )
    return fund


@pytest.mark.django_db
def test_the_gender_applicants_declared_is_counted_in_the_words_of_the_rules() -> None:
    fund = fund_asking_gender()
    for gender in ("woman", "woman", "man", "Zéphyrine, non-binaire"):
        ApplicationFactory(fund=fund, declared={"gender": gender})
    ApplicationFactory(fund=fund)

    with translation.override("fr"):
        table = statistics.fund_statistics(fund).by_gender

        assert table is not None
        assert [(row.key, str(row.label), row.values[0]) for row in table.rows] == [
            ("woman", "Femme", 2),
            ("man", "Homme", 1),
            # An answer the rules do not offer is never shown as typed.
            ("other_answer", "Autre réponse", 1),
            ("not_stated", "Non précisé", 1),
        ]


@pytest.mark.django_db
def test_a_fund_whose_rules_ask_gender_collects_it_before_anyone_answers() -> None:
    fund = fund_asking_gender()
    ApplicationFactory(fund=fund)

    table = statistics.fund_statistics(fund).by_gender

    assert table is not None
    assert [row.key for row in table.rows] == ["not_stated"]


@pytest.mark.django_db
def test_gender_declared_without_rules_asking_it_is_counted_as_other_answers() -> None:
    fund: Fund = FundFactory()
    ApplicationFactory(fund=fund, declared={"gender": "woman"})

    table = statistics.fund_statistics(fund).by_gender

    assert table is not None
    assert [(row.key, row.values[0]) for row in table.rows] == [("other_answer", 1)]


# -- a programme -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_programme_adds_up_its_funds_each_on_its_own_clock() -> None:
    world = example_programme()
    # 23:30 UTC in January: the next day in Paris, the same day in London.
    moment = utc("2026-01-10T23:30:00")
    for fund in (world.france, world.uk):
        fund.opens_on, fund.closes_on = D(2026, 1, 10), D(2026, 1, 12)
        fund.save()
        ApplicationFactory(fund=fund, submitted_at=moment)
    grant(world.crew, 3)  # crew relief's records are no applications

    figures = statistics.programme_statistics(world.programme)

    assert by_day(figures.per_day) == {
        D(2026, 1, 10): (1,),
        D(2026, 1, 11): (1,),
        D(2026, 1, 12): (0,),
    }
    assert figures.by_profession.total == (2, 0, 0)
    # Amounts in several currencies are not added up: counts only.
    assert [column.key for column in figures.by_region.columns] == [
        "applications",
        "granted",
        "paid",
    ]


@pytest.mark.django_db
def test_each_partner_funds_money_is_converted_as_the_rollup_does() -> None:
    world = example_programme()
    grant(world.uk, 2, "1615.76")
    grant(world.france, 1, "900.00")
    grant(world.crew, 3, "2000.00")

    figures = statistics.programme_statistics(world.programme)
    lines = {line.fund.slug: line for line in rollup(world.programme).funds}

    rows = by_key(figures.by_fund)
    assert list(rows) == ["fr-crew", "uk-crew"]
    assert rows["uk-crew"] == (
        2,
        2,
        0,
        Decimal("3231.52"),
        Decimal("0.00"),
        lines["uk-crew"].committed_converted,
        lines["uk-crew"].paid_converted,
    )
    assert lines["uk-crew"].committed_converted not in (None, Decimal("3231.52"))
    assert figures.by_fund.total is not None
    assert figures.by_fund.total[:5] == (3, 3, 0, None, None)  # several currencies: no total
    assert figures.by_fund.total[5] == (
        lines["uk-crew"].committed_converted + lines["fr-crew"].committed_converted  # type: ignore[operator]
    )
    # Crew relief apart: no applications; the programme's currency without an allocation.
    assert figures.crew_relief is not None
    with translation.override("en"):
        assert str(figures.crew_relief.title) == "Crew relief"
    assert [column.key for column in figures.crew_relief.columns][:2] == ["granted", "paid"]
    assert by_key(figures.crew_relief) == {
        "crew-usd": (3, 0, *[Decimal(a) for a in ("6000.00", "0.00", "6000.00", "0.00")])
    }


@pytest.mark.django_db
def test_a_programme_without_crew_relief_has_no_such_table() -> None:
    world = example_programme()
    world.crew.programme = None
    world.crew.save()

    assert statistics.programme_statistics(world.programme).crew_relief is None


# -- small counts ------------------------------------------------------------------------------


def table_of(*rows: tuple[int, ...], columns: tuple[Column, ...] = (APPLICATIONS,)) -> Table:
    made = tuple(Row(str(index), str(index), values) for index, values in enumerate(rows))
    return Table("t", "T", "Row", columns, made, statistics._add_up(columns, made))


def column_of(table: Table, index: int = 0) -> list[object]:
    return [row.values[index] for row in table.rows]


def test_counts_below_ten_are_hidden_and_the_next_smallest_with_them() -> None:
    shown = suppress(table_of((3,), (50,), (20,), (0,)))

    assert column_of(shown) == [FEW, 50, WITHHELD, 0]
    assert shown.total == (73,)


def test_two_small_counts_hide_each_other_unless_their_sum_gives_them_away() -> None:
    # 4 + 7 = 11: each is one of several values.
    assert column_of(suppress(table_of((4,), (7,), (30,)))) == [FEW, FEW, 30]
    # 1 + 1 = 2: each can only be 1.
    assert column_of(suppress(table_of((1,), (1,), (30,)))) == [FEW, FEW, WITHHELD]


def test_a_column_resting_on_fewer_than_ten_people_shows_nothing() -> None:
    shown = suppress(table_of((3,), (0,), (2,)))

    assert column_of(shown) == [FEW, FEW, FEW]
    assert shown.total == (FEW,)


def test_when_every_figure_is_hidden_and_still_gives_one_away_none_says_more() -> None:
    # 1 hidden as small and 10 withheld would tell 1 + (≥ 10) = 11: all are "not shown".
    shown = suppress(table_of((1,), (10,), (0,)))

    assert column_of(shown) == [WITHHELD, WITHHELD, WITHHELD]
    assert shown.total == (11,)


def test_money_is_hidden_with_the_count_of_the_people_it_adds_up() -> None:
    columns = (APPLICATIONS, GRANTED, PAID, statistics._committed("EUR"))
    table = Table(
        "t",
        "T",
        "Row",
        columns,
        (
            Row("a", "A", (40, 5, 0, Decimal("2500.00"))),
            Row("b", "B", (40, 30, 12, Decimal("15000.00"))),
            Row("c", "C", (12, 12, 12, Decimal("6000.00"))),
        ),
        (92, 47, 24, Decimal("23500.00")),
    )

    shown = suppress(table)

    assert [row.values for row in shown.rows] == [
        (40, FEW, 0, FEW),
        # Withheld with the 5: the 30, as the 12 of C would be pinned down by C's 12
        # applications (granted ≤ applications) and 12 paid (paid ≤ granted).
        (40, WITHHELD, 12, WITHHELD),
        (12, 12, 12, Decimal("6000.00")),
    ]
    assert shown.total == (92, 47, 24, Decimal("23500.00"))


def test_an_amount_hidden_alone_takes_the_smallest_amount_shown_with_it() -> None:
    # B's grants are withheld with A's 3, but B has no amount (no rate): C's goes with A's.
    converted = statistics._committed("USD")
    rows = ((30, 3, Decimal(300)), (40, 20, None), (50, 30, Decimal(3000)), (60, 40, Decimal(4000)))
    shown = suppress(table_of(*rows, columns=(APPLICATIONS, GRANTED, converted)))

    assert [row.values[1:] for row in shown.rows] == [
        (FEW, FEW),
        (WITHHELD, None),
        (30, WITHHELD),
        (40, Decimal(4000)),
    ]
    assert shown.total == (180, 93, Decimal(7300))


def test_money_that_adds_up_no_count_is_withheld() -> None:
    running = Column("committed_all", "Committed in all", money=True, currency="EUR")
    table = Table("t", "T", "Day", (running,), (Row("d", "D", (Decimal("5.00"),)),), None)

    assert suppress(table).rows[0].values == (WITHHELD,)


# The property: a reader who knows how figures are hidden — a small one is from 1 to 9 (from 0
# when the whole column is small), a withheld one at least 10 and within the figures shown
# beside it (paid ≤ granted ≤ applications), a withheld total at least 10 — never finds a
# hidden figure with a single possible value, and the figures shown are never small.

K = statistics.K


def _reader_bounds(shown: Table, index: int, row: int) -> tuple[int, int]:
    values = shown.rows[row].values
    column = shown.columns[index]
    if values[index] is FEW:
        return (0 if shown.total and shown.total[index] is FEW else 1), K - 1
    # Withheld: at least K, unless every count is (then nothing is said of any).
    whole_column = FEW not in (other.values[index] for other in shown.rows)
    above = statistics._position(shown, column.at_most)
    below = [i for i, other in enumerate(shown.columns) if other.at_most == column.key]
    least = max([0 if whole_column else K] + [v for i in below if isinstance(v := values[i], int)])
    cap = values[above] if above is not None else None
    return least, cap if isinstance(cap, int) else 10_000


def _possible_values(shown: Table, index: int) -> dict[int, set[int]]:
    """Each hidden figure's values consistent with everything the reader sees (enumerated)."""
    total = shown.total[index] if shown.total else None
    visible = sum(v for row in shown.rows if isinstance(v := row.values[index], int))
    hidden = [i for i, row in enumerate(shown.rows) if isinstance(row.values[index], Hidden)]
    if isinstance(total, int):
        sums = range(total - visible, total - visible + 1)
    else:
        assert total is FEW  # a total is never withheld
        sums = range(1, K)
    bounds = {i: _reader_bounds(shown, index, i) for i in hidden}
    possible: dict[int, set[int]] = {}
    for i in hidden:
        others = {0}
        for j in hidden:
            if j != i:
                low, high = bounds[j]
                others = {s + v for s in others for v in range(low, min(high, sums[-1]) + 1)}
        low, high = bounds[i]
        possible[i] = {
            v
            for v in range(low, min(high, sums[-1]) + 1)
            if any((total_sum - v) in others for total_sum in sums)
        }
    return possible


rows_strategy = st.lists(
    st.integers(0, 40).flatmap(
        lambda a: st.integers(0, a).flatmap(
            lambda g: st.integers(0, g).map(lambda p: (a, g, p, Decimal(p * 500 + g * 10)))
        )
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(rows_strategy)
def test_no_hidden_figure_can_be_worked_out_from_the_figures_shown_and_the_totals(
    rows: list[tuple[int, int, int, Decimal]],
) -> None:
    columns = (APPLICATIONS, GRANTED, PAID, statistics._paid_out("EUR"))
    truth = table_of(*rows, columns=columns)

    shown = suppress(truth)

    for index in range(3):
        for row, (true_row, shown_row) in enumerate(zip(truth.rows, shown.rows, strict=True)):
            figure = shown_row.values[index]
            if isinstance(figure, int):
                assert figure == 0 or figure >= K
                continue
            possible = _possible_values(shown, index)[row]
            assert true_row.values[index] in possible  # the reader's bounds hold
            assert len(possible) > 1, (rows, index, row, possible)
        total = shown.total[index]  # type: ignore[index]
        assert not isinstance(total, int) or total == 0 or total >= K
        assert shown.total[index] is not WITHHELD  # type: ignore[index]
    # Money: hidden with its count, and never alone beside its total.
    money = [row.values[3] for row in shown.rows]
    assert [isinstance(v, Hidden) for v in money] == [
        isinstance(row.values[2], Hidden) for row in shown.rows
    ]
    if not isinstance(shown.total[3], Hidden):  # type: ignore[index]
        assert sum(isinstance(v, Hidden) for v in money) != 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=8))
def test_a_series_of_days_hides_as_a_column_does(counts: list[int]) -> None:
    truth = table_of(*((count,) for count in counts))

    shown = suppress(truth)

    for row in range(len(counts)):
        if isinstance(shown.rows[row].values[0], Hidden):
            possible = _possible_values(shown, 0)[row]
            assert counts[row] in possible
            assert len(possible) > 1


def test_pinned_reads_bounds_and_sums() -> None:
    assert statistics._pinned([(1, 9)], 5)
    assert not statistics._pinned([(1, 9), (1, 9)], 5)
    assert statistics._pinned([(1, 9), (1, 9)], 2)
    assert statistics._pinned([(1, 9), (10, math.inf)], 11)
    assert not statistics._pinned([(1, 9), (10, math.inf)], 12)
    assert not statistics._pinned([], 0)


def test_days_are_consecutive_in_a_per_day_table() -> None:
    days = [D(2026, 3, 27) + dt.timedelta(n) for n in range(3)]
    table = statistics._per_day("t", "T", (APPLICATIONS,), days, lambda day: (day.day,))

    labels = [row.label for row in table.rows]
    assert all(b - a == dt.timedelta(1) for a, b in pairwise(labels))  # type: ignore[operator]
    assert table.total == (27 + 28 + 29,)
