"""Template tags of the public statistics in other domains' pages."""

from __future__ import annotations

from django import template

from entraide.funds.models import Fund
from entraide.reporting import public_statistics

register = template.Library()


@register.simple_tag
def statistics_published(fund: Fund) -> bool:
    """Whether the fund publishes its statistics (its public page links to them then)."""
    return public_statistics.is_published(fund)
