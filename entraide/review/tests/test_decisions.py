from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.review import services
from entraide.review.flags import resolve_flag
from entraide.review.models import Decision
from entraide.review.tests.factories import FlagFactory
from entraide.rules.models import ApplicationEvaluation
from entraide.rules.tests.factories import ApplicationEvaluationFactory, RuleSetVersionFactory


def reviewer_of(fund: Any) -> Any:
    return FundRoleFactory(fund=fund, role="reviewer").user


def operator_of(fund: Any) -> Any:
    return FundRoleFactory(fund=fund, role="operator_admin").user


@pytest.mark.django_db
def test_approval_reserves_the_standard_amount_and_tells_the_applicant(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application: Application = ApplicationFactory()
    fund = application.fund
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.approve_application(actor=reviewer_of(fund), application=application)
    assert outcome.decision is not None
    assert outcome.second_approval is None
    assert outcome.decision.amount == fund.standard_amount
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert ledger.totals(fund).committed == Decimal("500.00")
    assert Award.objects.get(application=application).status == Award.Status.RESERVED
    assert [e.action for e in AuditEvent.objects.order_by("sequence")][-3:] == [
        "award.reserved",
        "decision.recorded",
        "application.status_changed",
    ]
    assert len(mail.outbox) == 1
    assert application.reference in mail.outbox[0].subject


@pytest.mark.django_db
def test_approval_grants_the_rules_amount() -> None:
    evaluation = ApplicationEvaluationFactory(amount=Decimal("900.00"))
    application = evaluation.application
    outcome = services.approve_application(
        actor=reviewer_of(application.fund), application=application
    )
    assert outcome.decision is not None
    assert outcome.decision.amount == Decimal("900.00")
    assert outcome.decision.rule_version == evaluation.version


@pytest.mark.django_db
def test_rejection_needs_criteria_or_a_reason_and_grants_nothing() -> None:
    evaluation = ApplicationEvaluationFactory(eligible=False, amount=Decimal("0.00"))
    application = evaluation.application
    reviewer = reviewer_of(application.fund)
    with pytest.raises(ValidationFailed) as refused:
        services.reject_application(actor=reviewer, application=application)
    assert refused.value.field == "reason"
    with pytest.raises(ValidationFailed) as unknown:
        services.reject_application(actor=reviewer, application=application, reasons=["nope"])
    assert unknown.value.field == "reasons"
    decision = services.reject_application(
        actor=reviewer, application=application, reasons=["worked"], reason="See the rules."
    )
    assert (decision.outcome, decision.amount, decision.reasons) == ("rejected", 0, ["worked"])
    assert ledger.totals(application.fund).committed == 0


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["finance", "auditor", "operator_admin"])
def test_roles_without_the_decide_capability_cannot_decide(role: str) -> None:
    application = ApplicationFactory()
    staff = FundRoleFactory(fund=application.fund, role=role).user
    with pytest.raises(PermissionDenied):
        services.approve_application(actor=staff, application=application)
    with pytest.raises(PermissionDenied):
        services.reject_application(actor=staff, application=application, reason="No.")
    with pytest.raises(PermissionDenied):
        services.waitlist_application(actor=staff, application=application)
    assert not Decision.objects.exists()
    assert not Award.objects.exists()


@pytest.mark.django_db
def test_a_reviewer_of_another_fund_cannot_decide() -> None:
    application = ApplicationFactory()
    with pytest.raises(PermissionDenied):
        services.approve_application(actor=reviewer_of(FundFactory()), application=application)


@pytest.mark.django_db
def test_an_application_is_decided_once() -> None:
    application = ApplicationFactory()
    reviewer = reviewer_of(application.fund)
    services.approve_application(actor=reviewer, application=application)
    with pytest.raises(InvalidTransition):
        services.approve_application(actor=reviewer, application=application)
    with pytest.raises(InvalidTransition):
        services.reject_application(actor=reviewer, application=application, reason="No.")
    assert Decision.objects.count() == 1
    assert Award.objects.count() == 1


# -- the budget and its waiting list -------------------------------------------------------


