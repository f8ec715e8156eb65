"""Template filters of the applicant portal."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def masked(value: Any) -> str:
    """A personal identifier (NIR, IBAN) shown by its last 4 characters only."""
    text = str(value or "")
    if not text:
        return ""
    return f"•••• {text[-4:]}" if len(text) > 4 else "••••"
