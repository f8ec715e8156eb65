"""Helpers of the attestations' tests: grants approved, paid, returned by the bank, and the
text of a PDF."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

from django.utils import timezone
from pypdf import PdfReader

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundRoleFactory
from entraide.payments.models import FileFormat, Payment, PaymentBatch


def member_of(fund: Fund, role: str) -> User:
    user: User = UserFactory()
    FundRoleFactory(fund=fund, user=user, role=role)
    return user


def approved(fund: Fund, amount: str = "1500.00", **fields: object) -> Application:
    """An application of ``fund`` approved, its award of ``amount`` reserved."""
    application: Application = ApplicationFactory(
        fund=fund, status=Application.Status.APPROVED, **fields
    )
    ledger.place_award(
        actor=member_of(fund, FundRole.Role.APPROVER),
        fund=fund,
        application=application,
        amount=Decimal(amount),
    )
    return application


def award_of(application: Application) -> Award:
    return Award.objects.get(application=application)


def paid(application: Application, sent_at: dt.datetime | None = None) -> Payment:
    """The application's reserved award sent to the bank in a batch of its own, as
    ``mark_batch_sent`` leaves it (the ledger's payment, the statuses, the batch's time)."""
    award = award_of(application)
    fund = application.fund
    finance = member_of(fund, FundRole.Role.FINANCE)
    attempt = Payment.objects.filter(award=award).count() + 1
    batch = PaymentBatch.objects.create(
        reference=f"P-{award.pk:04d}-{attempt:04d}",
        fund=fund,
        status=PaymentBatch.Status.SENT,
        file_format=FileFormat.PAIN_001_001_09,
        currency=award.currency,
        count=1,
        total=award.amount,
        prepared_by=finance,
        prepared_at=timezone.now(),
        sent_by=finance,
        sent_at=sent_at or timezone.now(),
    )
    payment = Payment.objects.create(
        batch=batch,
        award=award,
        fund=fund,
        attempt=attempt,
        end_to_end_id=f"{application.reference}-{attempt}",
        amount=award.amount,
        currency=award.currency,
        creditor_name=application.full_name,
        iban=application.iban,
        remittance=f"Aide {application.reference}",
        status=Payment.Status.SENT,
    )
    ledger.record_awards_paid(
        actor=finance, fund=fund, award_ids=[award.pk], total=award.amount, note=batch.reference
    )
    Application.objects.filter(pk=application.pk).update(status=Application.Status.PAID)
    return payment


def returned(payment: Payment) -> None:
    """The bank sent the payment back: the award is reserved again, to be paid again."""
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    ledger.record_payment_returned(actor=None, award=payment.award)
    Application.objects.filter(pk=payment.award.application_id).update(
        status=Application.Status.APPROVED
    )


def pdf_text(content: bytes) -> str:
    """The PDF's text, every run of spaces (no-break and narrow ones included) as one space."""
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)
