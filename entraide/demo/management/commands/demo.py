"""``entraide demo seed``: load the demo fund, its staff and synthetic applicants.

``entraide demo totp EMAIL``: the code the authenticator app of a demo staff member shows now
(those who approve or pay log in with a second step).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from entraide.accounts.mfa import current_totp_code, totp_secret
from entraide.accounts.selectors import requires_mfa, user_by_email
from entraide.demo.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, seed_demo


class Command(BaseCommand):
    help = "Demo data commands."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed", help="Create the demo fund (does nothing if it exists).")
        seed.add_argument("--applicants", type=int, default=200)
        totp = sub.add_parser(
            "totp",
            help="Print the current two-factor code of a demo staff member (their "
            "authenticator app's key is the demo's published one).",
        )
        totp.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "totp":
            self.print_code(options["email"])
            return
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
            user = user_by_email(email)
            second_step = (
                " (two-factor code: entraide demo totp EMAIL)"
                if (user is not None and requires_mfa(user))
                else ""
            )
            self.stdout.write(f"  {email:<36} {role}{second_step}")
        self.stdout.write(f"Authenticator app key of the demo staff: {DEMO_TOTP_SECRET}")

    def print_code(self, email: str) -> None:
        user = user_by_email(email)
        if user is None:
            raise CommandError(f"no account with the e-mail address {email}")
        secret = totp_secret(user)
        if secret is None:
            raise CommandError(f"{user.email} has no authenticator app: they log in without a code")
        if secret != DEMO_TOTP_SECRET:
            # Only the demo's published key is shown; a real person's stays in their app.
            raise CommandError(f"{user.email}'s authenticator app is not the demo's")
        self.stdout.write(current_totp_code(secret))
