"""The figures of a fund or a programme, as plain tables: applications, decisions and money per
day, and applications, grants and money by profession, région, gender (where collected), intake
partner and, for a programme, partner fund. Pages, the donor's report and the public
statistics draw and print the same tables (:mod:`entraide.reporting.panels`).

Each table comes from one or two grouped queries whatever the number of applications; a day is
a day on the clock of the fund each figure belongs to. A decision is what the review recorded:
an approval (:class:`~entraide.review.models.Decision`, made when the award is reserved, also
when a waiting award is funded later), a rejection, or an award put on the waiting list (the
``award.waitlisted`` event of the audit log: no other record keeps that moment). Money is the
budget ledger's: the totals after the day's last entry.

A reader outside the fund's staff (a donor, the public) gets each table through
:func:`suppress`: no figure resting on fewer than :data:`K` people, nor one that could be worked
out from the figures shown.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Case, Count, DateField, Max, Q, QuerySet, Sum, When
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.utils.functional import Promise
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.audit import selectors as audit_selectors
from entraide.core.money import ZERO, current_locale
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.window import on_clock
from entraide.programmes.models import Programme
from entraide.programmes.rollup import SMALL_COUNT, FundLine, rollup
from entraide.reporting import regions
from entraide.review.models import Decision
from entraide.rules import selectors as rules_selectors

# No figure shown outside the fund's staff rests on fewer people than this (the roll-up's).
K = SMALL_COUNT
WAITLISTED_EVENT = "award.waitlisted"

Text = str | Promise


class Hidden(enum.Enum):
    """Why a figure is not shown."""

    FEW = "few"  # it rests on fewer than K people: "fewer than 10"
    WITHHELD = "withheld"  # a small figure could be worked out from it and the others


Value = int | Decimal | Hidden | None  # None: no such figure (a fund without a rate…)


@dataclass(frozen=True)
class Column:
    key: str
    label: Text
    money: bool = False
    currency: str = ""  # a money column's; empty: each row's own (Row.currency)
    # A money column adds up the awards of the people its count column (``rests_on``) counts;
    # a count is never more than another count of its row (``at_most``: granted ≤ applications).
    rests_on: str = ""
    at_most: str = ""


@dataclass(frozen=True)
class Row:
    key: str
    label: Text | dt.date
    values: tuple[Value, ...]
    currency: str = ""


@dataclass(frozen=True)
class Table:
    """Rows (days or categories) of figures in columns, with each column's total (None: the
    columns add up to nothing, e.g. running totals)."""

    key: str
    title: Text
    heading: Text  # what the rows are: "Day", "Profession"…
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: tuple[Value, ...] | None = None

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def values(self, key: str) -> list[Value]:
        index = self.columns.index(self.column(key))
        return [row.values[index] for row in self.rows]


@dataclass(frozen=True)
class Period:
    """Days on the fund's clock, both included (None: from the start, up to today)."""

    start: dt.date | None = None
    end: dt.date | None = None


EVERYTHING = Period()

APPLICATIONS = Column("applications", _("Applications"))
GRANTED = Column("granted", _("Granted"), at_most="applications")
PAID = Column("paid", pgettext_lazy("award status", "Paid"), at_most="granted")
APPROVED = Column("approved", pgettext_lazy("decision outcome", "Approved"))
REJECTED = Column("rejected", pgettext_lazy("decision outcome", "Rejected"))
WAITLISTED = Column("waitlisted", pgettext_lazy("application status", "Waitlisted"))


def _committed(currency: str = "") -> Column:
    return Column("committed", _("Committed"), money=True, currency=currency, rests_on="granted")


def _paid_out(currency: str = "") -> Column:
    label = pgettext_lazy("statistics", "Paid out")
    return Column("paid_amount", label, money=True, currency=currency, rests_on="paid")


# -- days --------------------------------------------------------------------------------------


def _local_day(field: str, funds: Sequence[Fund]) -> Any:
    """``field``'s day on the clock of the fund of each row (rows with a ``fund_id``)."""
    zones: dict[str, list[int]] = defaultdict(list)
    for fund in funds:
        zones[fund.time_zone].append(fund.pk)
    days = {zone: TruncDate(field, tzinfo=ZoneInfo(zone)) for zone in zones}
    if len(days) == 1:
        return next(iter(days.values()))
    return Case(
        *(When(fund_id__in=ids, then=days[zone]) for zone, ids in zones.items()),
        output_field=DateField(),
    )


