"""Template tags of the integrity checks in the back office: the "possible duplicates" panel of
an application's page, and how a match weight and a probability read."""

from __future__ import annotations

import math
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import pgettext

from entraide.applications.models import Application
from entraide.integrity import selectors

register = template.Library()

MINUS = "\u2212"


@register.inclusion_tag("integrity/_application_panel.html")
def integrity_panel(application: Application, fund: Any) -> dict[str, Any]:
    """The application's links and the other applications of the person it was confirmed as
    (two queries)."""
    return {"application": application, "fund": fund, "panel": selectors.panel_of(application)}


@register.filter
def weight(value: float | None) -> str:
    """A match weight with its sign, one decimal: "+3.2" for, "\u22121.5" against (a real
    minus sign, as typeset)."""
    if value is None:
        return "—"
    sign = MINUS if value < 0 else "+"
    return sign + number_format(abs(value), 1)


@register.filter
def percent(value: float | None) -> str:
    """A probability in %, rounded down to one decimal: "99.9 %" is never shown as 100."""
    if value is None:
        return "—"
    shown = math.floor(value * 1000) / 10
    return pgettext("percentage", "%(value)s%%") % {"value": number_format(shown, 1)}
