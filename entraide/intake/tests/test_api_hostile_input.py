"""Inputs a database or the calendar cannot take are refused with a problem, never a 500 (the
PostgreSQL run of the suite is where a NUL character would otherwise fail)."""

from __future__ import annotations

import base64

import pytest

from entraide.applications.models import Application
from entraide.intake.tests.conftest import PartnerClient, application_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ({"applicant__first_name": "Cam\x00ille"}, "applicant.first_name"),
        ({"address__city": "Par\x00is"}, "address.city"),
        ({"declared": {"annual_resources": "12000\x00", "days": 14}}, "declared"),
    ],
)
def test_a_nul_character_is_a_problem_on_its_field(
    partner: PartnerClient, override: dict[str, object], path: str
) -> None:
    response = partner.submit(application_body(**override))
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == [path]
    assert not Application.objects.exists()


def test_a_huge_number_is_a_problem_not_an_overflow(partner: PartnerClient) -> None:
    body = application_body(declared={"annual_resources": "1e999999999", "days": 14})
    response = partner.submit(body)
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == ["declared.annual_resources"]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"changed_since": "9999-12-31T23:59:59-05:00"}, "query.changed_since"),
        (
            {"cursor": base64.urlsafe_b64encode(b"0001-01-01T00:00:00+05:00|A-1").decode()},
            "query.cursor",
        ),
        (
            {"cursor": base64.urlsafe_b64encode(b"2020-01-01T00:00:00+00:00|A\x00").decode()},
            "query.cursor",
        ),
    ],
)
def test_instants_and_cursors_out_of_range_are_problems(
    partner: PartnerClient, params: dict[str, str], path: str
) -> None:
    response = partner.get("/applications", **params)
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == [path]


def test_a_reference_with_a_nul_character_is_not_found(partner: PartnerClient) -> None:
    assert partner.get("/applications/A%00B").status_code == 404
