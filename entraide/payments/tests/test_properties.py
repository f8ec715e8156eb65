from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count, Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entraide.core.errors import DomainError
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.payments import bank_details, reconciliation, services
from entraide.payments.models import BankDetailsChange, FileFormat, Payment, PaymentBatch
from entraide.payments.services import OnFailure, Selection
from entraide.payments.tests.helpers import approved, member_of, status_report

STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["approve", "prepare", "release", "send", "cancel", "confirm", "fail", "fix", "drop"]
        ),
        st.sampled_from(["AC04", "AM04", "MS03", "FF01"]),
        st.booleans(),
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=STEPS)
def test_whatever_happens_no_award_is_paid_twice_and_the_payments_reconcile(
    steps: list[tuple[str, str, bool]], django_capture_on_commit_callbacks: Any
) -> None:
    fund: Fund = FundFactory(budget=Decimal("5000.00"))
    services.save_payment_settings(
        actor=member_of(fund, FundRole.Role.OPERATOR_ADMIN),
        fund=fund,
        values={
            "file_format": FileFormat.PAIN_001_001_03,
            "debtor_name": "Fund",
            "debtor_iban": "FR7630006000011234567890189",
            "initiating_party": "Fund",
            "remittance_template": "Aide {reference}",
            "csv_columns": [["reference", "end_to_end_id"]],
        },
    )
    first, second = member_of(fund, FundRole.Role.FINANCE), member_of(fund, FundRole.Role.FINANCE)
    approved(fund, 2)
    for step, code, release in steps:
        batch = PaymentBatch.objects.filter(fund=fund).first()  # the latest
        try:
            if step == "approve":
                approved(fund, 1, amount="300.00")
            elif step == "prepare":
                services.prepare_payment_batch(actor=first, fund=fund, selection=Selection())
            elif step == "release" and batch is not None:
                with django_capture_on_commit_callbacks(execute=True):
                    services.release_payment_batch(actor=second, batch=batch)
            elif step == "send" and batch is not None:
                services.mark_batch_sent(actor=first, batch=batch)
            elif step == "cancel" and batch is not None:
                services.cancel_payment_batch(actor=first, batch=batch, note="again")
            elif step in ("confirm", "fail"):
                payment = Payment.objects.filter(fund=fund, status=Payment.Status.SENT).first()
                if payment is not None:
                    report = status_report(
                        payment.batch.reference,
                        [(payment.end_to_end_id, "ACSC" if step == "confirm" else "RJCT", code)],
                        message_id=f"S-{Payment.objects.count()}-{step}-{payment.pk}",
                    )
                    services.import_bank_return(
                        actor=first,
                        fund=fund,
                        file_name="status.xml",
                        content=report,
                        on_failure=OnFailure.RELEASE if release else OnFailure.KEEP,
                    )
            elif step == "fix":
                change = BankDetailsChange.objects.filter(
                    fund=fund, status=BankDetailsChange.Status.REQUESTED
                ).first()
                if change is not None:
                    application = change.application
                    bank_details.change_bank_details(
                        actor=application.applicant,
                        application=application,
                        iban="FR1420041010050500013M02606",
                        bic="",
                        account_holder=application.account_holder,
                    )
                    change.refresh_from_db()
                    bank_details.verify_bank_details(actor=second, change=change)
            elif step == "drop":
                failed = Payment.objects.filter(
                    fund=fund, status=Payment.Status.FAILED, award__status=Award.Status.RESERVED
                ).first()
                if failed is not None:
                    services.release_failed_award(actor=second, payment=failed, note="dropped")
        except DomainError:
            pass  # refused, and refusals change nothing: the invariants still hold
        summary = reconciliation.reconcile(fund)
        assert summary.balanced, [(str(c.label), c.expected, c.actual) for c in summary.checks]
        twice = (
            Payment.objects.filter(fund=fund)
            .values("award_id")
            .annotate(live=Count("pk", filter=Q(status__in=Payment.LIVE)))
            .filter(live__gt=1)
        )
        assert not twice.exists()
        totals = ledger.totals(fund)
        assert Decimal("0.00") <= totals.paid <= totals.committed <= totals.credited
