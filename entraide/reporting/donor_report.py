"""The donor's report of a programme: a PDF made to be passed on (to a board, to the press), with
a cover, a summary, each partner fund's figures and crew relief's, the charts and breakdowns,
and how the figures are made (sources, the conversion with the rates read, the small-count
rule, what "committed" and "paid" mean, the days' time zones).

Its figures are always those for readers outside the funds' staff
(:meth:`~entraide.reporting.statistics.ProgrammeStatistics.for_outside_readers`), whoever
downloads it, the programme's managers too: once it has left the platform, anyone may read it.
It names no person: no applicant, and not who allocated money or recorded a rate either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from entraide.audit import services as audit
from entraide.core.dates import format_day, format_moment
from entraide.core.errors import PermissionDenied
from entraide.core.money import ZERO, format_money
from entraide.funds.window import zone_name
from entraide.programmes.models import Programme
from entraide.programmes.permissions import can_view
from entraide.programmes.presenters import allocation_row, rate_text
from entraide.programmes.rollup import FundLine, Rollup, rollup
from entraide.reporting import attestations, panels, statistics
from entraide.reporting.panels import Panel, figure_text
from entraide.reporting.statistics import ProgrammeStatistics, Table

# The moment of the figures is written in UTC: a programme's funds have clocks of their own.
AS_OF_ZONE = "UTC"
DAILY = ("per_day", "decisions")
BY_FUND = ("by_fund", "crew_relief")


@dataclass(frozen=True)
class FundTable:
    """Each fund's line: its currency, what the programme allocated it (partner funds), then the
    statistics' figures as an outside reader gets them."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    total: tuple[str, ...]


@dataclass(frozen=True)
class FundRate:
    """The rate a fund's figures were converted at, and the zone of its days."""

    fund: str
    currency: str
    rate: str  # empty: no allocation, no rate (its figures stay in its currency)
    zone: str


@dataclass(frozen=True)
class AllocationLine:
    day: str
    to: str
    amount: str
    converted: str
    rates_read: str  # the rate used, where and on which day its rates were read


def language_of(requested: str | None) -> str:
    """The language asked for if the report has it, else the active one, else the site's."""
    return attestations.language_of(requested or translation.get_language())


def _fund_table(
    table: Table, lines: dict[str, FundLine], currency: str, *, allocated: bool
) -> FundTable:
    """The table with each fund's currency and, for partner funds, its allocation (the
    programme's money, not people's: never hidden)."""
    headers = [_("Currency")]
    if allocated:
        headers.append(_("Allocated, in %(currency)s") % {"currency": currency})
    headers += [capfirst(str(column.label)) for column in table.columns]
    rows = []
    for row in table.rows:
        line = lines[row.key]
        given = (format_money(line.allocated, currency),) if allocated else ()
        figures = tuple(
            figure_text(value, column, row.currency)
            for value, column in zip(row.values, table.columns, strict=True)
        )
        rows.append((str(row.label), (row.currency, *given, *figures)))
    assert table.total is not None
    all_given = (
        (format_money(sum((lines[row.key].allocated for row in table.rows), ZERO), currency),)
        if allocated
        else ()
    )
    total = (
        "",
        *all_given,
        *(
            figure_text(value, column)
            for value, column in zip(table.total, table.columns, strict=True)
        ),
    )
    return FundTable(str(table.title), tuple(headers), tuple(rows), total)


def _rate(line: FundLine, currency: str) -> str:
    if line.rate is None:
        return ""
    if line.fund.currency == currency:
        return _("%(currency)s to %(currency)s: no conversion.") % {"currency": currency}
    text = rate_text(line.rate, currency, line.fund.currency)
    return _("%(rate)s on average") % {"rate": text} if line.rate_is_average else text


