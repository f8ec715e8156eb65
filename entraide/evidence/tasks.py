"""Background work of the evidence: importing an uploaded file, with its progress.

A refusal (a file already imported, a file that cannot be imported) is the task's result, shown
to the person who sent the file, not a failure of the task.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.utils import translation
from django_tasks import task
from django_tasks.base import TaskContext

from entraide.core.errors import DomainError
from entraide.core.progress import report_progress
from entraide.evidence import imports, inbox
from entraide.evidence.selectors import batch_summary

PROGRESS_INTERVAL = 1.0  # seconds: at most one progress report this often


def import_file(
    *, kind: str, path: Path, source: str, actor: Any, progress: imports.Progress | None = None
) -> dict[str, Any]:
    """Import one file as ``actor`` (``None``: the platform) and say what happened, as JSON:
    ``outcome`` "imported" with the batch's counts, or "refused" with the refusal's ``code``
    and ``message`` (and, for a file already imported, the ``batch`` that has it)."""
    try:
        batch = imports.import_evidence_file(
            actor=actor, kind=kind, path=path, source=source, progress=progress
        )
    except DomainError as refusal:
        earlier = refusal.batch.pk if isinstance(refusal, imports.AlreadyImported) else None
        return {
            "outcome": "refused",
            "code": refusal.code,
            "message": str(refusal.message),
            "batch": earlier,
        }
    return {"outcome": "imported", **batch_summary(batch)}


class ThrottledProgress:
    """Reports an import's progress (rows handled, rows in the file) at most once a second.

    The import calls it inside its transaction, where a write would only show when it commits:
    a thread of its own writes the reports, on its own database connection.
    """

    def __init__(self, context: TaskContext) -> None:
        self.context = context
        self.latest: tuple[int, int] | None = None
        self.reported_at = time.monotonic()  # the first report a second after the start
        self.reports: queue.Queue[tuple[int, int] | None] = queue.Queue()
        self.writer = threading.Thread(target=self._write, name="import-progress", daemon=True)
        self.writer.start()

    def __call__(self, done: int, total: int) -> None:
        self.latest = (done, total)
        now = time.monotonic()
        if now - self.reported_at >= PROGRESS_INTERVAL:
            self.reported_at = now
            self.reports.put(self.latest)

    def _write(self) -> None:
        try:
            while (report := self.reports.get()) is not None:
                # SQLite may refuse: its one writer is the import itself, until it commits.
                with contextlib.suppress(DatabaseError):
                    report_progress(self.context, done=report[0], total=report[1])
        finally:
            connection.close()  # this thread's own connection

    def close(self) -> None:
        """Stop the writer, then report where the import got to (its transaction is over)."""
        self.reports.put(None)
        self.writer.join()
        if self.latest is not None:
            report_progress(self.context, done=self.latest[0], total=self.latest[1])


@task(takes_context=True)
def import_uploaded_evidence(
    context: TaskContext,
    kind: str,
    upload: str,
    source: str,
    actor_id: int | None,
    language: str,
) -> dict[str, Any]:
    """Import a file of the inbox (``upload``: its inbox name), in the language of the person
    who sent it (messages, error report); the file is deleted when the task ends."""
    actor = None if actor_id is None else get_user_model().objects.get(pk=actor_id)
    report_progress(context, done=0, total=None)
    progress = ThrottledProgress(context)
    try:
        with translation.override(language):
            return import_file(
                kind=kind,
                path=inbox.path_of(upload),
                source=source,
                actor=actor,
                progress=progress,
            )
    finally:
        progress.close()
        inbox.discard(upload)
