"""Checking the audit chain: every event's hash, the links between them, and the head."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from entraide.audit.chain import GENESIS_HASH, event_hash
from entraide.audit.models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    message: str


@dataclass(frozen=True)
class ChainReport:
    events_checked: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    on_event: Callable[[int], None] | None = None, *, using: str = DEFAULT_DB_ALIAS
) -> ChainReport:
    """Walk the whole log in order, in constant memory whatever its length (``using``: another
    database, e.g. a restored backup)."""
    problems: list[ChainProblem] = []
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.using(using).order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            problems.append(
                ChainProblem(
                    event.sequence,
                    _("events %(first)s to %(last)s are missing")
                    % {"first": expected_sequence, "last": event.sequence - 1},
                )
            )
        if event.previous_hash != previous_hash:
            problems.append(
                ChainProblem(event.sequence, _("the link to the previous event is broken"))
            )
        recomputed = event_hash(
            sequence=event.sequence,
            occurred_at=event.occurred_at.astimezone(dt.UTC).isoformat(),
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            object_label=event.object_label,
            fund_id=event.fund_id,
            changes=event.changes,
            previous_hash=event.previous_hash,
        )
        if recomputed != event.hash:
            problems.append(ChainProblem(event.sequence, _("the content of the event was altered")))
        previous_hash = event.hash
        expected_sequence = event.sequence + 1
        checked += 1
        if on_event is not None:
            on_event(checked)
    head = AuditChainHead.objects.using(using).filter(id=1).first()
    last = expected_sequence - 1
    if head is None and checked:
        problems.append(ChainProblem(last, _("the chain head is missing")))
    elif head is not None and (head.sequence != last or head.hash != previous_hash):
        problems.append(
            ChainProblem(
                head.sequence,
                _("the log ends at event %(last)s but the chain head records event %(head)s")
                % {"last": last, "head": head.sequence},
            )
        )
    return ChainReport(events_checked=checked, problems=problems)
