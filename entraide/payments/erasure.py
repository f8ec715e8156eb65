"""What the payments app holds about a person, for the privacy app (entraide.privacy): their
transfers (for their copy of their data, and for the accounting hold), and the bank details
erased with the application.

A transfer that went to the bank is an accounting record (Code de commerce L123-22): the
beneficiary's name, IBAN and BIC, the amount, the date and the reference are held for ten
years; everything else goes with the application. Changes run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import Max, QuerySet

from entraide.payments.models import BankDetailsChange, Payment, PaymentFile

# Transfers that left the fund's account (a failed one came back: both are in the books).
BOOKED = (Payment.Status.SENT, Payment.Status.CONFIRMED, Payment.Status.FAILED)
# A change of bank details that was given keeps a placeholder (a constraint wants an IBAN).
ERASED_IBAN = "ERASED"


def _booked(application_ids: Iterable[int]) -> QuerySet[Payment]:
    return Payment.objects.filter(
        award__application_id__in=list(application_ids),
        status__in=BOOKED,
        batch__sent_at__isnull=False,
    )


def payments_of(application_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Each application's transfers, as its applicant may read them."""
    found: dict[int, list[dict[str, Any]]] = {}
    for payment in (
        Payment.objects.filter(award__application_id__in=list(application_ids))
        .select_related("batch", "award")
        .order_by("attempt")
    ):
        found.setdefault(payment.award.application_id, []).append(
            {
                "amount": payment.amount,
                "currency": payment.currency,
                "status": payment.status,
                "status_label": str(payment.get_status_display()),
                "sent_at": payment.batch.sent_at,
                "confirmed_at": payment.confirmed_at,
                "failed_at": payment.failed_at,
                "bank_reason_code": payment.reason_code,
                "beneficiary": payment.creditor_name,
                "iban": payment.iban,
                "bic": payment.bic,
                "payment_details": payment.remittance,
                "end_to_end_id": payment.end_to_end_id,
            }
        )
    return found


def last_booked(application_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """application id → when its last transfer went to the bank (none: never paid)."""
    return dict(
        _booked(application_ids)
        .values("award__application_id")
        .annotate(last=Max("batch__sent_at"))
        .values_list("award__application_id", "last")
    )


def paid_before(fund_id: int, cutoff: dt.datetime) -> QuerySet[Any, Any]:
    """Applications of the fund whose last transfer went to the bank before ``cutoff``."""
    return (
        Payment.objects.filter(fund_id=fund_id, status__in=BOOKED, batch__sent_at__isnull=False)
        .values("award__application_id")
        .annotate(last=Max("batch__sent_at"))
        .filter(last__lt=cutoff)
        .values_list("award__application_id", flat=True)
    )


def erase(application_ids: Iterable[int], *, hold: bool) -> dict[str, int]:
    """Erase the bank details given in changes, and the transfers' beneficiary data unless the
    accounting hold keeps it."""
    ids = list(application_ids)
    changes = BankDetailsChange.objects.filter(application_id__in=ids)
    erased = {
        "bank_details_changes": changes.filter(
            status__in=(BankDetailsChange.Status.REQUESTED, BankDetailsChange.Status.WITHDRAWN)
        ).update(iban="", bic="", account_holder="", note="")
        + changes.exclude(
            status__in=(BankDetailsChange.Status.REQUESTED, BankDetailsChange.Status.WITHDRAWN)
        ).update(iban=ERASED_IBAN, bic="", account_holder="", note=""),
        "payments": 0,
    }
    if not hold:
        erased["payments"] = erase_held(ids)
    return erased


def erase_held(application_ids: Iterable[int]) -> int:
    """The end of the accounting hold: the transfers' beneficiary data goes, and a batch's
    file once none of its transfers keeps any."""
    payments = Payment.objects.filter(award__application_id__in=list(application_ids))
    batch_ids = set(payments.values_list("batch_id", flat=True))
    count = payments.update(creditor_name="", iban="", bic="", remittance="", reason_detail="")
    emptied = [
        batch_id
        for batch_id in batch_ids
        if not Payment.objects.filter(batch_id=batch_id).exclude(creditor_name="").exists()
    ]
    for payment_file in PaymentFile.objects.filter(batch_id__in=emptied):
        payment_file.content = b""
        payment_file.save(update_fields=["content"])
    return count
