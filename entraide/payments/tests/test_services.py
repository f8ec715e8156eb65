from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.payments import bank_details, reconciliation, services
from entraide.payments.models import (
    BankDetailsChange,
    FileFormat,
    Payment,
    PaymentBatch,
    PaymentFile,
)
from entraide.payments.services import OnFailure, Selection
from entraide.payments.tests.helpers import (
    DEBTOR_IBAN,
    approved,
    end_to_end_ids,
    member_of,
    sent_batch,
    status_report,
)


def rejected_once(
    fund: Fund,
    preparer: User,
    releaser: User,
    capture: Any,
    code: str,
    on_failure: str = OnFailure.KEEP,
) -> tuple[Award, bytes]:
    """One award paid in a batch sent, then rejected by the bank with ``code``: the award and
    the bank's report (to import it again)."""
    (award,) = approved(fund, 1)
    batch = sent_batch(fund, preparer, releaser, capture)
    report = status_report(batch.reference, [(award.application.reference, "RJCT", code)])
    services.import_bank_return(
        actor=preparer, fund=fund, file_name="s.xml", content=report, on_failure=on_failure
    )
    return award, report


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
    assert services.build_file(batch) == bytes(stored.content)
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
    with translation.override("en"):
        lines = {str(line.label): (line.count, line.total) for line in summary.lines}
    assert lines["Paid again after a failure"] == (1, Decimal("500.00"))
    assert lines["Failed (returned or rejected)"] == (1, Decimal("500.00"))
    assert ledger.totals(fund).paid == Decimal("1000.00")


