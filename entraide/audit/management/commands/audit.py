"""``entraide audit verify``: check that no audit event was altered, inserted or deleted."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from entraide.audit.models import AuditEvent
from entraide.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Audit log commands."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Verify the hash chain of the audit log.")

    def handle(self, *args: Any, **options: Any) -> None:
        total = AuditEvent.objects.count()
        console = Console(stderr=True)
        with Progress(
            TextColumn("audit verify"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            bar = progress.add_task("verify", total=total)
            report = verify_chain(on_event=lambda n: progress.update(bar, completed=n))
        for problem in report.problems:
            self.stdout.write(
                json.dumps({"sequence": problem.sequence, "problem": problem.message})
            )
        if not report.ok:
            raise CommandError(
                f"audit chain BROKEN: {len(report.problems)} problem(s) "
                f"in {report.events_checked} events"
            )
        self.stdout.write(json.dumps({"ok": True, "events_checked": report.events_checked}))
