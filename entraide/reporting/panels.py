"""A statistics table as a reader gets it: a chart (SVG, as a ``data:`` URI) with a sentence
that says what it shows for those who cannot see it, and the same figures as a table, every
figure written in the reader's language. The pages' dashboards and the donor's report show
the same panels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from entraide.core.dates import format_day
from entraide.core.money import current_locale, format_money
from entraide.reporting import charts
from entraide.reporting.statistics import (
    Column,
    FundStatistics,
    Hidden,
    ProgrammeStatistics,
    Row,
    Table,
    Value,
)

# The categories a chart's sentence names; the table has them all.
NAMED_IN_SENTENCE = 5


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    image: str  # the chart, as a data: URI
    alt: str  # what the chart shows, in a sentence
    heading: str  # what the rows are
    headers: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    total: tuple[str, ...] | None
    daily: bool  # one row a day: a long table, folded under the chart
    hides: bool  # some figures are not shown (small counts)


def figure_text(value: Value, column: Column, currency: str = "") -> str:
    """A figure as the table writes it: a count, an amount, or why it is not shown."""
    if value is None:
        return "—"
    if isinstance(value, Hidden):
        # K is 10: the roll-up's words.
        return _("fewer than 10") if value is Hidden.FEW and not column.money else _("not shown")
    if column.money:
        return format_money(Decimal(value), column.currency or currency)
    return format_decimal(value, locale=current_locale())


def _name(column: Column) -> str:
    return capfirst(str(column.label))


def _drawn(value: Value) -> float | None:
    """A figure as the chart draws it (hidden ones are not drawn)."""
    return float(value) if isinstance(value, int | Decimal) else None


def _label(row: Row) -> str:
    return format_day(row.label) if isinstance(row.label, dt.date) else str(row.label)


def _short_label(row: Row) -> str:
    """Days on a chart's axis: the day and the month."""
    if isinstance(row.label, dt.date):
        return format_date(row.label, format="d MMM", locale=current_locale())
    return str(row.label)


def _series(table: Table, keys: Sequence[str]) -> list[charts.Series]:
    return [
        charts.Series(_name(table.column(key)), tuple(_drawn(value) for value in table.values(key)))
        for key in keys
    ]


def _unit(table: Table, keys: Sequence[str]) -> str:
    """The currency of the money drawn (a chart draws one kind of figure)."""
    return table.column(keys[0]).currency


def _panel(table: Table, image: bytes, alt: str) -> Panel:
    hides = any(isinstance(value, Hidden) for row in table.rows for value in row.values) or any(
        isinstance(value, Hidden) for value in table.total or ()
    )
    return Panel(
        key=table.key,
        title=str(table.title),
        image=charts.data_uri(image),
        alt=alt,
        heading=str(table.heading),
        headers=tuple(_name(column) for column in table.columns),
        rows=tuple(
            (
                _label(row),
                tuple(
                    figure_text(value, column, row.currency)
                    for value, column in zip(row.values, table.columns, strict=True)
                ),
            )
            for row in table.rows
        ),
        total=None
        if table.total is None
        else tuple(
            figure_text(value, column)
            for value, column in zip(table.total, table.columns, strict=True)
        ),
        daily=bool(table.rows) and isinstance(table.rows[0].label, dt.date),
        hides=hides,
    )


def _empty_text(table: Table, keys: Sequence[str]) -> str:
    """What an empty chart says: its figures are hidden, or there are none yet."""
    if any(isinstance(value, Hidden) for key in keys for value in table.values(key)):
        return _("No figure can be shown: too few people.")
    return pgettext("chart", "No data yet")


def day_bars(table: Table, *, stacked: bool = False) -> Panel:
    """Bars of each column, day by day (side by side, or ``stacked``)."""
    keys = [column.key for column in table.columns]
    image = charts.bar_chart(
        [_short_label(row) for row in table.rows],
        _series(table, keys),
        title=str(table.title),
        unit=_unit(table, keys),
        stacked=stacked,
        empty=_empty_text(table, keys),
    )
    return _panel(table, image, _days_sentence(table))


