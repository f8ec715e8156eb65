"""``entraide integrity``: a fund's full duplicate check, and what the checks found.

``check`` runs the full check of a fund (with the other funds of its programme) in this
process, as the worker would, and prints what it found; the person acting (``--as``, an
e-mail address) needs the same role as in the back office and is named in the audit log.
``report`` prints the fund's report as JSON lines.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.accounts.selectors import command_actor
from entraide.core.errors import DomainError
from entraide.funds.models import Fund
from entraide.integrity import selectors, services
from entraide.integrity.models import LinkageRun


class Command(BaseCommand):
    help = "Integrity commands: run a fund's full duplicate check, print its report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="Run a fund's full duplicate check now.")
        check.add_argument("--fund", required=True, help="the fund's short name")
        check.add_argument("--as", dest="actor", required=True, help="a reviewer's e-mail address")
        report = sub.add_parser("report", help="Print what the checks found in a fund.")
        report.add_argument("--fund", required=True, help="the fund's short name")

    def handle(self, *args: Any, **options: Any) -> None:
        fund = Fund.objects.filter(slug=options["fund"]).first()
        if fund is None:
            raise CommandError(f"no fund with the short name {options['fund']}")
        try:
            if options["action"] == "check":
                self.check_fund(fund, options["actor"])
            else:
                self.report(fund)
        except DomainError as error:
            raise CommandError(str(error.message)) from None

    def check_fund(self, fund: Fund, email: str) -> None:
        actor = command_actor(email)
        # The worker may take it first: it then runs there once, and this says it is running.
        run = services.perform_linkage_run(services.request_linkage_run(actor=actor, fund=fund).pk)
        self.stdout.write(
            json.dumps(
                {
                    "status": run.status,
                    "applications": run.records,
                    "trained": run.trained,
                    "pairs": run.pairs,
                    "links_created": run.links_created,
                    "flags_raised": run.flags_raised,
                    "crowded_values": len(run.crowded),
                    "error": run.error,
                }
            )
        )
        if run.status == LinkageRun.Status.FAILED:
            raise CommandError(run.error)

    def report(self, fund: Fund) -> None:
        found = selectors.report(fund)
        for line in found.flags:
            self.stdout.write(
                json.dumps(
                    {"flag": line.label, "raised": line.raised, "open": line.open},
                    ensure_ascii=False,
                )
            )
        for label, count in found.by_status:
            self.stdout.write(json.dumps({"links": label, "count": count}, ensure_ascii=False))
        self.stdout.write(
            json.dumps(
                {
                    "people_confirmed": found.people,
                    "their_applications": found.people_applications,
                    "across_funds": found.people_across_funds,
                }
            )
        )
