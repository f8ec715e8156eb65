"""``entraide rules validate RULES`` and ``entraide rules evaluate``: check a rule document, and
evaluate applicants (applicants.jsonl) against evidence files (FORMATS.md), writing
decisions.jsonl to stdout with a progress bar on stderr.

Messages on stderr are for the operator running the command (English); the explanations in the
decisions come from the rule document, in the language asked for.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from entraide.rules import batch, engine, loaders
from entraide.rules.document import RuleDocument, RuleDocumentError, load_file
from entraide.rules.records import PersonEvidence


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def existing(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {text}")
    return path


class Command(BaseCommand):
    help = "Rule documents: validate one; evaluate applicants against evidence."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="Check a rule document (YAML or JSON).")
        validate.add_argument("rules", type=existing)
        evaluate = sub.add_parser(
            "evaluate", help="Evaluate applicants; write decisions.jsonl to stdout."
        )
        evaluate.add_argument("--rules", type=existing, required=True)
        evaluate.add_argument(
            "--evidence",
            type=existing,
            required=True,
            help="directory of declarations, rights, benefits, cancellations (.csv or .parquet)",
        )
        evaluate.add_argument("--applicants", type=existing, required=True)
        evaluate.add_argument("--lang", choices=["fr", "en"], default="fr")
        evaluate.add_argument(
            "--at", type=iso_date, default=None, help="evaluation date (default: today)"
        )
        evaluate.add_argument(
            "--engine",
            choices=["batch", "single"],
            default="batch",
            help="batch: one DuckDB query for everyone; single: one applicant at a time",
        )
        evaluate.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 3GB")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "validate":
            self.validate(options["rules"])
        else:
            self.evaluate(**options)

    def document(self, path: Path) -> RuleDocument:
        try:
            return load_file(path)
        except RuleDocumentError as error:
            for problem in error.problems:
                self.stdout.write(str(problem))
            count = len(error.problems)
            raise CommandError(f"{path}: {count} problem{'s' if count > 1 else ''}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: cannot be read ({error})") from None

    def validate(self, path: Path) -> None:
        self.document(path)
        self.stdout.write("valid")

    def evaluate(self, **options: Any) -> None:
        document = self.document(options["rules"])
        at: dt.date = options["at"] or dt.date.today()
        language: str = options["lang"]
        if not options["evidence"].is_dir():
            raise CommandError(f"{options['evidence']}: not a directory")
        console = Console(file=sys.stderr)

        def report(message: str) -> None:
            console.print(message, markup=False, highlight=False, soft_wrap=True)

        connection = loaders.connect(memory_limit=options["memory_limit"])
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            step = progress.add_task("evidence", total=None)
            try:
                counts = loaders.load_evidence(connection, options["evidence"], report)
            except loaders.LoadError as error:
                raise CommandError(str(error)) from None
            progress.update(step, total=sum(counts.values()), completed=sum(counts.values()))
            step = progress.add_task("applicants", total=None)
            applicants: list[loaders.Applicant] = []

            def read() -> Iterator[loaders.Applicant]:
                for applicant in loaders.read_applicants(document, options["applicants"], report):
                    if options["engine"] == "single":
                        applicants.append(applicant)
                    progress.advance(step)
                    yield applicant

            total = loaders.create_applicants(connection, document, read())
            progress.update(step, total=total, completed=total)
            step = progress.add_task("decisions", total=total)
            if options["engine"] == "batch":
                lines = batch.decision_lines(connection, document, at=at, language=language)
            else:
                lines = (
                    json.dumps(evaluation.as_json(ref), ensure_ascii=False)
                    for ref, evaluation in self.single(
                        connection, document, applicants, at, language
                    )
                )
            for line in lines:
                self.stdout.write(line)
                progress.advance(step)

    def single(
        self,
        connection: Any,
        document: RuleDocument,
        applicants: list[loaders.Applicant],
        at: dt.date,
        language: str,
    ) -> Iterator[tuple[str, engine.Evaluation]]:
        """The per-applicant engine, with the evidence indexed by NIR in memory."""
        evidence = loaders.evidence_by_nir(connection)
        nobody = PersonEvidence()
        for applicant in applicants:
            person = evidence.get(applicant.nir, nobody) if applicant.nir else nobody
            yield (
                applicant.ref,
                engine.evaluate(
                    document, facts=applicant.facts, evidence=person, at=at, language=language
                ),
            )
