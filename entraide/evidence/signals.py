"""Signals other domains listen to, sent after the change is committed."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit when records were added or removed (an import, a rollback, a load).
# Arguments: ``batch_id`` (int), ``kind`` (str), ``change`` ("imported" or "rolled_back").
evidence_changed = Signal()


def announce_change(batch_id: int, kind: str, change: str) -> None:
    evidence_changed.send(sender=None, batch_id=batch_id, kind=kind, change=change)
