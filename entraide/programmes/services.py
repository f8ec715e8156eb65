"""Actions on donor programmes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.programmes.models import Programme


def create_programme(
    *, actor: Any, slug: str, name: str, donor: str, commitment: Decimal, currency: str
) -> Programme:
    if commitment < 0:
        raise ValidationFailed(_("The commitment cannot be negative."), field="commitment")
    with transaction.atomic(durable=True):
        if not actor.has_perm("programmes.add_programme"):
            raise PermissionDenied()
        if Programme.objects.filter(slug=slug).exists():
            raise ValidationFailed(
                _("A programme with this short name already exists."), field="slug"
            )
        programme = Programme.objects.create(
            slug=slug, name=name, donor=donor, commitment=commitment, currency=currency
        )
        audit.record(
            actor=actor,
            action="programme.created",
            obj=programme,
            changes=audit.created(
                audit.snapshot(programme, ("slug", "name", "donor", "commitment", "currency"))
            ),
        )
    return programme
