"""What the fund's records say about a person, for the staff's application page."""

from __future__ import annotations

from django.db.models import QuerySet

from entraide.evidence.models import EmployerDeclaration, RightsRecord


def declarations_for(nir: str) -> QuerySet[EmployerDeclaration]:
    return EmployerDeclaration.objects.filter(nir=nir).order_by("start")


def rights_for(nir: str) -> QuerySet[RightsRecord]:
    return RightsRecord.objects.filter(nir=nir).order_by("opened_on")
