"""The reconciliation of a fund's payments with its budget ledger: where every approved euro is,
and the checks that prove each was paid at most once. Exported as CSV or XLSX, one line per
payment (and per approved award not in any batch yet)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from openpyxl import Workbook

from entraide.core.money import ZERO
from entraide.core.spreadsheets import spreadsheet_cell
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.payments import reasons
from entraide.payments.models import Payment

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Line:
    label: Promise
    count: int
    total: Decimal


@dataclass(frozen=True)
class Check:
    label: Promise
    expected: Decimal
    actual: Decimal

    @property
    def holds(self) -> bool:
        return self.expected == self.actual


@dataclass(frozen=True)
class Reconciliation:
    currency: str
    lines: list[Line]
    checks: list[Check]
    ledger: ledger.Totals

    @property
    def balanced(self) -> bool:
        return all(check.holds for check in self.checks)


def _sums(queryset: Any, **groups: Q) -> dict[str, tuple[int, Decimal]]:
    """Count and total of each filter ``groups`` names, in one query."""
    aggregates: dict[str, Any] = {}
    for name, condition in groups.items():
        aggregates[f"{name}_count"] = Count("pk", filter=condition)
        aggregates[f"{name}_total"] = Sum("amount", filter=condition)
    found = queryset.aggregate(**aggregates)
    # SQLite's sums lose the decimal places: amounts are shown to the cent everywhere.
    return {
        name: (found[f"{name}_count"], (found[f"{name}_total"] or ZERO).quantize(CENT))
        for name in groups
    }


@contextmanager
def _one_moment() -> Iterator[None]:
    """The awards, the payments and the ledger read as of one moment, so that a batch sent
    between two reads does not make the checks disagree: PostgreSQL's REPEATABLE READ; a
    SQLite transaction reads one snapshot already. Inside a caller's transaction, its own."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def reconcile(fund: Fund) -> Reconciliation:
    with _one_moment():
        return _reconcile(fund)


def _reconcile(fund: Fund) -> Reconciliation:
    failed_before = Payment.objects.filter(award=OuterRef("pk"), status=Payment.Status.FAILED)
    awards = _sums(
        Award.objects.filter(fund=fund).annotate(had_failure=Exists(failed_before)),
        approved=Q(status__in=[Award.Status.RESERVED, Award.Status.PAID]),
        reserved=Q(status=Award.Status.RESERVED),
        paid=Q(status=Award.Status.PAID),
        repaid=Q(status=Award.Status.PAID, had_failure=True),
        released_after_failure=Q(status=Award.Status.RELEASED, had_failure=True),
    )
    payments = _sums(
        Payment.objects.filter(fund=fund),
        pending=Q(status=Payment.Status.PENDING),
        sent=Q(status=Payment.Status.SENT),
        confirmed=Q(status=Payment.Status.CONFIRMED),
        failed=Q(status=Payment.Status.FAILED),
    )
    out = payments["sent"][1] + payments["confirmed"][1]
    totals = ledger.totals(fund)
    reserved_count, reserved_total = awards["reserved"]
    pending_count, pending_total = payments["pending"]

    def line(label: Promise, pair: tuple[int, Decimal]) -> Line:
        return Line(label, *pair)

    return Reconciliation(
        currency=fund.currency,
        lines=[
            line(
                pgettext_lazy("reconciliation", "Approved (reserved or paid)"), awards["approved"]
            ),
            line(
                pgettext_lazy("reconciliation", "Approved, in no batch yet"),
                (reserved_count - pending_count, reserved_total - pending_total),
            ),
            line(pgettext_lazy("reconciliation", "In a batch not sent yet"), payments["pending"]),
            line(pgettext_lazy("reconciliation", "Sent to the bank"), payments["sent"]),
            line(pgettext_lazy("reconciliation", "Confirmed by the bank"), payments["confirmed"]),
            line(
                pgettext_lazy("reconciliation", "Failed (returned or rejected)"), payments["failed"]
            ),
            line(pgettext_lazy("reconciliation", "Paid again after a failure"), awards["repaid"]),
            line(
                pgettext_lazy("reconciliation", "Released after a failure"),
                awards["released_after_failure"],
            ),
        ],
        checks=[
            Check(_("Paid in the ledger = sent + confirmed transfers"), totals.paid, out),
            Check(_("Paid in the ledger = awards paid"), totals.paid, awards["paid"][1]),
            Check(
                _("Committed in the ledger = awards approved"),
                totals.committed,
                awards["approved"][1],
            ),
            Check(
                _("Reserved in the ledger = approved awards not paid yet"),
                totals.reserved,
                reserved_total,
            ),
            Check(
                _("Awards paid = transfers sent or confirmed (each once)"),
                Decimal(awards["paid"][0]),
                Decimal(payments["sent"][0] + payments["confirmed"][0]),
            ),
        ],
        ledger=totals,
    )