def _span(funds: Sequence[Fund], seen: Iterable[dt.date], period: Period) -> list[dt.date]:
    """The days of a per-day table: from the first window's opening to the last window's day
    reached (today at the latest), stretched to the days that have figures, within
    ``period``."""
    seen = list(seen)
    first = min([fund.opens_on for fund in funds] + seen)
    last = max([min(fund.closes_on, fund.local_today()) for fund in funds] + seen)
    first = max(first, period.start) if period.start else first
    last = min(last, period.end) if period.end else last
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _per_day(
    key: str,
    title: Text,
    columns: tuple[Column, ...],
    days: list[dt.date],
    values: Callable[[dt.date], tuple[Value, ...]],
    *,
    totals: bool = True,
) -> Table:
    rows = tuple(Row(day.isoformat(), day, values(day)) for day in days)
    return Table(
        key,
        title,
        _("Day"),
        columns,
        rows,
        _add_up(columns, rows) if totals else None,
    )


def _add_up(columns: tuple[Column, ...], rows: Iterable[Row]) -> tuple[Value, ...]:
    """Each column's total (None for money in each row's own currency)."""
    rows = list(rows)
    totals: list[Value] = []
    for index, column in enumerate(columns):
        if column.money and not column.currency:
            totals.append(None)
            continue
        present = [row.values[index] for row in rows if row.values[index] is not None]
        start: int | Decimal = ZERO if column.money else 0
        totals.append(sum(present, start))  # type: ignore[arg-type]
    return tuple(totals)


def _window(period: Period, fund: Fund) -> Q:
    """Applications submitted within the period, on the fund's clock."""
    zone = ZoneInfo(fund.time_zone)
    within = Q()
    if period.start:
        within &= Q(submitted_at__gte=on_clock(period.start, dt.time(), zone, closing=False))
    if period.end:
        next_day = period.end + dt.timedelta(days=1)
        within &= Q(submitted_at__lt=on_clock(next_day, dt.time(), zone, closing=False))
    return within


def _applications_per_day(funds: Sequence[Fund], period: Period) -> Table:
    """One fund: the count of its back office's dashboard (the days of its window); several:
    one grouped query over all their applications, each on its fund's clock."""
    title = _("Applications per day")
    if not funds:
        return _per_day("per_day", title, (APPLICATIONS,), [], lambda day: ())
    if len(funds) == 1:
        counts = dict(application_selectors.submissions_per_day(funds[0]))
    else:
        counts = dict(
            Application.objects.filter(fund__in=funds)
            .annotate(day=_local_day("submitted_at", funds))
            .order_by()
            .values_list("day")
            .annotate(count=Count("pk"))
        )
    days = _span(funds, counts, period)
    return _per_day("per_day", title, (APPLICATIONS,), days, lambda day: (counts.get(day, 0),))


def _decisions_per_day(funds: Sequence[Fund], period: Period) -> Table:
    """Approvals, rejections and awards put on the waiting list, each day (two queries)."""
    title = _("Decisions per day")
    columns = (APPROVED, REJECTED, WAITLISTED)
    if not funds:
        return _per_day("decisions", title, columns, [], lambda day: ())
    ids = [fund.pk for fund in funds]
    counts: dict[tuple[dt.date, str], int] = {}
    decided = (
        Decision.objects.filter(fund_id__in=ids)
        .annotate(day=_local_day("decided_at", funds))
        .order_by()
        .values_list("day", "outcome")
        .annotate(count=Count("pk"))
    )
    waited = (
        audit_selectors.events_of_funds(ids, WAITLISTED_EVENT)
        .annotate(day=_local_day("occurred_at", funds))
        .order_by()
        .values_list("day")
        .annotate(count=Count("pk"))
    )
    counts.update(((day, outcome), count) for day, outcome, count in decided)
    counts.update(((day, WAITLISTED.key), count) for day, count in waited)
    days = _span(funds, {day for day, _outcome in counts}, period)
    return _per_day(
        "decisions",
        title,
        columns,
        days,
        lambda day: tuple(counts.get((day, column.key), 0) for column in columns),
    )


