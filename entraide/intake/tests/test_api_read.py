from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.tests.factories import FundFactory
from entraide.intake.models import PartnerToken
from entraide.intake.tests.conftest import PartnerClient
from entraide.intake.tests.factories import issued_token

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2020, 4, 20, 9, 0, tzinfo=dt.UTC)


def partner_application(token: PartnerToken, *, minutes: int = 0, **kwargs: Any) -> Application:
    changed = T0 + dt.timedelta(minutes=minutes)
    return ApplicationFactory.create(
        fund=token.fund,
        partner=token.partner,
        applicant=None,
        submitted_at=changed,
        status_changed_at=changed,
        **kwargs,
    )


def references(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["reference"] for item in response.json()["items"]]


def test_a_partner_lists_only_its_own_applications(
    partner: PartnerClient, other_partner: PartnerClient
) -> None:
    own = [partner_application(partner.token, minutes=n) for n in range(3)]
    partner_application(other_partner.token)
    ApplicationFactory(fund=partner.fund)  # from the portal
    assert references(partner.get("/applications")) == [a.reference for a in own]
    item = partner.get("/applications").json()["items"][0]
    assert item["status"] == "received"
    assert item["status_label"] == "Received"
    assert item["fund"] == partner.fund.slug


def test_another_partners_application_cannot_be_read(
    partner: PartnerClient, other_partner: PartnerClient
) -> None:
    theirs = partner_application(other_partner.token)
    portal = ApplicationFactory(fund=partner.fund)
    for reference in (theirs.reference, portal.reference, "A-0000-0000"):
        response = partner.get(f"/applications/{reference}")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert other_partner.get(f"/applications/{theirs.reference}").status_code == 200


def test_a_partner_reads_one_of_its_applications(partner: PartnerClient) -> None:
    application = partner_application(partner.token, status=Application.Status.APPROVED)
    response = partner.get(f"/applications/{application.reference}")
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == application.reference
    assert body["status"] == "approved"
    assert body["status_changed_at"] == "2020-04-20T09:00:00Z"


def test_the_same_partner_sees_nothing_of_another_fund_through_this_token(
    partner: PartnerClient,
) -> None:
    other_fund_token, _raw = issued_token(partner=partner.token.partner, fund=FundFactory())
    elsewhere = partner_application(other_fund_token)
    assert references(partner.get("/applications")) == []
    assert partner.get(f"/applications/{elsewhere.reference}").status_code == 404


def test_polling_filters_by_status_and_change_time(partner: PartnerClient) -> None:
    early = partner_application(partner.token, minutes=0)
    approved = partner_application(partner.token, minutes=10, status=Application.Status.APPROVED)
    late = partner_application(partner.token, minutes=20)
    assert references(partner.get("/applications", status="approved")) == [approved.reference]
    assert references(partner.get("/applications", changed_since="2020-04-20T09:10:00Z")) == [
        approved.reference,
        late.reference,
    ]
    assert references(
        partner.get("/applications", changed_since="2020-04-20T11:05:00+02:00", status="received")
    ) == [late.reference]
    assert early.reference in references(partner.get("/applications"))


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"changed_since": "yesterday"}, "query.changed_since"),
        ({"changed_since": "2020-04-20T09:00:00"}, "query.changed_since"),
        ({"status": "lost"}, "query.status"),
        ({"limit": "1000"}, "query.limit"),
        ({"limit": "0"}, "query.limit"),
        ({"cursor": "not a cursor"}, "query.cursor"),
    ],
)
def test_bad_list_parameters_are_problems(
    partner: PartnerClient, params: dict[str, str], path: str
) -> None:
    response = partner.get("/applications", **params)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [(path, "invalid")]


def test_pages_follow_each_other_and_a_poller_sees_later_changes(partner: PartnerClient) -> None:
    applications = [partner_application(partner.token, minutes=n) for n in range(5)]
    first = partner.get("/applications", limit=2).json()
    assert [i["reference"] for i in first["items"]] == [a.reference for a in applications[:2]]
    assert first["has_more"] is True
    assert first["links"]["next"].endswith(f"cursor={first['next_cursor']}")
    second = partner.get("/applications", limit=2, cursor=first["next_cursor"]).json()
    third = partner.get("/applications", limit=2, cursor=second["next_cursor"]).json()
    assert [i["reference"] for i in second["items"] + third["items"]] == [
        a.reference for a in applications[2:]
    ]
    assert third["has_more"] is False
    assert third["links"]["next"] is None
    # Nothing new: the poller keeps its place.
    idle = partner.get("/applications", cursor=third["next_cursor"]).json()
    assert idle["items"] == []
    assert idle["next_cursor"] == third["next_cursor"]
    # The first application changes status: it comes after the poller's cursor.
    Application.objects.filter(pk=applications[0].pk).update(
        status=Application.Status.APPROVED, status_changed_at=timezone.now()
    )
    changed = partner.get("/applications", cursor=idle["next_cursor"]).json()
    assert [(i["reference"], i["status"]) for i in changed["items"]] == [
        (applications[0].reference, "approved")
    ]


def test_the_list_costs_a_fixed_number_of_queries(
    partner: PartnerClient, django_assert_max_num_queries: Any
) -> None:
    for n in range(60):
        partner_application(partner.token, minutes=n)
    partner.get("/applications")  # the first request of a minute records the token's use
    with django_assert_max_num_queries(2):
        response = partner.get("/applications", limit=100)
    assert len(response.json()["items"]) == 60


def test_the_fund_tells_its_window_and_questions(partner: PartnerClient) -> None:
    response = partner.get("")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["slug"] == partner.fund.slug
    assert body["currency"] == "EUR"
    assert body["window"]["is_open"] is True
    assert body["window"]["time_zone"] == "Europe/Paris"
    assert body["window"]["opens_at"] < body["window"]["closes_at"]
    assert body["rules_version"] == 1
    assert {p["value"] for p in body["professions"]} == {"technician", "artist"}
    questions = {q["id"]: q for q in body["questions"]}
    assert list(questions) == ["annual_resources", "days"]
    assert questions["annual_resources"]["type"] == "money"
    assert questions["annual_resources"]["label"] == {
        "fr": "Ressources annuelles",
        "en": "Annual resources",
    }
    assert questions["days"]["type"] == "count"
    assert questions["days"]["required"] is True
    assert questions["days"]["min"] == "0"


def test_a_fund_without_rules_in_force_asks_no_questions(db: None, client: Any) -> None:
    token, raw = issued_token(fund=FundFactory())
    body = PartnerClient(client, token, raw).get("").json()
    assert body["rules_version"] is None
    assert body["questions"] == []
