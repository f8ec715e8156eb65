from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from lxml import etree

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.payments import bank_details, reconciliation, services
from entraide.payments.models import (
    BankDetailsChange,
    FileFormat,
    Payment,
    PaymentBatch,
    PaymentFile,
)
from entraide.payments.services import OnFailure, Selection

DEBTOR_IBAN = "FR7630006000011234567890189"


def member_of(fund: Fund, role: str) -> User:
    user: User = UserFactory()
    FundRoleFactory(fund=fund, user=user, role=role)
    return user


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(budget=Decimal("100000.00"), name="Netflix-Audiens")
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    services.save_payment_settings(
        actor=admin,
        fund=fund,
        values={
            "file_format": FileFormat.PAIN_001_001_09,
            "debtor_name": "Fonds Netflix-Audiens",
            "debtor_iban": DEBTOR_IBAN,
            "debtor_bic": "",
            "initiating_party": "Audiens",
            "initiating_party_id": "",
            "execution_days": 1,
            "remittance_template": "Aide d'urgence {fund} {reference}",
            "csv_columns": [["reference", "end_to_end_id"], ["amount", "amount"]],
            "csv_delimiter": ",",
            "csv_decimal_comma": False,
        },
    )
    return fund


@pytest.fixture
def preparer(fund: Fund) -> User:
    return member_of(fund, FundRole.Role.FINANCE)


@pytest.fixture
def releaser(fund: Fund) -> User:
    return member_of(fund, FundRole.Role.FINANCE)


def approved(fund: Fund, count: int, amount: str = "500.00") -> list[Award]:
    approver = member_of(fund, FundRole.Role.APPROVER)
    awards = []
    for _ in range(count):
        application = ApplicationFactory(fund=fund, status=Application.Status.APPROVED)
        with transaction.atomic():
            awards.append(
                ledger.place_award(
                    actor=approver, fund=fund, application=application, amount=Decimal(amount)
                )
            )
    return awards


def sent_batch(
    fund: Fund, preparer: User, releaser: User, capture: Any, selection: Selection | None = None
) -> PaymentBatch:
    batch = services.prepare_payment_batch(
        actor=preparer, fund=fund, selection=selection or Selection()
    )
    with capture(execute=True):  # the in-process worker generates the file
        services.release_payment_batch(actor=releaser, batch=batch)
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.READY
    return services.mark_batch_sent(actor=preparer, batch=batch)


