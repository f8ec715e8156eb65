"""``entraide ops backup`` and ``entraide ops restore-drill``: backups of the database and the
documents, and the proof that they restore (docs/production.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.core.backups import BackupError, make_backup, restore_drill


class Command(BaseCommand):
    help = "Operations: backups and restore drills."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        default_dir = Path(settings.VAR_DIR) / "backups"
        backup = sub.add_parser("backup", help="Back up the database and the documents.")
        backup.add_argument(
            "--to", type=Path, default=default_dir, help=f"where (default {default_dir})"
        )
        drill = sub.add_parser(
            "restore-drill",
            help="Restore a backup into scratch space and check it (a new backup by default).",
        )
        drill.add_argument(
            "--backup", type=Path, help="the backup set to drill (default: make one now)"
        )
        drill.add_argument("--to", type=Path, default=default_dir, help="where a new backup goes")
        drill.add_argument("--json", action="store_true", help="one JSON object on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "backup":
                backup = make_backup(options["to"])
                self.stdout.write(json.dumps({"backup": str(backup)}))
                return
            backup = options["backup"] or make_backup(options["to"])
        except BackupError as error:
            raise CommandError(f"backup FAILED: {error}") from error
        report = restore_drill(backup, on_step=lambda step: print(f"… {step}", file=sys.stderr))
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "backup": str(backup),
                        "ok": report.ok,
                        "checks": [vars(check) for check in report.checks],
                    }
                )
            )
        else:
            self.stdout.write(f"restore drill of {backup}")
            for check in report.checks:
                status = "OK  " if check.ok else "FAIL"
                self.stdout.write(f"  {status}  {check.name}: {check.detail}")
        if not report.ok:
            failed = sum(not check.ok for check in report.checks)
            raise CommandError(f"restore drill FAILED: {failed} check(s) failed")
        if not options["json"]:
            self.stdout.write("restore drill passed")
