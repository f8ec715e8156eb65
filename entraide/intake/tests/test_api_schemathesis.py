"""Every operation of the API's OpenAPI document, with inputs generated from it (schemathesis,
through the WSGI application, no server): never a server error, always a documented status,
content type and body, and what the document does not allow refused. What it found is kept as
plain tests in test_api_documented_answers.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from entraide.accounts.services import issue_api_token
from entraide.core.tests.worker import DATABASE_TASKS
from entraide.evidence.tests.helpers import fund_operator
from entraide.funds.tests.factories import FundFactory
from entraide.intake.tests.factories import issued_token
from entraide.rules.tests.factories import RuleSetVersionFactory
from entraide.wsgi import application

FUND = "fund-a"

schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    application,
    config=schemathesis.config.SchemathesisConfig.from_dict(
        {
            # The fund of the partner's token: other funds are 404 for it, whatever is sent.
            "parameters": {"slug": FUND},
            "generation": {
                # The test sends the token (test_api_permissions.py has every other one).
                "with-security-parameters": False,
                # Query parameters the document does not name are ignored, as HTTP APIs do.
                "allow-extra-parameters": False,
            },
        }
    ),
)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    # What the document says of the answer: its status, content type, headers and body.
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    # What the document says of the request: what it does not allow is refused (4xx), a
    # missing required header too, and a method it does not list is 405.
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.missing_required_header,
    schemathesis.checks.unsupported_method,
]


@dataclass
class Tokens:
    partner: str
    staff: str


@pytest.fixture
def tokens(db: None, settings: Any, tmp_path: Path) -> Iterator[Tokens]:
    # The database backend, as in production: an import is queued, its status can be read.
    settings.TASKS = DATABASE_TASKS
    settings.EVIDENCE_INBOX_DIR = tmp_path / "inbox"
    # Hundreds of requests with one token: no rate limit (the throttling tests have them).
    settings.ENTRAIDE_RATE_API_PARTNER = ""
    settings.ENTRAIDE_RATE_API_STAFF = ""
    settings.ENTRAIDE_RATE_API_REFUSED = ""
    fund = FundFactory.create(slug=FUND)
    RuleSetVersionFactory.create(rule_set__fund=fund)
    _token, partner = issued_token(fund=fund)
    _api_token, staff = issue_api_token(actor=None, user=fund_operator(), name="script")
    # The requests go through the WSGI handler, not the test client: like it, keep the test's
    # database connection (and its transaction) open at the end of each request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield Tokens(partner=partner, staff=staff)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    # The fund and tokens are made once for all the examples of an operation, on purpose.
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_answers_as_documented(case: Any, tokens: Tokens) -> None:
    # The token the operation's security asks for: a partner's, or a person's (evidence).
    schemes = {
        name for requirement in case.operation.definition.raw["security"] for name in requirement
    }
    token = {"PartnerBearer": tokens.partner, "StaffBearer": tokens.staff}[schemes.pop()]
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
