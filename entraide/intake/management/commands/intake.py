"""``entraide intake``: partners of the intake API and their tokens.

    entraide intake create-partner --name "Syndicat X" --slug syndicat-x [--webhook-url URL]
    entraide intake issue-token syndicat-x FUND-SLUG [--name "production server"]
    entraide intake revoke-token ent_AbCdEfGh
    entraide intake list

Run on the server by an operator: the audit log records these actions as "system".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from entraide.core.errors import DomainError
from entraide.funds.selectors import fund_by_slug
from entraide.intake import selectors, services


class Command(BaseCommand):
    help = "Partners of the intake API: create one, issue and revoke its tokens, list them."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create-partner", help="Register a partner; prints its webhook signing secret."
        )
        create.add_argument("--name", required=True)
        create.add_argument("--slug", required=True)
        create.add_argument("--webhook-url", default="")
        issue = sub.add_parser(
            "issue-token", help="Issue a token of PARTNER for FUND; it is printed only once."
        )
        issue.add_argument("partner", help="the partner's short name (slug)")
        issue.add_argument("fund", help="the fund's short name (slug)")
        issue.add_argument("--name", default="", help="what the token is for")
        revoke = sub.add_parser("revoke-token", help="Revoke the token starting with PREFIX.")
        revoke.add_argument("prefix", help="the first characters shown by `list` (ent_...)")
        sub.add_parser("list", help="Partners and their tokens (prefixes, never the tokens).")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create-partner":
                self.create_partner(options)
            elif action == "issue-token":
                self.issue_token(options)
            elif action == "revoke-token":
                self.revoke_token(options["prefix"])
            else:
                self.list_partners()
        except DomainError as error:
            where = f"{error.field}: " if error.field else ""
            raise CommandError(f"{where}{error.message}") from error

    def create_partner(self, options: dict[str, Any]) -> None:
        partner = services.create_partner(
            actor=None,
            name=options["name"],
            slug=options["slug"],
            webhook_url=options["webhook_url"],
        )
        self.stdout.write(f"partner {partner.slug} created")
        self.stdout.write(f"webhook signing secret: {partner.webhook_secret}")

    def issue_token(self, options: dict[str, Any]) -> None:
        partner = selectors.partner_by_slug(options["partner"])
        if partner is None:
            raise CommandError(f"no partner {options['partner']!r}")
        fund = fund_by_slug(options["fund"])
        if fund is None:
            raise CommandError(f"no fund {options['fund']!r}")
        token, raw_token = services.issue_token(
            actor=None, partner=partner, fund=fund, name=options["name"]
        )
        self.stderr.write(
            f"token {token.prefix}… of {partner.slug} for {fund.slug}: give it to the partner "
            "now, it cannot be shown again"
        )
        self.stdout.write(raw_token)

    def revoke_token(self, prefix: str) -> None:
        # A whole token pasted by mistake works too: its first characters are the prefix.
        matches = list(selectors.tokens_by_prefix(prefix[: services.SHOWN_PREFIX_LENGTH])[:2])
        if not matches:
            raise CommandError(f"no token starts with {prefix!r}")
        if len(matches) > 1:
            raise CommandError(f"several tokens start with {prefix!r}: give more characters")
        token = services.revoke_token(actor=None, token=matches[0])
        self.stdout.write(f"token {token.prefix}… of {token.partner.slug} revoked")

    def list_partners(self) -> None:
        for partner in selectors.partners_with_tokens():
            webhook = partner.webhook_url or "no webhook"
            self.stdout.write(f"{partner.slug}\t{partner.name}\t{webhook}")
            for token in partner.tokens.all():
                state = (
                    f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
                )
                used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                self.stdout.write(
                    f"  {token.prefix}…\t{token.fund.slug}\t{state}\tlast used {used}\t{token.name}"
                )
