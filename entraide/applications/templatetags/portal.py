"""Template filters of the applicant portal."""

from __future__ import annotations

from typing import Any

from django import template

from entraide.applications import documents as document_store
from entraide.applications.models import ApplicationDocument
from entraide.core.masking import mask_identifier

register = template.Library()


@register.filter
def masked(value: Any) -> str:
    """A personal identifier (NIR, IBAN) shown masked (entraide.core.masking)."""
    return mask_identifier(value)


@register.filter
def previewable(document: ApplicationDocument) -> bool:
    """Whether staff may see the document inside the page (a PDF or an image, not blocked)."""
    return document_store.previewable(document)
