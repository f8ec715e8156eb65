from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from entraide.applications.models import Application
from entraide.funds.tests.factories import FundFactory
from entraide.intake.services import revoke_token
from entraide.intake.tests.conftest import DELETE, PartnerClient, application_body
from entraide.intake.tests.factories import issued_token

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def problem_paths(response: Any) -> dict[str, str]:
    assert response["Content-Type"] == PROBLEM, response.content
    return {error["path"]: error["code"] for error in response.json()["errors"]}


def test_a_valid_submission_is_recorded_for_the_partner(partner: PartnerClient) -> None:
    response = partner.submit(application_body())
    assert response.status_code == 201, response.content
    body = response.json()
    application = Application.objects.get()
    assert application.partner == partner.token.partner
    assert application.applicant is None
    assert body["reference"] == application.reference
    assert body["status"] == "received"
    assert body["status_label"] == "Received"
    assert body["fund"] == partner.fund.slug
    assert body["links"]["self"] == (
        f"/api/v1/funds/{partner.fund.slug}/applications/{application.reference}"
    )
    assert "Idempotent-Replayed" not in response


def test_the_same_key_and_body_again_answer_the_first_application(partner: PartnerClient) -> None:
    body = application_body()
    first = partner.submit(body, key="retry-me")
    again = partner.submit(body, key="retry-me")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Application.objects.count() == 1


def test_key_order_and_spacing_of_the_body_do_not_matter_to_a_retry(
    partner: PartnerClient,
) -> None:
    body = application_body()
    partner.submit(body, key="k")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = partner.submit(reordered, key="k")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_refused(partner: PartnerClient) -> None:
    partner.submit(application_body(), key="k")
    response = partner.submit(application_body(applicant__first_name="Dominique"), key="k")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "idempotency_key_reused"
    assert problem["type"] == "https://entraide.example/problems/idempotency_key_reused"
    assert problem["status"] == 422
    assert Application.objects.count() == 1


def test_a_key_used_for_one_fund_is_not_replayed_on_another(partner: PartnerClient) -> None:
    body = application_body()
    partner.submit(body, key="k")
    token, raw = issued_token(partner=partner.token.partner, fund=FundFactory())
    response = PartnerClient(partner.client, token, raw).submit(body, key="k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"


def test_another_partner_may_use_the_same_key(
    partner: PartnerClient, other_partner: PartnerClient
) -> None:
    assert partner.submit(application_body(), key="k").status_code == 201
    assert other_partner.submit(application_body(), key="k").status_code == 201
    assert Application.objects.count() == 2


@pytest.mark.parametrize(
    "key",
    [None, "", "x" * 129, "caf\u00e9", "tab\there"],
    ids=["missing", "empty", "too-long", "not-ascii", "control-character"],
)
def test_a_missing_or_malformed_idempotency_key_is_refused(
    partner: PartnerClient, key: str | None
) -> None:
    response = partner.submit(application_body(), key=key)
    assert response.status_code == 422
    assert list(problem_paths(response)) == ["header.Idempotency-Key"]
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "path", "code"),
    [
        # checked by the submission itself, as on the portal
        ({"applicant__nir": "185047511604299"}, "applicant.nir", "invalid"),
        ({"applicant__birth_date": "1990-01-01"}, "applicant.birth_date", "invalid"),
        ({"bank__iban": "FR7630006000011234567890188"}, "bank.iban", "invalid"),
        ({"bank__bic": "NOTABIC"}, "bank.bic", "invalid"),
        ({"applicant__email": "not-an-address"}, "applicant.email", "invalid"),
        ({"profession": "producer"}, "profession", "invalid"),
        ({"declared__unknown": 3}, "declared.unknown", "invalid"),
        ({"declared__days": "many"}, "declared.days", "invalid"),
        ({"declared__annual_resources": "lots"}, "declared.annual_resources", "invalid"),
        ({"declared__days": DELETE}, "declared.days", "invalid"),
        ({"consent": False}, "consent", "consent_required"),
        ({"applicant__first_name": "  "}, "applicant.first_name", "required"),
        # checked by the request's shape
        ({"applicant__first_name": DELETE}, "applicant.first_name", "required"),
        ({"applicant__birth_date": "12/04/1985"}, "applicant.birth_date", "invalid"),
        ({"bank": DELETE}, "bank", "required"),
        ({"consent": DELETE}, "consent", "required"),
        ({"consnet": True}, "consnet", "unexpected"),
        ({"address__country": "France"}, "address.country", "invalid"),
        ({"applicant__last_name": "x" * 101}, "applicant.last_name", "invalid"),
    ],
)
def test_each_problem_is_reported_on_the_path_of_its_field(
    partner: PartnerClient, overrides: dict[str, Any], path: str, code: str
) -> None:
    response = partner.submit(application_body(**overrides))
    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["status"] == 422
    assert problem["title"]
    assert problem["detail"]
    assert problem_paths(response) == {path: code}
    assert all(error["message"] for error in problem["errors"])
    assert not Application.objects.exists()


