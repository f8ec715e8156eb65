"""``entraide evidence import KIND FILE``, ``entraide evidence rollback BATCH_ID`` and
``entraide evidence watch [--folder DIR] [--once] [--interval S]``.

A progress bar on stderr; on stdout, one JSON object: what the batch did (counts, batch id, the
error report's path); ``watch`` writes one per file it takes (:mod:`entraide.evidence.watch`).
Runs as the platform itself (no acting user), like the other commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from entraide.core.errors import DomainError
from entraide.evidence import imports, watch
from entraide.evidence.models import EvidenceBatch
from entraide.evidence.selectors import batch_summary


class Command(BaseCommand):
    help = "Evidence files: import one as a batch; roll a batch back; watch a folder."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("import", help="Validate and import one file (CSV or Parquet).")
        load.add_argument("kind", choices=list(imports.SPECS))
        load.add_argument("file", type=Path)
        load.add_argument("--source", default="", help="where the file comes from")
        load.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 2GB")
        rollback = sub.add_parser("rollback", help="Delete every row of an imported batch.")
        rollback.add_argument("batch_id", type=int)
        watched = sub.add_parser(
            "watch",
            help="Import the files dropped in a folder whose name starts with a kind "
            "(declarations-2020-03.csv), then move them to done/ or failed/.",
        )
        watched.add_argument("--folder", type=Path, default=None, help="EVIDENCE_WATCH_DIR")
        watched.add_argument("--once", action="store_true", help="one look, then stop")
        watched.add_argument(
            "--interval",
            type=float,
            default=10.0,
            help="seconds between two looks; a file is taken when unchanged between two",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "watch":
            watch.watch(
                options["folder"] or settings.EVIDENCE_WATCH_DIR,
                interval=options["interval"],
                once=options["once"],
                tell=lambda report: self.stdout.write(json.dumps(report)),
            )
            return
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
        return {**batch_summary(batch), "error_report": batch.error_report}

    def rollback(self, batch_id: int) -> dict[str, Any]:
        batch = EvidenceBatch.objects.filter(pk=batch_id).first()
        if batch is None:
            raise CommandError(f"no batch {batch_id}")
        batch = imports.rollback_batch(actor=None, batch=batch)
        return {"batch": batch.pk, "status": batch.status}
