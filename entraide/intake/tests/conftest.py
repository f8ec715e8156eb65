from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from entraide.demo.synthetic import make_iban, make_nir
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.intake.models import PartnerToken
from entraide.intake.tests.factories import issued_token
from entraide.rules.tests.factories import RuleSetVersionFactory

BIRTH = dt.date(1985, 4, 12)
_rng = random.Random(11)
DELETE = object()


def application_body(**overrides: Any) -> dict[str, Any]:
    """A complete, valid request body for the test rules (SIMPLE_RULES: resources and days)."""
    body: dict[str, Any] = {
        "applicant": {
            "nir": make_nir(_rng, BIRTH, 1),
            "first_name": "Camille",
            "last_name": "Martin",
            "birth_date": BIRTH.isoformat(),
            "email": "camille.martin@example.org",
            "phone": "+33 6 12 34 56 78",
            "language": "fr",
        },
        "address": {"line": "12 rue de la Roquette", "postcode": "75011", "city": "Paris"},
        "profession": "technician",
        "declared": {"annual_resources": "12000.00", "days": 14},
        "bank": {"iban": make_iban(_rng), "bic": "", "holder": "Camille Martin"},
        "consent": True,
    }
    for path, value in overrides.items():
        # "applicant__nir" replaces body["applicant"]["nir"]; a value of DELETE removes it.
        *parents, last = path.split("__")
        target = body
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return body


@dataclass
class PartnerClient:
    """The test client, speaking as one partner's token."""

    client: Client
    token: PartnerToken
    raw: str
    language: str = "en"

    @property
    def fund(self) -> Fund:
        return self.token.fund

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw}", "Accept-Language": self.language, **extra}

    def submit(self, body: Any, *, key: str | None = "key-1", slug: str | None = None) -> Any:
        headers = self.headers() if key is None else self.headers(**{"Idempotency-Key": key})
        return self.client.post(
            f"/api/v1/funds/{slug or self.fund.slug}/applications",
            data=body if isinstance(body, str | bytes) else json.dumps(body),
            content_type="application/json",
            headers=headers,
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(
            f"/api/v1/funds/{self.fund.slug}{path}", params, headers=self.headers()
        )


@pytest.fixture
def fund(db: None) -> Fund:
    """An open fund with the test rules in force."""
    fund = FundFactory.create()
    RuleSetVersionFactory(rule_set__fund=fund)
    return fund


@pytest.fixture
def partner(client: Client, fund: Fund) -> PartnerClient:
    token, raw = issued_token(fund=fund)
    return PartnerClient(client, token, raw)


@pytest.fixture
def other_partner(fund: Fund) -> PartnerClient:
    """Another partner's token for the same fund, with a client of its own."""
    token, raw = issued_token(fund=fund)
    return PartnerClient(Client(), token, raw)
