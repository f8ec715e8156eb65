"""``entraide tasks watch ID``: follow a background task's progress until it finishes."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tasks import default_task_backend
from django_tasks.exceptions import TaskResultDoesNotExist
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from entraide.core.progress import progress_of


class Command(BaseCommand):
    help = "Background task commands."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        watch = sub.add_parser("watch", help="Show a task's progress until it finishes.")
        watch.add_argument("task_id")
        watch.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        task_id = options["task_id"]
        try:
            result = default_task_backend.get_result(task_id)
        except TaskResultDoesNotExist as error:
            raise CommandError(f"no task {task_id}") from error
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
        ) as bar:
            line = bar.add_task(result.task.name, total=None)
            while True:
                progress = progress_of(task_id)
                if progress is not None:
                    bar.update(
                        line,
                        completed=progress.done,
                        total=progress.total,
                        description=progress.label or result.task.name,
                    )
                if result.is_finished:
                    break
                time.sleep(options["interval"])
                result.refresh()
        progress = progress_of(task_id)
        self.stdout.write(
            json.dumps(
                {
                    "task": task_id,
                    "status": str(result.status),
                    "done": progress.done if progress else None,
                    "total": progress.total if progress else None,
                    "output": progress.output_path if progress else None,
                }
            )
        )
        if result.status != "SUCCESSFUL":
            raise CommandError(f"task {task_id} ended {result.status}")
