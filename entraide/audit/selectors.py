"""Reading the audit log, for the history shown beside an object."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from entraide.audit.models import AuditEvent


def events_for(obj: models.Model) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("sequence")


def events_for_fund(fund_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(fund_id=fund_id).order_by("-sequence")


def events_of_funds(fund_ids: list[int], action: str) -> QuerySet[AuditEvent]:
    """The funds' events of one action (unordered: for counting)."""
    return AuditEvent.objects.filter(fund_id__in=fund_ids, action=action)
