"""The import task's progress: at most once a second, written where a page sees it at once."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction
from django_tasks.base import TaskContext

from entraide.core.models import TaskProgress
from entraide.core.progress import progress_of, report_progress
from entraide.evidence import tasks

pytestmark = pytest.mark.django_db(transaction=True)


def context() -> Any:
    return TaskContext(task_result=SimpleNamespace(id=str(uuid.uuid4())))


def wait_for(task_context: Any, done: int) -> TaskProgress:
    """The progress row once it says ``done`` (the writer thread gets there a moment later)."""
    for _ in range(100):
        progress = progress_of(str(task_context.task_result.id))
        if progress is not None and progress.done == done:
            return progress
        time.sleep(0.05)
    raise AssertionError(f"progress never reached {done}")


def test_reports_closer_than_a_second_are_dropped_but_the_last_one_is_kept() -> None:
    task_context = context()
    report_progress(task_context, done=0, total=None)
    progress = tasks.ThrottledProgress(task_context)

    for done in range(1, 6):
        progress(done, 5)
    time.sleep(0.1)
    assert progress_of(str(task_context.task_result.id)).done == 0  # under a second: nothing yet

    progress.close()
    last = progress_of(str(task_context.task_result.id))
    assert (last.done, last.total) == (5, 5)


def test_a_report_shows_while_the_import_transaction_is_still_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: progress shows when the import commits")
    monkeypatch.setattr(tasks, "PROGRESS_INTERVAL", 0)
    task_context = context()
    report_progress(task_context, done=0, total=None)
    progress = tasks.ThrottledProgress(task_context)

    with transaction.atomic():
        progress(3, 10)
        assert wait_for(task_context, 3).total == 10
    progress.close()
