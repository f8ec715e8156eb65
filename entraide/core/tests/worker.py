"""Running the database tasks worker inside a test, as ``db_worker --batch`` does."""

from __future__ import annotations

import io
import signal
from typing import Any

from django.core.management import call_command

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_db_worker(*, inside_test_transaction: bool = False, monkeypatch: Any = None) -> None:
    """Run the database tasks worker until its queue is empty, as ``db_worker --batch`` does.

    Inside the test's transaction (``db`` fixture) the worker's ``close_old_connections()``
    would drop the connection, whose autocommit differs from the settings; it is switched off
    there. The worker also installs signal handlers, which are put back afterwards.
    """
    if inside_test_transaction:
        monkeypatch.setattr(
            "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
        )
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]
    saved = {sig: signal.getsignal(sig) for sig in signals}
    try:
        call_command(
            "db_worker",
            batch=True,
            reload=False,
            startup_delay=False,
            interval=0,
            verbosity=0,
            stdout=io.StringIO(),
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
