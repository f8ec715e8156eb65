"""``entraide scheduler``: enqueue the periodic tasks (entraide.core.schedule) when they are due.

Runs beside the task worker, checking every minute; ``--once`` checks once and exits, for a
crontab line (``* * * * * entraide scheduler --once``). Several schedulers may run: each period
of each task is enqueued once. Prints one JSON line per task enqueued.
"""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from entraide.core import schedule


class Command(BaseCommand):
    help = "Enqueue the periodic tasks when they are due (every minute, or once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Enqueue what is due now, then exit (for cron)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self._pass()
            return
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        names = ", ".join(sorted(schedule.REGISTRY)) or "none"
        self.stderr.write(f"scheduler: checking every minute for: {names}")
        while not stopping.is_set():
            close_old_connections()
            try:
                self._pass()
            except Exception as error:  # keep scheduling: the next pass retries
                self.stderr.write(f"scheduler: {type(error).__name__}: {error}")
            stopping.wait(schedule.seconds_to_next_minute())

    def _pass(self) -> None:
        for run in schedule.enqueue_due():
            self.stdout.write(json.dumps({"enqueued": run.name, "due_at": run.due_at.isoformat()}))
