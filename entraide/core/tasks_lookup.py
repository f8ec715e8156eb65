"""Finding a background task from an id in a URL, without leaking other tasks."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django_tasks.base import Task, TaskResult
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch


def task_result_or_404(task: Task[Any, Any], task_id: str) -> TaskResult[Any]:
    """The result of ``task`` with this id; 404 for an unknown id or another kind of task."""
    try:
        return task.get_result(task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch) as exc:
        raise Http404 from exc


def fund_task_result(task: Task[Any, Any], task_id: str, fund_id: int) -> TaskResult[Any]:
    """The result of ``task`` run for this fund (its first argument); 404 for an unknown id,
    another kind of task, or another fund's task."""
    result = task_result_or_404(task, task_id)
    if not result.args or result.args[0] != fund_id:
        raise Http404
    return result
