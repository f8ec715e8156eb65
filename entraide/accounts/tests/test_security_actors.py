"""Every back-office action is a person's: the audit events a back-office POST writes name the
person logged in, nobody acts anonymously, and commands act as a named, active account."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from entraide.accounts.models import User
from entraide.accounts.selectors import command_actor
from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundRoleFactory
from entraide.payments.models import PaymentBatch
from entraide.payments.tests.factories import PaymentSettingsFactory
from entraide.review.models import Decision, SecondApproval
from entraide.rules.models import ApplicationEvaluation
from entraide.rules.tests.factories import ApplicationEvaluationFactory

pytestmark = pytest.mark.django_db
Role = FundRole.Role


def last_sequence() -> int:
    return AuditEvent.objects.aggregate(last=Max("sequence"))["last"] or 0


def post_as(client: Client, person: User, url: str, data: dict[str, Any]) -> list[AuditEvent]:
    """POST as ``person``; the audit events it wrote (its transaction's: the tests' database
    never commits, so no follow-up task of the worker runs)."""
    client.force_login(person)
    before = last_sequence()
    response = client.post(url, data)
    assert response.status_code == 302, (url, response.status_code)
    events = list(AuditEvent.objects.filter(sequence__gt=before).order_by("sequence"))
    assert events, url
    return events


def test_every_event_of_an_approval_and_its_payment_names_who_acted(client: Client) -> None:
    """A grant from the decision to the release of its payment, four eyes at both ends."""
    evaluation: ApplicationEvaluation = ApplicationEvaluationFactory(amount=Decimal("900.00"))
    application = evaluation.application
    fund = application.fund
    PaymentSettingsFactory(fund=fund)
    reviewer, approver, preparer, releaser = (
        FundRoleFactory(fund=fund, role=role).user
        for role in (Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.FINANCE)
    )
    page = reverse("staff_application", args=[fund.slug, application.reference])
    steps: list[tuple[User, list[AuditEvent]]] = []

    # Another amount than the rules': a proposal, confirmed by an approver.
    steps.append(
        (reviewer, post_as(client, reviewer, page, {"outcome": "approve", "amount": "700.00"}))
    )
    proposal = SecondApproval.objects.get(application=application)
    answer = reverse("second_approval_answer", args=[fund.slug, application.reference, proposal.pk])
    steps.append((approver, post_as(client, approver, answer, {"answer_as": "confirm"})))
    assert Decision.objects.get(application=application).amount == Decimal("700.00")
    # Finance prepares the batch, another person of finance releases it.
    overview = reverse("payments_overview", args=[fund.slug])
    criteria = {"approved_until": "", "up_to_amount": "", "limit": ""}
    steps.append((preparer, post_as(client, preparer, overview, criteria)))
    batch = PaymentBatch.objects.get()
    release = reverse("payment_batch_release", args=[fund.slug, batch.reference])
    steps.append((releaser, post_as(client, releaser, release, {"execution_date": ""})))
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.RELEASED

    for person, events in steps:
        for event in events:
            assert event.actor == person, (event.action, event.actor)
            assert event.actor_label, event.action
    actions = {event.action for _person, events in steps for event in events}
    assert len(actions) >= 4, actions


def test_nobody_acts_in_the_back_office_without_logging_in() -> None:
    evaluation = ApplicationEvaluationFactory(amount=Decimal("900.00"))
    fund = evaluation.application.fund
    PaymentSettingsFactory(fund=fund)
    anonymous = Client()
    before = last_sequence()
    for url, data in [
        (
            reverse("staff_application", args=[fund.slug, evaluation.application.reference]),
            {"outcome": "approve"},
        ),
        (reverse("payments_overview", args=[fund.slug]), {"limit": ""}),
        (reverse("fund_waitlist", args=[fund.slug]), {}),
    ]:
        response = anonymous.post(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url
    assert last_sequence() == before
    assert not Decision.objects.exists()


@pytest.mark.parametrize("email", ["nobody@fund.example", "gone@fund.example"])
def test_commands_act_only_as_an_active_account(email: str) -> None:
    UserFactory(email="gone@fund.example", is_active=False)
    active = UserFactory(email="clerk@fund.example")
    assert command_actor(" Clerk@Fund.example ") == active
    with pytest.raises(CommandError, match="no active account"):
        command_actor(email)