def test_every_problem_is_reported_at_once(partner: PartnerClient) -> None:
    response = partner.submit(
        application_body(applicant__nir="185047511604299", bank__iban="FR00", consent=False)
    )
    assert set(problem_paths(response)) == {"applicant.nir", "bank.iban", "consent"}


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', ""])
def test_a_body_that_is_not_a_json_object_is_a_problem_not_an_error(
    partner: PartnerClient, body: str
) -> None:
    response = partner.submit(body)
    assert response.status_code in {400, 422}
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] in {"malformed_request", "validation_failed"}


def test_messages_follow_the_accept_language_header(partner: PartnerClient) -> None:
    partner.language = "fr"
    response = partner.submit(application_body(applicant__first_name=DELETE))
    assert response.json()["errors"][0]["message"] == "Ce champ est obligatoire."
    assert response["Content-Language"] == "fr"
    partner.language = "en"
    response = partner.submit(application_body(applicant__first_name=DELETE))
    assert response.json()["errors"][0]["message"] == "This field is required."


def test_a_second_application_of_the_same_person_is_a_conflict(partner: PartnerClient) -> None:
    body = application_body()
    partner.submit(body, key="first")
    response = partner.submit(body, key="second")
    assert response.status_code == 409
    assert response.json()["code"] == "already_applied"
    assert Application.objects.count() == 1


def test_outside_the_window_applications_are_refused_but_retries_still_answer(
    partner: PartnerClient,
) -> None:
    body = application_body()
    assert partner.submit(body, key="before").status_code == 201
    fund = partner.fund
    fund.opens_on = timezone.now().date() - dt.timedelta(days=30)
    fund.closes_on = timezone.now().date() - dt.timedelta(days=2)
    fund.save()
    closed = partner.submit(application_body(), key="after")
    assert closed.status_code == 403
    assert closed.json()["code"] == "window_closed"
    assert partner.submit(body, key="before").status_code == 201


# -- authentication ----------------------------------------------------------------------------


def test_without_a_token_the_api_asks_for_one(partner: PartnerClient) -> None:
    response = partner.client.post(
        f"/api/v1/funds/{partner.fund.slug}/applications",
        data=json.dumps(application_body()),
        content_type="application/json",
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="entraide"'
    assert response.json()["code"] == "unauthorized"
    assert not Application.objects.exists()


@pytest.mark.parametrize("header", ["Bearer ent_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_a_wrong_token_is_refused(partner: PartnerClient, header: str) -> None:
    response = partner.client.get(
        f"/api/v1/funds/{partner.fund.slug}/applications", headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response["Content-Type"] == PROBLEM


def test_a_revoked_token_is_refused(partner: PartnerClient) -> None:
    revoke_token(actor=None, token=partner.token)
    response = partner.submit(application_body())
    assert response.status_code == 401
    assert not Application.objects.exists()


def test_a_revoked_token_is_refused_at_once_by_the_process_that_kept_it(
    partner: PartnerClient, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ENTRAIDE_HOT_CACHE_SECONDS = 60
    assert partner.submit(application_body()).status_code == 201  # the token is now kept
    with django_capture_on_commit_callbacks(execute=True):
        revoke_token(actor=None, token=partner.token)
    assert partner.submit(application_body()).status_code == 401


def test_a_token_for_another_fund_finds_nothing(partner: PartnerClient) -> None:
    other_fund = FundFactory()
    token, raw = issued_token(fund=other_fund)
    stranger = PartnerClient(partner.client, token, raw)
    for response in (
        stranger.submit(application_body(), slug=partner.fund.slug),
        stranger.submit(application_body(consent=DELETE), slug=partner.fund.slug),
        stranger.submit(application_body(), slug="no-such-fund"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert not Application.objects.exists()


def test_a_token_records_when_it_was_last_used(partner: PartnerClient) -> None:
    assert partner.token.last_used_at is None
    partner.get("/applications")
    partner.token.refresh_from_db()
    assert partner.token.last_used_at is not None
