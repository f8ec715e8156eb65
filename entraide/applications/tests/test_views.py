"""The applicant portal: public pages and the applicant's own pages (applying in steps is in
test_portal_flow.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.tests.factories import FundFactory
from entraide.review.models import Decision


@pytest.fixture
def applicant(client: Client, db: None) -> Any:
    user = UserFactory.create()
    client.force_login(user)
    return user


# --------------------------------------------------------------------------------------------
# The applicant's own pages
# --------------------------------------------------------------------------------------------


def test_an_applicant_gets_404_on_another_applicants_application(
    client: Client, applicant: Any
) -> None:
    someone_elses = ApplicationFactory.create()

    response = client.get(
        reverse("application_status", kwargs={"reference": someone_elses.reference})
    )

    assert response.status_code == 404
    assert someone_elses.last_name not in response.content.decode()


def test_the_status_page_shows_the_decision(client: Client, applicant: Any) -> None:
    application = ApplicationFactory.create(applicant=applicant, status=Application.Status.REJECTED)
    Decision.objects.create(
        application=application,
        fund=application.fund,
        outcome=Decision.Outcome.REJECTED,
        currency="EUR",
        reason="Resources above the ceiling.",
        decided_by=UserFactory.create(),
        decided_at=timezone.now(),
    )

    response = client.get(
        reverse("application_status", kwargs={"reference": application.reference})
    )

    html = response.content.decode()
    assert "Your application was not approved." in html
    assert "Resources above the ceiling." in html


def test_my_applications_lists_only_mine(client: Client, applicant: Any) -> None:
    mine = ApplicationFactory.create(applicant=applicant)
    ApplicationFactory.create()

    response = client.get(reverse("my_applications"))

    assert list(response.context["applications"]) == [mine]


@pytest.mark.parametrize("n_applications", [1, 30])
def test_my_applications_uses_a_fixed_number_of_queries(
    client: Client, applicant: Any, django_assert_max_num_queries: Any, n_applications: int
) -> None:
    ApplicationFactory.create_batch(n_applications, applicant=applicant)  # one fund each

    with django_assert_max_num_queries(7):
        response = client.get(reverse("my_applications"))

    assert response.status_code == 200
    assert len(response.context["applications"]) == n_applications


# --------------------------------------------------------------------------------------------
# Public pages
# --------------------------------------------------------------------------------------------


def test_the_home_page_lists_the_funds_not_closed_yet(client: Client, db: None) -> None:
    today = timezone.now().date()
    open_fund = FundFactory.create(name="Open fund")
    FundFactory.create(
        name="Closed fund",
        opens_on=today - dt.timedelta(days=60),
        closes_on=today - dt.timedelta(days=10),
    )

    response = client.get(reverse("home"))

    assert list(response.context["funds"]) == [open_fund]
    assert "Closed fund" not in response.content.decode()


@pytest.mark.parametrize("n_funds", [2, 30])
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
def test_the_home_page_uses_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n_funds: int, logged_in: bool
) -> None:
    FundFactory.create_batch(n_funds)
    if logged_in:
        client.force_login(UserFactory.create())

    # Anonymous: the funds only. Logged in: also the session, the user, and whether to show
    # the back-office link (permissions and roles).
    with django_assert_max_num_queries(6 if logged_in else 1):
        response = client.get(reverse("home"))

    assert response.status_code == 200
    assert len(response.context["funds"]) == n_funds


def test_an_unknown_fund_is_a_404(client: Client, db: None) -> None:
    assert client.get(reverse("fund_page", kwargs={"slug": "no-such-fund"})).status_code == 404