@pytest.mark.django_db
def test_a_failure_the_applicant_cannot_fix_makes_the_award_payable_at_once(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    award, _report = rejected_once(
        fund, preparer, releaser, django_capture_on_commit_callbacks, "AM04"
    )
    assert not BankDetailsChange.objects.exists()
    assert list(services.payable_awards(fund)) == [award]


@pytest.mark.django_db
def test_the_operator_may_release_an_award_whose_transfer_failed(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    award, _report = rejected_once(
        fund, preparer, releaser, django_capture_on_commit_callbacks, "MS03", OnFailure.RELEASE
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
    award, _report = rejected_once(
        fund, preparer, releaser, django_capture_on_commit_callbacks, "AC01"
    )
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
    _award, report = rejected_once(
        fund, preparer, releaser, django_capture_on_commit_callbacks, "AC04"
    )
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


# -- what the code review found ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_downloaded_file_can_no_longer_be_cancelled_only_marked_sent(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved(fund, 1)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with django_capture_on_commit_callbacks(execute=True):
        services.release_payment_batch(actor=releaser, batch=batch)
    batch.refresh_from_db()
    services.file_for_download(actor=preparer, batch=batch)
    with pytest.raises(services.ValidationFailed) as refused:
        services.cancel_payment_batch(actor=preparer, batch=batch, note="changed my mind")
    assert refused.value.field == "bank_did_not_receive"
    assert not services.payable_awards(fund).exists()  # never in a second batch
    # The bank never got it (said, and audited): the awards can go in another batch.
    services.cancel_payment_batch(
        actor=releaser, batch=batch, note="upload failed", bank_did_not_receive=True
    )
    assert services.payable_awards(fund).count() == 1
    event = AuditEvent.objects.filter(action="payment_batch.cancelled").get()
    assert event.changes["file_downloaded"] is True


@pytest.mark.django_db
def test_a_cancelled_batch_file_is_not_downloaded_even_by_a_page_read_before(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved(fund, 1)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with django_capture_on_commit_callbacks(execute=True):
        services.release_payment_batch(actor=releaser, batch=batch)
    read_before = PaymentBatch.objects.get(pk=batch.pk)  # ready, as the page showed it
    services.cancel_payment_batch(actor=releaser, batch=read_before, note="wrong batch")
    with pytest.raises(InvalidTransition):
        services.file_for_download(actor=preparer, batch=read_before)


@pytest.mark.django_db
def test_a_return_for_a_batch_not_marked_sent_is_reported_and_changes_nothing(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    (award,) = approved(fund, 1)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with django_capture_on_commit_callbacks(execute=True):
        services.release_payment_batch(actor=releaser, batch=batch)
    report = status_report(batch.reference, [(award.application.reference, "RJCT", "AM04")])
    outcome = services.import_bank_return(
        actor=preparer, fund=fund, file_name="s.xml", content=report
    )
    (problem,) = outcome.bank_return.problems
    assert batch.reference in problem["reason"]
    assert Payment.objects.get(award=award).status == Payment.Status.PENDING
    assert not services.payable_awards(fund).exists()  # still in its batch, once


@pytest.mark.django_db
def test_a_transfer_the_bank_settled_inside_a_rejected_message_is_not_failed(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    settled, other = approved(fund, 2)
    batch = sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    report = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10">
<CstmrPmtStsRpt>
<GrpHdr><MsgId>REJ-2</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{batch.reference}</OrgnlMsgId>
<OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId><GrpSts>RJCT</GrpSts>
<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>{batch.reference}</OrgnlPmtInfId>
<TxInfAndSts><OrgnlEndToEndId>{settled.application.reference}</OrgnlEndToEndId>
<TxSts>ACSC</TxSts></TxInfAndSts></OrgnlPmtInfAndSts>
</CstmrPmtStsRpt>
</Document>""".encode()
    outcome = services.import_bank_return(
        actor=preparer, fund=fund, file_name="r.xml", content=report
    )
    assert outcome.bank_return.failed == 1
    assert Payment.objects.get(award=settled).status == Payment.Status.SENT  # asked, not failed
    assert Payment.objects.get(award=other).status == Payment.Status.FAILED
    assert len(outcome.bank_return.problems) == 1


@pytest.mark.django_db
def test_the_file_is_built_from_the_settings_the_batch_was_prepared_with(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    approved(fund, 1)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    settings = services.settings_of(fund)
    assert settings is not None
    changed = {name: getattr(settings, name) for name in services.SETTINGS_FIELDS}
    services.save_payment_settings(
        actor=admin,
        fund=fund,
        values={
            **changed,
            "debtor_iban": "FR1420041010050500013M02606",
            "file_format": FileFormat.PAIN_001_001_03,
        },
    )
    batch = services.release_payment_batch(actor=releaser, batch=batch)
    content = bytes(services.generate_payment_file(batch.pk).content)
    assert b"pain.001.001.09" in content
    assert DEBTOR_IBAN.encode() in content
    assert b"FR1420041010050500013M02606" not in content
    event = AuditEvent.objects.filter(action="payment_settings.saved").last()
    assert event is not None
    assert "FR1420041010050500013M02606" not in str(event.changes)


@pytest.mark.django_db
def test_a_file_that_cannot_be_generated_says_why_and_can_be_generated_again(
    fund: Fund, preparer: User, releaser: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    approved(fund, 1)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    batch = services.release_payment_batch(actor=releaser, batch=batch)
    PaymentBatch.objects.filter(pk=batch.pk).update(
        file_settings={**batch.file_settings, "initiating_party_id": "not an id"}
    )
    with pytest.raises(services.files.InvalidPaymentFile):
        services.generate_payment_file(batch.pk)
    batch.refresh_from_db()
    assert "initiating party" in batch.generation_error.lower()
    PaymentBatch.objects.filter(pk=batch.pk).update(
        file_settings={**batch.file_settings, "initiating_party_id": ""}
    )
    services.generate_payment_file_again(actor=preparer, batch=batch)
    stored = services.generate_payment_file(batch.pk)  # the queued task, run here
    batch.refresh_from_db()
    assert (batch.status, batch.generation_error) == (PaymentBatch.Status.READY, "")
    assert stored.size > 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"remittance_template": "Aide {fund.name} {reference}"}, "remittance_template"),
        ({"remittance_template": "Aide {fund[0]} {reference}"}, "remittance_template"),
        ({"remittance_template": "Aide {fund}"}, "remittance_template"),
        ({"remittance_template": "Aide {fund:d} {reference}"}, "remittance_template"),
        ({"remittance_template": "Aide {reference!x}"}, "remittance_template"),
        ({"remittance_template": "Aide {reference:{fund}}"}, "remittance_template"),
        ({"remittance_template": "Aide {reference"}, "remittance_template"),
        ({"debtor_name": "★★★"}, "debtor_name"),
        ({"debtor_iban": "FR76 3000 6000 0112 3456 7890 180"}, "debtor_iban"),
        ({"csv_delimiter": "a"}, "csv_delimiter"),
    ],
)
def test_settings_a_file_could_not_carry_are_refused_on_their_field(
    fund: Fund, change: dict[str, str], field: str
) -> None:
    settings = services.settings_of(fund)
    assert settings is not None
    values = {name: getattr(settings, name) for name in services.SETTINGS_FIELDS}
    with pytest.raises(services.ValidationFailed) as refused:
        services.save_payment_settings(
            actor=member_of(fund, FundRole.Role.OPERATOR_ADMIN),
            fund=fund,
            values={**values, **change},
        )
    assert refused.value.field == field


@pytest.mark.django_db
def test_a_siret_typed_with_spaces_is_kept_without_them(fund: Fund) -> None:
    settings = services.settings_of(fund)
    assert settings is not None
    values = {name: getattr(settings, name) for name in services.SETTINGS_FIELDS}
    saved = services.save_payment_settings(
        actor=member_of(fund, FundRole.Role.OPERATOR_ADMIN),
        fund=fund,
        values={**values, "initiating_party_id": "775 672 272 00029"},
    )
    assert saved.initiating_party_id == "77567227200029"


@pytest.mark.django_db
def test_a_fund_outside_sepa_pays_from_an_account_that_is_no_iban() -> None:
    fund: Fund = FundFactory(currency="INR")
    saved = services.save_payment_settings(
        actor=member_of(fund, FundRole.Role.OPERATOR_ADMIN),
        fund=fund,
        values={
            "file_format": FileFormat.CSV,
            "debtor_name": "Mumbai crew fund",
            "debtor_iban": "0012 3456 7890",
            "initiating_party": "Mumbai crew fund",
            "remittance_template": "Relief {reference}",
            "csv_columns": [["ref", "end_to_end_id"], ["amount", "amount"]],
        },
    )
    assert saved.debtor_iban == "001234567890"


@pytest.mark.django_db
def test_the_reconciliation_export_keeps_a_typed_formula_as_text(
    fund: Fund, preparer: User, releaser: User, django_capture_on_commit_callbacks: Any
) -> None:
    (award,) = approved(fund, 1)
    Application.objects.filter(pk=award.application_id).update(account_holder="=HYPERLINK(1)")
    sent_batch(fund, preparer, releaser, django_capture_on_commit_callbacks)
    assert "'=HYPERLINK(1)" in reconciliation.export_csv(fund).decode()