def lines(table: Table) -> Panel:
    """A line of each column over the days (running totals)."""
    keys = [column.key for column in table.columns]
    image = charts.line_chart(
        [_short_label(row) for row in table.rows],
        _series(table, keys),
        title=str(table.title),
        unit=_unit(table, keys),
        empty=_empty_text(table, keys),
    )
    if not table.rows:
        return _panel(table, image, _nothing_sentence(table))
    last = table.rows[-1]
    figures = "; ".join(
        f"{_name(column)}: {figure_text(value, column, last.currency)}"
        for value, column in zip(last.values, table.columns, strict=True)
    )
    alt = _("%(title)s, from %(first)s to %(last)s. On the last day: %(figures)s.") % {
        "title": table.title,
        "first": _label(table.rows[0]),
        "last": _label(last),
        "figures": figures,
    }
    return _panel(table, image, alt)


def category_bars(table: Table, keys: Sequence[str]) -> Panel:
    """Horizontal bars of the ``keys`` columns for each category; the table has every
    column."""
    image = charts.bar_chart(
        [_short_label(row) for row in table.rows],
        _series(table, keys),
        title=str(table.title),
        unit=_unit(table, keys),
        horizontal=True,
        empty=_empty_text(table, keys),
    )
    if not table.rows:
        return _panel(table, image, _nothing_sentence(table))
    column = table.column(keys[0])
    values = table.values(keys[0])
    largest = sorted(
        zip(table.rows, values, strict=True), key=lambda pair: -(_drawn(pair[1]) or -1.0)
    )
    named = "; ".join(
        f"{_label(row)}: {figure_text(value, column, row.currency)}"
        for row, value in largest[:NAMED_IN_SENTENCE]
    )
    more = len(largest) - NAMED_IN_SENTENCE
    alt = _("%(title)s. %(column)s, the largest first: %(named)s.") % {
        "title": table.title,
        "column": _name(column),
        "named": named,
    }
    if more > 0:
        alt += " " + _("And %(count)s more in the table.") % {"count": more}
    return _panel(table, image, alt)


def _nothing_sentence(table: Table) -> str:
    return _("%(title)s: no data yet.") % {"title": table.title}


def _days_sentence(table: Table) -> str:
    """The period, each column's total and, for one column, its busiest day."""
    if not table.rows or table.total is None:
        return _nothing_sentence(table)
    totals = "; ".join(
        f"{_name(column)}: {figure_text(value, column)}"
        for value, column in zip(table.total, table.columns, strict=True)
    )
    sentence = _("%(title)s, from %(first)s to %(last)s, in all: %(totals)s.") % {
        "title": table.title,
        "first": _label(table.rows[0]),
        "last": _label(table.rows[-1]),
        "totals": totals,
    }
    if len(table.columns) == 1:
        shown = [row for row in table.rows if isinstance(row.values[0], int)]
        if shown:
            busiest = max(shown, key=lambda row: _drawn(row.values[0]) or 0.0)
            sentence += " " + _("The busiest day, %(day)s, had %(count)s.") % {
                "day": _label(busiest),
                "count": figure_text(busiest.values[0], table.columns[0]),
            }
    return sentence


# -- the dashboards ----------------------------------------------------------------------------

COUNTS = ("applications", "granted", "paid")


def fund_panels(figures: FundStatistics) -> list[Panel]:
    """A fund's dashboard: applications, decisions and money each day, then the breakdowns."""
    breakdowns = [figures.by_profession, figures.by_region, figures.by_gender, figures.by_partner]
    return [
        day_bars(figures.per_day),
        day_bars(figures.decisions, stacked=True),
        day_bars(figures.money.per_day),
        lines(figures.money.cumulative),
        lines(figures.money.burndown),
        *(category_bars(table, COUNTS) for table in breakdowns if table is not None),
    ]


def programme_panels(figures: ProgrammeStatistics) -> list[Panel]:
    """A programme's dashboard: applications and decisions each day over its funds, each
    partner fund's money in the programme's currency (crew relief's apart), then the
    breakdowns (counts)."""
    breakdowns = [figures.by_profession, figures.by_region, figures.by_gender, figures.by_partner]
    return [
        day_bars(figures.per_day),
        day_bars(figures.decisions, stacked=True),
        *(
            category_bars(table, ("committed_converted", "paid_converted"))
            for table in (figures.by_fund, figures.crew_relief)
            if table is not None
        ),
        *(category_bars(table, COUNTS) for table in breakdowns if table is not None),
    ]
