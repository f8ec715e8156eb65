from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review.models import Decision
from entraide.review.selectors import budget_left, committed_total
from entraide.review.services import BudgetExceeded, record_decision


def reviewer_of(fund: Any) -> Any:
    return FundRoleFactory(fund=fund, role="reviewer").user


@pytest.mark.django_db
def test_approval_grants_the_standard_amount_and_tells_the_applicant(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = ApplicationFactory()
    fund = application.fund
    with django_capture_on_commit_callbacks(execute=True):
        decision = record_decision(
            actor=reviewer_of(fund), application=application, outcome="approved"
        )
    assert decision.amount == fund.standard_amount
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert committed_total(fund) == Decimal("500.00")
    assert [e.action for e in AuditEvent.objects.order_by("sequence")] == [
        "decision.recorded",
        "application.status_changed",
    ]
    assert len(mail.outbox) == 1
    assert application.reference in mail.outbox[0].subject


@pytest.mark.django_db
def test_rejection_needs_a_reason_and_grants_nothing() -> None:
    application = ApplicationFactory()
    reviewer = reviewer_of(application.fund)
    with pytest.raises(ValidationFailed) as refused:
        record_decision(actor=reviewer, application=application, outcome="rejected")
    assert refused.value.field == "reason"
    decision = record_decision(
        actor=reviewer, application=application, outcome="rejected", reason="Rights still open."
    )
    assert decision.amount == 0
    assert committed_total(application.fund) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["finance", "auditor", "operator_admin"])
def test_roles_without_the_decide_capability_cannot_decide(role: str) -> None:
    application = ApplicationFactory()
    staff = FundRoleFactory(fund=application.fund, role=role).user
    with pytest.raises(PermissionDenied):
        record_decision(actor=staff, application=application, outcome="approved")
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_a_reviewer_of_another_fund_cannot_decide() -> None:
    application = ApplicationFactory()
    with pytest.raises(PermissionDenied):
        record_decision(
            actor=reviewer_of(FundFactory()), application=application, outcome="approved"
        )


@pytest.mark.django_db
def test_an_application_is_decided_once() -> None:
    application = ApplicationFactory()
    reviewer = reviewer_of(application.fund)
    record_decision(actor=reviewer, application=application, outcome="approved")
    with pytest.raises(InvalidTransition):
        record_decision(actor=reviewer, application=application, outcome="approved")
    assert Decision.objects.count() == 1


@pytest.mark.django_db
def test_approval_beyond_the_budget_is_refused() -> None:
    fund = FundFactory(budget=Decimal("900.00"))
    reviewer = reviewer_of(fund)
    first, second = ApplicationFactory.create_batch(2, fund=fund)
    record_decision(actor=reviewer, application=first, outcome="approved")
    with pytest.raises(BudgetExceeded):
        record_decision(actor=reviewer, application=second, outcome="approved")
    assert budget_left(fund) == Decimal("400.00")
    second.refresh_from_db()
    assert second.status == Application.Status.RECEIVED


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    budget=st.decimals(min_value=0, max_value=5000, places=2),
    amounts=st.lists(st.decimals(min_value="0.01", max_value=2000, places=2), max_size=8),
)
def test_budget_is_never_overspent(budget: Decimal, amounts: list[Decimal]) -> None:
    fund = FundFactory(budget=budget)
    reviewer = reviewer_of(fund)
    approved = Decimal("0.00")
    for amount in amounts:
        application = ApplicationFactory(fund=fund)
        try:
            record_decision(
                actor=reviewer, application=application, outcome="approved", amount=amount
            )
        except BudgetExceeded:
            assert approved + amount > budget
        else:
            approved += amount
        assert committed_total(fund) == approved <= budget
        assert budget_left(fund) >= 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_overspend_the_budget() -> None:
    """Two reviewers approve at the same instant with room for only one grant."""
    fund = FundFactory(budget=Decimal("500.00"))
    applications = ApplicationFactory.create_batch(2, fund=fund)
    reviewers = [reviewer_of(fund), reviewer_of(fund)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(index: int) -> None:
        barrier.wait()
        try:
            record_decision(
                actor=reviewers[index], application=applications[index], outcome="approved"
            )
            outcomes.append("approved")
        except BudgetExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "refused"]
    assert committed_total(fund) == Decimal("500.00")
