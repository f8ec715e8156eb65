"""The applicant portal: public pages, the application form, the applicant's own pages."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.demo.synthetic import make_nir
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.review.models import Decision

BIRTH_DATE = dt.date(1988, 11, 23)
NIR = make_nir(random.Random(42), BIRTH_DATE, 2)


@pytest.fixture
def fund(db: None) -> Fund:
    return FundFactory.create(slug="open-fund")


@pytest.fixture
def applicant(client: Client, db: None) -> Any:
    user = UserFactory.create()
    client.force_login(user)
    return user


def apply_url(fund: Fund) -> str:
    return reverse("apply", kwargs={"slug": fund.slug})


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "idempotency_key": str(uuid.uuid4()),
        # Typed as on the card, with spaces.
        "nir": f"{NIR[0]} {NIR[1:3]} {NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}",
        "first_name": "Camille",
        "last_name": "Rivière",
        "birth_date": BIRTH_DATE.isoformat(),
        "profession": "technician",
        "annual_resources": "13250.50",
        "consent": "on",
    }
    data.update(overrides)
    return data


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------


def test_the_application_form_carries_a_fresh_submission_key(
    client: Client, fund: Fund, applicant: Any
) -> None:
    first = client.get(apply_url(fund)).context["form"].initial["idempotency_key"]
    second = client.get(apply_url(fund)).context["form"].initial["idempotency_key"]

    assert isinstance(first, uuid.UUID)
    assert first != second


def test_a_valid_application_redirects_to_its_status_page_and_sends_a_receipt(
    client: Client, fund: Fund, applicant: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(apply_url(fund), form_data())

    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "application_status", kwargs={"reference": application.reference}
    )
    assert application.applicant == applicant
    assert application.fund == fund
    assert application.nir == NIR
    assert application.annual_resources == Decimal("13250.50")
    assert application.status == Application.Status.RECEIVED
    assert [message.to for message in mail.outbox] == [[applicant.email]]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert application.reference in page.content.decode()


def test_an_invalid_social_security_number_is_shown_on_its_field_keeping_what_was_typed(
    client: Client, fund: Fund, applicant: Any
) -> None:
    wrong_key = NIR[:13] + f"{(int(NIR[13:]) % 97) + 1:02d}"
    data = form_data(nir=wrong_key)

    response = client.post(apply_url(fund), data)

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["nir"]
    html = response.content.decode()
    assert 'id="id_nir_error"' in html
    assert "This social security number is not valid" in html
    assert f'value="{wrong_key}"' in html
    assert 'value="Camille"' in html
    assert 'value="Rivière"' in html
    assert f'value="{BIRTH_DATE.isoformat()}"' in html
    assert 'value="13250.50"' in html
    assert f'value="{data["idempotency_key"]}"' in html
    assert not Application.objects.exists()


def test_a_birth_date_that_does_not_match_the_number_is_shown_on_the_birth_date(
    client: Client, fund: Fund, applicant: Any
) -> None:
    response = client.post(apply_url(fund), form_data(birth_date="1990-11-23"))

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "birth_date": ["The date of birth does not match the social security number."]
    }
    assert not Application.objects.exists()


def test_a_second_application_with_the_same_number_to_the_same_fund_is_refused_clearly(
    client: Client, fund: Fund, applicant: Any
) -> None:
    ApplicationFactory.create(fund=fund, nir=NIR, birth_date=BIRTH_DATE)

    response = client.post(apply_url(fund), form_data())

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "An application with this social security number has already been made to this fund. "
        "If you think this is a mistake, contact the fund."
    ]
    assert "has already been made to this fund" in response.content.decode()
    assert Application.objects.count() == 1


def test_the_same_number_may_apply_to_another_fund(
    client: Client, fund: Fund, applicant: Any
) -> None:
    ApplicationFactory.create(nir=NIR, birth_date=BIRTH_DATE)  # to another fund

    response = client.post(apply_url(fund), form_data())

    assert response.status_code == 302
    assert Application.objects.filter(fund=fund, nir=NIR).count() == 1


@pytest.mark.parametrize(
    ("opens_in", "closes_in"), [(-30, -2), (5, 30)], ids=["window-closed", "not-yet-open"]
)
def test_applying_outside_the_window_is_refused_with_a_message(
    client: Client, applicant: Any, opens_in: int, closes_in: int
) -> None:
    today = timezone.now().date()
    fund = FundFactory.create(
        opens_on=today + dt.timedelta(days=opens_in), closes_on=today + dt.timedelta(days=closes_in)
    )

    page = client.get(apply_url(fund))
    response = client.post(apply_url(fund), form_data())

    message = "Applications to this fund are not open at the moment."
    assert message in page.content.decode()
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [message]
    assert not Application.objects.exists()


def test_submitting_twice_with_the_same_key_makes_one_application(
    client: Client, fund: Fund, applicant: Any
) -> None:
    data = form_data()

    first = client.post(apply_url(fund), data)
    second = client.post(apply_url(fund), data)

    assert Application.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_the_applicant_must_confirm_what_they_declare(
    client: Client, fund: Fund, applicant: Any
) -> None:
    data = form_data()
    del data["consent"]

    response = client.post(apply_url(fund), data)

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["consent"]
    assert not Application.objects.exists()


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
