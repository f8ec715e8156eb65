"""What the fund's records say about one person, as the staff's page shows it: how many records
of each kind and where they came from, work month by month (with its small charts), rights
periods on a timeline.

Pure functions over the selectors' rows (:class:`~entraide.rules.records.PersonEvidence`): a
person has at most a few hundred of them, so nothing here queries the database. The template
draws the charts as inline SVG from the geometry computed here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext, pgettext_lazy

from entraide.core.dates import format_day
from entraide.core.money import current_locale, format_money
from entraide.evidence.models import EvidenceBatch
from entraide.rules.aggregates import HOURS_PER_CACHET, compute
from entraide.rules.document import Aggregate, Window
from entraide.rules.records import Cancellation, Declaration, PersonEvidence, Rights

# FORMATS.md: employer declarations give the gross pay in euros, whatever the fund's currency.
EVIDENCE_CURRENCY = "EUR"
# The charts stay readable, and the page short, over three years of records.
MAX_MONTHS = 36

ANNEX_LABELS: dict[str, Promise] = {
    "8": pgettext_lazy("unemployment rights", "Annex 8"),
    "10": pgettext_lazy("unemployment rights", "Annex 10"),
    "general": pgettext_lazy("unemployment rights", "General scheme"),
}
BENEFIT_SCHEME_LABELS: dict[str, Promise] = {
    "annex8": ANNEX_LABELS["8"],
    "annex10": ANNEX_LABELS["10"],
    "general": ANNEX_LABELS["general"],
}
RIGHTS_STATUS_LABELS: dict[str, Promise] = {
    "open": pgettext_lazy("rights status", "Open"),
    "ended": pgettext_lazy("rights status", "Ended"),
    "refused": pgettext_lazy("rights status", "Refused"),
}
RIGHTS_REASON_LABELS: dict[str, Promise] = {
    "maternity": pgettext_lazy("rights reason", "Maternity"),
    "adoption": pgettext_lazy("rights reason", "Adoption"),
    "illness": pgettext_lazy("rights reason", "Long illness"),
}
# Colours of the stylesheet (entraide.css), each at least 3:1 against white (WCAG 1.4.11); the
# status is also written beside each bar, so colour is never the only cue.
RIGHTS_STATUS_COLOURS = {"open": "#0b4fa3", "ended": "#4a4a55", "refused": "#a4161a"}
BAR_COLOUR = "#0b4fa3"
TEXT_COLOUR = "#4a4a55"

# Geometry of the charts, in SVG user units (each SVG scales to the page's width).
CHART_WIDTH = 720
CHART_LEFT = 84  # room for the value of the top grid line ("12 345,67 €")
CHART_TOP = 8
PLOT_HEIGHT = 90
CHART_HEIGHT = CHART_TOP + PLOT_HEIGHT + 24  # and the month names below
MAX_AXIS_LABELS = 6
TIMELINE_LEFT = 180  # room for "Annex 10 · Refused"
TIMELINE_ROW = 26
TIMELINE_AXIS = 24


def _label(labels: dict[str, Promise], value: str) -> str:
    """A known value in words; anything else as the record gives it."""
    label = labels.get(value)
    return str(label) if label is not None else value


def _month_label(month: dt.date, *, short: bool = False) -> str:
    return format_skeleton("yMMM" if short else "yMMMM", month, locale=current_locale())


@dataclass(frozen=True)
class RecordCount:
    kind: str
    label: str
    count: int
    batches: tuple[EvidenceBatch, ...]


def record_counts(evidence: PersonEvidence, batches: Iterable[EvidenceBatch]) -> list[RecordCount]:
    """One line per kind of record: how many the person has, from which batches."""
    by_kind: dict[str, list[EvidenceBatch]] = {kind: [] for kind in EvidenceBatch.Kind.values}
    for batch in batches:
        by_kind[batch.kind].append(batch)
    counts: dict[str, int] = {
        EvidenceBatch.Kind.DECLARATIONS: len(evidence.declarations),
        EvidenceBatch.Kind.RIGHTS: len(evidence.rights),
        EvidenceBatch.Kind.BENEFITS: len(evidence.benefits),
        EvidenceBatch.Kind.CANCELLATIONS: len(evidence.cancellations),
    }
    return [
        RecordCount(kind, str(label), counts[kind], tuple(by_kind[kind]))
        for kind, label in EvidenceBatch.Kind.choices
    ]


@dataclass(frozen=True)
class MonthOfWork:
    month: dt.date  # its first day
    days: int
    hours: Decimal
    gross_pay: Decimal

    @property
    def label(self) -> str:
        return _month_label(self.month)


@dataclass(frozen=True)
class WorkByMonth:
    months: tuple[MonthOfWork, ...]
    capped: bool  # the records go back further than the months shown


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of each month from ``first``'s to ``last``'s."""
    months = [first.replace(day=1)]
    while months[-1] < last.replace(day=1):
        months.append(_next_month(months[-1]))
    return months