def status_report(
    original: str, transactions: list[tuple[str, str, str]], message_id: str = "STATUS-1"
) -> bytes:
    """A pain.002.001.03 as a bank sends it: (end-to-end id, status, reason code)."""
    items = "".join(
        f"""<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>{status}</TxSts>"""
        + (f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>" if code else "")
        + "</TxInfAndSts>"
        for e2e, status, code in transactions
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
<CstmrPmtStsRpt>
<GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>{original}-1</OrgnlPmtInfId>{items}</OrgnlPmtInfAndSts>
</CstmrPmtStsRpt>
</Document>""".encode()


def end_to_end_ids(content: bytes) -> list[str]:
    tree = etree.fromstring(content, etree.XMLParser(huge_tree=True))
    return [element.text or "" for element in tree.iter("{*}EndToEndId")]


# -- batches -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_goes_from_preparation_to_the_bank_and_the_ledger_pays_its_awards(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    awards = approved(fund, 3)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)

    assert batch.count == 3
    assert batch.total == Decimal("1500.00")
    assert batch.released_by == releaser
    assert batch.execution_date is not None
    assert batch.execution_date.weekday() < 5
    stored = PaymentFile.objects.get(batch=batch)
    assert sorted(end_to_end_ids(bytes(stored.content))) == sorted(
        award.application.reference for award in awards
    )
    assert b"Aide d'urgence Netflix-Audiens " in bytes(stored.content)
    assert set(Award.objects.filter(fund=fund).values_list("status", flat=True)) == {"paid"}
    assert set(Application.objects.filter(fund=fund).values_list("status", flat=True)) == {"paid"}
    assert ledger.totals(fund).paid == Decimal("1500.00")
    assert set(Payment.objects.filter(batch=batch).values_list("status", flat=True)) == {"sent"}
    assert reconciliation.reconcile(fund).balanced


@pytest.mark.django_db
def test_the_person_who_prepared_a_batch_cannot_release_it(fund: Fund, preparer: User) -> None:
    approved(fund, 1)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with pytest.raises(services.SamePersonReleases):
        services.release_payment_batch(actor=preparer, batch=batch)
    # The database refuses it too, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentBatch.objects.filter(pk=batch.pk).update(released_by=preparer)


@pytest.mark.django_db
def test_only_finance_prepares_and_releases(fund: Fund, preparer: User) -> None:
    approved(fund, 1)
    for role in (
        FundRole.Role.REVIEWER,
        FundRole.Role.APPROVER,
        FundRole.Role.AUDITOR,
        FundRole.Role.OPERATOR_ADMIN,
    ):
        with pytest.raises(PermissionDenied):
            services.prepare_payment_batch(
                actor=member_of(fund, role), fund=fund, selection=Selection()
            )
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with pytest.raises(PermissionDenied):
        services.release_payment_batch(
            actor=member_of(fund, FundRole.Role.OPERATOR_ADMIN), batch=batch
        )


@pytest.mark.django_db
def test_an_award_in_a_batch_is_not_picked_again_and_the_database_refuses_a_second_payment(
    fund: Fund, preparer: User
) -> None:
    (award,) = approved(fund, 1)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with pytest.raises(services.NothingToPay):
        services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            batch=batch,
            award=award,
            fund=fund,
            attempt=2,
            end_to_end_id="OTHER",
            amount=award.amount,
            currency="EUR",
            creditor_name="X",
            iban=DEBTOR_IBAN,
            remittance="X",
        )


@pytest.mark.django_db
def test_a_selection_takes_awards_in_order_up_to_the_amount_and_the_day(
    fund: Fund, preparer: User
) -> None:
    first, _second, third = approved(fund, 3, amount="400.00")
    Award.objects.filter(pk=third.pk).update(reserved_at=timezone.now() + dt.timedelta(days=3))
    up_to = services.preview_batch(fund, Selection(up_to_amount=Decimal("1000.00")))
    assert (up_to.count, up_to.total, up_to.payable) == (2, Decimal("800.00"), 3)
    until_today = services.preview_batch(fund, Selection(approved_until=fund.local_today()))
    assert until_today.count == 2
    assert services.preview_batch(fund, Selection(limit=1)).total == Decimal("400.00")
    batch = services.prepare_payment_batch(
        actor=preparer, fund=fund, selection=Selection(up_to_amount=Decimal("500.00"))
    )
    assert list(batch.payments.values_list("award_id", flat=True)) == [first.pk]


@pytest.mark.django_db
def test_a_cancelled_batch_gives_its_awards_back_to_be_paid(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved(fund, 2)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    services.cancel_payment_batch(actor=releaser, batch=batch, note="wrong execution date")
    assert services.payable_awards(fund).count() == 2
    again = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    assert again.count == 2
    with pytest.raises(InvalidTransition):
        services.cancel_payment_batch(actor=preparer, batch=again, note="too late")
    assert reconciliation.reconcile(fund).balanced


# -- files: idempotent and crash-safe ----------------------------------------------------------


@pytest.mark.django_db
def test_a_worker_killed_mid_generation_leaves_nothing_and_the_next_run_pays_each_award_once(
    fund: Fund, preparer: User, releaser: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    approved(fund, 6)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    batch = services.release_payment_batch(actor=releaser, batch=batch)  # task not run yet
    real_transfers = services._transfers

    def dies_half_way(batch: PaymentBatch) -> Any:
        for number, transfer in enumerate(real_transfers(batch)):
            if number == 3:
                raise SystemExit("worker killed")
            yield transfer

    monkeypatch.setattr(services, "_transfers", dies_half_way)
    with pytest.raises(SystemExit):
        services.generate_payment_file(batch.pk)
    assert not PaymentFile.objects.filter(batch=batch).exists()
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.RELEASED

    monkeypatch.setattr(services, "_transfers", real_transfers)
    stored = services.generate_payment_file(batch.pk)
    again = services.generate_payment_file(batch.pk)  # a retry of the task
    assert again.pk == stored.pk
    ids = end_to_end_ids(bytes(stored.content))
    assert len(ids) == len(set(ids)) == 6
    # Deterministic: building again gives the very bytes stored.
    batch.refresh_from_db()
    assert services.build_file(batch, services.settings_of(fund)) == bytes(stored.content)
    assert PaymentFile.objects.filter(batch__fund=fund).count() == 1


@pytest.mark.django_db
def test_a_csv_fund_gets_the_same_flow_with_its_columns(
    preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    fund: Fund = FundFactory(currency="GBP", budget=Decimal("10000.00"))
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    with pytest.raises(services.ValidationFailed):
        services.save_payment_settings(
            actor=admin,
            fund=fund,
            values={
                "file_format": FileFormat.PAIN_001_001_09,
                "debtor_name": "UK Fund",
                "debtor_iban": "GB33BUKB20201555555555",
                "initiating_party": "UK Fund",
                "remittance_template": "Relief {reference}",
                "csv_columns": [["reference", "end_to_end_id"]],
            },
        )
    services.save_payment_settings(
        actor=admin,
        fund=fund,
        values={
            "file_format": FileFormat.CSV,
            "debtor_name": "UK Fund",
            "debtor_iban": "GB33BUKB20201555555555",
            "initiating_party": "UK Fund",
            "remittance_template": "Relief {reference}",
            "csv_columns": [["Ref", "end_to_end_id"], ["Amount", "amount"]],
            "csv_delimiter": ";",
        },
    )
    preparer = member_of(fund, FundRole.Role.FINANCE)
    releaser = member_of(fund, FundRole.Role.FINANCE)
    (award,) = approved(fund, 1, amount="750.00")
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    content = bytes(PaymentFile.objects.get(batch=batch).content).decode()
    assert content.splitlines() == ["Ref;Amount", f"{award.application.reference};750.00"]
    assert ledger.totals(fund).paid == Decimal("750.00")


# -- bank returns ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rejected_transfer_fails_asks_for_new_details_and_is_paid_again_once_verified(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    kept, closed = approved(fund, 2)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = status_report(
        batch.reference,
        [(kept.application.reference, "ACCP", ""), (closed.application.reference, "RJCT", "AC04")],
    )
    outcome = services.import_bank_return(
        actor=preparer, fund=fund, file_name="status.xml", content=report
    )
    assert (outcome.bank_return.confirmed, outcome.bank_return.failed) == (1, 1)
    failed = Payment.objects.get(award=closed)
    assert (failed.status, failed.reason_code) == ("failed", "AC04")
    closed.refresh_from_db()
    assert closed.status == Award.Status.RESERVED
    assert closed.application.status == Application.Status.APPROVED
    assert ledger.totals(fund).paid == Decimal("500.00")
    change = BankDetailsChange.objects.get(application=closed.application)
    assert change.status == BankDetailsChange.Status.REQUESTED
    assert not services.payable_awards(fund).exists()  # waiting for the applicant
    assert reconciliation.reconcile(fund).balanced

    application = closed.application
    bank_details.change_bank_details(
        actor=application.applicant,
        application=application,
        iban="FR1420041010050500013M02606",
        bic="",
        account_holder=application.account_holder,
    )
    assert not services.payable_awards(fund).exists()  # not before finance verified it
    change.refresh_from_db()
    bank_details.verify_bank_details(actor=releaser, change=change)
    assert list(services.payable_awards(fund)) == [closed]

    again = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    repaid = Payment.objects.get(batch=again)
    assert repaid.attempt == 2
    assert repaid.end_to_end_id == f"{application.reference}-2"
    assert repaid.iban == "FR1420041010050500013M02606"
    summary = reconciliation.reconcile(fund)
    assert summary.balanced
    lines = {str(line.label): (line.count, line.total) for line in summary.lines}
    assert lines["Paid again after a failure"] == (1, Decimal("500.00"))
    assert lines["Failed (returned or rejected)"] == (1, Decimal("500.00"))
    assert ledger.totals(fund).paid == Decimal("1000.00")


@pytest.mark.django_db
def test_a_failure_the_applicant_cannot_fix_makes_the_award_payable_at_once(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = status_report(batch.reference, [(award.application.reference, "RJCT", "AM04")])
    services.import_bank_return(actor=preparer, fund=fund, file_name="s.xml", content=report)
    assert not BankDetailsChange.objects.exists()
    assert list(services.payable_awards(fund)) == [award]


@pytest.mark.django_db
def test_the_operator_may_release_an_award_whose_transfer_failed(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = status_report(batch.reference, [(award.application.reference, "RJCT", "MS03")])
    services.import_bank_return(
        actor=preparer,
        fund=fund,
        file_name="s.xml",
        content=report,
        on_failure=OnFailure.RELEASE,
    )
    award.refresh_from_db()
    assert award.status == Award.Status.RELEASED
    totals = ledger.totals(fund)
    assert (totals.paid, totals.committed) == (Decimal("0.00"), Decimal("0.00"))
    assert reconciliation.reconcile(fund).balanced


@pytest.mark.django_db
def test_a_failed_award_kept_at_import_can_be_released_later(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = status_report(batch.reference, [(award.application.reference, "RJCT", "AC01")])
    services.import_bank_return(actor=preparer, fund=fund, file_name="s.xml", content=report)
    payment = Payment.objects.get(award=award)
    services.release_failed_award(actor=releaser, payment=payment, note="applicant unreachable")
    award.refresh_from_db()
    assert award.status == Award.Status.RELEASED
    assert not BankDetailsChange.objects.filter(status__in=BankDetailsChange.OPEN).exists()
    assert ledger.totals(fund).committed == Decimal("0.00")


@pytest.mark.django_db
def test_the_same_return_file_imported_twice_changes_nothing_more(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = status_report(batch.reference, [(award.application.reference, "RJCT", "AC04")])
    services.import_bank_return(actor=preparer, fund=fund, file_name="s.xml", content=report)
    events = AuditEvent.objects.count()
    again = services.import_bank_return(
        actor=preparer, fund=fund, file_name="s.xml", content=report
    )
    assert again.already_imported
    assert AuditEvent.objects.count() == events
    assert ledger.totals(fund).paid == Decimal("0.00")


@pytest.mark.django_db
def test_lines_matching_no_payment_are_reported_and_the_others_apply(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = status_report(
        batch.reference,
        [("A-NOPE-NOPE", "RJCT", "AC01"), (award.application.reference, "ACSC", "")],
    )
    outcome = services.import_bank_return(
        actor=preparer, fund=fund, file_name="s.xml", content=report
    )
    assert outcome.bank_return.confirmed == 1
    (problem,) = outcome.bank_return.problems
    assert "A-NOPE-NOPE" in problem["reason"]
    assert problem["line"] > 1
    assert Payment.objects.get(award=award).status == Payment.Status.CONFIRMED


@pytest.mark.django_db
def test_a_rejection_of_the_whole_file_fails_every_payment_of_the_batch(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved(fund, 3)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
<CstmrPmtStsRpt>
<GrpHdr><MsgId>REJ-1</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{batch.reference}</OrgnlMsgId>
<OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId><GrpSts>RJCT</GrpSts>
<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>
</CstmrPmtStsRpt>
</Document>""".encode()
    outcome = services.import_bank_return(
        actor=preparer, fund=fund, file_name="rej.xml", content=report
    )
    assert outcome.bank_return.failed == 3
    assert ledger.totals(fund).paid == Decimal("0.00")
    assert set(Payment.objects.values_list("reason_code", flat=True)) == {"FF01"}
    # A technical rejection: paid again without asking anyone for new details.
    assert services.payable_awards(fund).count() == 3
    assert reconciliation.reconcile(fund).balanced


@pytest.mark.django_db
def test_the_reconciliation_exports_one_line_per_payment_and_per_unpaid_award(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved(fund, 2)
    sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    approved(fund, 1)
    lines = reconciliation.export_csv(fund).decode().splitlines()
    assert len(lines) == 1 + 3
    assert reconciliation.export_xlsx(fund)[:2] == b"PK"