@pytest.mark.django_db
def test_approvals_beyond_the_budget_wait_in_order_and_a_top_up_funds_them(
    django_capture_on_commit_callbacks: Any,
) -> None:
    fund = FundFactory(budget=Decimal("900.00"))
    reviewer, operator = reviewer_of(fund), operator_of(fund)
    first, second, third, fourth = ApplicationFactory.create_batch(4, fund=fund)
    services.approve_application(actor=reviewer, application=first)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = services.approve_application(actor=reviewer, application=second)
    assert waiting.decision is None
    assert waiting.award is not None
    assert waiting.award.status == Award.Status.WAITLISTED
    second.refresh_from_db()
    assert second.status == Application.Status.WAITLISTED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [second.email]
    # 400 are left: a smaller approval would fit, but it waits behind the one before it.
    ApplicationEvaluationFactory(application=third, amount=Decimal("100.00"))
    behind = services.approve_application(actor=reviewer, application=third)
    assert behind.award is not None
    assert behind.award.status == Award.Status.WAITLISTED
    ApplicationEvaluationFactory(application=fourth, amount=Decimal("500.00"))
    services.approve_application(actor=reviewer, application=fourth)
    assert ledger.totals(fund).left == Decimal("400.00")
    assert list(ledger.waiting(fund).values_list("application", flat=True)) == [
        second.pk,
        third.pk,
        fourth.pk,
    ]
    assert ledger.waitlist_offer(fund).count == 0  # 500 do not fit in 400

    ledger.credit_budget(actor=operator, fund=fund, amount=Decimal("300.00"))
    offer = ledger.waitlist_offer(fund)
    assert (offer.waiting, offer.count, offer.total) == (3, 2, Decimal("600.00"))
    decisions = services.fund_waitlist(actor=operator, fund=fund)
    assert [d.application_id for d in decisions] == [second.pk, third.pk]
    assert all(d.decided_by == reviewer for d in decisions)
    assert ledger.totals(fund).left == Decimal("100.00")
    assert list(ledger.waiting(fund).values_list("application", flat=True)) == [fourth.pk]
    second.refresh_from_db()
    assert second.status == Application.Status.APPROVED


@pytest.mark.django_db
def test_first_come_first_served_waits_in_submission_order() -> None:
    fund = FundFactory(budget=Decimal("0.00"), award_order=Fund.AwardOrder.SUBMISSION)
    reviewer = reviewer_of(fund)
    start = dt.datetime(2020, 9, 16, 9, tzinfo=dt.UTC)
    early, late, middle = (
        ApplicationFactory(fund=fund, submitted_at=start + dt.timedelta(hours=hours))
        for hours in (0, 5, 2)
    )
    for application in (late, middle, early):  # reviewed in another order
        services.approve_application(actor=reviewer, application=application)
    assert list(ledger.waiting(fund).values_list("application", flat=True)) == [
        early.pk,
        middle.pk,
        late.pk,
    ]
    ledger.credit_budget(actor=operator_of(fund), fund=fund, amount=Decimal("1000.00"))
    funded = services.fund_waitlist(actor=operator_of(fund), fund=fund)
    assert [d.application_id for d in funded] == [early.pk, middle.pk]
    # 500 more, not funded yet: an approval of an application submitted before the one still
    # waiting takes them first.
    ledger.credit_budget(actor=operator_of(fund), fund=fund, amount=Decimal("500.00"))
    first_come = ApplicationFactory(fund=fund, submitted_at=start + dt.timedelta(hours=4))
    outcome = services.approve_application(actor=reviewer, application=first_come)
    assert outcome.decision is not None
    assert list(ledger.waiting(fund).values_list("application", flat=True)) == [late.pk]


@pytest.mark.django_db
def test_a_reviewer_may_put_an_application_on_the_waiting_list_by_hand() -> None:
    application = ApplicationFactory()
    reviewer = reviewer_of(application.fund)
    award = services.waitlist_application(actor=reviewer, application=application)
    assert award.status == Award.Status.WAITLISTED
    assert ledger.totals(application.fund).committed == 0
    with pytest.raises(InvalidTransition):
        services.approve_application(actor=reviewer, application=application)
    # Rejected afterwards: the waiting award is taken off the list, no money moves.
    services.reject_application(actor=reviewer, application=application, reason="Duplicate.")
    award.refresh_from_db()
    assert award.status == Award.Status.RELEASED
    assert ledger.totals(application.fund).committed == 0
    assert not ledger.waiting(application.fund).exists()


