"""Actions of reporting: asking for an export of a fund's applications, and downloading it."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from entraide.applications.selectors import ListFilters
from entraide.audit import services as audit
from entraide.core.errors import ValidationFailed
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.reporting.exports import FileFormat
from entraide.reporting.tasks import export_applications


def request_applications_export(
    *, actor: Any, fund: Fund, filters: ListFilters, file_format: str, language: str
) -> str:
    """Start an export of the applications the fund's list shows ``actor`` with ``filters``,
    as a ``file_format`` file headed in ``language``; returns the task id to follow it."""
    if file_format not in FileFormat.values:
        raise ValidationFailed(_("Choose a format the export offers."), field="file_format")
    chosen = {name: value for name, value in dataclasses.asdict(filters).items() if value}
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.EXPORT)
        # The database tasks backend stores the task in this transaction: it runs only if the
        # request is committed, and is never lost if it is.
        result = export_applications.enqueue(
            fund.pk, actor.pk, dataclasses.asdict(filters), file_format, language
        )
        audit.record(
            actor=actor,
            action="fund.export_requested",
            obj=fund,
            changes={
                "task": str(result.id),
                "kind": "applications",
                "format": file_format,
                "filters": chosen,
            },
            fund_id=fund.pk,
        )
    return str(result.id)


def record_export_download(*, actor: Any, fund: Fund, task_id: str, file_format: str) -> None:
    """Audit that ``actor`` downloaded the file of the fund's export ``task_id`` (personal data
    leaving the platform: each download is recorded)."""
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.EXPORT)
        audit.record(
            actor=actor,
            action="fund.export_downloaded",
            obj=fund,
            changes={"task": task_id, "kind": "applications", "format": file_format},
            fund_id=fund.pk,
        )
