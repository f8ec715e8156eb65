"""``entraide programmes``: exchange rates for the donor programmes.

``import-rates`` stores one of the ECB's reference rate files (CSV or XML, daily or history; the
same file twice changes nothing), ``record-rate`` records a rate by hand for a day, ``convert``
shows what an amount comes to and which rates it used. The person acting (``--as``, an e-mail
address) must be a fund operator; every change is audited in their name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from entraide.accounts.selectors import command_actor
from entraide.core.errors import DomainError
from entraide.programmes import rates


def day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not a number: {text}")
    return value


def days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a number of days: {text}")
    return int(text)


class Command(BaseCommand):
    help = "Exchange rates: import the ECB's reference rates, record a rate, convert an amount."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imports = sub.add_parser("import-rates", help="Import an ECB reference rates file.")
        imports.add_argument("file", type=Path, help="eurofxref(-hist).csv or .xml")
        imports.add_argument("--as", dest="actor", required=True, help="a fund operator's e-mail")
        record = sub.add_parser("record-rate", help="Record a rate per euro by hand for a day.")
        record.add_argument("--currency", required=True, help="ISO 4217 code, e.g. GBP")
        record.add_argument("--day", type=day, required=True, help="YYYY-MM-DD")
        record.add_argument("--rate", type=number, required=True, help="units per euro")
        record.add_argument("--note", required=True, help="why the rate is recorded by hand")
        record.add_argument("--as", dest="actor", required=True, help="a fund operator's e-mail")
        convert = sub.add_parser("convert", help="Convert an amount at the rates of a day.")
        convert.add_argument("amount", type=number)
        convert.add_argument("source", help="ISO 4217 code of the amount's currency")
        convert.add_argument("target", help="ISO 4217 code of the currency wanted")
        convert.add_argument("--day", type=day, default=None, help="YYYY-MM-DD (default: today)")
        convert.add_argument(
            "--max-age-days",
            type=days,
            default=7,
            help="how many days before --day a rate may be (default: 7)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            match options["action"]:
                case "import-rates":
                    self.import_rates(options)
                case "record-rate":
                    self.record_rate(options)
                case "convert":
                    self.convert(options)
        except DomainError as error:
            raise CommandError(str(error.message)) from None

    def write(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False))

    def import_rates(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        imported = rates.import_rates(
            actor=command_actor(options["actor"]), file_name=path.name, content=path.read_bytes()
        )
        for problem in imported.problems:
            self.write({"line": problem.line, "problem": problem.reason})
        for conflict in imported.conflicts:
            self.write(
                {
                    "day": conflict.day.isoformat(),
                    "currency": conflict.currency,
                    "stored_rate_kept": str(conflict.stored),
                    "rate_in_file": str(conflict.in_file),
                }
            )
        rate_import = imported.rate_import
        self.write(
            {
                "file": rate_import.file_name,
                "already_imported": not imported.created,
                "days": rate_import.days,
                "rates": rate_import.rates,
                "first_day": rate_import.first_day.isoformat() if rate_import.first_day else None,
                "last_day": rate_import.last_day.isoformat() if rate_import.last_day else None,
                "problems": len(imported.problems),
                "new_rates": imported.new_rates,
                "conflicts": len(imported.conflicts),
            }
        )

    def record_rate(self, options: dict[str, Any]) -> None:
        stored = rates.record_rate(
            actor=command_actor(options["actor"]),
            currency=options["currency"],
            day=options["day"],
            rate=options["rate"],
            note=options["note"],
        )
        self.write(
            {
                "currency": stored.currency,
                "day": stored.day.isoformat(),
                "rate": str(stored.rate),
                "source": stored.source,
                "note": stored.note,
            }
        )

    def convert(self, options: dict[str, Any]) -> None:
        conv = rates.conversion(
            options["source"],
            options["target"],
            options["day"] or timezone.localdate(),
            max_age_days=options["max_age_days"],
        )
        self.write(
            {
                "amount": str(options["amount"]),
                "source": conv.source,
                "converted": str(rates.convert(options["amount"], conv)),
                "target": conv.target,
                "rate": str(conv.rate),
                "day": conv.day.isoformat(),
                "rates": [
                    {
                        "currency": row.currency,
                        "day": row.day.isoformat(),
                        "rate": str(row.rate),
                        "source": row.source,
                    }
                    for row in conv.rates
                ],
                "description": conv.describe(),
            }
        )
