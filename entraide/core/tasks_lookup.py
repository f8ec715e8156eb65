"""Finding a fund's background task from an id in a URL, without leaking other funds' tasks."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django_tasks.base import Task, TaskResult
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch


def fund_task_result(task: Task[Any, Any], task_id: str, fund_id: int) -> TaskResult[Any]:
    """The result of ``task`` run for this fund (its first argument); 404 for an unknown id,
    another kind of task, or another fund's task."""
    try:
        result = task.get_result(task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch) as exc:
        raise Http404 from exc
    if not result.args or result.args[0] != fund_id:
        raise Http404
    return result
