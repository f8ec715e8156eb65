"""``entraide accounts create-operator``: the first fund operator of a new installation."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.accounts.models import User
from entraide.accounts.services import create_account


class Command(BaseCommand):
    help = "Account commands."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create-operator",
            help="Create a fund operator (may create funds and staff). The password is asked, "
            "or read from ENTRAIDE_PASSWORD when there is no terminal.",
        )
        create.add_argument("--email", required=True)
        create.add_argument("--first-name", default="")
        create.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        if User.objects.filter(email=email).exists():
            raise CommandError(f"an account with the e-mail address {email} already exists")
        password = os.environ.get("ENTRAIDE_PASSWORD") or getpass.getpass("Password: ")
        try:
            validate_password(password, User(email=email))
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        create_account(
            actor=None,
            email=email,
            password=password,
            first_name=options["first_name"],
            last_name=options["last_name"],
            fund_operator=True,
        )
        self.stdout.write(f"fund operator {email} created")
