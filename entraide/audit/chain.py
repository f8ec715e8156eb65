"""The hash of an audit event: SHA-256 over a canonical JSON form of its content."""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS_HASH = "0" * 64


def event_hash(
    *,
    sequence: int,
    occurred_at: str,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: str,
    object_label: str,
    fund_id: int | None,
    changes: Any,
    previous_hash: str,
) -> str:
    payload = json.dumps(
        [
            sequence,
            occurred_at,
            actor_id,
            actor_label,
            action,
            object_type,
            object_id,
            object_label,
            fund_id,
            changes,
            previous_hash,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
