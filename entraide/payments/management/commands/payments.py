"""``entraide payments``: a batch's bank file, a bank's return, a fund's reconciliation.

``export`` writes a released batch's file (generating it on the spot when the worker has not:
the same crash-safe path as the worker's), ``import-return`` applies a pain.002 or camt.054,
``reconcile`` prints the reconciliation and fails when it does not balance. The person acting
(``--as``, an e-mail address) needs the same role as in the back office; every action is
audited in their name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.accounts.selectors import command_actor
from entraide.core.errors import DomainError
from entraide.funds.models import Fund
from entraide.payments import reconciliation, services
from entraide.payments.models import PaymentBatch


class Command(BaseCommand):
    help = "Payment commands: export a batch's file, import a bank return, reconcile a fund."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write a released batch's bank file.")
        export.add_argument("batch", help="the batch's reference, e.g. P-7K3M-9Q2F")
        export.add_argument("--as", dest="actor", required=True, help="a finance e-mail address")
        export.add_argument("--output", type=Path, default=None, help="default: standard output")
        returns = sub.add_parser("import-return", help="Apply a pain.002 or camt.054 file.")
        returns.add_argument("file", type=Path)
        returns.add_argument("--fund", required=True, help="the fund's short name")
        returns.add_argument("--as", dest="actor", required=True, help="a finance e-mail address")
        returns.add_argument(
            "--release-on-failure",
            action="store_true",
            help="release failed awards to the budget instead of keeping them to pay again",
        )
        reconcile = sub.add_parser("reconcile", help="Print a fund's reconciliation.")
        reconcile.add_argument("--fund", required=True, help="the fund's short name")
        reconcile.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            match options["action"]:
                case "export":
                    self.export(options)
                case "import-return":
                    self.import_return(options)
                case "reconcile":
                    self.reconcile(options)
        except DomainError as error:
            raise CommandError(str(error.message)) from None

    def fund(self, slug: str) -> Fund:
        fund = Fund.objects.filter(slug=slug).first()
        if fund is None:
            raise CommandError(f"no fund with the short name {slug}")
        return fund

    def export(self, options: dict[str, Any]) -> None:
        actor = command_actor(options["actor"])
        batch = (
            PaymentBatch.objects.select_related("fund").filter(reference=options["batch"]).first()
        )
        if batch is None:
            raise CommandError(f"no payment batch {options['batch']}")
        if batch.status == PaymentBatch.Status.RELEASED:
            services.generate_payment_file(batch.pk)
            batch.refresh_from_db()
        stored = services.file_for_download(actor=actor, batch=batch)
        content = bytes(stored.content)
        if options["output"] is None:
            sys.stdout.buffer.write(content)
            return
        options["output"].write_bytes(content)
        self.stdout.write(
            json.dumps(
                {
                    "batch": batch.reference,
                    "file": str(options["output"]),
                    "transfers": batch.count,
                    "total": str(batch.total),
                    "sha256": stored.sha256,
                }
            )
        )

    def import_return(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        outcome = services.import_bank_return(
            actor=command_actor(options["actor"]),
            fund=self.fund(options["fund"]),
            file_name=path.name,
            content=path.read_bytes(),
            on_failure=(
                services.OnFailure.RELEASE
                if options["release_on_failure"]
                else services.OnFailure.KEEP
            ),
        )
        imported = outcome.bank_return
        for problem in imported.problems:
            self.stdout.write(json.dumps({"problem": problem}, ensure_ascii=False))
        self.stdout.write(
            json.dumps(
                {
                    "file": imported.file_name,
                    "already_imported": outcome.already_imported,
                    "confirmed": imported.confirmed,
                    "failed": imported.failed,
                    "unchanged": imported.unchanged,
                    "problems": len(imported.problems),
                }
            )
        )

    def reconcile(self, options: dict[str, Any]) -> None:
        fund = self.fund(options["fund"])
        if options["format"] == "csv":
            sys.stdout.buffer.write(reconciliation.export_csv(fund))
            return
        summary = reconciliation.reconcile(fund)
        for line in summary.lines:
            self.stdout.write(
                json.dumps(
                    {"line": str(line.label), "count": line.count, "total": str(line.total)},
                    ensure_ascii=False,
                )
            )
        for check in summary.checks:
            self.stdout.write(
                json.dumps(
                    {
                        "check": str(check.label),
                        "expected": str(check.expected),
                        "actual": str(check.actual),
                        "holds": check.holds,
                    },
                    ensure_ascii=False,
                )
            )
        if not summary.balanced:
            raise CommandError(f"the payments of {fund.slug} do not reconcile with the ledger")
