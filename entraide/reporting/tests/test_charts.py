"""The charts: SVG with its text kept as text, the same bytes for the same data, "no data yet"
rather than a failure, numbers in the reader's language, and the same SVG in a PDF; the panels
that put a chart, its sentence and its table together."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import translation
from weasyprint import HTML

from entraide.reporting import charts, panels, statistics
from entraide.reporting.charts import Series
from entraide.reporting.statistics import APPLICATIONS, Hidden, Row, Table, suppress
from entraide.reporting.tests.helpers import pdf_text

DAYS = [f"{day} avr." for day in range(1, 31)]


def per_day() -> bytes:
    return charts.bar_chart(
        DAYS,
        [Series("Demandes", tuple(float(day * 37 % 11) for day in range(30)))],
        title="Demandes par jour",
    )


def texts(svg: bytes) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode())


def drawn_twice(draw: Callable[[], bytes]) -> tuple[bytes, bytes]:
    """The chart drawn, then drawn again rather than read from the cache."""
    first = draw()
    charts._bar_chart.cache_clear()
    charts._line_chart.cache_clear()
    return first, draw()


def test_the_same_figures_give_the_same_bytes() -> None:
    stacked = [Series("A", (1.0, 2.0)), Series("B", (None, 3.0))]
    line = [Series("Engagé", (0.0, 500.0, 1000.0)), Series("Versé", (0.0, 0.0, 500.0))]

    for draw in (
        per_day,
        lambda: charts.bar_chart(["x", "y"], stacked, title="T", stacked=True),
        lambda: charts.bar_chart(["x", "y"], stacked, title="T", horizontal=True),
        lambda: charts.line_chart(["1", "2", "3"], line, title="T", unit="EUR"),
    ):
        first, second = drawn_twice(draw)
        assert first == second


def test_a_chart_is_svg_with_its_words_as_text_and_no_script_nor_date() -> None:
    svg = per_day()

    assert svg.startswith(b"<?xml")
    assert b"<svg" in svg
    assert b"<script" not in svg
    assert b"<dc:date>" not in svg
    assert "Demandes par jour" in texts(svg)
    assert "1 avr." in texts(svg)
    assert b"<path d=" in svg  # the bars


def test_the_value_axis_speaks_the_readers_language() -> None:
    series = [Series("Engagé", (0.0, 12_000.0, 30_000.0))]
    with translation.override("fr"):
        french = texts(charts.line_chart(["1", "2", "3"], series, title="T", unit="EUR"))
    with translation.override("en"):
        english = texts(charts.line_chart(["1", "2", "3"], series, title="T", unit="EUR"))

    assert "30\u202f000" in french  # a narrow no-break space between thousands
    assert "30,000" in english
    assert "EUR" in english


def test_series_are_named_in_a_legend_and_bars_differ_by_more_than_colour() -> None:
    svg = charts.bar_chart(
        ["a", "b"],
        [Series("Acceptées", (2.0, 3.0)), Series("Refusées", (1.0, 4.0))],
        title="Décisions",
        stacked=True,
    )

    assert {"Acceptées", "Refusées"} <= set(texts(svg))
    assert b"<pattern" in svg  # the second series is hatched


@pytest.mark.parametrize(
    "draw",
    [
        lambda: charts.bar_chart([], [], title="Rien"),
        lambda: charts.bar_chart(["a"], [Series("S", (None,))], title="Rien"),
        lambda: charts.line_chart([], [Series("S", ())], title="Rien", unit="EUR"),
        lambda: charts.bar_chart([], [], title="Rien", horizontal=True),
    ],
)
def test_no_data_draws_a_sentence_rather_than_failing(draw: object) -> None:
    with translation.override("en"):
        svg = draw()  # type: ignore[operator]

    assert "No data yet" in texts(svg)
    assert "Rien" in texts(svg)


def test_the_empty_sentence_is_the_callers_when_given() -> None:
    svg = charts.bar_chart(["a"], [Series("S", (None,))], title="T", empty="Trop peu de monde")

    assert "Trop peu de monde" in texts(svg)


def test_negative_days_and_long_category_names_are_drawn() -> None:
    money = charts.bar_chart(
        ["1", "2"], [Series("Engagé", (-500.0, 1500.0)), Series("Versé", (0.0, 500.0))], title="T"
    )
    regions = charts.bar_chart(
        ["Provence-Alpes-Côte d'Azur", "Île-de-France"],
        [Series("Demandes", (12.0, 40.0))],
        title="T",
        horizontal=True,
    )

    assert "Provence-Alpes-Côte d'Azur" in texts(regions)
    assert b"<svg" in money


def test_a_data_uri_holds_the_svg() -> None:
    svg = per_day()

    uri = charts.data_uri(svg)

    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == svg


def test_the_same_chart_prints_in_a_pdf_with_its_text() -> None:
    uri = charts.data_uri(per_day())

    pdf = HTML(string=f'<html><body><img src="{uri}" alt="x"></body></html>').write_pdf()

    assert "Demandes par jour" in pdf_text(pdf)


# -- panels: a table as the page shows it -------------------------------------------------------


def small_days() -> Table:
    days = [dt.date(2026, 4, 1) + dt.timedelta(days=n) for n in range(3)]
    rows = tuple(Row(day.isoformat(), day, (3,)) for day in days)
    return Table("per_day", "Applications per day", "Day", (APPLICATIONS,), rows, (9,))


def test_a_panel_writes_hidden_figures_in_words_and_draws_none_of_them() -> None:
    with translation.override("en"):
        panel = panels.day_bars(suppress(small_days()))

    assert panel.rows[0] == ("April 1, 2026", ("fewer than 10",))
    assert panel.total == ("fewer than 10",)
    assert panel.hides
    assert panel.daily
    assert "No figure can be shown: too few people." in texts(
        base64.b64decode(panel.image.split(",", 1)[1])
    )
    assert panel.alt == (
        "Applications per day, from April 1, 2026 to April 3, 2026, in all: "
        "Applications: fewer than 10."
    )


def test_a_panel_of_categories_names_the_largest_in_its_sentence() -> None:
    rows = tuple(Row(name, name, (count,)) for name, count in (("A", 12), ("B", 40), ("C", 0)))
    table = Table("t", "By place", "Place", (APPLICATIONS,), rows, (52,))

    with translation.override("fr"):
        panel = panels.category_bars(table, ["applications"])

    assert panel.alt.startswith(
        "By place. Demandes, du plus grand au plus petit\u00a0: B: 40; A: 12; C: 0."
    )
    assert panel.headers == ("Demandes",)
    assert not panel.daily


def test_money_is_written_in_its_currency_and_hidden_money_as_not_shown() -> None:
    committed = statistics._committed("EUR")

    with translation.override("fr"):
        assert panels.figure_text(Decimal("1234.50"), committed) == "1\u202f234,50\u00a0€"
        assert panels.figure_text(Hidden.FEW, committed) == "non affiché"
        assert panels.figure_text(Hidden.WITHHELD, APPLICATIONS) == "non affiché"
        assert panels.figure_text(None, APPLICATIONS) == "—"