def _summary(figures: ProgrammeStatistics, picture: Rollup) -> list[tuple[str, str]]:
    """The programme's money, then what its funds did with it (suppressed as their tables)."""
    programme = picture.programme
    currency = programme.currency

    def total(table: Table, key: str) -> str:
        assert table.total is not None
        column = table.column(key)
        return figure_text(table.total[table.columns.index(column)], column)

    lines = [
        (_("Commitment"), format_money(programme.commitment, currency)),
        (
            _("Allocated to partner funds"),
            format_money(picture.allocated - picture.crew_allocated, currency),
        ),
        (_("Allocated to crew relief"), format_money(picture.crew_allocated, currency)),
        (_("Left to allocate"), format_money(picture.left_to_allocate, currency)),
        (_("Applications to the partner funds"), total(figures.by_fund, "applications")),
        (_("Grants made by the partner funds"), total(figures.by_fund, "granted")),
        (
            _("Committed by the partner funds, in %(currency)s") % {"currency": currency},
            total(figures.by_fund, "committed_converted"),
        ),
        (
            _("Paid by the partner funds, in %(currency)s") % {"currency": currency},
            total(figures.by_fund, "paid_converted"),
        ),
    ]
    if figures.crew_relief is not None:
        lines += [
            (_("Crew members granted relief"), total(figures.crew_relief, "granted")),
            (
                _("Committed to crew relief, in %(currency)s") % {"currency": currency},
                total(figures.crew_relief, "committed_converted"),
            ),
            (
                _("Paid to crews, in %(currency)s") % {"currency": currency},
                total(figures.crew_relief, "paid_converted"),
            ),
        ]
    return lines


def _allocations(picture: Rollup) -> list[AllocationLine]:
    """Every allocation with the rates its conversion read (not who made it, nor its note)."""
    currency = picture.programme.currency
    made = []
    for allocation in picture.allocations:
        row = allocation_row(allocation, currency)
        made.append(
            AllocationLine(
                day=format_day(allocation.rate_day),
                to=allocation.fund.name if allocation.fund else _("Crew relief"),
                amount=format_money(allocation.amount, currency),
                converted=format_money(allocation.converted_amount, allocation.converted_currency),
                rates_read=row.rates_read,
            )
        )
    return made


def report_context(programme: Programme, as_of: dt.datetime) -> dict[str, Any]:
    """What the report shows, in the active language, its figures suppressed."""
    picture = rollup(programme)
    figures = statistics.programme_statistics(programme).for_outside_readers()
    lines = {line.fund.slug: line for line in picture.funds}
    currency = programme.currency
    made = panels.programme_panels(figures)
    daily: list[Panel] = [panel for panel in made if panel.key in DAILY]
    fund_charts = [panel for panel in made if panel.key in BY_FUND]
    breakdowns = [panel for panel in made if panel.key not in DAILY + BY_FUND]
    return {
        "programme": programme,
        "as_of": format_moment(as_of, AS_OF_ZONE),
        "as_of_zone": AS_OF_ZONE,
        "as_of_day": format_day(as_of.astimezone(dt.UTC).date()),
        "summary": _summary(figures, picture),
        "funds": _fund_table(figures.by_fund, lines, currency, allocated=True),
        "crew_relief": _fund_table(figures.crew_relief, lines, currency, allocated=False)
        if figures.crew_relief is not None
        else None,
        "fund_charts": fund_charts,
        "daily": daily,
        "breakdowns": breakdowns,
        "collects_gender": figures.by_gender is not None,
        "rates": [
            FundRate(
                fund=line.fund.name,
                currency=line.fund.currency,
                rate=_rate(line, currency),
                zone=f"{zone_name(line.fund.time_zone)} ({line.fund.time_zone})",
            )
            for line in picture.funds
        ],
        "allocations": _allocations(picture),
        "k": statistics.K,
    }


def render_donor_report(programme: Programme, language: str, as_of: dt.datetime) -> bytes:
    """The report as a PDF in ``language``, its figures read now (``as_of`` is their moment)."""
    # Loaded on the first report, not with every process (more than a second to import).
    import weasyprint

    with translation.override(language):
        html = render_to_string(
            "reporting/donor_report.html",
            {**report_context(programme, as_of), "language": language},
        )
    # The charts are data: URIs; nothing else may be fetched (no file, no network).
    document = weasyprint.HTML(
        string=html,
        base_url=str(settings.BASE_DIR),
        url_fetcher=weasyprint.URLFetcher(allowed_protocols=("data",)),
    )
    pdf: bytes = document.write_pdf()
    return pdf


def download_donor_report(*, actor: Any, programme: Programme, language: str) -> bytes:
    """The report for someone who reads the programme (its managers, its donor's people, the
    fund operators). Audited: who took it, in which language, figures of which moment."""
    if not can_view(actor, programme):
        raise PermissionDenied()
    as_of = timezone.now()
    content = render_donor_report(programme, language, as_of)
    # Rendering takes seconds: the audit's chain is not held meanwhile.
    with transaction.atomic(durable=True):
        audit.record(
            actor=actor,
            action="programme.report_downloaded",
            obj=programme,
            changes={"language": language, "figures_as_of": as_of.astimezone(dt.UTC).isoformat()},
        )
    return content
