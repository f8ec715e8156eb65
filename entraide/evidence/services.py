"""Loading evidence records. The national-scale CSV/Parquet import builds on this batch shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from entraide.audit import services as audit
from entraide.evidence.models import EmployerDeclaration, EvidenceBatch, RightsRecord

ROW_MODELS: dict[str, type[EmployerDeclaration] | type[RightsRecord]] = {
    EvidenceBatch.Kind.DECLARATIONS: EmployerDeclaration,
    EvidenceBatch.Kind.RIGHTS: RightsRecord,
}


def load_evidence_batch(
    *, actor: Any, kind: str, source: str, rows: Iterable[Mapping[str, Any]]
) -> EvidenceBatch:
    """Store already-validated rows of one kind as one batch, in bulk, with one audit event."""
    model = ROW_MODELS[kind]
    with transaction.atomic(durable=True):
        batch = EvidenceBatch.objects.create(
            kind=kind, source=source, loaded_by=actor if actor and actor.is_authenticated else None
        )
        objects = [model(batch=batch, **row) for row in rows]
        model.objects.bulk_create(objects, batch_size=2000)  # type: ignore[attr-defined]
        batch.rows = len(objects)
        batch.save(update_fields=["rows"])
        audit.record(
            actor=actor,
            action="evidence.batch_loaded",
            obj=batch,
            changes={"kind": kind, "source": source, "rows": batch.rows},
        )
    return batch
