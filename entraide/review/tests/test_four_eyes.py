"""Four eyes: approvals against the rules, with another amount or above the fund's threshold
wait for a second person with the approver role, who cannot be the first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError

from entraide.applications.models import Application
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.funds import ledger
from entraide.funds.tests.factories import FundRoleFactory
from entraide.review import services
from entraide.review.assignments import claim
from entraide.review.models import SecondApproval
from entraide.rules.models import ApplicationEvaluation
from entraide.rules.tests.factories import ApplicationEvaluationFactory


def staff(fund: Any, role: str) -> Any:
    return FundRoleFactory(fund=fund, role=role).user


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("eligible", "amount", "threshold", "grounds"),
    [
        (False, None, None, ["override"]),
        (True, Decimal("700.00"), None, ["amount_changed"]),
        (True, None, Decimal("800.00"), ["above_threshold"]),
        (False, Decimal("2000.00"), Decimal("800.00"), ["override", "above_threshold"]),
    ],
)
def test_approvals_that_need_a_second_approver_are_proposed(
    eligible: bool, amount: Decimal | None, threshold: Decimal | None, grounds: list[str]
) -> None:
    evaluation = ApplicationEvaluationFactory(
        eligible=eligible, amount=Decimal("900.00") if eligible else Decimal("0.00")
    )
    application = evaluation.application
    application.fund.second_approval_above = threshold
    application.fund.save()
    outcome = services.approve_application(
        actor=staff(application.fund, "reviewer"), application=application, amount=amount
    )
    assert outcome.decision is None
    assert outcome.award is None
    assert outcome.second_approval is not None
    assert outcome.second_approval.grounds == grounds
    application.refresh_from_db()
    assert application.status == Application.Status.UNDER_REVIEW
    assert ledger.totals(application.fund).committed == 0


@pytest.mark.django_db
def test_the_rules_amount_needs_one_person() -> None:
    evaluation = ApplicationEvaluationFactory(amount=Decimal("900.00"))
    outcome = services.approve_application(
        actor=staff(evaluation.application.fund, "reviewer"),
        application=evaluation.application,
        amount=Decimal("900.00"),
    )
    assert outcome.decision is not None
    assert outcome.second_approval is None


@pytest.mark.django_db
def test_a_range_of_the_rules_allows_any_amount_within_it() -> None:
    evaluation: ApplicationEvaluation = ApplicationEvaluationFactory(amount=Decimal("1000.00"))
    evaluation.result["amount_range"] = ["500.00", "1500.00"]
    evaluation.save()
    application = evaluation.application
    reviewer = staff(application.fund, "reviewer")
    within = services.approve_application(
        actor=reviewer, application=application, amount=Decimal("1200.00")
    )
    assert within.decision is not None
    assert within.decision.amount == Decimal("1200.00")
    other: ApplicationEvaluation = ApplicationEvaluationFactory(
        application__fund=application.fund, amount=Decimal("1000.00")
    )
    other.result["amount_range"] = ["500.00", "1500.00"]
    other.save()
    beyond = services.approve_application(
        actor=reviewer, application=other.application, amount=Decimal("1600.00")
    )
    assert beyond.second_approval is not None
    assert beyond.second_approval.grounds == ["amount_changed"]


@pytest.mark.django_db
def test_the_second_approver_cannot_be_the_first() -> None:
    evaluation = ApplicationEvaluationFactory(eligible=False, amount=Decimal("0.00"))
    application = evaluation.application
    approver = staff(application.fund, "approver")
    proposal = services.approve_application(actor=approver, application=application)
    assert proposal.second_approval is not None
    with pytest.raises(services.SameSecondApprover):
        services.confirm_second_approval(actor=approver, second_approval=proposal.second_approval)
    # The database refuses it too, whatever the code path.
    proposal.second_approval.answered_by = approver
    with pytest.raises(IntegrityError):
        proposal.second_approval.save()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["reviewer", "operator_admin", "finance", "auditor"])
def test_only_an_approver_confirms(role: str) -> None:
    evaluation = ApplicationEvaluationFactory(eligible=False, amount=Decimal("0.00"))
    application = evaluation.application
    proposal = services.approve_application(
        actor=staff(application.fund, "reviewer"), application=application
    ).second_approval
    assert proposal is not None
    with pytest.raises(PermissionDenied):
        services.confirm_second_approval(
            actor=staff(application.fund, role), second_approval=proposal
        )


@pytest.mark.django_db
def test_a_confirmed_approval_records_both_people_and_reserves_the_award() -> None:
    evaluation = ApplicationEvaluationFactory(eligible=False, amount=Decimal("0.00"))
    application = evaluation.application
    reviewer, approver = staff(application.fund, "reviewer"), staff(application.fund, "approver")
    proposal = services.approve_application(
        actor=reviewer, application=application, amount=Decimal("700.00"), note="Hardship."
    ).second_approval
    assert proposal is not None
    with pytest.raises(services.SecondApprovalPending):
        services.approve_application(actor=reviewer, application=application)
    outcome = services.confirm_second_approval(
        actor=approver, second_approval=proposal, answer="Agreed."
    )
    assert outcome.decision is not None
    assert (outcome.decision.decided_by, outcome.decision.proposed_by) == (approver, reviewer)
    assert outcome.decision.amount == Decimal("700.00")
    assert ledger.totals(application.fund).committed == Decimal("700.00")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.answered_by) == ("confirmed", approver)


@pytest.mark.django_db
def test_a_refused_or_withdrawn_proposal_leaves_the_application_to_decide_again() -> None:
    evaluation = ApplicationEvaluationFactory(eligible=False, amount=Decimal("0.00"))
    application = evaluation.application
    reviewer, approver = staff(application.fund, "reviewer"), staff(application.fund, "approver")
    first = services.approve_application(actor=reviewer, application=application)
    assert first.second_approval is not None
    with pytest.raises(ValidationFailed):
        services.refuse_second_approval(
            actor=approver, second_approval=first.second_approval, answer=" "
        )
    services.refuse_second_approval(
        actor=approver, second_approval=first.second_approval, answer="Not eligible."
    )
    second = services.approve_application(actor=reviewer, application=application)
    assert second.second_approval is not None
    with pytest.raises(PermissionDenied):  # only its author withdraws it
        services.withdraw_second_approval(actor=approver, second_approval=second.second_approval)
    services.withdraw_second_approval(actor=reviewer, second_approval=second.second_approval)
    statuses = list(SecondApproval.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["refused", "withdrawn"]
    decision = services.reject_application(actor=reviewer, application=application, reason="No.")
    assert decision.outcome == "rejected"


@pytest.mark.django_db
def test_the_proposers_review_lock_does_not_stop_the_second_approver() -> None:
    evaluation = ApplicationEvaluationFactory(eligible=False, amount=Decimal("0.00"))
    application = evaluation.application
    reviewer, approver = staff(application.fund, "reviewer"), staff(application.fund, "approver")
    claim(actor=reviewer, application=application)
    proposal = services.approve_application(actor=reviewer, application=application)
    assert proposal.second_approval is not None
    outcome = services.confirm_second_approval(
        actor=approver, second_approval=proposal.second_approval
    )
    assert outcome.decision is not None
