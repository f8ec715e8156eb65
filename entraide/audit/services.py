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
from entraide.core import crypto
from entraide.core.masking import HIDDEN, mask_identifier

# Fields whose values never reach the audit log in clear.
MASKED_FIELDS = frozenset({"nir", "iban", "debtor_iban", "national_id", "password"})


def mask(field: str, value: Any) -> Any:
    if field not in MASKED_FIELDS or value in (None, ""):
        return value
    return HIDDEN if field == "password" else mask_identifier(value)


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


# Values that name or describe a person: the chain cannot be rewritten when the person is
# erased, so it keeps a keyed digest of them (the same value gives the same digest, which is
# enough to check an event against a record, and tells nothing without the key).
PSEUDONYMISED_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "birth_date",
        "email",
        "phone",
        "address_line",
        "account_holder",
        "creditor_name",
        "note",
        "reason",
        "answer",
        "resolution",
        "decision_note",
    }
)


def pseudonym(value: Any) -> str:
    return f"hmac:{crypto.blind_index('audit', str(value))[:16]}"


def _pseudonymised(value: Any, hide: bool = False) -> Any:
    if isinstance(value, Mapping):
        return {
            key: _pseudonymised(item, hide or key in PSEUDONYMISED_FIELDS)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_pseudonymised(item, hide) for item in value]
    if hide and value not in (None, "") and not isinstance(value, bool | int):
        return pseudonym(value)
    return value


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
        "changes": _json_ready(_pseudonymised(changes or {})),
        "previous_hash": head.hash,
    }
    digest = event_hash(**fields)
    event = AuditEvent.objects.create(**{**fields, "occurred_at": occurred_at}, hash=digest)
    head.sequence = event.sequence
    head.hash = digest
    head.save(update_fields=["sequence", "hash"])
    return event