@dataclass(frozen=True)
class Money:
    """A fund's ledger day by day: what was committed and paid each day, the running totals,
    and what the budget had left (its burn-down)."""

    per_day: Table
    cumulative: Table
    burndown: Table


def _money(fund: Fund, period: Period) -> Money:
    """The totals after each day's last ledger entry (one query), carried over the days
    without an entry."""
    day = TruncDate("recorded_at", tzinfo=ZoneInfo(fund.time_zone))
    entries = ledger.entries(fund).order_by()
    last_of_each_day = (
        entries.annotate(day=day).values("day").annotate(last=Max("sequence")).values("last")
    )
    closing = sorted(
        (on, ledger.Totals(credited, committed, paid))
        for on, credited, committed, paid in entries.filter(sequence__in=last_of_each_day)
        .annotate(day=day)
        .values_list("day", "credited", "committed", "paid")
    )
    days = _span([fund], (on for on, _totals in closing), period)
    # Each day's totals at its start and at its end.
    of_day: dict[dt.date, tuple[ledger.Totals, ledger.Totals]] = {}
    start, position = ledger.NOTHING, 0
    for on in days:
        while position < len(closing) and closing[position][0] < on:
            start = closing[position][1]
            position += 1
        end = start
        if position < len(closing) and closing[position][0] == on:
            end = closing[position][1]
            position += 1
        of_day[on], start = (start, end), end
    currency = fund.currency
    per_day = _per_day(
        "money_per_day",
        _("Amounts committed and paid each day"),
        (_committed(currency), _paid_out(currency)),
        days,
        lambda on: (
            of_day[on][1].committed - of_day[on][0].committed,
            of_day[on][1].paid - of_day[on][0].paid,
        ),
    )
    cumulative = _per_day(
        "cumulative",
        _("Amounts committed and paid, running totals"),
        (
            Column("committed_all", _("committed in all"), money=True, currency=currency),
            Column("paid_all", _("paid in all"), money=True, currency=currency),
        ),
        days,
        lambda on: (of_day[on][1].committed, of_day[on][1].paid),
        totals=False,
    )
    burndown = _per_day(
        "burndown",
        _("Budget burn-down: what is left each day"),
        (
            Column("credited", _("credited in all"), money=True, currency=currency),
            Column("left", _("Left"), money=True, currency=currency),
        ),
        days,
        lambda on: (of_day[on][1].credited, of_day[on][1].left),
        totals=False,
    )
    return Money(per_day, cumulative, burndown)


# -- breakdowns --------------------------------------------------------------------------------


def _figures(*, money: bool) -> dict[str, Any]:
    """Per group: applications, those granted (an award reserved or paid) and paid; with
    ``money``, what their awards committed and paid."""
    live = Q(award__status__in=[Award.Status.RESERVED, Award.Status.PAID])
    paid = Q(award__status=Award.Status.PAID)
    figures: dict[str, Any] = {
        "applications": Count("pk"),
        "granted": Count("award", filter=live),
        "paid": Count("award", filter=paid),
    }
    if money:
        figures["committed"] = Sum("award__amount", filter=live)
        figures["paid_amount"] = Sum("award__amount", filter=paid)
    return figures


def _grouped(applications: QuerySet[Application], *keys: Any, money: bool) -> list[tuple[Any, ...]]:
    """``(key…, figures…)`` of each group: one query."""
    named = {f"group_{index}": key for index, key in enumerate(keys) if not isinstance(key, str)}
    fields = [key if isinstance(key, str) else f"group_{index}" for index, key in enumerate(keys)]
    return list(
        applications.annotate(**named)
        .order_by()
        .values_list(*fields)
        .annotate(**_figures(money=money))
    )


def _breakdown(
    key: str,
    title: Text,
    heading: Text,
    groups: Iterable[tuple[str, tuple[Any, ...]]],
    labels: dict[str, Text],
    currency: str,
) -> Table:
    """A table of categories from ``(category, figures)`` pairs (several pairs may fall into one
    category), in the order of ``labels``; ``currency``: the money columns' (none: counts)."""
    added: dict[str, list[Any]] = {}
    for category, figures in groups:
        so_far = added.setdefault(category, [0] * len(figures))
        for index, figure in enumerate(figures):
            so_far[index] += figure if figure is not None else 0
    columns: tuple[Column, ...] = (APPLICATIONS, GRANTED, PAID)
    if currency:
        columns += (_committed(currency), _paid_out(currency))
    rows = tuple(
        Row(
            category,
            labels[category],
            tuple(
                Decimal(figure) if column.money else int(figure)
                for column, figure in zip(columns, added[category], strict=True)
            ),
        )
        for category in labels
        if category in added
    )
    return Table(key, title, heading, columns, rows, _add_up(columns, rows))


