"""Template tags of the attestations in other domains' pages."""

from __future__ import annotations

from django import template

from entraide.applications.models import Application
from entraide.reporting import attestations

register = template.Library()


@register.simple_tag
def attestation_available(application: Application) -> bool:
    """Whether the application's grant has an attestation to download (the portal's status
    page links to it then)."""
    return attestations.has_attestation(application)
