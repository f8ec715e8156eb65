"""``entraide catalogs compile|check``: the French and English translation catalogs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.core.catalogs import check_catalogs, compile_catalogs


class Command(BaseCommand):
    help = "Compile or check the translation catalogs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("compile", help="Compile the .po catalogs to .mo (Babel).")
        sub.add_parser("check", help="Fail if a string is missing or untranslated.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "compile":
            for path in compile_catalogs():
                self.stderr.write(f"compiled {path}")
            return
        problems = check_catalogs()
        for problem in problems:
            self.stdout.write(f"{problem.catalog}: {problem.message}")
        if problems:
            raise CommandError(f"{len(problems)} catalog problem(s)")
        self.stdout.write("catalogs complete")