PORTAL = "portal"
NOT_STATED = "not_stated"
OTHER_ANSWER = "other_answer"


def _by_profession(applications: QuerySet[Application], currency: str) -> Table:
    rows = _grouped(applications, "profession", money=bool(currency))
    labels: dict[str, Text] = dict(Application.Profession.choices)
    labels.update((row[0], row[0]) for row in rows if row[0] not in labels)
    return _breakdown(
        "profession",
        _("Applications by profession"),
        _("Profession"),
        ((row[0], row[1:]) for row in rows),
        labels,
        currency,
    )


def _by_partner(applications: QuerySet[Application], currency: str) -> Table:
    """The applications each intake partner submitted, and those of the portal."""
    rows = _grouped(applications, "partner_id", "partner__name", money=bool(currency))
    labels: dict[str, Text] = {PORTAL: pgettext_lazy("statistics", "Applicant portal")}
    for partner, name, *_figures in sorted(rows, key=lambda row: (row[1] or "", row[0] or 0)):
        if partner is not None:
            labels[f"partner-{partner}"] = name
    return _breakdown(
        "partner",
        _("Applications by intake partner"),
        _("Partner"),
        ((f"partner-{row[0]}" if row[0] is not None else PORTAL, row[2:]) for row in rows),
        labels,
        currency,
    )


def _by_region(applications: QuerySet[Application], currency: str) -> Table:
    """By région in France (from the postcode), by country elsewhere: one row per postcode
    read, merged here (a few thousand postcodes at most, whatever the number of people)."""
    rows = _grouped(applications, "country", "postcode", money=bool(currency))
    groups = [
        (regions.region_of(country, postcode), figures) for country, postcode, *figures in rows
    ]
    found = {key for key, _figures in groups}
    locale = current_locale()
    abroad = sorted(
        (key for key in found if not regions.is_french(key) and key != regions.UNKNOWN),
        key=lambda key: regions.place_name(key, locale),
    )
    labels: dict[str, Text] = {key: name for key, name in regions.REGIONS.items() if key in found}
    labels.update((key, regions.place_name(key, locale)) for key in abroad)
    labels[regions.UNKNOWN] = pgettext_lazy("region", "Unknown")
    return _breakdown(
        "region",
        _("Applications by région (France) or country"),
        _("Région or country"),
        ((key, tuple(figures)) for key, figures in groups),
        labels,
        currency,
    )


def _gender_choices(funds: Sequence[Fund]) -> dict[str, Text] | None:
    """The answers the funds' rules in force offer to a question ``gender``, by value (None:
    no fund asks it)."""
    language = get_language() or "fr"
    choices: dict[str, Text] | None = None
    for fund in funds:
        document = rules_selectors.document_in_force(fund, fund.local_today())
        fact = document.fact("gender") if document is not None else None
        if fact is not None:
            choices = choices or {}
            for choice in fact.choices:
                choices.setdefault(choice.value, choice.label.get(language))
    return choices


def _by_gender(
    applications: QuerySet[Application], funds: Sequence[Fund], currency: str
) -> Table | None:
    """By the gender the applicants declared, in the words of the answers the rules offer;
    any other answer (rules changed since, a partner's own words) is counted as such, never
    shown as typed. None when no fund collects it (no rules ask it, no application has it)."""
    rows = _grouped(applications, KT("declared__gender"), money=bool(currency))
    choices = _gender_choices(funds)
    if choices is None and all(row[0] is None for row in rows):
        return None
    labels: dict[str, Text] = dict(choices or {})
    labels[OTHER_ANSWER] = pgettext_lazy("gender", "Another answer")
    labels[NOT_STATED] = pgettext_lazy("gender", "Not stated")

    def category(answer: Any) -> str:
        if answer is None:
            return NOT_STATED
        return str(answer) if str(answer) in labels else OTHER_ANSWER

    return _breakdown(
        "gender",
        _("Applications by gender"),
        _("Gender"),
        ((category(row[0]), row[1:]) for row in rows),
        labels,
        currency,
    )


