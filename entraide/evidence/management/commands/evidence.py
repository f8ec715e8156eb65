"""``entraide evidence import KIND FILE`` and ``entraide evidence rollback BATCH_ID``.

A progress bar on stderr; on stdout, one JSON object: what the batch did (counts, batch id, the
error report's path). Runs as the platform itself (no acting user), like the other commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from entraide.core.errors import DomainError
from entraide.evidence import imports
from entraide.evidence.models import EvidenceBatch


class Command(BaseCommand):
    help = "Evidence files: import one as a batch; roll a batch back."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="Validate and import one file (CSV or Parquet).")
        load.add_argument("kind", choices=list(imports.SPECS))
        load.add_argument("file", type=Path)
        load.add_argument("--source", default="", help="where the file comes from")
        load.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 2GB")
        rollback = sub.add_parser("rollback", help="Delete every row of an imported batch.")
        rollback.add_argument("batch_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "import":
                summary = self.load(options)
            else:
                summary = self.rollback(options["batch_id"])
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(json.dumps(summary))

    def load(self, options: dict[str, Any]) -> dict[str, Any]:
        console = Console(file=options.get("stderr") or sys.stderr)
        with Progress(
            TextColumn(f"import {options['kind']}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task("rows", total=None)
            batch = imports.import_evidence_file(
                actor=None,
                kind=options["kind"],
                path=options["file"],
                source=options["source"],
                progress=lambda done, total: progress.update(bar, completed=done, total=total),
                memory_limit=options["memory_limit"],
            )
        for warning in batch.warnings:
            console.print(f"{batch.file_name}: {warning}", markup=False, highlight=False)
        period = [batch.period_start, batch.period_end]
        return {
            "batch": batch.pk,
            "kind": batch.kind,
            "status": batch.status,
            "read": batch.rows_read,
            "imported": batch.rows,
            "rejected": batch.rows_rejected,
            "duplicates": batch.rows_duplicate,
            "period": [day.isoformat() if day else None for day in period],
            "warnings": batch.warnings,
            "error_report": batch.error_report,
        }

    def rollback(self, batch_id: int) -> dict[str, Any]:
        batch = EvidenceBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"no batch {batch_id}")
        batch = imports.rollback_batch(actor=None, batch=batch)
        return {"batch": batch.pk, "status": batch.status}