@pytest.mark.django_db
def test_only_the_operator_tops_up_and_funds_the_waiting_list() -> None:
    fund = FundFactory()
    for role in ("reviewer", "approver", "finance", "auditor"):
        staff = FundRoleFactory(fund=fund, role=role).user
        with pytest.raises(PermissionDenied):
            ledger.credit_budget(actor=staff, fund=fund, amount=Decimal("1.00"))
        with pytest.raises(PermissionDenied):
            services.fund_waitlist(actor=staff, fund=fund)
    with pytest.raises(ValidationFailed):
        ledger.credit_budget(actor=operator_of(fund), fund=fund, amount=Decimal("0.00"))


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    budget=st.decimals(min_value=0, max_value=5000, places=2),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["approve", "top_up", "reject_waiting", "fund"]),
            st.decimals(min_value="0.01", max_value=2000, places=2),
        ),
        max_size=10,
    ),
)
def test_the_budget_is_never_overspent_and_the_ledger_adds_up(
    budget: Decimal, steps: list[tuple[str, Decimal]]
) -> None:
    fund: Fund = FundFactory(budget=budget)
    reviewer, operator = reviewer_of(fund), operator_of(fund)
    for step, amount in steps:
        if step == "approve":  # at the rules' amount
            evaluation = ApplicationEvaluationFactory(application__fund=fund, amount=amount)
            services.approve_application(actor=reviewer, application=evaluation.application)
        elif step == "top_up":
            ledger.credit_budget(actor=operator, fund=fund, amount=amount)
        elif step == "reject_waiting" and (award := ledger.waiting(fund).first()) is not None:
            services.reject_application(
                actor=reviewer, application=award.application, reason="Duplicate."
            )
        elif step == "fund":
            services.fund_waitlist(actor=operator, fund=fund)
        totals = ledger.totals(fund)
        reserved = sum(
            Award.objects.filter(fund=fund, status=Award.Status.RESERVED).values_list(
                "amount", flat=True
            ),
            Decimal("0.00"),
        )
        assert totals.committed == reserved
        assert Decimal("0.00") <= totals.committed <= totals.credited
        if step == "fund":  # funded up to the first that does not fit
            first = ledger.waiting(fund).first()
            assert first is None or first.amount > totals.left


# -- what a reviewer must look at before money moves -------------------------------------------


@pytest.mark.django_db
def test_an_open_flag_stops_the_approval_until_it_is_resolved() -> None:
    flag = FlagFactory()
    application = flag.application
    reviewer = reviewer_of(application.fund)
    with pytest.raises(services.FlagsOpen):
        services.approve_application(actor=reviewer, application=application)
    resolve_flag(actor=reviewer, flag=flag, resolution="Checked with the employer.")
    assert services.approve_application(actor=reviewer, application=application).decision


@pytest.mark.django_db
def test_without_an_evaluation_under_published_rules_one_person_cannot_approve() -> None:
    fund: Fund = FundFactory()
    RuleSetVersionFactory(rule_set__fund=fund)
    application = ApplicationFactory(fund=fund)
    outcome = services.approve_application(actor=reviewer_of(fund), application=application)
    assert outcome.second_approval is not None
    assert outcome.second_approval.grounds == ["override"]


@pytest.mark.django_db
def test_one_award_per_person_in_the_programme_when_the_rules_say_so() -> None:
    programme = ProgrammeFactory()
    first_fund: Fund = FundFactory(programme=programme)
    second_fund: Fund = FundFactory(programme=programme)
    first = ApplicationFactory(fund=first_fund)
    second = ApplicationFactory(fund=second_fund, nir=first.nir)
    approver = reviewer_of(first_fund)
    ledger.place_award(
        actor=approver,
        fund=first_fund,
        application=first,
        amount=Decimal("500.00"),
        one_per_programme=True,
    )
    with pytest.raises(ledger.AlreadyAwarded):
        ledger.place_award(
            actor=approver,
            fund=second_fund,
            application=second,
            amount=Decimal("500.00"),
            one_per_programme=True,
        )
    # Rules that allow one award per fund only: the second fund may award the same person.
    other = ledger.place_award(
        actor=approver, fund=second_fund, application=second, amount=Decimal("500.00")
    )
    assert other.programme is None


@pytest.mark.django_db
def test_a_funded_waiting_award_is_decided_as_it_was_approved() -> None:
    evaluation: ApplicationEvaluation = ApplicationEvaluationFactory(
        eligible=False, amount=Decimal("0.00"), application__fund__budget=Decimal("0.00")
    )
    application = evaluation.application
    fund = application.fund
    reviewer = reviewer_of(fund)
    approver = FundRoleFactory(fund=fund, role="approver").user
    proposal = services.approve_application(actor=reviewer, application=application)
    assert proposal.second_approval is not None
    waiting = services.confirm_second_approval(
        actor=approver, second_approval=proposal.second_approval
    )
    assert waiting.award is not None
    assert waiting.award.status == Award.Status.WAITLISTED
    # The rules change meanwhile; the operator then funds the waiting list.
    evaluation.is_current = False
    evaluation.save()
    ApplicationEvaluationFactory(application=application, amount=Decimal("900.00"))
    operator = operator_of(fund)
    ledger.credit_budget(actor=operator, fund=fund, amount=Decimal("1000.00"))
    [decision] = services.fund_waitlist(actor=operator, fund=fund)
    assert (decision.decided_by, decision.proposed_by) == (approver, reviewer)
    assert decision.rule_version == evaluation.version
    assert decision.amount == fund.standard_amount