# -- a fund, a programme -----------------------------------------------------------------------


@dataclass(frozen=True)
class FundStatistics:
    fund: Fund
    period: Period
    per_day: Table
    decisions: Table
    money: Money
    by_profession: Table
    by_region: Table
    by_gender: Table | None  # None: the fund does not collect it
    by_partner: Table
    suppressed: bool = False

    def for_outside_readers(self) -> FundStatistics:
        """The same with :func:`suppress` applied to every table (the public's view). Money
        that adds up no count of its table (per day, running totals, burn-down) is withheld
        whole."""
        return replace(
            self,
            per_day=suppress(self.per_day),
            decisions=suppress(self.decisions),
            money=Money(
                per_day=suppress(self.money.per_day),
                cumulative=suppress(self.money.cumulative),
                burndown=suppress(self.money.burndown),
            ),
            by_profession=suppress(self.by_profession),
            by_region=suppress(self.by_region),
            by_gender=suppress(self.by_gender) if self.by_gender is not None else None,
            by_partner=suppress(self.by_partner),
            suppressed=True,
        )


def fund_statistics(fund: Fund, period: Period = EVERYTHING) -> FundStatistics:
    """Every table of a fund, exact (for its staff), within ``period`` (eight grouped queries,
    and those of the rules in force)."""
    applications = Application.objects.filter(_window(period, fund), fund=fund)
    return FundStatistics(
        fund=fund,
        period=period,
        per_day=_applications_per_day([fund], period),
        decisions=_decisions_per_day([fund], period),
        money=_money(fund, period),
        by_profession=_by_profession(applications, fund.currency),
        by_region=_by_region(applications, fund.currency),
        by_gender=_by_gender(applications, [fund], fund.currency),
        by_partner=_by_partner(applications, fund.currency),
    )


@dataclass(frozen=True)
class ProgrammeStatistics:
    """A programme's tables: counts over its funds that take applications, each partner
    fund's money in its currency and in the programme's (converted as the roll-up does), and
    crew relief apart: it takes no application, and beside the partner funds its figures would
    be the difference between their totals and the breakdowns' (None: no crew relief fund)."""

    programme: Programme
    per_day: Table
    decisions: Table
    by_fund: Table
    crew_relief: Table | None
    by_profession: Table
    by_region: Table
    by_gender: Table | None
    by_partner: Table
    suppressed: bool = False

    def for_outside_readers(self) -> ProgrammeStatistics:
        """The same with :func:`suppress` applied to every table (a donor's view)."""
        return replace(
            self,
            per_day=suppress(self.per_day),
            decisions=suppress(self.decisions),
            by_fund=suppress(self.by_fund),
            crew_relief=suppress(self.crew_relief) if self.crew_relief is not None else None,
            by_profession=suppress(self.by_profession),
            by_region=suppress(self.by_region),
            by_gender=suppress(self.by_gender) if self.by_gender is not None else None,
            by_partner=suppress(self.by_partner),
            suppressed=True,
        )


def programme_statistics(programme: Programme) -> ProgrammeStatistics:
    """Every table of a programme, exact (a bounded number of grouped queries, whatever the
    number of funds and applications; the outside reader's: :meth:`for_outside_readers`)."""
    picture = rollup(programme)
    crew = [line for line in picture.funds if line.fund.kind == Fund.Kind.CREW_RELIEF]
    partners = [line for line in picture.funds if line.fund.kind != Fund.Kind.CREW_RELIEF]
    taking = [line.fund for line in partners]
    counts = {
        row[0]: row[1:]
        for row in _grouped(
            Application.objects.filter(fund__in=[line.fund.pk for line in picture.funds]),
            "fund_id",
            money=False,
        )
    }
    currency = programme.currency
    applications = Application.objects.filter(fund__in=[fund.pk for fund in taking])
    return ProgrammeStatistics(
        programme=programme,
        per_day=_applications_per_day(taking, EVERYTHING),
        decisions=_decisions_per_day(taking, EVERYTHING),
        by_fund=_by_fund("by_fund", _("Partner funds"), partners, counts, currency),
        crew_relief=_by_fund("crew_relief", _("Crew relief"), crew, counts, currency)
        if crew
        else None,
        by_profession=_by_profession(applications, ""),
        by_region=_by_region(applications, ""),
        by_gender=_by_gender(applications, taking, ""),
        by_partner=_by_partner(applications, ""),
    )