def work_by_month(declarations: Sequence[Declaration], max_months: int = MAX_MONTHS) -> WorkByMonth:
    """Days worked, hours and gross pay in each month the contracts cover, months without work
    included (zeros), over the last ``max_months`` months of the records.

    Each month is measured as the rules measure a window (:mod:`entraide.rules.aggregates`, the
    same function): days covered by contracts (once where contracts overlap) plus one day per
    cachet; a cachet is 12 hours; hours, cachets and pay count in the month the contract starts.
    The months therefore add up to what a rule finds over the same whole months.
    """
    if not declarations:
        return WorkByMonth(months=(), capped=False)
    months = _months(min(row.start for row in declarations), max(row.end for row in declarations))
    shown = months[-max_months:]
    evidence = PersonEvidence(declarations=tuple(declarations))

    def measure(kind: str, month: dt.date) -> Decimal:
        window = Window(start=month, end=_next_month(month) - dt.timedelta(days=1))
        return compute(Aggregate(id=kind, kind=kind, window=window), evidence, month)

    return WorkByMonth(
        months=tuple(
            MonthOfWork(
                month=month,
                days=int(measure("worked_days", month)),
                hours=measure("hours", month),
                gross_pay=measure("gross_pay", month),
            )
            for month in shown
        ),
        capped=len(months) > len(shown),
    )


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # "March 2020: 12 days"


@dataclass(frozen=True)
class AxisLabel:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    """One measure per month, as bars; ``id`` names the SVG's title and description."""

    id: str
    title: str
    description: str
    maximum: str  # the value of the top grid line, as shown
    bars: tuple[Bar, ...]
    labels: tuple[AxisLabel, ...]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    top: int = CHART_TOP
    baseline: int = CHART_TOP + PLOT_HEIGHT
    colour: str = BAR_COLOUR
    text_colour: str = TEXT_COLOUR


def _bar_chart(
    chart_id: str,
    title: str,
    months: Sequence[MonthOfWork],
    value: Callable[[MonthOfWork], Decimal | int],
    shown: Callable[[Decimal | int], str],
) -> BarChart:
    values = [value(month) for month in months]
    top = max(values)
    slot = (CHART_WIDTH - CHART_LEFT) / len(months)
    bars = []
    for index, (month, amount) in enumerate(zip(months, values, strict=True)):
        height = round(float(amount) / float(top) * PLOT_HEIGHT, 1) if top else 0.0
        bars.append(
            Bar(
                x=round(CHART_LEFT + index * slot + slot * 0.15, 1),
                y=round(CHART_TOP + PLOT_HEIGHT - height, 1),
                width=round(slot * 0.7, 1),
                height=height,
                title=f"{month.label}: {shown(amount)}",
            )
        )
    # At most MAX_AXIS_LABELS month names, evenly spaced, so that they never overlap.
    step = math.ceil(len(months) / MAX_AXIS_LABELS)
    labels = tuple(
        AxisLabel(
            x=round(CHART_LEFT + index * slot + slot / 2, 1),
            text=_month_label(months[index].month, short=True),
        )
        for index in range(0, len(months), step)
    )
    description = gettext(
        "From %(first)s to %(last)s; highest: %(peak)s in %(month)s. "
        "The table below gives the value of every month."
    ) % {
        "first": months[0].label,
        "last": months[-1].label,
        "peak": shown(top),
        "month": months[values.index(top)].label,
    }
    return BarChart(
        id=chart_id,
        title=title,
        description=description,
        maximum=shown(top),
        bars=tuple(bars),
        labels=labels,
    )


def _number(value: Decimal | int) -> str:
    return format_decimal(value, locale=current_locale())


def _days(value: Decimal | int) -> str:
    return ngettext("%(count)s day", "%(count)s days", int(value)) % {"count": _number(value)}


def _hours(value: Decimal | int) -> str:
    return gettext("%(count)s h") % {"count": _number(value)}


def _pay(value: Decimal | int) -> str:
    return format_money(Decimal(value), EVIDENCE_CURRENCY)


