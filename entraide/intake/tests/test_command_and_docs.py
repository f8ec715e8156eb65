from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from entraide.funds.tests.factories import FundFactory
from entraide.intake.models import Partner, PartnerToken
from entraide.intake.services import authenticate

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("intake", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_operator_sets_up_a_partner_from_the_command_line() -> None:
    fund = FundFactory(slug="netflix-audiens")
    out, _err = run(
        "create-partner", "--name", "Syndicat X", "--slug", "syndicat-x",
        "--webhook-url", "https://x.example/hooks",
    )  # fmt: skip
    partner = Partner.objects.get(slug="syndicat-x")
    assert partner.webhook_secret in out
    out, err = run("issue-token", "syndicat-x", "netflix-audiens", "--name", "prod")
    raw = out.strip()
    token = authenticate(raw)
    assert token is not None
    assert (token.partner, token.fund, token.name) == (partner, fund, "prod")
    assert "cannot be shown again" in err
    listing, _err = run("list")
    assert "syndicat-x" in listing
    assert token.prefix in listing
    assert raw not in listing
    assert "active" in listing
    run("revoke-token", token.prefix)
    assert authenticate(raw) is None
    assert "revoked" in run("list")[0]


@pytest.mark.parametrize(
    "args",
    [
        ("issue-token", "nobody", "netflix-audiens"),
        ("issue-token", "syndicat-x", "no-such-fund"),
        ("revoke-token", "ent_nothing"),
        ("create-partner", "--name", "X", "--slug", "syndicat-x"),
    ],
)
def test_the_command_says_what_is_wrong(args: tuple[str, ...]) -> None:
    FundFactory(slug="netflix-audiens")
    run("create-partner", "--name", "Syndicat X", "--slug", "syndicat-x")
    with pytest.raises(CommandError):
        run(*args)
    assert not PartnerToken.objects.exists()


def test_the_openapi_document_lists_the_endpoints(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    assert set(paths) == {
        "/api/v1/funds/{slug}",
        "/api/v1/funds/{slug}/applications",
        "/api/v1/funds/{slug}/applications/{reference}",
        # staff scripts' (entraide/evidence/tests/test_api.py)
        "/api/v1/evidence/imports",
        "/api/v1/evidence/imports/{task_id}",
        "/api/v1/evidence/batches/{batch_id}/errors",
    }
    submit: dict[str, Any] = paths["/api/v1/funds/{slug}/applications"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(submit["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in submit["parameters"])
    assert list(submit["responses"]["422"]["content"]) == ["application/problem+json"]
    assert list(submit["responses"]["201"]["content"]) == ["application/json"]
    assert submit["operationId"] == "create_application"
    assert schema["components"]["securitySchemes"]["PartnerBearer"]["scheme"] == "bearer"
    body = schema["components"]["schemas"]["ApplicationIn"]
    assert body["example"]["applicant"]["birth_date"] == "1985-04-12"


def test_the_interactive_docs_are_served(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
