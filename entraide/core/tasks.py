"""Enqueuing background work so that it is never lost nor run for a change that was undone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend


def stored_in_transaction(task: Task[Any, Any]) -> bool:
    """Whether ``task.enqueue()`` stores the task in the caller's transaction (the database
    backend) rather than running it at once (the in-process backend of the tests)."""
    return isinstance(task.get_backend(), DatabaseBackend)


def enqueue_with_transaction(
    task: Task[Any, Any], *args: Any, on_enqueued: Callable[[str], None] | None = None
) -> None:
    """Enqueue ``task`` as part of the caller's transaction; ``on_enqueued`` is told the task's
    id (to keep it on the record whose page follows the task).

    With the database backend the task row is written in the same transaction: it exists if
    and only if the change commits, even if the process dies right after the commit, and costs
    no commit of its own. Other backends (in-process in the tests) get it after the commit.
    """

    def enqueue() -> None:
        result = task.enqueue(*args)
        if on_enqueued is not None:
            on_enqueued(str(result.id))

    if stored_in_transaction(task):
        enqueue()
    else:
        transaction.on_commit(enqueue)
