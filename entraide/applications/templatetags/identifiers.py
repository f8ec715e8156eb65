"""The name of an applicant's personal identifier, where it is shown (masked)."""

from __future__ import annotations

from django import template

from entraide.applications.identity import identifier_of_value

register = template.Library()


@register.filter
def identifier_label(value: str) -> str:
    """“Social security number” for a NIR, “National Insurance number” for a NINO...: the label
    of the kind of identifier ``value`` is, in the page's language."""
    return str(identifier_of_value(value).label)
