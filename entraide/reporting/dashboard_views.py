"""The reporting dashboards: a fund's figures for its staff (exact), a programme's for those
who read it (its managers exact; its donor with small counts suppressed, and never a person).
Each chart has the same figures as a table beside it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from entraide.funds import selectors as fund_selectors
from entraide.funds.permissions import Capability
from entraide.funds.window import zone_name
from entraide.programmes import selectors as programme_selectors
from entraide.programmes.permissions import can_manage
from entraide.reporting import panels, statistics
from entraide.reporting.dashboard_forms import PeriodForm


@login_required
@require_safe
def fund_reports(request: HttpRequest, slug: str) -> HttpResponse:
    """A fund's charts and tables, within the period asked for (every day by default)."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.VIEW_FUND)
    form = PeriodForm(request.GET or None)
    figures = statistics.fund_statistics(fund, form.period())
    return render(
        request,
        "reporting/dashboard_fund.html",
        {
            "fund": fund,
            "form": form,
            "figures": figures,
            "panels": panels.fund_panels(figures),
            "zone": zone_name(fund.time_zone),
        },
    )


@login_required
@require_safe
def programme_reports(request: HttpRequest, slug: str) -> HttpResponse:
    """A programme's charts and tables; small counts suppressed for all but its managers."""
    programme = programme_selectors.programme_for_reader(request.user, slug)
    figures = statistics.programme_statistics(programme)
    if not can_manage(request.user, programme):
        figures = figures.for_outside_readers()
    return render(
        request,
        "reporting/dashboard_programme.html",
        {
            "programme": programme,
            "figures": figures,
            "panels": panels.programme_panels(figures),
        },
    )
