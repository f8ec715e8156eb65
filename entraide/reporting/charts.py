"""Charts drawn on the server, as SVG: bars (per day, or per category, grouped or stacked) and
lines (running totals, the budget's burn-down), from plain data: labels already in the
reader's language, series of numbers (None: not drawn, e.g. a figure hidden from the reader).

The same bytes serve a web page (as an ``<img>`` with a ``data:`` URI: no inline SVG, no script,
nothing a strict Content-Security-Policy refuses) and a WeasyPrint PDF. Text stays text (the
PDF's text can be searched, a page's read by a screen reader's OCR-free tools); ids come from
a fixed salt and no date is written, so the same data gives the same bytes. Figures are built
with matplotlib's object-oriented API, never pyplot, whose global state is not thread-safe.

Colours are Okabe and Ito's palette, told apart with any colour vision; bars also differ by
their hatching and lines by their dashes and markers, each series is named in the legend, and
every chart has a table of the same figures beside it.
"""

from __future__ import annotations

import base64
import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
from babel.numbers import format_decimal
from django.utils.translation import get_language, pgettext
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import LineStyleType

from entraide.core.money import current_locale

# Read when a figure is saved, set once for the process (changing rcParams per chart would race
# between threads): text kept as text, ids from a fixed salt.
matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "entraide",
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "hatch.linewidth": 0.6,
    }
)

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#000000")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "++")
DASHES: tuple[LineStyleType, ...] = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")
TEXT = "#1a1a1a"
GRID = "#d9d9d9"
SMALL: dict[str, Any] = {"color": TEXT, "fontsize": 8}
WIDTH = 7.5  # inches: 720 px at the browser's 96 per inch
HEIGHT = 3.0
MOST_TICK_LABELS = 12  # more days than this: a label every few days
MARKERS_UP_TO = 40  # points of a line; more, and markers would blur it
CACHED_CHARTS = 64  # a few dashboards' worth (tens of kilobytes each)
# Margins in inches: room for the title and legend above, the numbers left, the days below.
TOP, RIGHT, BOTTOM, LEFT = 0.62, 0.2, 0.45, 0.95
CHARACTER = 0.06  # the width of a character of a category's name at 8 points, in inches


@dataclass(frozen=True)
class Series:
    """One named run of values, one per label (None: nothing drawn there)."""

    name: str
    values: tuple[float | None, ...]


