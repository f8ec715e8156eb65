"""``entraide demo seed``: load the demo fund, its staff and synthetic applicants."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from entraide.demo.seed import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Demo data commands."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed", help="Create the demo fund (does nothing if it exists).")
        seed.add_argument("--applicants", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(stderr=True)
        with Progress(
            TextColumn("demo applicants"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            bar = progress.add_task("seed", total=options["applicants"])
            result = seed_demo(
                applicants=options["applicants"],
                progress=lambda done, total: progress.update(bar, completed=done, total=total),
            )
        if not result.created:
            self.stdout.write("The demo fund already exists; nothing was changed.")
        self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
        for email, role in result.logins:
            self.stdout.write(f"  {email:<36} {role}")
