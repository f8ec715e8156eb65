"""An applicant's copy of their data (GDPR art. 15 and 20): one ZIP with ``data.json`` (every
application of theirs across funds, their applications in progress, their account) and their
documents in clear, streamed as it is written.

What the fund's staff wrote for themselves (notes, answers to second approvals) and who among
them did what are left out: those are the staff's data. The applicant's own identifiers (NIR,
IBAN) are in full: it is their copy.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from entraide.applications import documents as document_store
from entraide.applications import erasure as application_erasure
from entraide.audit import selectors as audit_selectors
from entraide.audit.labels import action_label
from entraide.funds import erasure as fund_erasure
from entraide.payments import erasure as payment_erasure
from entraide.privacy import selectors
from entraide.review import erasure as review_erasure
from entraide.rules import selectors as rules_selectors

FORMAT_VERSION = 1
# Keys of audit events that name the fund's staff or carry their own notes.
STAFF_KEYS = frozenset(
    {
        "reviewer",
        "reviewer_id",
        "reviewers",
        "holder",
        "note",
        "resolution",
        "answer",
        "decision_note",
        "error",
        "also_confirmed",
        "account",
    }
)


@dataclass
class Copy:
    data: dict[str, Any]
    files: list[application_erasure.StoredDocument]

    @property
    def application_count(self) -> int:
        return len(self.data["applications"])


def _scrub(value: Any) -> Any:
    """An event's changes without the staff's names, e-mail addresses and notes."""
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items() if key not in STAFF_KEYS}
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, str) and "@" in value:
        return "•••"
    return value


def _event(event: Any, user: Any) -> dict[str, Any]:
    if event.actor_id is None:
        by = "system"
    elif event.actor_id == user.pk:
        by = "you"
    else:
        by = "fund"
    return {
        "at": event.occurred_at,
        "action": event.action,
        "what": action_label(event.action),
        "by": by,
        "details": _scrub(event.changes),
    }


def _status_history(application: Any, events: list[Any]) -> list[dict[str, Any]]:
    history = [{"at": application.submitted_at, "status": "received"}]
    for event in events:
        status = event.changes.get("status") if event.action.endswith("status_changed") else None
        if isinstance(status, dict) and status.get("after"):
            history.append({"at": event.occurred_at, "status": status["after"]})
    if history[-1]["status"] != application.status:
        # Changes made for many applications at once (a batch paid) are one event of the fund.
        history.append({"at": application.status_changed_at, "status": application.status})
    return history


def copy_of(user: Any) -> Copy:
    """Everything the platform holds about the applicant behind ``user``."""
    applications = application_erasure.applications_of(user)
    ids = [application.pk for application in applications]
    decisions = review_erasure.decisions_of(ids)
    awards = fund_erasure.awards_of(ids)
    payments = payment_erasure.payments_of(ids)
    files: list[application_erasure.StoredDocument] = []
    entries = []
    for application in applications:
        data, documents = application_erasure.subject_application(application)
        files.extend(documents)
        award = awards.get(application.pk)
        events = list(audit_selectors.events_for(application))
        if award is not None:
            events += list(audit_selectors.events_for(award))
        if application.pk in decisions:
            events += list(audit_selectors.events_for(decisions[application.pk]))
        events.sort(key=lambda event: event.sequence)
        evaluation = rules_selectors.current_evaluation(application.pk)
        erased = selectors.erasure_of(application.pk)
        data.update(
            {
                "evaluation": None
                if evaluation is None
                else {
                    "eligible": evaluation.eligible,
                    "amount": evaluation.amount,
                    "currency": evaluation.currency,
                    "evaluated_on": evaluation.evaluated_on,
                    "rule_version": evaluation.version.number,
                    "criteria": evaluation.result.get("criteria", []),
                },
                "decision": review_erasure.decision_data(decisions[application.pk])
                if application.pk in decisions
                else None,
                "award": fund_erasure.award_data(award) if award is not None else None,
                "payments": payments.get(application.pk, []),
                "status_history": _status_history(application, events),
                "history": [_event(event, user) for event in events],
                "erasure": None
                if erased is None
                else {
                    "erased_at": erased.erased_at,
                    "cause": erased.cause,
                    "held_until": erased.hold_until,
                },
            }
        )
        entries.append(data)
    drafts, draft_files = application_erasure.subject_drafts(user)
    files.extend(draft_files)
    # A file missing from the store (erased, lost) is listed, not copied.
    for stored in files:
        if not document_store.path_of(stored.stored_name).exists():
            stored.entry["file"] = None
    files = [stored for stored in files if stored.entry["file"]]
    return Copy(
        data={
            "format": FORMAT_VERSION,
            "generated_at": timezone.now(),
            "account": {
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "joined_at": user.date_joined,
                "last_login": user.last_login,
            },
            "applications": entries,
            "applications_in_progress": drafts,
        },
        files=files,
    )


class _Sink(io.RawIOBase):
    """An unseekable stream collecting what the ZIP writer writes, drained chunk by chunk."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        chunk = b"".join(self._chunks)
        self._chunks.clear()
        return chunk


def archive_chunks(copy: Copy) -> Iterator[bytes]:
    """The ZIP, file by file: one document at a time in memory, whatever their number."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        body = json.dumps(copy.data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
        archive.writestr("data.json", body.encode())
        yield sink.drain()
        for stored in copy.files:
            archive.writestr(stored.archive_name, application_erasure.read(stored.stored_name))
            yield sink.drain()
    yield sink.drain()


def archive_name(now: dt.datetime | None = None) -> str:
    return f"my-data-{timezone.localdate(now or timezone.now()).isoformat()}.zip"
