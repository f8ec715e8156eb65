"""What schemathesis found (test_api_schemathesis.py), kept as plain tests: answers the OpenAPI
document did not describe, and inputs it refuses that the API took."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from entraide.accounts.services import issue_api_token
from entraide.evidence.tests.helpers import fund_operator
from entraide.intake.api import api
from entraide.intake.tests.conftest import PartnerClient

pytestmark = pytest.mark.django_db


def documented(path: str, method: str) -> set[str]:
    operation = api.get_openapi_schema()["paths"][path][method]
    return {str(status) for status in operation["responses"]}


def test_a_submission_that_is_not_json_is_a_documented_400(partner: PartnerClient) -> None:
    response = partner.submit("\x00")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "malformed_request"
    assert "400" in documented("/api/v1/funds/{slug}/applications", "post")


def test_a_batch_id_that_is_not_a_number_is_a_documented_422(client: Client) -> None:
    _token, raw = issue_api_token(actor=None, user=fund_operator(), name="script")

    response = client.get(
        "/api/v1/evidence/batches/null,null/errors", headers={"Authorization": f"Bearer {raw}"}
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert [error["path"] for error in response.json()["errors"]] == ["path.batch_id"]
    assert "422" in documented("/api/v1/evidence/batches/{batch_id}/errors", "get")


@pytest.mark.parametrize("value", ["0.5", "1700000000", "-1"])
def test_an_instant_that_is_a_number_is_refused_not_read_as_unix_time(
    partner: PartnerClient, value: Any
) -> None:
    response = partner.get("/applications", changed_since=value)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["path"] == "query.changed_since"
    assert error["message"].startswith("Enter a valid date and time (ISO 8601")


def test_an_instant_in_iso_8601_is_still_taken(partner: PartnerClient) -> None:
    response = partner.get("/applications", changed_since="2020-04-20T09:00:00Z")

    assert response.status_code == 200
    assert response.json()["items"] == []
