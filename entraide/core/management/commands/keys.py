"""``entraide keys generate|rotate``: the encryption keys of the data at rest.

To change keys: ``entraide keys generate``, put the new key first in
``ENTRAIDE_ENCRYPTION_KEYS`` (the old ones after it), restart, ``entraide keys rotate``, then
remove the old keys once it reports nothing left under them (docs/production.md).
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.core.key_rotation import Rotation, rotate_all


class Command(BaseCommand):
    help = "Generate an encryption key, or re-encrypt everything with the first key."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("generate", help="Print a new Fernet key.")
        rotate = sub.add_parser("rotate", help="Re-encrypt what older keys wrote.")
        rotate.add_argument(
            "--dry-run", action="store_true", help="Count what would be re-encrypted."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "generate":
            self.stdout.write(Fernet.generate_key().decode())
            return
        dry_run = options["dry_run"]

        def step(name: str, report: Rotation) -> None:
            self.stderr.write(f"{name}: {report.checked} checked, {report.rotated} re-encrypted")

        report = rotate_all(dry_run=dry_run, on_step=step)
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(f"{report.checked} values and files checked, {report.rotated} {verb}")
        if report.unreadable:
            for where in report.unreadable[:20]:
                self.stdout.write(f"no key opens {where}")
            raise CommandError(f"{len(report.unreadable)} values or files open with no key")