# -- export ------------------------------------------------------------------------------------


def _headers() -> list[str]:
    return [
        str(header)
        for header in (
            _("award"),
            _("beneficiary"),
            _("amount"),
            _("currency"),
            _("award status"),
            _("batch"),
            _("attempt"),
            _("end-to-end identifier"),
            _("payment status"),
            _("IBAN (last 4)"),
            _("bank's reason code"),
            _("bank's reason"),
            _("sent at"),
            _("confirmed at"),
            _("failed at"),
        )
    ]


def _rows(fund: Fund) -> Iterator[list[Any]]:
    award_statuses = dict(Award.Status.choices)
    payment_statuses = dict(Payment.Status.choices)
    payments = (
        Payment.objects.filter(fund=fund)
        .order_by("award_id", "attempt")
        .values_list(
            "award__application__reference",
            "creditor_name",
            "amount",
            "currency",
            "award__status",
            "batch__reference",
            "attempt",
            "end_to_end_id",
            "status",
            "iban",
            "reason_code",
            "batch__sent_at",
            "confirmed_at",
            "failed_at",
        )
    )
    for row in payments.iterator(chunk_size=5000):
        (reference, name, amount, currency, award_status, batch, attempt, e2e, status, iban,
         code, sent_at, confirmed_at, failed_at) = row  # fmt: skip
        yield [
            reference,
            # Typed by the applicant: never run by a spreadsheet as a formula.
            spreadsheet_cell(name),
            amount,
            currency,
            str(award_statuses.get(award_status, award_status)),
            batch,
            attempt,
            e2e,
            str(payment_statuses.get(status, status)),
            iban[-4:],
            code,
            str(reasons.explain(code)) if code else "",
            _iso(sent_at) if status != Payment.Status.PENDING else "",
            _iso(confirmed_at),
            _iso(failed_at),
        ]
    unpaid = (
        Award.objects.filter(fund=fund, status=Award.Status.RESERVED)
        .exclude(Exists(Payment.objects.filter(award=OuterRef("pk"))))
        .order_by("pk")
        .values_list("application__reference", "amount", "currency", "status")
    )
    for reference, amount, currency, award_status in unpaid.iterator(chunk_size=5000):
        yield [
            reference,
            "",
            amount,
            currency,
            str(award_statuses[award_status]),
            *[""] * 10,
        ]


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def export_csv(fund: Fund) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    for row in _rows(fund):
        writer.writerow(row)
    return buffer.getvalue().encode()


def export_xlsx(fund: Fund) -> bytes:
    summary = reconcile(fund)
    workbook = Workbook(write_only=True)
    totals_sheet = workbook.create_sheet(str(_("Reconciliation")))
    totals_sheet.append([str(_("line")), str(_("count")), str(_("total")), str(_("currency"))])
    for line in summary.lines:
        totals_sheet.append([str(line.label), line.count, line.total, summary.currency])
    totals_sheet.append([])
    totals_sheet.append([str(_("check")), str(_("expected")), str(_("actual")), str(_("holds"))])
    for check in summary.checks:
        totals_sheet.append(
            [
                str(check.label),
                check.expected,
                check.actual,
                str(_("yes") if check.holds else _("no")),
            ]
        )
    lines_sheet = workbook.create_sheet(str(_("Payments")))
    lines_sheet.append(_headers())
    for row in _rows(fund):
        lines_sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
