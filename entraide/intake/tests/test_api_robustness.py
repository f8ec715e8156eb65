"""Whatever a partner sends, the answer is a decision or a problem: never a server error."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entraide.intake.tests.conftest import PartnerClient, application_body

pytestmark = pytest.mark.django_db

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)
PATHS = [
    "applicant",
    "applicant__nir",
    "applicant__birth_date",
    "applicant__email",
    "applicant__language",
    "address",
    "address__country",
    "profession",
    "declared",
    "declared__annual_resources",
    "declared__days",
    "declared__other",
    "bank__iban",
    "bank__bic",
    "consent",
]
_keys = itertools.count()


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(path=st.sampled_from(PATHS), value=JSON_VALUES)
def test_any_value_anywhere_is_answered_without_a_server_error(
    partner: PartnerClient, path: str, value: Any
) -> None:
    response = partner.submit(application_body(**{path: value}), key=f"fuzz-{next(_keys)}")
    assert response.status_code in {201, 409, 422}, response.content
    if response.status_code != 201:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=JSON_VALUES)
def test_any_json_document_as_the_body_is_a_problem(partner: PartnerClient, body: Any) -> None:
    response = partner.submit(json.dumps(body), key=f"doc-{next(_keys)}")
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_the_api_needs_no_csrf_token(partner: PartnerClient) -> None:
    partner.client = Client(enforce_csrf_checks=True)
    assert partner.submit(application_body()).status_code == 201