def _by_fund(
    key: str,
    title: Text,
    lines: list[FundLine],
    counts: dict[int, tuple[int, ...]],
    currency: str,
) -> Table:
    """Each fund's applications (none for crew relief) and grants, and its ledger's money in
    its currency and in the programme's (the roll-up's conversion; None without a rate)."""
    crew = key == "crew_relief"
    columns = (
        *(() if crew else (APPLICATIONS,)),
        GRANTED,
        PAID,
        _committed(),
        _paid_out(),
        Column(
            "committed_converted",
            _("Committed, in the programme's currency"),
            money=True,
            currency=currency,
            rests_on="granted",
        ),
        Column(
            "paid_converted",
            _("Paid out, in the programme's currency"),
            money=True,
            currency=currency,
            rests_on="paid",
        ),
    )
    rows = []
    for line in lines:
        applications, granted, paid = counts.get(line.fund.pk, (0, 0, 0))
        money = (
            line.totals.committed,
            line.totals.paid,
            line.committed_converted,
            line.paid_converted,
        )
        figures = (granted, paid, *money) if crew else (applications, granted, paid, *money)
        rows.append(Row(line.fund.slug, line.fund.name, figures, currency=line.fund.currency))
    return Table(key, title, _("Fund"), columns, tuple(rows), _add_up(columns, rows))


# -- small counts ------------------------------------------------------------------------------


def suppress(table: Table, k: int = K) -> Table:
    """The table as a reader outside the fund's staff sees it.

    A count from 1 to ``k - 1`` is hidden (:attr:`Hidden.FEW`, "fewer than 10"); a column whose
    total is that small hides every figure, zeros too ("fewer than 10" is true of them). Then,
    column by column, as long as the total, the figures shown and what the reader knows of
    the hidden ones (from 1 to ``k - 1`` each; at least ``k`` for one withheld; never more than
    the figure shown beside it that bounds it, as granted ≤ applications) leave one hidden
    figure with a single possible value, the smallest figure still shown is withheld too
    (:attr:`Hidden.WITHHELD`); when none is left, every count is withheld alike, small, large
    or nought. A total is not withheld: tables of the same people (by région, by profession…)
    share it. A money figure is hidden with the count of the people it adds up (and, when it
    alone is hidden beside a total shown, as amounts have no bounds to hide in, the smallest
    amount shown with it); money that adds up no count (running totals) is withheld.

    What no hiding within a table can prevent: a reader who knows that each listed category
    has someone learns it when the total equals their number (ten places, ten people).
    """
    width = len(table.columns)
    cells = [list(row.values) for row in table.rows]
    total: list[Value] = list(table.total) if table.total is not None else [None] * width
    counts = [index for index, column in enumerate(table.columns) if not column.money]
    for index in counts:
        _hide_small(cells, total, index, k)
    for index in counts:
        if isinstance(total[index], int) and not _withhold_until_safe(
            table, cells, total, index, k
        ):
            # (a column of nobody, its total 0, stays: its zeros say nothing)
            _withhold_all(cells, [i for i in counts if _count(total[i]) > 0])
            break
    for index, column in enumerate(table.columns):
        if column.money:
            _hide_money(table, cells, total, index)
    return replace(
        table,
        rows=tuple(
            replace(row, values=tuple(values))
            for row, values in zip(table.rows, cells, strict=True)
        ),
        total=tuple(total) if table.total is not None else None,
    )


def _hide_small(cells: list[list[Value]], total: list[Value], index: int, k: int) -> None:
    figure = total[index]
    if isinstance(figure, int) and 0 < figure < k:
        total[index] = Hidden.FEW
        for row in cells:
            if row[index] is not None:
                row[index] = Hidden.FEW
        return
    for row in cells:
        value = row[index]
        if isinstance(value, int) and 0 < value < k:
            row[index] = Hidden.FEW


