"""Background work of the evidence: importing an uploaded file, with its progress; verifying a
fund's applications against the records (on request, and again whenever records are imported
or rolled back), then evaluating again the pending applications whose evaluation the records
no longer bear out.

A refusal (a file already imported, a file that cannot be imported) is the task's result, shown
to the person who sent the file, not a failure of the task.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.utils import translation
from django_tasks import task
from django_tasks.base import TaskContext

from entraide.applications import selectors as application_selectors
from entraide.core.errors import DomainError, InvalidTransition
from entraide.core.progress import report_progress
from entraide.core.tasks import enqueue_with_transaction
from entraide.evidence import fund_verification, imports, inbox, selectors
from entraide.evidence.models import VerificationRun
from entraide.evidence.selectors import batch_summary
from entraide.funds import selectors as fund_selectors
from entraide.rules import selectors as rules_selectors
from entraide.rules import services as rules_services

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 1.0  # seconds: at most one progress report this often
EVALUATIONS_PER_REPORT = 50  # outdated evaluations updated between two progress reports
# PostgreSQL advisory locks of verification runs: (this namespace, the fund's id).
VERIFICATION_LOCK_NAMESPACE = 4_301


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


# -- verifying a fund's applications against the records --------------------------------------


@contextlib.contextmanager
def one_verification_at_a_time(fund_id: int) -> Iterator[None]:
    """Runs of one fund replace the same rows: where several workers may take runs of the same
    fund at once (PostgreSQL), each waits for the one before, then reads the records as they are
    after it. A session lock, as the run commits several transactions of its own."""
    if connection.vendor != "postgresql":
        yield
        return
    key = [VERIFICATION_LOCK_NAMESPACE, fund_id]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


@task(takes_context=True)
def verify_fund_applications(context: TaskContext, run_id: int) -> dict[str, Any]:
    """Verify every application of the run's fund against the records, showing how far it got;
    then, if pending applications' evaluations no longer match the records, evaluate them again
    in a task of its own. A run already over (a task run twice) is left as it is."""
    run = selectors.verification_run_by_id(run_id)
    if run.status == VerificationRun.Status.RUNNING:
        report_progress(context, done=0, total=None)
        with one_verification_at_a_time(run.fund_id):
            fund_verification.verify_fund(
                run=run,
                progress=lambda done, total: report_progress(context, done=done, total=total),
            )
        if run.outdated:
            update_outdated_evaluations.enqueue(run.pk)
    return selectors.verification_summary(run)


def enqueue_verification(run: VerificationRun) -> None:
    """Verify ``run`` in a task of its own, whose id the run keeps for its page.

    The database backend stores the task in the caller's transaction, if there is one: it exists
    if and only if the caller's change commits. The in-process backend (the tests') verifies
    after the commit, in transactions of its own.
    """

    def keep(task_id: str) -> None:
        run.task_id = task_id
        # The id only: with the in-process backend, the run is over already.
        VerificationRun.objects.filter(pk=run.pk).update(task_id=task_id)

    enqueue_with_transaction(verify_fund_applications, run.pk, on_enqueued=keep)


@task()
def verify_after_evidence_change(batch_id: int, change: str) -> list[int]:
    """Verify again the funds that records added or removed may concern: after an import, those
    having an application of a person in the batch; after a rollback (its rows are gone), every
    fund verified before. Returns the runs started.

    Each fund is verified in a task of its own: its run's page follows that task's progress,
    several workers verify several funds at once, and a fund whose verification fails does not
    stop the others.
    """
    batch = selectors.batch_by_id(batch_id)
    fund_ids = (
        application_selectors.fund_ids_of_applicants(selectors.nir_indexes_in_batch(batch))
        if change == "imported"
        else selectors.verified_fund_ids()
    )
    runs = []
    for fund in fund_selectors.funds_with_ids(fund_ids):
        run = fund_verification.start_verification(actor=None, fund=fund, evidence_batch=batch)
        enqueue_verification(run)
        runs.append(run.pk)
    return runs


@task(takes_context=True)
def update_outdated_evaluations(context: TaskContext, run_id: int) -> dict[str, int]:
    """Evaluate again each pending application of the run whose current evaluation differs from
    what the run found on the records (or which has none), showing how far it got. A decided
    application keeps the evaluation it was decided on. Each evaluation is a transaction of its
    own; a task run twice finds nothing more to do."""
    run = selectors.verification_run_by_id(run_id)
    found = selectors.verified_outcomes(run, statuses=rules_services.PENDING_STATUSES)
    current = rules_selectors.current_outcomes(found.values("application_id"))
    outdated = [pk for pk, eligible, amount in found if current.get(pk) != (eligible, amount)]
    total = len(outdated)
    report_progress(context, done=0, total=total)
    evaluated = 0
    for done, application_id in enumerate(outdated, start=1):
        application = application_selectors.application_by_id(application_id)
        try:
            rules_services.evaluate_application(actor=None, application=application)
        except (
            rules_services.NoRulesInForce,
            rules_services.FactsUnreadable,
            InvalidTransition,
        ) as refusal:
            # Rules withdrawn, facts the rules cannot read, or decided since the run.
            logger.warning(
                "application %s not evaluated again: %s", application.reference, refusal.code
            )
        else:
            evaluated += 1
        if done % EVALUATIONS_PER_REPORT == 0 or done == total:
            report_progress(context, done=done, total=total)
    return {"run": run.pk, "outdated": total, "evaluated": evaluated}