def work_charts(work: WorkByMonth) -> list[BarChart]:
    """Three small charts over the same months: days worked, hours, gross pay."""
    if not work.months:
        return []
    hours_title = gettext("Hours per month (a cachet counts as %(hours)s hours)") % {
        "hours": HOURS_PER_CACHET
    }
    return [
        _bar_chart("days", gettext("Days worked per month"), work.months, lambda m: m.days, _days),
        _bar_chart("hours", hours_title, work.months, lambda m: m.hours, _hours),
        _bar_chart("pay", gettext("Gross pay per month"), work.months, lambda m: m.gross_pay, _pay),
    ]


@dataclass(frozen=True)
class RightsRow:
    annex: str
    opened_on: dt.date
    ends_on: dt.date
    status: str
    reason: str
    colour: str
    # Its bar on the timeline
    x: float
    y: int
    width: float


@dataclass(frozen=True)
class RightsTimeline:
    title: str
    description: str
    rows: tuple[RightsRow, ...]
    labels: tuple[AxisLabel, ...]
    width: int = CHART_WIDTH
    left: int = TIMELINE_LEFT
    text_colour: str = TEXT_COLOUR

    @property
    def axis_y(self) -> int:
        return len(self.rows) * TIMELINE_ROW + 4

    @property
    def height(self) -> int:
        return self.axis_y + TIMELINE_AXIS


def _axis_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """The 1st of January of the years inside ``first``..``last`` (at most MAX_AXIS_LABELS of
    them, evenly spaced); within one year, the 1st of its months."""
    years = [dt.date(year, 1, 1) for year in range(first.year + 1, last.year + 1)]
    if years:
        return years[:: math.ceil(len(years) / MAX_AXIS_LABELS)]
    months = _months(first, last)[1:] or [first]
    return months[:: math.ceil(len(months) / MAX_AXIS_LABELS)]


def rights_timeline(rights: Sequence[Rights]) -> RightsTimeline | None:
    """Each rights period as a bar on one date axis, from the first opening to the last end."""
    if not rights:
        return None
    first = min(row.opened_on for row in rights)
    last = max(max(row.ends_on, row.opened_on) for row in rights)
    scale = (CHART_WIDTH - TIMELINE_LEFT - 8) / ((last - first).days + 1)

    def x_of(day: dt.date) -> float:
        return round(TIMELINE_LEFT + (day - first).days * scale, 1)

    rows = tuple(
        RightsRow(
            annex=_label(ANNEX_LABELS, row.annex),
            opened_on=row.opened_on,
            ends_on=row.ends_on,
            status=_label(RIGHTS_STATUS_LABELS, row.status),
            reason=_label(RIGHTS_REASON_LABELS, row.reason),
            colour=RIGHTS_STATUS_COLOURS.get(row.status, TEXT_COLOUR),
            x=x_of(row.opened_on),
            y=index * TIMELINE_ROW + 6,
            # A period of a few days stays visible.
            width=max(round(((row.ends_on - row.opened_on).days + 1) * scale, 1), 2.0),
        )
        for index, row in enumerate(rights)
    )
    labels = tuple(
        AxisLabel(
            x=x_of(day),
            text=str(day.year) if day.month == 1 else _month_label(day, short=True),
        )
        for day in _axis_days(first, last)
    )
    description = ngettext(
        "%(count)s period between %(first)s and %(last)s. The table below gives its details.",
        "%(count)s periods between %(first)s and %(last)s. The table below lists each of them.",
        len(rows),
    ) % {"count": len(rows), "first": format_day(first), "last": format_day(last)}
    return RightsTimeline(
        title=gettext("Unemployment rights periods"),
        description=description,
        rows=rows,
        labels=labels,
    )


@dataclass(frozen=True)
class BenefitRow:
    scheme: str
    start: dt.date
    end: dt.date | None  # still paid


@dataclass(frozen=True)
class PersonRecords:
    counts: list[RecordCount]
    work: WorkByMonth
    charts: list[BarChart]
    contracts: tuple[Declaration, ...]
    rights: RightsTimeline | None
    benefits: list[BenefitRow]
    cancellations: tuple[Cancellation, ...]
    currency: str = EVIDENCE_CURRENCY
    hours_per_cachet: int = HOURS_PER_CACHET


def person_records(evidence: PersonEvidence, batches: Iterable[EvidenceBatch]) -> PersonRecords:
    """Everything on file for one person, as the staff's page shows it."""
    work = work_by_month(evidence.declarations)
    return PersonRecords(
        counts=record_counts(evidence, batches),
        work=work,
        charts=work_charts(work),
        contracts=tuple(sorted(evidence.declarations, key=lambda row: (row.start, row.end))),
        rights=rights_timeline(evidence.rights),
        benefits=[
            BenefitRow(_label(BENEFIT_SCHEME_LABELS, row.scheme), row.start, row.end)
            for row in evidence.benefits
        ],
        cancellations=evidence.cancellations,
    )
