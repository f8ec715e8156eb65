"""Input that must not break the back office, and rules found by the code reviews."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.keyset import decode_cursor, encode_cursor
from entraide.funds import ledger
from entraide.funds.models import Fund
from entraide.funds.services import update_budget_rules
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import assignments, services
from entraide.review.models import Assignment
from entraide.review.tests.factories import FlagFactory
from entraide.rules.tests.factories import ApplicationEvaluationFactory


def test_cursors_typed_by_hand_are_ignored() -> None:
    assert decode_cursor(encode_cursor(["Dupont", 4]), [str, int]) == ["Dupont", 4]
    nested = base64.urlsafe_b64encode(b"[" * 3000).decode()
    assert decode_cursor(nested, [str]) is None  # too long, and too deep for json
    assert decode_cursor(encode_cursor(["a\x00b", 1]), [str, int]) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["page=²", "page=" + "9" * 5000, "sort=name&after=" + "A" * 600, "after=%00"]
)
def test_malformed_list_addresses_show_the_list(client: Client, query: str) -> None:
    fund: Fund = FundFactory()
    ApplicationFactory(fund=fund)
    client.force_login(FundRoleFactory(fund=fund, role="reviewer").user)
    url = reverse("application_list", kwargs={"slug": fund.slug})
    assert client.get(f"{url}?{query}").status_code == 200


@pytest.mark.django_db
def test_a_short_hyphenated_name_is_found(client: Client) -> None:
    fund: Fund = FundFactory()
    application: Application = ApplicationFactory(
        fund=fund, first_name="Nadia", last_name="Al-Fayed"
    )
    client.force_login(FundRoleFactory(fund=fund, role="reviewer").user)
    url = reverse("application_list", kwargs={"slug": fund.slug})
    assert application.reference in client.get(f"{url}?q=AL-FAYED").content.decode()


@pytest.mark.django_db
def test_a_reviewer_takes_only_applications_nobody_has() -> None:
    fund: Fund = FundFactory()
    mine, colleagues = ApplicationFactory.create_batch(2, fund=fund)
    me = FundRoleFactory(fund=fund, role="reviewer").user
    colleague = FundRoleFactory(fund=fund, role="reviewer").user
    manager = FundRoleFactory(fund=fund, role="operator_admin").user
    assignments.assign(
        actor=manager, fund=fund, application_ids=[colleagues.pk], reviewer=colleague
    )
    taken = assignments.assign(
        actor=me, fund=fund, application_ids=[mine.pk, colleagues.pk], reviewer=me
    )
    assert taken == 1
    assert Assignment.objects.get(application=colleagues).reviewer == colleague


@pytest.mark.django_db
def test_a_bulk_approval_with_a_total_that_is_not_a_number_shows_the_summary(
    client: Client,
) -> None:
    fund: Fund = FundFactory()
    client.force_login(FundRoleFactory(fund=fund, role="approver").user)
    url = reverse("bulk_approval", kwargs={"slug": fund.slug})
    assert client.post(url, {"count": "0", "total": "sNaN"}).status_code == 200


@pytest.mark.django_db
def test_a_flag_raised_after_the_proposal_stops_its_confirmation() -> None:
    evaluation = ApplicationEvaluationFactory(eligible=False, amount=Decimal("0.00"))
    application: Application = evaluation.application
    reviewer = FundRoleFactory(fund=application.fund, role="reviewer").user
    approver = FundRoleFactory(fund=application.fund, role="approver").user
    proposal = services.approve_application(actor=reviewer, application=application)
    assert proposal.second_approval is not None
    FlagFactory(application=application)
    with pytest.raises(services.FlagsOpen):
        services.confirm_second_approval(actor=approver, second_approval=proposal.second_approval)


@pytest.mark.django_db
def test_switching_to_first_come_first_served_requeues_those_waiting() -> None:
    fund: Fund = FundFactory(budget=Decimal("0.00"))
    reviewer = FundRoleFactory(fund=fund, role="reviewer").user
    operator = FundRoleFactory(fund=fund, role="operator_admin").user
    start = dt.datetime(2020, 9, 16, 9, tzinfo=dt.UTC)
    late = ApplicationFactory(fund=fund, submitted_at=start + dt.timedelta(hours=5))
    early = ApplicationFactory(fund=fund, submitted_at=start)
    for application in (late, early):  # approved in this order: waiting in this order
        services.approve_application(actor=reviewer, application=application)
    update_budget_rules(
        actor=operator, fund=fund, award_order="submission", second_approval_above=None
    )
    assert list(ledger.waiting(fund).values_list("application", flat=True)) == [
        early.pk,
        late.pk,
    ]
