"""The privacy pages: who may use each, the register of processing activities, the erasure
pages of the portal and of the back office."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.audit.models import AuditEvent
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.tests.factories import issued_token
from entraide.privacy.models import ErasureRequest
from entraide.privacy.register import COLUMNS
from entraide.privacy.tests.factories import (
    ErasureRequestFactory,
    FundRetentionPolicyFactory,
    Life,
    member_of,
)

pytestmark = pytest.mark.django_db
Role = FundRole.Role
STAFF = [Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.AUDITOR]


# -- who may use each page ---------------------------------------------------------------------


@pytest.fixture
def world() -> dict[str, Any]:
    fund = FundFactory()
    life = Life(fund, UserFactory())
    life.reject("Non.")
    request = ErasureRequestFactory(application=life.application)
    return {"fund": fund, "life": life, "request": request}


STAFF_PAGES: list[Callable[[dict[str, Any]], str]] = [
    lambda w: reverse("privacy_retention", args=[w["fund"].slug]),
    lambda w: reverse("privacy_erasure_requests", args=[w["fund"].slug]),
    lambda w: reverse("privacy_erasure_request", args=[w["fund"].slug, w["request"].reference]),
    lambda w: reverse("privacy_register"),
    lambda w: reverse("privacy_register_download", args=["csv"]),
]


@pytest.mark.parametrize("page", range(len(STAFF_PAGES)))
@pytest.mark.parametrize("role", STAFF)
def test_only_the_operator_admin_opens_the_back_office_pages(
    client: Client, world: dict[str, Any], page: int, role: str
) -> None:
    client.force_login(member_of(world["fund"], role))
    assert client.get(STAFF_PAGES[page](world)).status_code == 404


@pytest.mark.parametrize("page", range(len(STAFF_PAGES)))
def test_applicants_and_visitors_are_kept_out_of_the_back_office_pages(
    client: Client, world: dict[str, Any], page: int
) -> None:
    url = STAFF_PAGES[page](world)
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(world["life"].person)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("page", range(len(STAFF_PAGES)))
def test_the_operator_admin_of_another_fund_does_not_see_this_one(
    client: Client, world: dict[str, Any], page: int
) -> None:
    client.force_login(member_of(FundFactory(), Role.OPERATOR_ADMIN))
    response = client.get(STAFF_PAGES[page](world))
    if page >= 3:  # the register is theirs: it lists their own fund only
        assert response.status_code == 200
        assert world["fund"].name not in response.content.decode()
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("page", range(len(STAFF_PAGES)))
def test_the_operator_admin_opens_every_page(
    client: Client, world: dict[str, Any], page: int
) -> None:
    client.force_login(member_of(world["fund"], Role.OPERATOR_ADMIN))
    assert client.get(STAFF_PAGES[page](world)).status_code == 200


def test_only_the_owner_opens_the_erasure_page_of_an_application(
    client: Client, world: dict[str, Any]
) -> None:
    url = reverse("application_erasure", args=[world["life"].application.reference])
    assert client.get(url).status_code == 302
    for someone in (UserFactory(), member_of(world["fund"], Role.OPERATOR_ADMIN)):
        client.force_login(someone)
        assert client.get(url).status_code == 404
        assert client.post(url, {"confirm": "on"}).status_code == 404
    client.force_login(world["life"].person)
    assert client.get(url).status_code == 200


# -- the erasure pages -------------------------------------------------------------------------


def test_the_applicant_confirms_and_their_data_is_erased(client: Client) -> None:
    life = Life(FundFactory(), UserFactory())
    life.reject("Non.")
    client.force_login(life.person)
    url = reverse("application_erasure", args=[life.application.reference])
    unconfirmed = client.post(url, {})
    assert unconfirmed.status_code == 200
    assert not ErasureRequest.objects.exists()

    response = client.post(url, {"confirm": "on"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("my_applications")
    assert "Your data was erased" in response.content.decode()
    assert life.refresh().email == ""
    assert "has been erased" in client.get(url).content.decode()


def test_a_granted_application_shows_why_it_is_kept_and_cannot_be_erased(
    client: Client,
) -> None:
    life = Life(FundFactory(), UserFactory())
    life.approve()
    client.force_login(life.person)
    url = reverse("application_erasure", args=[life.application.reference])
    page = client.get(url).content.decode()
    assert "was granted" in page
    assert 'name="confirm"' not in page
    client.post(url, {"confirm": "on"})
    assert not ErasureRequest.objects.exists()
    assert life.refresh().status == Application.Status.APPROVED


def test_a_request_not_decided_yet_is_recorded_and_the_applicant_told_why(
    client: Client,
) -> None:
    life = Life(FundFactory(), UserFactory())
    client.force_login(life.person)
    response = client.post(
        reverse("application_erasure", args=[life.application.reference]),
        {"confirm": "on"},
        follow=True,
    )
    assert "the fund has not finished with the application" in response.content.decode()
    assert ErasureRequest.objects.get().status == ErasureRequest.Status.OPEN


def test_the_operator_admin_records_a_request_and_sees_what_was_done(client: Client) -> None:
    life = Life(FundFactory(), UserFactory())
    life.reject("Non.")
    client.force_login(member_of(life.fund, Role.OPERATOR_ADMIN))
    response = client.post(
        reverse("privacy_erasure_requests", args=[life.fund.slug]),
        {
            "reference": life.application.reference,
            "requested_on": timezone.localdate().isoformat(),
            "channel": "letter",
        },
        follow=True,
    )
    page = response.content.decode()
    request = ErasureRequest.objects.get()
    assert request.channel == "letter"
    assert request.status == "done"
    assert request.reference in page
    assert life.application.reference in page
    assert "Erased" in page


def test_an_unknown_reference_is_shown_on_its_field(client: Client) -> None:
    fund = FundFactory()
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))
    response = client.post(
        reverse("privacy_erasure_requests", args=[fund.slug]),
        {"reference": "A-NONE-NONE", "requested_on": "2026-01-05", "channel": "email"},
    )
    assert response.status_code == 200
    assert "reference" in response.context["form"].errors


def test_the_list_of_requests_reads_a_bounded_number_of_rows(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    fund = FundFactory()
    ErasureRequestFactory.create_batch(30, application__fund=fund, fund=fund)
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("privacy_erasure_requests", args=[fund.slug]))
    assert response.content.decode().count("E-TEST-") >= 30


# -- the register ------------------------------------------------------------------------------


def test_the_register_lists_each_fund_the_admin_runs_from_its_settings(client: Client) -> None:
    first = FundFactory(name="Fonds A", operator_name="Opérateur A", contact_email="a@x.org")
    second = FundFactory(name="Fonds B")
    FundRetentionPolicyFactory(fund=second, months_after_payment=30)
    issued_token(fund=first)
    admin = member_of(first, Role.OPERATOR_ADMIN)
    FundRoleFactory(fund=second, user=admin, role=Role.OPERATOR_ADMIN)
    member_of(first, Role.REVIEWER)
    FundFactory(name="Fonds C")  # not theirs
    client.force_login(admin)

    page = client.get(reverse("privacy_register")).content.decode()
    assert "Fonds A" in page
    assert "Fonds B" in page
    assert "Fonds C" not in page

    response = client.get(reverse("privacy_register_download", args=["csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    by_fund = {row["fund"]: row for row in rows}
    assert set(by_fund) == {"Fonds A", "Fonds B"}
    assert by_fund["Fonds A"]["controller"] == "Opérateur A"
    assert "Reviewer (1)" in by_fund["Fonds A"]["recipients"]
    assert "Partner organisations" in by_fund["Fonds A"]["recipients"]
    assert "30 months after its last payment" in by_fund["Fonds B"]["retention"]
    assert "24 months after its last payment" in by_fund["Fonds A"]["retention"]

    as_json = client.get(reverse("privacy_register_download", args=["json"])).json()
    entries = as_json["register_of_processing_activities"]
    assert [e["fund"] for e in entries] == ["Fonds A", "Fonds B"]
    assert isinstance(entries[0]["security_measures"], list)
    events = AuditEvent.objects.filter(action="privacy.register_downloaded")
    assert events.count() == 4
    assert {e.changes["format"] for e in events} == {"csv", "json"}


def test_an_unknown_register_format_is_not_found(client: Client) -> None:
    fund = FundFactory()
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))
    assert client.get(reverse("privacy_register_download", args=["pdf"])).status_code == 404
    assert json.loads(client.get(reverse("privacy_register_download", args=["json"])).content)[
        "register_of_processing_activities"
    ]
