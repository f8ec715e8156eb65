"""Loading evidence records. The national-scale CSV/Parquet import builds on this batch shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction

from entraide.audit import services as audit
from entraide.core.errors import PermissionDenied
from entraide.evidence.models import (
    BenefitRecord,
    CancellationRecord,
    EmployerDeclaration,
    EvidenceBatch,
    RightsRecord,
)
from entraide.evidence.signals import announce_change

ROW_MODELS: dict[str, type[models.Model]] = {
    EvidenceBatch.Kind.DECLARATIONS: EmployerDeclaration,
    EvidenceBatch.Kind.RIGHTS: RightsRecord,
    EvidenceBatch.Kind.BENEFITS: BenefitRecord,
    EvidenceBatch.Kind.CANCELLATIONS: CancellationRecord,
}
# Columns of FORMATS.md whose name is not the model field's (``from`` is a Python keyword).
COLUMN_ALIASES: dict[str, dict[str, str]] = {
    EvidenceBatch.Kind.BENEFITS: {"from": "start", "to": "end"},
}


def _fields(kind: str, row: Mapping[str, Any]) -> dict[str, Any]:
    aliases = COLUMN_ALIASES.get(kind, {})
    return {aliases.get(name, name): value for name, value in row.items()}


def load_evidence_batch(
    *, actor: Any, kind: str, source: str, rows: Iterable[Mapping[str, Any]]
) -> EvidenceBatch:
    """Store already-validated rows of one kind as one batch, in bulk, with one audit event.

    Rows use the model's field names or the column names of FORMATS.md (a benefit's ``from`` and
    ``to``). ``actor=None`` is the platform itself (a command run by the system administrator).
    """
    model = ROW_MODELS[kind]
    with transaction.atomic(durable=True):
        if actor is not None and not actor.has_perm("evidence.add_evidencebatch"):
            raise PermissionDenied()
        batch = EvidenceBatch.objects.create(kind=kind, source=source, loaded_by=actor)
        objects: list[Any] = [model(batch=batch, **_fields(kind, row)) for row in rows]
        model._default_manager.bulk_create(objects, batch_size=2000)
        batch.rows = batch.rows_read = len(objects)
        batch.save(update_fields=["rows", "rows_read"])
        audit.record(
            actor=actor,
            action="evidence.batch_loaded",
            obj=batch,
            changes={"kind": kind, "source": source, "rows": batch.rows},
        )
        transaction.on_commit(lambda: announce_change(batch.pk, kind, "imported"))
    return batch
