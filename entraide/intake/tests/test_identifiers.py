"""A partner submits to a fund outside France with the identifier its rules ask for (here an
Italian fund's codice fiscale, in ``applicant.nir``), checked as on the portal: a wrong one is a
problem on its field's path."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from entraide.applications.models import Application
from entraide.applications.tests.identifier_data import (
    CODICE_FISCALE,
    CODICE_FISCALE_BIRTH,
    IT_IBAN,
    ITALY_DECLARED,
    ITALY_RULES,
    codice_fiscale,
    fund_with_rules,
)
from entraide.funds.models import Fund
from entraide.intake.tests.conftest import PartnerClient, application_body
from entraide.intake.tests.factories import issued_token

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


@pytest.fixture
def italian_fund(db: None) -> Fund:
    return fund_with_rules(ITALY_RULES, slug="fondo-emergenza")


@pytest.fixture
def italian_partner(client: Client, italian_fund: Fund) -> PartnerClient:
    token, raw = issued_token(fund=italian_fund)
    return PartnerClient(client, token, raw)


def italian_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for the Italian fund: a codice fiscale and its date of birth, an Italian
    IBAN, the fund's questions answered."""
    return application_body(
        **{
            "applicant__nir": "rccmnl 83s18 d969h",
            "applicant__birth_date": CODICE_FISCALE_BIRTH.isoformat(),
            "address__country": "IT",
            "bank__iban": IT_IBAN,
            "declared": dict(ITALY_DECLARED),
            **overrides,
        }
    )


def errors_of(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "validation_failed"
    return list(problem["errors"])


def test_the_fund_names_the_identifier_it_asks_for(italian_partner: PartnerClient) -> None:
    body = italian_partner.get("").json()

    assert body["identifier"]["id"] == "it-codice-fiscale"
    assert body["identifier"]["label"]["en"] == "Codice fiscale"
    assert body["identifier"]["label"]["fr"]
    assert "16" in body["identifier"]["help"]["en"]


def test_a_french_fund_still_names_the_nir(partner: PartnerClient) -> None:
    identifier = partner.get("").json()["identifier"]

    assert identifier["id"] == "fr-nir"
    assert identifier["label"] == {
        "fr": "Numéro de sécurité sociale",
        "en": "Social security number",
    }


def test_a_partner_submits_to_an_italian_fund_with_a_codice_fiscale(
    italian_partner: PartnerClient,
) -> None:
    response = italian_partner.submit(italian_body())

    assert response.status_code == 201, response.content
    application = Application.objects.get()
    assert application.nir == CODICE_FISCALE
    assert application.partner == italian_partner.token.partner
    assert application.country == "IT"


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        ({"line": "Via Roma 1", "postcode": "00184", "city": "Roma"}, "IT"),
        ({"city": "Roma", "country": None}, "IT"),
        ({"city": "Lugano", "country": "ch"}, "CH"),
    ],
    ids=["left-out", "null", "named"],
)
def test_an_address_without_a_country_is_in_the_country_of_the_fund_s_identifier(
    italian_partner: PartnerClient, address: dict[str, Any], stored: str
) -> None:
    response = italian_partner.submit(italian_body(address=address))

    assert response.status_code == 201, response.content
    assert Application.objects.get().country == stored


def test_any_synthetic_codice_fiscale_is_taken_with_the_date_it_encodes(
    italian_partner: PartnerClient,
) -> None:
    for seed in range(3):
        code, birth = codice_fiscale(seed)
        body = italian_body(applicant__nir=code, applicant__birth_date=birth.isoformat())
        assert italian_partner.submit(body, key=f"k-{seed}").status_code == 201
    assert Application.objects.count() == 3


@pytest.mark.parametrize(
    "nir",
    [
        "RCCMNL83S18D969A",  # wrong control character
        "00743110157",  # a company's number
        "1 85 04 75 116 042 02",  # a French NIR
        "x" * 26,  # longer than any identifier
    ],
)
def test_a_wrong_codice_fiscale_is_a_problem_on_the_applicant_s_identifier(
    italian_partner: PartnerClient, nir: str
) -> None:
    errors = errors_of(italian_partner.submit(italian_body(applicant__nir=nir)))

    assert [(error["path"], error["code"]) for error in errors] == [("applicant.nir", "invalid")]
    if len(nir) <= 25:  # checked by the submission, not by the request's shape
        assert errors[0]["message"] == (
            "This codice fiscale is not valid: check the 16 letters and digits, the last one "
            "included."
        )
    assert not Application.objects.exists()


def test_a_date_of_birth_the_codice_fiscale_contradicts_is_a_problem_on_its_path(
    italian_partner: PartnerClient,
) -> None:
    body = italian_body(applicant__birth_date=CODICE_FISCALE_BIRTH.replace(day=17).isoformat())

    errors = errors_of(italian_partner.submit(body))

    assert [error["path"] for error in errors] == ["applicant.birth_date"]
    assert errors[0]["message"] == "The date of birth does not match the codice fiscale."


def test_the_same_codice_fiscale_again_has_already_applied(
    italian_partner: PartnerClient,
) -> None:
    assert italian_partner.submit(italian_body(), key="first").status_code == 201

    again = italian_partner.submit(italian_body(applicant__nir=CODICE_FISCALE), key="second")

    assert again.status_code == 409
    assert again.json()["code"] == "already_applied"
    assert Application.objects.count() == 1


def test_the_openapi_document_says_which_identifier_a_fund_asks_for(client: Client) -> None:
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]

    assert "identifier" in schemas["FundOut"]["properties"]
    assert "GET /v1/funds/{slug}" in schemas["ApplicantIn"]["properties"]["nir"]["description"]
