"""Paying awards: a fund's payment settings, payment batches from preparation to the bank, and
the bank's returns. Each action is one transaction with its audit event.

A batch goes ``prepared`` (one person of finance picks payable awards) → ``released`` (another
person of finance: four eyes) → ``ready`` (its file generated once, by the worker) → ``sent``
(finance uploaded the file to the bank: the awards are paid in the budget's ledger). The
bank's returns then confirm its payments or fail them; a failed award is payable again, once
its applicant gave new bank details when the bank's reason calls for them.

The promise "never twice" is the database's: an award has at most one payment that has not
failed nor been cancelled (``payment_one_live_per_award``) and a batch one file; generating a
file is deterministic and stores it in one transaction, so a worker killed half-way leaves
nothing behind and the next run produces the same file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from string import Formatter
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from entraide.applications import selectors as application_selectors
from entraide.applications import services as application_services
from entraide.applications.models import Application
from entraide.applications.submission import bic_of, normalise_bic, normalise_iban
from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, ValidationFailed
from entraide.core.money import ZERO
from entraide.core.refs import new_reference
from entraide.core.tasks import enqueue_with_transaction
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.permissions import Capability, require
from entraide.funds.selectors import lock_fund
from entraide.payments import bank_details, files, reasons
from entraide.payments.models import (
    SEPA_FORMATS,
    BankReturn,
    FileFormat,
    Payment,
    PaymentBatch,
    PaymentFile,
    PaymentSettings,
)
from entraide.payments.returns import ParsedReturn, Problem, parse_bank_return

SETTINGS_FIELDS = (
    "file_format",
    "debtor_name",
    "debtor_iban",
    "debtor_bic",
    "initiating_party",
    "initiating_party_id",
    "execution_days",
    "remittance_template",
    "csv_columns",
    "csv_delimiter",
    "csv_decimal_comma",
)


class PaymentsNotSetUp(DomainError):
    code = "payments_not_set_up"
    default_message = _("Set up the fund's bank account and payment file first.")


class NothingToPay(DomainError):
    code = "nothing_to_pay"
    default_message = _("No approved award is waiting for payment with these criteria.")


class SamePersonReleases(DomainError):
    code = "same_person_releases"
    default_message = _(
        "Another person of finance must release this batch: you prepared it (four eyes)."
    )


# -- settings ----------------------------------------------------------------------------------


def settings_of(fund: Fund) -> PaymentSettings | None:
    return PaymentSettings.objects.filter(fund=fund).first()


def _on_field(check: Callable[[str], str], value: str, field: str) -> str:
    """``check`` (the applications' IBAN or BIC normaliser), its refusal put on ``field``."""
    try:
        return check(value)
    except ValidationFailed as error:
        raise ValidationFailed(error.message, field=field) from None


def _normalised_account(values: dict[str, Any]) -> None:
    """The fund's account: an IBAN (with its BIC, derived when the registry knows it) for SEPA
    files; outside SEPA, the account as the bank knows it (an IBAN is still checked)."""
    account = re.sub(r"\s", "", values.get("debtor_iban", "")).upper()
    sepa = values.get("file_format") in SEPA_FORMATS
    if sepa or account[:2].isalpha():
        account = _on_field(normalise_iban, account, "debtor_iban")
    elif not account:
        raise ValidationFailed(_("Enter the fund's account."), field="debtor_iban")
    bic = _on_field(normalise_bic, values.get("debtor_bic", ""), "debtor_bic") or bic_of(account)
    if sepa and not bic:
        raise ValidationFailed(
            _("The bank's BIC is not known from this IBAN: enter it."), field="debtor_bic"
        )
    values["debtor_iban"], values["debtor_bic"] = account, bic


def remittance_text(template: str, *, fund: Fund, reference: str) -> str:
    """What the applicant reads on their statement, at most 140 characters."""
    return template.format(fund=fund.name, reference=reference)[:140]


def _check_remittance_template(template: str) -> None:
    """Only ``{fund}`` and ``{reference}``, bare: a format of their own (``{fund:d}``,
    ``{reference!x}``) would fail when a batch is prepared."""
    try:
        fields = [
            (name, spec, conversion)
            for _text, name, spec, conversion in Formatter().parse(template)
            if name is not None
        ]
    except ValueError:  # an unmatched brace
        fields = [("", "", None)]
    if any(
        name not in ("fund", "reference") or spec or conversion for name, spec, conversion in fields
    ):
        raise ValidationFailed(
            _("Use only {fund} and {reference} between braces in the payment details."),
            field="remittance_template",
        )
    if not any(name == "reference" for name, _spec, _conversion in fields):
        raise ValidationFailed(
            _("The payment details must name the award: put {reference} in them."),
            field="remittance_template",
        )


def _check_sepa_settings(values: dict[str, Any], fund: Fund) -> None:
    """What a SEPA file needs of the settings, checked by building one (the file's own rules,
    so that a batch released later never fails on them)."""
    if fund.currency != "EUR":
        raise ValidationFailed(
            _("SEPA transfers are in euros: choose the CSV file for this fund."),
            field="file_format",
        )
    for name in ("debtor_name", "initiating_party"):
        if not files.sepa_text(values.get(name, ""), 70):
            raise ValidationFailed(
                _("Write it in Latin letters: SEPA files cannot carry it otherwise."), field=name
            )
    now = timezone.now()
    try:
        files.build_sepa(
            _file_header("P-0000-0000", now, now.date(), values, "EUR"),
            [
                files.Transfer(
                    end_to_end_id="A-0000-0000",
                    amount=Decimal("1.00"),
                    currency="EUR",
                    creditor_name="Test",
                    iban=values["debtor_iban"],
                    bic="",
                    remittance=remittance_text(
                        values["remittance_template"], fund=fund, reference="A-0000-0000"
                    ),
                )
            ],
            values["file_format"],
        )
    except files.InvalidPaymentFile as error:
        raise ValidationFailed(error.message, field="initiating_party_id") from None


def save_payment_settings(*, actor: Any, fund: Fund, values: dict[str, Any]) -> PaymentSettings:
    """Create or change how the fund pays (the fund's managers)."""
    require(actor, fund, Capability.MANAGE_FUND)
    values = {name: values[name] for name in SETTINGS_FIELDS if name in values}
    values.setdefault(
        "remittance_template", PaymentSettings._meta.get_field("remittance_template").get_default()
    )
    # A SIRET is often typed with spaces; identifiers in a bank file have none.
    values["initiating_party_id"] = re.sub(r"\s", "", values.get("initiating_party_id", ""))
    _normalised_account(values)
    _check_remittance_template(values["remittance_template"])
    files.check_csv_columns(values.get("csv_columns", []))
    files.check_csv_delimiter(values.get("csv_delimiter", ","))
    if values.get("file_format") in SEPA_FORMATS:
        _check_sepa_settings(values, fund)
    with transaction.atomic(durable=True):
        lock_fund(fund.pk)
        current = PaymentSettings.objects.filter(fund=fund).first()
        before = audit.snapshot(current, SETTINGS_FIELDS) if current is not None else {}
        saved, _created = PaymentSettings.objects.update_or_create(fund=fund, defaults=values)
        audit.record(
            actor=actor,
            action="payment_settings.saved",
            obj=saved,
            changes=audit.diff(before, audit.snapshot(saved, SETTINGS_FIELDS)),
            fund_id=fund.pk,
        )
    return saved


# -- what can be paid --------------------------------------------------------------------------


def payable_awards(fund: Fund) -> QuerySet[Award]:
    """Reserved awards with no payment under way and no change of bank details waiting: in the
    order they were reserved."""
    live_payment = Payment.objects.filter(award=OuterRef("pk"), status__in=Payment.LIVE)
    return (
        Award.objects.filter(fund=fund, status=Award.Status.RESERVED)
        .exclude(Exists(live_payment))
        .exclude(application_id__in=bank_details.applications_with_open_change(fund))
        .order_by("reserved_at", "pk")
    )


@dataclass(frozen=True)
class Selection:
    """Which payable awards a batch takes: reserved on or before ``approved_until`` (the
    fund's day), in order, as many as fit in ``up_to_amount`` and ``limit``."""

    approved_until: dt.date | None = None
    up_to_amount: Decimal | None = None
    limit: int | None = None


def _selected(fund: Fund, selection: Selection) -> list[tuple[int, int, Decimal]]:
    """(award id, application id, amount) of the selection, in order."""
    awards = payable_awards(fund)
    if selection.approved_until is not None and selection.approved_until < dt.date.max:
        day_after = selection.approved_until + dt.timedelta(days=1)
        end = dt.datetime.combine(day_after, dt.time(0), tzinfo=ZoneInfo(fund.time_zone))
        awards = awards.filter(reserved_at__lt=end)
    rows = awards.values_list("pk", "application_id", "amount")
    if selection.limit is not None:
        rows = rows[: selection.limit]
    chosen: list[tuple[int, int, Decimal]] = []
    total = ZERO
    for award_id, application_id, amount in rows.iterator(chunk_size=5000):
        if selection.up_to_amount is not None and total + amount > selection.up_to_amount:
            break  # in order: a later, smaller award does not jump the queue
        chosen.append((award_id, application_id, amount))
        total += amount
    return chosen


@dataclass(frozen=True)
class Preview:
    count: int
    total: Decimal
    currency: str
    payable: int  # payable awards in all, whatever the criteria


def preview_batch(fund: Fund, selection: Selection) -> Preview:
    chosen = _selected(fund, selection)
    return Preview(
        count=len(chosen),
        total=sum((amount for _a, _b, amount in chosen), ZERO),
        currency=fund.currency,
        payable=payable_awards(fund).count(),
    )


# -- batches -----------------------------------------------------------------------------------


def end_to_end_id(reference: str, attempt: int) -> str:
    """The award's reference; a second attempt after a failure gets its number after it."""
    return reference if attempt == 1 else f"{reference}-{attempt}"


def prepare_payment_batch(*, actor: Any, fund: Fund, selection: Selection) -> PaymentBatch:
    """Put the selected payable awards in a new batch, with the bank details they will be paid
    to; it waits for another person of finance to release it."""
    require(actor, fund, Capability.MANAGE_PAYMENTS)
    payment_settings = settings_of(fund)
    if payment_settings is None:
        raise PaymentsNotSetUp()
    try:
        with transaction.atomic(durable=True):
            # Batches of one fund are prepared one after the other: no award is picked twice.
            fund = lock_fund(fund.pk)
            chosen = _selected(fund, selection)
            if not chosen:
                raise NothingToPay()
            now = timezone.now()
            batch = PaymentBatch.objects.create(
                reference=new_reference("P"),
                fund=fund,
                file_format=payment_settings.file_format,
                # The batch is paid as prepared and released: later changes of the settings
                # are for later batches.
                file_settings={name: getattr(payment_settings, name) for name in SETTINGS_FIELDS},
                currency=fund.currency,
                count=len(chosen),
                total=sum((amount for _a, _b, amount in chosen), ZERO),
                prepared_by=actor,
                prepared_at=now,
            )
            _add_payments(batch, payment_settings, chosen)
            audit.record(
                actor=actor,
                action="payment_batch.prepared",
                obj=batch,
                changes={
                    "count": batch.count,
                    "total": batch.total,
                    "selection": dataclasses.asdict(selection),
                },
                fund_id=fund.pk,
            )
    except IntegrityError:
        # The database's backstop against paying an award twice.
        raise InvalidTransition(
            _("Some of these awards are in another batch already: prepare the batch again.")
        ) from None
    return batch


def _add_payments(
    batch: PaymentBatch, payment_settings: PaymentSettings, chosen: list[tuple[int, int, Decimal]]
) -> None:
    award_ids = [award_id for award_id, _application, _amount in chosen]
    attempts = dict(
        Payment.objects.filter(award_id__in=award_ids)
        .values("award_id")
        .annotate(count=Count("pk"))
        .values_list("award_id", "count")
    )
    payees = application_selectors.payees(
        Award.objects.filter(pk__in=award_ids).values("application_id")
    )
    fund = batch.fund
    payments = []
    for award_id, application_id, amount in chosen:
        payee = payees[application_id]
        attempt = attempts.get(award_id, 0) + 1
        payments.append(
            Payment(
                batch=batch,
                award_id=award_id,
                fund=fund,
                attempt=attempt,
                end_to_end_id=end_to_end_id(payee.reference, attempt),
                amount=amount,
                currency=batch.currency,
                creditor_name=payee.account_holder,
                iban=payee.iban,
                bic=payee.bic,
                remittance=remittance_text(
                    payment_settings.remittance_template, fund=fund, reference=payee.reference
                ),
            )
        )
    Payment.objects.bulk_create(payments, batch_size=2000)


def _lock_batch(batch: PaymentBatch) -> PaymentBatch:
    return PaymentBatch.objects.select_for_update(no_key=True).get(pk=batch.pk)


def execution_date_after(day: dt.date, working_days: int) -> dt.date:
    """``working_days`` bank working days after ``day`` (weekends skipped)."""
    while working_days > 0 or day.weekday() >= 5:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            working_days -= 1
    return day


def release_payment_batch(
    *, actor: Any, batch: PaymentBatch, execution_date: dt.date | None = None
) -> PaymentBatch:
    """The second person of finance agrees: the batch's file is generated by the worker."""
    require(actor, batch.fund, Capability.MANAGE_PAYMENTS)
    if actor.pk == batch.prepared_by_id:
        raise SamePersonReleases()
    today = batch.fund.local_today()
    if execution_date is None:
        execution_date = execution_date_after(today, batch.file_settings["execution_days"])
    elif execution_date < today:
        raise ValidationFailed(
            _("The execution date cannot be in the past."), field="execution_date"
        )
    with transaction.atomic(durable=True):
        batch = _lock_batch(batch)
        if batch.status != PaymentBatch.Status.PREPARED:
            raise InvalidTransition(_("Only a batch waiting for release can be released."))
        batch.status = PaymentBatch.Status.RELEASED
        batch.released_by = actor
        batch.released_at = timezone.now()
        batch.execution_date = execution_date
        batch.save(update_fields=["status", "released_by", "released_at", "execution_date"])
        audit.record(
            actor=actor,
            action="payment_batch.released",
            obj=batch,
            changes={"execution_date": execution_date, "count": batch.count, "total": batch.total},
            fund_id=batch.fund_id,
        )
        from entraide.payments.tasks import generate_payment_file

        enqueue_with_transaction(generate_payment_file, batch.pk)
    return batch


def _transfers(batch: PaymentBatch) -> Iterator[files.Transfer]:
    rows = (
        Payment.objects.filter(batch=batch)
        .exclude(status=Payment.Status.CANCELLED)
        .order_by("pk")
        .values_list(
            "end_to_end_id", "amount", "currency", "creditor_name", "iban", "bic", "remittance"
        )
    )
    for row in rows.iterator(chunk_size=5000):
        yield files.Transfer(*row)


def _file_header(
    reference: str,
    created_at: dt.datetime,
    execution_date: dt.date,
    values: dict[str, Any],
    currency: str,
) -> files.FileHeader:
    return files.FileHeader(
        message_id=reference,
        created_at=created_at,
        execution_date=execution_date,
        debtor=files.Debtor(
            name=values["debtor_name"],
            iban=values["debtor_iban"],
            bic=values["debtor_bic"],
            initiating_party=values["initiating_party"],
            initiating_party_id=values["initiating_party_id"],
        ),
        currency=currency,
    )


def build_file(batch: PaymentBatch) -> bytes:
    """The released batch's file, always the same bytes for the same batch."""
    values = batch.file_settings
    if batch.file_format == FileFormat.CSV:
        return files.build_csv(
            _transfers(batch),
            values["csv_columns"],
            values["csv_delimiter"],
            values["csv_decimal_comma"],
        )
    assert batch.released_at is not None
    assert batch.execution_date is not None
    header = _file_header(
        batch.reference, batch.released_at, batch.execution_date, values, batch.currency
    )
    return files.build_sepa(header, _transfers(batch), batch.file_format)


def generate_payment_file(batch_id: int) -> PaymentFile:
    """The released batch's file, built, validated and stored once (the worker's job).

    Building happens outside any transaction and stores nothing; the file and the batch's new
    status are then written together. Run again after a crash (or twice at once), it builds the
    same bytes and keeps the first file stored."""
    batch = PaymentBatch.objects.select_related("fund").get(pk=batch_id)
    existing = PaymentFile.objects.filter(batch=batch).first()
    if existing is not None:
        return existing
    if batch.status != PaymentBatch.Status.RELEASED:
        raise InvalidTransition(_("Only a released batch gets a file."))
    try:
        content = build_file(batch)
    except files.InvalidPaymentFile as error:
        # Shown on the batch's page, where finance can cancel the batch or generate it again.
        PaymentBatch.objects.filter(pk=batch.pk).update(generation_error=str(error.message))
        raise
    with transaction.atomic(durable=True):
        batch = _lock_batch(batch)
        existing = PaymentFile.objects.filter(batch=batch).first()
        if existing is not None:
            return existing
        if batch.status != PaymentBatch.Status.RELEASED:
            raise InvalidTransition(_("Only a released batch gets a file."))
        stored = PaymentFile.objects.create(
            batch=batch,
            file_format=batch.file_format,
            name=files.file_name(batch.reference, batch.file_format),
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
            generated_at=timezone.now(),
        )
        batch.status = PaymentBatch.Status.READY
        batch.generation_error = ""
        batch.save(update_fields=["status", "generation_error"])
        audit.record(
            actor=None,
            action="payment_file.generated",
            obj=batch,
            changes={"file": stored.name, "sha256": stored.sha256, "size": stored.size},
            fund_id=batch.fund_id,
        )
    return stored


def generate_payment_file_again(*, actor: Any, batch: PaymentBatch) -> None:
    """Queue the generation of a released batch's file again (after a failure, or a worker
    that died): harmless if the file exists meanwhile."""
    require(actor, batch.fund, Capability.MANAGE_PAYMENTS)
    with transaction.atomic(durable=True):
        batch = _lock_batch(batch)
        if batch.status != PaymentBatch.Status.RELEASED:
            raise InvalidTransition(_("Only a released batch waits for its file."))
        batch.generation_error = ""
        batch.save(update_fields=["generation_error"])
        audit.record(actor=actor, action="payment_file.requested", obj=batch, fund_id=batch.fund_id)
        from entraide.payments.tasks import generate_payment_file as task

        enqueue_with_transaction(task, batch.pk)


def file_for_download(*, actor: Any, batch: PaymentBatch) -> PaymentFile:
    """The batch's file for finance to upload to the bank; every download is audited (it holds
    the beneficiaries' bank details)."""
    require(actor, batch.fund, Capability.MANAGE_PAYMENTS)
    stored = PaymentFile.objects.filter(batch=batch).first()
    if stored is None or batch.status not in (
        PaymentBatch.Status.READY,
        PaymentBatch.Status.SENT,
    ):
        raise InvalidTransition(_("This batch has no file to download."))
    with transaction.atomic(durable=True):
        batch = _lock_batch(batch)
        if batch.status not in (PaymentBatch.Status.READY, PaymentBatch.Status.SENT):
            raise InvalidTransition(_("This batch has no file to download."))  # cancelled now
        if batch.downloaded_at is None:
            # From now on the bank may have it: the batch can only be marked sent.
            batch.downloaded_at = timezone.now()
            batch.save(update_fields=["downloaded_at"])
        audit.record(
            actor=actor,
            action="payment_file.downloaded",
            obj=batch,
            changes={"file": stored.name, "sha256": stored.sha256},
            fund_id=batch.fund_id,
        )
    return stored


def mark_batch_sent(*, actor: Any, batch: PaymentBatch) -> PaymentBatch:
    """Finance uploaded the file to the bank: its awards are paid in the budget's ledger and
    their applications are paid."""
    require(actor, batch.fund, Capability.MANAGE_PAYMENTS)
    with transaction.atomic(durable=True):
        lock_fund(batch.fund_id)
        batch = _lock_batch(batch)
        if batch.status != PaymentBatch.Status.READY:
            raise InvalidTransition(_("Only a batch whose file is ready can be marked sent."))
        pending = Payment.objects.filter(batch=batch, status=Payment.Status.PENDING)
        award_ids = list(pending.values_list("award_id", flat=True))
        if not award_ids:
            raise InvalidTransition(_("This batch has no transfer left to send."))
        total = pending.aggregate(total=Sum("amount"))["total"] or ZERO
        # Every row changed below is locked before the first audit event, in one order.
        application_selectors.lock_applications(
            Award.objects.filter(pk__in=pending.values("award_id")).values("application_id")
        )
        ledger.record_awards_paid(
            actor=actor, fund=batch.fund, award_ids=award_ids, total=total, note=batch.reference
        )
        application_services.record_applications_paid(
            actor=actor,
            application_ids=Award.objects.filter(pk__in=pending.values("award_id")).values(
                "application_id"
            ),
            count=len(award_ids),
            batch=batch,
        )
        pending.update(status=Payment.Status.SENT)
        batch.status = PaymentBatch.Status.SENT
        batch.sent_by = actor
        batch.sent_at = timezone.now()
        batch.save(update_fields=["status", "sent_by", "sent_at"])
        audit.record(
            actor=actor,
            action="payment_batch.sent",
            obj=batch,
            changes={"count": len(award_ids), "total": total},
            fund_id=batch.fund_id,
        )
        if batch.fund.kind == Fund.Kind.CREW_RELIEF:
            # Crew members have no account to see "paid" in: they get it, and the
            # attestation, by e-mail.
            from entraide.crew.tasks import tell_crew_paid

            enqueue_with_transaction(tell_crew_paid, batch.pk)
    return batch


def cancel_payment_batch(
    *, actor: Any, batch: PaymentBatch, note: str, bank_did_not_receive: bool = False
) -> PaymentBatch:
    """Give up a batch not sent yet: its awards are payable again (its file, if any, is kept
    for the record and never offered again). Once its file was downloaded the bank may have it:
    the person cancelling must say the bank did not receive it (audited)."""
    require(actor, batch.fund, Capability.MANAGE_PAYMENTS)
    note = note.strip()
    if not note:
        raise ValidationFailed(_("Say why the batch is cancelled."), field="note")
    with transaction.atomic(durable=True):
        lock_fund(batch.fund_id)
        batch = _lock_batch(batch)
        if batch.status in (PaymentBatch.Status.SENT, PaymentBatch.Status.CANCELLED):
            raise InvalidTransition(_("A batch sent to the bank cannot be cancelled."))
        if batch.downloaded_at is not None and not bank_did_not_receive:
            # The bank may have the file: cancelling would let its awards be paid again.
            raise ValidationFailed(
                _(
                    "This batch's file was downloaded: the bank may have it. Cancel it only if "
                    "the bank did not receive it, and say so; otherwise mark it sent."
                ),
                field="bank_did_not_receive",
            )
        before = batch.status
        Payment.objects.filter(batch=batch, status=Payment.Status.PENDING).update(
            status=Payment.Status.CANCELLED
        )
        batch.status = PaymentBatch.Status.CANCELLED
        batch.cancelled_by = actor
        batch.cancelled_at = timezone.now()
        batch.save(update_fields=["status", "cancelled_by", "cancelled_at"])
        audit.record(
            actor=actor,
            action="payment_batch.cancelled",
            obj=batch,
            changes={
                "status": {"before": before, "after": batch.status},
                "note": note,
                "file_downloaded": batch.downloaded_at is not None,
            },
            fund_id=batch.fund_id,
        )
    return batch


# -- bank returns ------------------------------------------------------------------------------


class OnFailure:
    """What becomes of an award whose transfer failed: kept for another payment (new bank
    details asked of the applicant when the bank's reason calls for them) or released to the
    budget."""

    KEEP = "keep"
    RELEASE = "release"


@dataclass
class ImportOutcome:
    bank_return: BankReturn
    already_imported: bool


def import_bank_return(
    *, actor: Any, fund: Fund, file_name: str, content: bytes, on_failure: str = OnFailure.KEEP
) -> ImportOutcome:
    """Apply a bank's pain.002 or camt.054 to the fund's payments. A line that matches no
    payment of the fund, or contradicts it, is reported with its line and reason; the others
    apply. The same file imported again changes nothing."""
    require(actor, fund, Capability.MANAGE_PAYMENTS)
    digest = hashlib.sha256(content).hexdigest()
    known = BankReturn.objects.filter(fund=fund, sha256=digest).first()
    if known is not None:
        return ImportOutcome(known, already_imported=True)
    parsed = parse_bank_return(content)
    with transaction.atomic(durable=True):
        fund = lock_fund(fund.pk)
        known = BankReturn.objects.filter(fund=fund, sha256=digest).first()
        if known is not None:  # imported by someone else meanwhile
            return ImportOutcome(known, already_imported=True)
        bank_return = BankReturn.objects.create(
            fund=fund,
            kind=parsed.kind,
            file_name=file_name[:200],
            sha256=digest,
            message_id=parsed.message_id[:35],
            imported_by=actor,
            imported_at=timezone.now(),
        )
        problems = _apply_return(actor, fund, bank_return, parsed, on_failure)
        bank_return.problems = [
            {"line": p.line, "path": p.path, "reason": str(p.reason)} for p in problems
        ]
        bank_return.save(update_fields=["confirmed", "failed", "unchanged", "problems"])
        audit.record(
            actor=actor,
            action="bank_return.imported",
            obj=bank_return,
            changes={
                "kind": bank_return.kind,
                "sha256": digest,
                "confirmed": bank_return.confirmed,
                "failed": bank_return.failed,
                "unchanged": bank_return.unchanged,
                "problems": len(problems),
            },
            fund_id=fund.pk,
        )
    return ImportOutcome(bank_return, already_imported=False)


def _statuses_of(fund: Fund, parsed: ParsedReturn) -> tuple[list[Any], list[Problem]]:
    """The transaction statuses, with those of a whole batch (or its one payment block) that
    the bank rejected without listing them; a rejection of no batch of the fund is a problem."""
    statuses = list(parsed.statuses)
    problems = []
    listed = {status.end_to_end_id for status in statuses} | parsed.mentioned
    for rejection in parsed.rejections:
        in_batch = list(
            Payment.objects.filter(
                fund=fund, batch__reference=rejection.original_message_id
            ).values_list("end_to_end_id", flat=True)
        )
        if not in_batch:
            problems.append(
                Problem(
                    line=rejection.line,
                    path="OrgnlMsgId",
                    reason=gettext(
                        "The bank rejected message %(id)s, which is no batch of this fund."
                    )
                    % {"id": rejection.original_message_id},
                )
            )
        for end_to_end in in_batch:
            if end_to_end not in listed:
                statuses.append(rejection.for_transaction(end_to_end))
                listed.add(end_to_end)
    return statuses, problems


def _apply_return(
    actor: Any, fund: Fund, bank_return: BankReturn, parsed: ParsedReturn, on_failure: str
) -> list[Problem]:
    statuses, problems = _statuses_of(fund, parsed)
    problems = [*parsed.problems, *problems]
    matched = Payment.objects.filter(
        fund=fund, end_to_end_id__in=[status.end_to_end_id for status in statuses]
    )
    # Every row this import may change is locked before its first audit event.
    awards = Award.objects.filter(pk__in=matched.values("award_id"))
    application_selectors.lock_applications(awards.values("application_id"))
    list(awards.select_for_update().order_by("pk").values_list("pk", flat=True))
    payments = {
        payment.end_to_end_id: payment
        for payment in matched.select_for_update(of=("self",)).select_related("award", "batch")
    }
    for status in statuses:
        payment = payments.get(status.end_to_end_id)
        problem = _problem_with(status, payment)
        if problem is not None:
            problems.append(problem)
            continue
        assert payment is not None
        if status.outcome == "confirmed":
            if payment.status == Payment.Status.SENT:
                _confirm(payment, bank_return)
                bank_return.confirmed += 1
            else:
                bank_return.unchanged += 1
        elif status.outcome == "failed":
            if payment.status == Payment.Status.FAILED:
                bank_return.unchanged += 1
            else:
                _fail(actor, payment, bank_return, status, on_failure)
                bank_return.failed += 1
        else:
            bank_return.unchanged += 1
    return problems


def _problem_with(status: Any, payment: Payment | None) -> Problem | None:
    path = f"EndToEndId[{status.end_to_end_id}]"
    if payment is None:
        return Problem(
            line=status.line,
            path=path,
            reason=gettext("No payment of this fund has the end-to-end identifier %(id)s.")
            % {"id": status.end_to_end_id},
        )
    if status.amount is not None and (
        status.amount != payment.amount or (status.currency and status.currency != payment.currency)
    ):
        return Problem(
            line=status.line,
            path=path,
            reason=gettext(
                "The bank's amount %(bank)s differs from the payment's %(ours)s: not applied."
            )
            % {
                "bank": f"{status.amount} {status.currency}",
                "ours": f"{payment.amount} {payment.currency}",
            },
        )
    if payment.status == Payment.Status.CANCELLED:
        return Problem(
            line=status.line,
            path=path,
            reason=gettext("This payment's batch was cancelled before it was sent: not applied."),
        )
    if payment.status == Payment.Status.PENDING:
        return Problem(
            line=status.line,
            path=path,
            reason=gettext(
                "Batch %(batch)s is not marked as sent yet: mark it sent, then import again."
            )
            % {"batch": payment.batch.reference},
        )
    if status.outcome == "confirmed" and payment.status == Payment.Status.FAILED:
        return Problem(
            line=status.line,
            path=path,
            reason=gettext("The bank confirms a payment it returned before: check with the bank."),
        )
    return None


def _confirm(payment: Payment, bank_return: BankReturn) -> None:
    payment.status = Payment.Status.CONFIRMED
    payment.confirmed_at = timezone.now()
    payment.bank_return = bank_return
    payment.save(update_fields=["status", "confirmed_at", "bank_return"])


def _fail(
    actor: Any, payment: Payment, bank_return: BankReturn, status: Any, on_failure: str
) -> None:
    was = payment.status
    payment.status = Payment.Status.FAILED
    payment.failed_at = timezone.now()
    payment.reason_code = status.reason_code[:35]
    payment.reason_detail = status.reason_detail[:300]
    payment.bank_return = bank_return
    payment.save(
        update_fields=["status", "failed_at", "reason_code", "reason_detail", "bank_return"]
    )
    note = f"{payment.end_to_end_id} {payment.reason_code}".strip()
    audit.record(
        actor=actor,
        action="payment.failed",
        obj=payment,
        changes={
            "status": {"before": was, "after": payment.status},
            "reason_code": payment.reason_code,
            "bank_return": bank_return.file_name,
        },
        fund_id=payment.fund_id,
    )
    # The money had left (only sent payments fail): it is the fund's again.
    award = ledger.record_payment_returned(actor=actor, award=payment.award, note=note)
    application_services.transition_application(
        actor=actor,
        application=Application.objects.get(pk=award.application_id),
        to_status=Application.Status.APPROVED,
        note=str(reasons.explain(payment.reason_code)),
    )
    if on_failure == OnFailure.RELEASE:
        ledger.release_award(actor=actor, award=award, note=note)
    elif reasons.needs_new_bank_details(payment.reason_code):
        bank_details.request_bank_details(actor=actor, payment=payment, note=note)


def release_failed_award(*, actor: Any, payment: Payment, note: str) -> Award:
    """Finance gives up paying an award whose transfer failed: its money goes back to the
    budget (the operator's choice at import, or later)."""
    require(actor, payment.fund, Capability.MANAGE_PAYMENTS)
    note = note.strip()
    if not note:
        raise ValidationFailed(_("Say why the award is released."), field="note")
    with transaction.atomic(durable=True):
        lock_fund(payment.fund_id)
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        award = Award.objects.select_for_update().get(pk=payment.award_id)
        if payment.status != Payment.Status.FAILED or award.status != Award.Status.RESERVED:
            raise InvalidTransition(_("Only an award whose transfer failed can be released here."))
        if Payment.objects.filter(award=award, status__in=Payment.LIVE).exists():
            raise InvalidTransition(_("This award is being paid again: cancel that batch first."))
        bank_details.close_open_change(actor=actor, application_id=award.application_id, note=note)
        return ledger.release_award(actor=actor, award=award, note=note)