def _withhold_until_safe(
    table: Table, cells: list[list[Value]], total: list[Value], index: int, k: int
) -> bool:
    """Withhold the smallest figure shown (one whose bounds would not give it away) until no
    hidden figure of the column can be worked out; False when none is left to withhold."""
    known = total[index]
    assert isinstance(known, int)
    while _pinned(
        [bounds for bounds in _bounds(table, cells, index, k) if bounds is not None],
        known - sum(_count(values[index]) for values in cells),
    ):
        candidates = []
        for row, values in enumerate(cells):
            if _count(values[index]) > 0:
                trial = values[:]
                trial[index] = Hidden.WITHHELD
                least, most = _bounds(table, [trial], index, k)[0] or (0, 0)
                if least < most:
                    candidates.append(row)
        if not candidates:
            return False
        smallest = min(candidates, key=lambda row: (_count(cells[row][index]), row))
        cells[smallest][index] = Hidden.WITHHELD
    return True


def _withhold_all(cells: list[list[Value]], indexes: list[int]) -> None:
    """Every count "not shown" alike, zeros too, in every column (they bound each other): none
    is known to be small, large or nought. The totals stay: other tables of the same people
    (by région, by profession…) show them anyway."""
    for values in cells:
        for index in indexes:
            if values[index] is not None:
                values[index] = Hidden.WITHHELD


def _count(value: Value) -> int:
    """A count shown (0 for one hidden or absent)."""
    return value if isinstance(value, int) else 0


def _bounds(
    table: Table, cells: list[list[Value]], index: int, k: int
) -> list[tuple[float, float] | None]:
    """What a reader knows of each figure of the column (None: it is shown): from 1 to
    ``k - 1`` when small; when withheld, at least ``k`` and the figures shown beside it that it
    bounds (granted for applications), at most the figure shown beside it that bounds it."""
    column = table.columns[index]
    above = _position(table, column.at_most)
    below = [i for i, other in enumerate(table.columns) if other.at_most == column.key]
    bounds: list[tuple[float, float] | None] = []
    for values in cells:
        if values[index] is Hidden.FEW:
            bounds.append((1.0, k - 1.0))
        elif values[index] is Hidden.WITHHELD:
            least = max([k] + [_count(values[i]) for i in below])
            cap = values[above] if above is not None else None
            bounds.append((float(least), float(cap) if isinstance(cap, int) else math.inf))
        else:
            bounds.append(None)
    return bounds


def _position(table: Table, key: str) -> int | None:
    return next((i for i, column in enumerate(table.columns) if column.key == key), None)


def _pinned(hidden: list[tuple[float, float]], hidden_sum: float) -> bool:
    """Whether one of the hidden figures, each known to lie within its bounds ``(least,
    most)``, has a single value that makes them add up to ``hidden_sum``."""
    least = sum(low for low, _high in hidden)
    unbounded = sum(1 for _low, high in hidden if high == math.inf)
    bounded_most = sum(high for _low, high in hidden if high != math.inf)
    for low, high in hidden:
        others_least = least - low
        if unbounded - (high == math.inf) > 0:
            others_most = math.inf
        else:
            others_most = bounded_most - (0 if high == math.inf else high)
        if max(low, hidden_sum - others_most) == min(high, hidden_sum - others_least):
            return True
    return False


def _hide_money(table: Table, cells: list[list[Value]], total: list[Value], index: int) -> None:
    source = _position(table, table.columns[index].rests_on)
    for row in cells:
        if row[index] is None:
            continue
        if source is None:
            row[index] = Hidden.WITHHELD
        elif isinstance(row[source], Hidden):
            row[index] = row[source]
    if total[index] is None:
        return
    if source is None:
        total[index] = Hidden.WITHHELD
    elif isinstance(total[source], Hidden):
        total[index] = total[source]
    elif sum(1 for row in cells if isinstance(row[index], Hidden)) == 1:
        # Alone (the others of its count have no such amount): the smallest amount shown goes
        # with it, or else the total.
        shown = [
            (amount, position)
            for position, row in enumerate(cells)
            if isinstance(amount := row[index], Decimal)
        ]
        if shown:
            cells[min(shown)[1]][index] = Hidden.WITHHELD
        else:
            total[index] = Hidden.WITHHELD
