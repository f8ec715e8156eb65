from __future__ import annotations

from entraide.programmes.models import Programme


def programme_by_slug(slug: str) -> Programme | None:
    return Programme.objects.filter(slug=slug).first()
