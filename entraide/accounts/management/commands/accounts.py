"""``entraide accounts``: the first fund operator of a new installation, and the personal API
tokens of staff members.

    entraide accounts create-operator --email head@fund.example
    entraide accounts token clerk@fund.example --name "nightly import script"
    entraide accounts revoke-token ents_AbCdEfGh

Run on the server by an operator: the audit log records these actions as "system".
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.accounts import selectors
from entraide.accounts.models import User
from entraide.accounts.services import (
    SHOWN_PREFIX_LENGTH,
    create_account,
    issue_api_token,
    revoke_api_token,
)
from entraide.core.errors import DomainError


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
        token = sub.add_parser(
            "token",
            help="Issue a personal API token to the account EMAIL (it acts with the account's "
            "permissions); it is printed only once.",
        )
        token.add_argument("email")
        token.add_argument("--name", default="", help="what the token is for")
        revoke = sub.add_parser("revoke-token", help="Revoke the API token starting with PREFIX.")
        revoke.add_argument("prefix", help="the first characters of the token (ents_...)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create-operator":
                self.create_operator(options)
            elif options["action"] == "token":
                self.issue_token(options["email"], options["name"])
            else:
                self.revoke_token(options["prefix"])
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    def create_operator(self, options: dict[str, Any]) -> None:
        email = options["email"].strip().lower()
        if selectors.user_by_email(email) is not None:
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

    def issue_token(self, email: str, name: str) -> None:
        user = selectors.user_by_email(email)
        if user is None or not user.is_active:
            raise CommandError(f"no active account with the e-mail address {email}")
        token, raw_token = issue_api_token(actor=None, user=user, name=name)
        self.stderr.write(
            f"token {token.prefix}… of {user.email}: give it to its owner now, it cannot be "
            "shown again"
        )
        self.stdout.write(raw_token)

    def revoke_token(self, prefix: str) -> None:
        # A whole token pasted by mistake works too: its first characters are the prefix.
        matches = list(selectors.api_tokens_by_prefix(prefix[:SHOWN_PREFIX_LENGTH])[:2])
        if not matches:
            raise CommandError(f"no API token starts with {prefix!r}")
        if len(matches) > 1:
            raise CommandError(f"several API tokens start with {prefix!r}: give more characters")
        token = revoke_api_token(actor=None, token=matches[0])
        self.stdout.write(f"API token {token.prefix}… of {token.user.email} revoked")