def data_uri(svg: bytes) -> str:
    """The SVG as a ``data:`` URI, for ``<img src>`` in a page or a PDF."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    stacked: bool = False,
    horizontal: bool = False,
    empty: str = "",
) -> bytes:
    """Bars of each series at each label: side by side, or ``stacked``; ``horizontal`` for
    categories with long names. ``empty``: what to write when nothing can be drawn."""
    return _bar_chart(
        get_language(), tuple(labels), tuple(series), title, unit, stacked, horizontal, empty
    )


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    empty: str = "",
) -> bytes:
    """A line for each series over the labels (days), e.g. running totals."""
    return _line_chart(get_language(), tuple(labels), tuple(series), title, unit, empty)


# Drawing a chart takes tens of milliseconds; the same figures (in the same language, which is
# in the key for the numbers' format and the empty chart's sentence) give the same bytes, so a
# dashboard read again is drawn from here.
@functools.lru_cache(maxsize=CACHED_CHARTS)
def _bar_chart(
    language: str | None,
    labels: tuple[str, ...],
    series: tuple[Series, ...],
    title: str,
    unit: str,
    stacked: bool,
    horizontal: bool,
    empty: str,
) -> bytes:
    rows = len(labels) * (1 if stacked else max(len(series), 1))
    height = min(max(HEIGHT * 0.75, 1.0 + 0.16 * rows), 12.0) if horizontal else HEIGHT
    figure, axes = _figure(title, height, labels if horizontal else ())
    if not _drawable(labels, series):
        return _empty(figure, axes, empty)
    thickness = 0.8 if stacked else 0.8 / len(series)
    base = [0.0] * len(labels)
    ends = [0.0]
    for index, one in enumerate(series):
        values = [value or 0.0 for value in one.values]
        offset = 0.0 if stacked else (index - (len(series) - 1) / 2) * thickness
        boxes = []
        for position, (start, length) in enumerate(zip(base, values, strict=True)):
            if length:
                low, high = position + offset - thickness / 2, position + offset + thickness / 2
                bottom, top = start, start + length
                boxes.append(
                    [(bottom, low), (top, low), (top, high), (bottom, high)]
                    if horizontal
                    else [(low, bottom), (low, top), (high, top), (high, bottom)]
                )
        # One collection per series: hundreds of days draw as fast as a few.
        axes.add_collection(
            PolyCollection(
                boxes,
                facecolors=PALETTE[index % len(PALETTE)],
                edgecolors="white",
                linewidths=0.4,
                hatch=HATCHES[index % len(HATCHES)] or None,
                label=one.name,
            )
        )
        ends += [start + length for start, length in zip(base, values, strict=True)]
        if stacked:
            base = [below + value for below, value in zip(base, values, strict=True)]
    _frame(axes, labels, series, min(ends), max(ends), unit=unit, horizontal=horizontal)
    _legend(figure, axes, series, lines=False)
    return _svg(figure)


@functools.lru_cache(maxsize=CACHED_CHARTS)
def _line_chart(
    language: str | None,
    labels: tuple[str, ...],
    series: tuple[Series, ...],
    title: str,
    unit: str,
    empty: str,
) -> bytes:
    figure, axes = _figure(title, HEIGHT)
    if not _drawable(labels, series):
        return _empty(figure, axes, empty)
    positions = list(range(len(labels)))
    for index, one in enumerate(series):
        axes.plot(
            positions,
            [math.nan if value is None else value for value in one.values],
            color=PALETTE[index % len(PALETTE)],
            linestyle=DASHES[index % len(DASHES)],
            marker=MARKERS[index % len(MARKERS)] if len(labels) <= MARKERS_UP_TO else None,
            markersize=3,
            linewidth=1.6,
            label=one.name,
        )
    drawn = [value for one in series for value in one.values if value is not None]
    _frame(axes, labels, series, min(drawn), max(drawn), unit=unit, horizontal=False)
    _legend(figure, axes, series, lines=True)
    return _svg(figure)


def _figure(title: str, height: float, categories: Sequence[str] = ()) -> tuple[Figure, Axes]:
    """A figure with one chart and its title. The margins are measured on the labels rather
    than laid out by matplotlib (constrained layout draws the figure once more)."""
    figure = Figure(figsize=(WIDTH, height), facecolor="white")
    longest = max((len(label) for label in categories), default=0)
    left = min(0.25 + CHARACTER * longest, WIDTH / 2) if categories else LEFT
    figure.subplots_adjust(
        left=left / WIDTH,
        right=1 - RIGHT / WIDTH,
        bottom=BOTTOM / height,
        top=1 - TOP / height,
    )
    axes = figure.add_subplot()
    figure.text(
        left / WIDTH, 1 - 0.08 / height, title, ha="left", va="top", color=TEXT, weight="bold"
    )
    return figure, axes


def _legend(figure: Figure, axes: Axes, series: Sequence[Series], *, lines: bool) -> None:
    """The series' names in a row between the title and the chart, each after a sample of its
    bar or line (drawn here: matplotlib's legend measures every text twice)."""
    if len(series) < 2:
        return
    inch = 1 / WIDTH
    x, y = axes.get_position().x0, axes.get_position().y1 + 0.12 / figure.get_figheight()
    height = 0.1 / figure.get_figheight()
    for index, one in enumerate(series):
        if lines:
            figure.add_artist(
                Line2D(
                    [x, x + 0.3 * inch],
                    [y, y],
                    transform=figure.transFigure,
                    color=PALETTE[index % len(PALETTE)],
                    linestyle=DASHES[index % len(DASHES)],
                    linewidth=1.6,
                )
            )
        else:
            figure.add_artist(
                Rectangle(
                    (x, y - height / 2),
                    0.3 * inch,
                    height,
                    transform=figure.transFigure,
                    facecolor=PALETTE[index % len(PALETTE)],
                    hatch=HATCHES[index % len(HATCHES)] or None,
                    edgecolor="white",
                    linewidth=0.4,
                )
            )
        figure.text(x + 0.38 * inch, y, one.name, ha="left", va="center", **SMALL)
        x += (0.38 + CHARACTER * len(one.name) + 0.3) * inch


def _drawable(labels: Sequence[str], series: Sequence[Series]) -> bool:
    return bool(labels) and any(value is not None for one in series for value in one.values)


def _empty(figure: Figure, axes: Axes, text: str) -> bytes:
    axes.set_axis_off()
    axes.text(
        0.5,
        0.5,
        text or pgettext("chart", "No data yet"),
        ha="center",
        va="center",
        color=TEXT,
        fontsize=11,
        transform=axes.transAxes,
    )
    return _svg(figure)


def _frame(
    axes: Axes,
    labels: Sequence[str],
    series: Sequence[Series],
    low: float,
    high: float,
    *,
    unit: str,
    horizontal: bool,
) -> None:
    """The scale, its grid and numbers (in the reader's language), the labels, drawn as plain
    lines and texts: matplotlib's axes and ticks would cost most of the drawing's time."""
    axes.set_axis_off()
    whole = all(
        value is None or float(value).is_integer() for one in series for value in one.values
    )
    ticks = _ticks(min(low, 0.0), max(high, 0.0), whole=whole)
    categories = (-0.5, len(labels) - 0.5)
    value_limits = (ticks[0], ticks[-1])
    locale = current_locale()
    numbers = [format_decimal(tick, locale=locale) for tick in ticks]
    if horizontal:
        axes.set_xlim(*value_limits)
        axes.set_ylim(categories[1], categories[0])  # the first category on top, as in the table
        axes.vlines(ticks, *categories, colors=GRID, linewidths=0.5, zorder=0)
        axes.vlines([0.0], *categories, colors=TEXT, linewidths=0.8)
        across, along = axes.get_xaxis_transform(), axes.get_yaxis_transform()
        for tick, number in zip(ticks, numbers, strict=True):
            axes.text(tick, -0.02, number, transform=across, ha="center", va="top", **SMALL)
        for position, label in enumerate(labels):
            axes.text(-0.01, position, label, transform=along, ha="right", va="center", **SMALL)
        if unit:
            axes.text(1.0, 1.01, unit, transform=axes.transAxes, ha="right", va="bottom", **SMALL)
        return
    axes.set_xlim(*categories)
    axes.set_ylim(*value_limits)
    axes.hlines(ticks, *categories, colors=GRID, linewidths=0.5, zorder=0)
    axes.hlines([0.0], *categories, colors=TEXT, linewidths=0.8)
    across, along = axes.get_yaxis_transform(), axes.get_xaxis_transform()
    for tick, number in zip(ticks, numbers, strict=True):
        axes.text(-0.01, tick, number, transform=across, ha="right", va="center", **SMALL)
    # One label every few days when there are many.
    for position in range(0, len(labels), math.ceil(len(labels) / MOST_TICK_LABELS)):
        axes.text(
            position, -0.03, labels[position], transform=along, ha="center", va="top", **SMALL
        )
    if unit:  # along the scale, left of its numbers
        width = axes.get_position().width * WIDTH
        axes.text(
            -(LEFT - 0.12) / width,
            0.5,
            unit,
            transform=axes.transAxes,
            rotation=90,
            ha="center",
            va="center",
            **SMALL,
        )


def _ticks(low: float, high: float, *, whole: bool) -> list[float]:
    """Round numbers from at most ``low`` to at least ``high``: whole ones for counts."""
    if low == high:
        high = low + 1
    found = [float(tick) for tick in MaxNLocator(nbins=5, integer=whole).tick_values(low, high)]
    first = max(tick for tick in found if tick <= low)
    last = min(tick for tick in found if tick >= high)
    return [tick for tick in found if first <= tick <= last]


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    # No date: the same figure gives the same bytes.
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
