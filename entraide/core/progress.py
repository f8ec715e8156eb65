"""Progress of background tasks, written by the task and read by pages and commands."""

from __future__ import annotations

from django_tasks.base import TaskContext

from entraide.core.models import TaskProgress


def report_progress(
    context: TaskContext, *, done: int, total: int | None, label: str = "", output_path: str = ""
) -> None:
    """Record how far the running task has got (outside any transaction, so it shows at once)."""
    values: dict[str, object] = {"done": done, "total": total}
    if label:
        values["label"] = label
    if output_path:
        values["output_path"] = output_path
    TaskProgress.objects.update_or_create(
        task_result_id=str(context.task_result.id), defaults=values
    )


def progress_of(task_result_id: str) -> TaskProgress | None:
    return TaskProgress.objects.filter(task_result_id=task_result_id).first()
