"""A fund's public statistics: its choice to publish them (those who manage the fund; audited),
and what its public page shows: counts and amounts, every table suppressed as for any reader
outside the fund's staff (:meth:`~entraide.reporting.statistics.FundStatistics.
for_outside_readers`), never a person.

Anyone may ask for the page, as often as they like: its figures are kept a few minutes in
Django's cache (:data:`CACHE_SECONDS`, per fund and language). Whether the fund publishes them
is read on every request, so that withdrawing the page takes effect at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from entraide.core.errors import ValidationFailed
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.funds.services import save_fund_settings
from entraide.reporting import panels, statistics
from entraide.reporting.models import PublicStatistics
from entraide.reporting.panels import Panel, figure_text
from entraide.reporting.statistics import Table

CACHE_SECONDS = 300
SETTINGS_FIELDS = ("published",)


class NoPublicPage(ValidationFailed):
    code = "no_public_page"
    default_message = _(
        "A crew relief fund takes no application and has no public page: its statistics "
        "cannot be published."
    )


# -- the fund's choice -------------------------------------------------------------------------


def settings_of(fund: Fund) -> PublicStatistics:
    """The fund's choice (not published, unsaved, until it makes one)."""
    found = PublicStatistics.objects.filter(fund=fund).first()
    return found if found is not None else PublicStatistics(fund=fund)


def is_published(fund: Fund) -> bool:
    return PublicStatistics.objects.filter(fund=fund, published=True).exists()


def save_public_statistics_settings(*, actor: Any, fund: Fund, published: bool) -> PublicStatistics:
    """Publish the fund's statistics, or withdraw them (those who manage the fund). Audited,
    before and after; a crew relief fund has no public page to publish them on."""
    require(actor, fund, Capability.MANAGE_FUND)
    if published and fund.kind == Fund.Kind.CREW_RELIEF:
        raise NoPublicPage(field="published")
    return save_fund_settings(
        actor=actor,
        fund=fund,
        model=PublicStatistics,
        fields=SETTINGS_FIELDS,
        values={"published": published},
        action="fund.public_statistics_changed",
    )


# -- the page's figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicFigures:
    """The page's figures as texts in one language (what the cache keeps)."""

    as_of: dt.datetime
    summary: tuple[tuple[str, str], ...]
    panels: tuple[Panel, ...]


def _totals(table: Table, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    assert table.total is not None
    return [
        (
            capfirst(str(table.column(key).label)),
            figure_text(table.total[table.columns.index(table.column(key))], table.column(key)),
        )
        for key in keys
    ]


def _figures(fund: Fund) -> PublicFigures:
    """Counts each day, decisions, and by profession and région with the money of the grants.
    Money day by day is left out: it adds up no count, so that suppression withholds it all."""
    figures = statistics.fund_statistics(fund).for_outside_readers()
    summary = [
        *_totals(figures.per_day, ("applications",)),
        *_totals(figures.decisions, ("approved", "rejected", "waitlisted")),
        *_totals(figures.by_profession, ("granted", "paid", "committed", "paid_amount")),
    ]
    return PublicFigures(
        as_of=timezone.now(),
        summary=tuple(summary),
        panels=(
            panels.day_bars(figures.per_day),
            panels.day_bars(figures.decisions, stacked=True),
            panels.category_bars(figures.by_profession, panels.COUNTS),
            panels.category_bars(figures.by_region, panels.COUNTS),
        ),
    )


def cache_key(fund: Fund, language: str | None = None) -> str:
    return f"reporting:public-statistics:{fund.pk}:{language or get_language()}"


def public_figures(fund: Fund) -> PublicFigures:
    """The page's figures in the active language, from the cache when read in the last
    :data:`CACHE_SECONDS`."""
    key = cache_key(fund)
    found: PublicFigures | None = cache.get(key)
    if found is None:
        found = _figures(fund)
        cache.set(key, found, CACHE_SECONDS)
    return found
