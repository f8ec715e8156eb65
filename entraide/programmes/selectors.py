from __future__ import annotations

from entraide.programmes.models import Programme


def programme_by_slug(slug: str) -> Programme | None:
    return Programme.objects.filter(slug=slug).first()


def lock_programme(programme_id: int) -> Programme:
    """Lock the programme row for the rest of the transaction: checks that span its funds (one
    application per person in the programme) queue up behind it."""
    return Programme.objects.select_for_update().get(pk=programme_id)
