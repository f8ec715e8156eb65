"""Template filters of the applicant portal."""

from __future__ import annotations

from typing import Any

from django import template

from entraide.applications import documents as document_store
from entraide.applications.models import ApplicationDocument

register = template.Library()


@register.filter
def masked(value: Any) -> str:
    """A personal identifier (NIR, IBAN) shown by its last 4 characters only."""
    text = str(value or "")
    if not text:
        return ""
    return f"•••• {text[-4:]}" if len(text) > 4 else "••••"


@register.filter
def previewable(document: ApplicationDocument) -> bool:
    """Whether staff may see the document inside the page (a PDF or an image, not blocked)."""
    return document_store.previewable(document)
