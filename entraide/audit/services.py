"""Writing the audit log. Every service action calls :func:`record` inside its transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection, models
from django.utils import timezone

from entraide.audit.chain import GENESIS_HASH, event_hash
from entraide.audit.models import AuditChainHead, AuditEvent

# Fields whose values never reach the audit log in clear.
MASKED_FIELDS = frozenset({"nir", "iban", "debtor_iban", "password"})


def mask(field: str, value: Any) -> Any:
    if field not in MASKED_FIELDS or value in (None, ""):
        return value
    text = str(value)
    return f"•••• {text[-4:]}" if len(text) > 4 else "••••"


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields`` on ``obj``, as the audit log stores them."""
    return {field: mask(field, getattr(obj, field)) for field in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"before": ..., "after": ...}}`` for the fields whose value changed."""
    return {
        field: {"before": before.get(field), "after": after.get(field)}
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    }


def created(after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return diff({}, after)


def _json_ready(changes: Mapping[str, Any]) -> Any:
    # Decimals, dates and lazy strings become text once, so the stored body and the hashed
    # body are the same whatever the database does with JSON.
    return json.loads(json.dumps(changes, default=str, sort_keys=True))


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    changes: Mapping[str, Any] | None = None,
    fund_id: int | None = None,
) -> AuditEvent:
    """Append one event to the audit chain, in the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record must run inside the action's transaction")
    # The head row serialises writers: each event links to the one before. Locked without a
    # savepoint (it is on every action's path); created once, by the first event ever.
    head = AuditChainHead.objects.select_for_update().filter(id=1).first()
    if head is None:
        AuditChainHead.objects.get_or_create(id=1, defaults={"hash": GENESIS_HASH})
        head = AuditChainHead.objects.select_for_update().get(id=1)
    occurred_at = timezone.now().astimezone(dt.UTC)
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    fields: dict[str, Any] = {
        "sequence": head.sequence + 1,
        "occurred_at": occurred_at.isoformat(),
        "actor_id": actor_id,
        "actor_label": str(actor.email) if actor_id else "system",
        "action": action,
        "object_type": obj._meta.label_lower,
        "object_id": str(obj.pk),
        "object_label": str(obj)[:200],
        "fund_id": fund_id,
        "changes": _json_ready(changes or {}),
        "previous_hash": head.hash,
    }
    digest = event_hash(**fields)
    event = AuditEvent.objects.create(**{**fields, "occurred_at": occurred_at}, hash=digest)
    head.sequence = event.sequence
    head.hash = digest
    head.save(update_fields=["sequence", "hash"])
    return event
