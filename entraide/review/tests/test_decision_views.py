"""The decision form, four eyes and the budget page, through the views."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import services
from entraide.review.models import Decision, SecondApproval
from entraide.rules.models import ApplicationEvaluation
from entraide.rules.tests.factories import ApplicationEvaluationFactory


def logged_in(client: Client, fund: Fund, role: str) -> Any:
    user = FundRoleFactory(fund=fund, role=role).user
    client.force_login(user)
    return user


def page(application: Application) -> str:
    return reverse(
        "staff_application",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


@pytest.mark.django_db
def test_approving_through_the_form_reserves_the_rules_amount(client: Client) -> None:
    evaluation: ApplicationEvaluation = ApplicationEvaluationFactory(amount=Decimal("900.00"))
    application = evaluation.application
    logged_in(client, application.fund, "reviewer")
    response = client.post(page(application), {"outcome": "approve"}, follow=True)
    assert response.status_code == 200
    assert Decision.objects.get(application=application).amount == Decimal("900.00")
    assert "reserved" in response.content.decode()


@pytest.mark.django_db
def test_a_rejection_offers_the_failed_criteria_and_keeps_what_was_typed(client: Client) -> None:
    evaluation: ApplicationEvaluation = ApplicationEvaluationFactory(
        eligible=False, amount=Decimal("0.00")
    )
    application = evaluation.application
    logged_in(client, application.fund, "reviewer")
    form = client.get(page(application)).content.decode()
    assert 'value="worked"' in form  # the failed criterion, ticked by default
    assert "checked" in form.split('value="worked"')[1].split(">")[0]
    # Refused (the application is being proposed elsewhere): the typed text stays.
    services.approve_application(
        actor=FundRoleFactory(fund=application.fund, role="reviewer").user,
        application=application,
    )
    response = client.post(page(application), {"outcome": "reject", "reason": "Typed with care."})
    assert response.status_code == 200
    assert "Typed with care." in response.content.decode()
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_rejecting_with_a_criterion_tells_the_applicant(client: Client) -> None:
    evaluation: ApplicationEvaluation = ApplicationEvaluationFactory(
        eligible=False, amount=Decimal("0.00")
    )
    application = evaluation.application
    logged_in(client, application.fund, "reviewer")
    response = client.post(page(application), {"outcome": "reject", "reasons": ["worked"]})
    assert response.status_code == 302
    decision = Decision.objects.get(application=application)
    assert (decision.outcome, decision.reasons) == ("rejected", ["worked"])


@pytest.mark.django_db
def test_an_override_waits_for_another_approver_who_confirms_it(client: Client) -> None:
    evaluation: ApplicationEvaluation = ApplicationEvaluationFactory(
        eligible=False, amount=Decimal("0.00")
    )
    application = evaluation.application
    fund = application.fund
    proposer = logged_in(client, fund, "approver")
    client.post(page(application), {"outcome": "approve", "note": "Hardship case."})
    proposal = SecondApproval.objects.get(application=application)
    assert proposal.proposed_by == proposer
    answer = reverse(
        "second_approval_answer",
        kwargs={"slug": fund.slug, "reference": application.reference, "proposal_id": proposal.pk},
    )
    # The proposer sees no confirm button and is refused if they post it anyway.
    assert "Confirm the approval" not in client.get(page(application)).content.decode()
    client.post(answer, {"answer_as": "confirm"})
    proposal.refresh_from_db()
    assert proposal.status == SecondApproval.Status.PENDING
    logged_in(client, fund, "approver")
    assert "Confirm the approval" in client.get(page(application)).content.decode()
    client.post(answer, {"answer_as": "confirm", "answer": "Agreed."})
    decision = Decision.objects.get(application=application)
    assert decision.proposed_by == proposer
    assert ledger.totals(fund).committed == fund.standard_amount


@pytest.mark.django_db
def test_the_budget_page_shows_the_ledger_and_the_operator_funds_the_waiting_list(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    fund: Fund = FundFactory(budget=Decimal("500.00"))
    reviewer = FundRoleFactory(fund=fund, role="reviewer").user
    for application in ApplicationFactory.create_batch(3, fund=fund):
        services.approve_application(actor=reviewer, application=application)
    logged_in(client, fund, "operator_admin")
    url = reverse("fund_budget", kwargs={"slug": fund.slug})
    with django_assert_max_num_queries(14):
        body = client.get(url).content.decode()
    assert "2 approved applications wait for budget" in body
    response = client.post(url, {"amount": "abc", "note": "Second instalment"})
    assert "Second instalment" in response.content.decode()  # kept after the error
    client.post(url, {"amount": "1000.00", "note": "Second instalment"})
    assert ledger.totals(fund).credited == Decimal("1500.00")
    client.post(reverse("fund_waitlist", kwargs={"slug": fund.slug}))
    assert Award.objects.filter(fund=fund, status=Award.Status.RESERVED).count() == 3
    assert not ledger.waiting(fund).exists()


@pytest.mark.django_db
def test_the_ledger_page_stays_a_fixed_number_of_queries(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    fund: Fund = FundFactory(budget=Decimal("100000.00"))
    reviewer = FundRoleFactory(fund=fund, role="reviewer").user
    for application in ApplicationFactory.create_batch(30, fund=fund):
        services.approve_application(actor=reviewer, application=application)
    logged_in(client, fund, "auditor")
    with django_assert_max_num_queries(13):  # as with one entry: no query per row
        response = client.get(reverse("fund_budget", kwargs={"slug": fund.slug}))
    assert response.content.decode().count("Award reserved") == 30
    assert "Credit the budget" not in response.content.decode()  # read only


@pytest.mark.django_db
def test_the_operator_sets_the_award_order_and_the_threshold(client: Client) -> None:
    fund: Fund = FundFactory()
    logged_in(client, fund, "operator_admin")
    url = reverse("budget_rules", kwargs={"slug": fund.slug})
    client.post(url, {"award_order": "submission", "second_approval_above": "-5"})
    fund.refresh_from_db()
    assert (fund.award_order, fund.second_approval_above) == ("review", None)  # refused
    client.post(url, {"award_order": "submission", "second_approval_above": "800"})
    fund.refresh_from_db()
    assert (fund.award_order, fund.second_approval_above) == ("submission", Decimal("800.00"))
    body = client.get(reverse("fund_budget", kwargs={"slug": fund.slug})).content.decode()
    assert 'value="800.00"' in body
