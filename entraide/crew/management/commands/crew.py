"""``entraide crew``: crew relief from production rosters.

``import-roster PROGRAMME FILE --actor EMAIL`` imports a roster into the programme (its short
name) as the person acting, who must manage it (a programme manager or a fund operator), as
on its rosters page. On stdout, JSON lines: each problem of a line refused (``line``,
``field``, ``code``, ``message``), then what the import did; a one-line summary on stderr. A
file that cannot be imported (unreadable, a column missing, already imported) changes nothing,
says why on stderr and exits with status 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.markup import escape

from entraide.accounts.selectors import command_actor
from entraide.core.errors import DomainError
from entraide.crew import roster, services
from entraide.programmes.selectors import programme_by_slug


class Command(BaseCommand):
    help = "Crew relief: import a production roster into a programme."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imports = sub.add_parser("import-roster", help="Import a roster file (CSV).")
        imports.add_argument("programme", help="the programme's short name")
        imports.add_argument("file", type=Path, help="the roster, as docs/crew.md describes it")
        imports.add_argument("--actor", required=True, help="e-mail of a manager of the programme")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "import-roster":
                self.import_roster(options)
        except DomainError as error:
            raise CommandError(str(error.message)) from None

    def write(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False))

    def import_roster(self, options: dict[str, Any]) -> None:
        programme = programme_by_slug(options["programme"])
        if programme is None:
            raise CommandError(f"no programme with the short name {options['programme']}")
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        if path.stat().st_size > roster.MAX_ROSTER_BYTES:  # refused before it is read
            raise CommandError(f"{path.name} is larger than {roster.MAX_ROSTER_BYTES} bytes")
        done = services.import_roster(
            actor=command_actor(options["actor"]),
            programme=programme,
            file_name=path.name,
            content=path.read_bytes(),
        )
        for problem in done.problems:
            self.write(problem)
        refused = done.rows - done.accepted
        listed = len({problem["line"] for problem in done.problems})
        self.write(
            {
                "roster_import": done.pk,
                "file": done.file_name,
                "rows": done.rows,
                "accepted": done.accepted,
                "refused": refused,
                "refused_not_listed": refused - listed,
            }
        )
        console = Console(file=options.get("stderr") or sys.stderr, highlight=False)
        console.print(
            f"[bold]{escape(done.file_name)}[/bold]: {done.rows} lines read, "
            f"[green]{done.accepted} kept[/green], "
            + (f"[red]{refused} refused[/red]" if refused else "none refused")
        )
