"""Two requests with the same key at the same moment: one application, both answered 201."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from entraide.applications.models import Application
from entraide.funds.tests.factories import FundFactory
from entraide.intake.tests.conftest import PartnerClient, application_body
from entraide.intake.tests.factories import issued_token
from entraide.rules.tests.factories import RuleSetVersionFactory


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_with_one_key_make_one_application() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL's concurrency")
    fund = FundFactory()
    RuleSetVersionFactory(rule_set__fund=fund)
    token, raw = issued_token(fund=fund)
    body = application_body()
    attempts = 6
    barrier = threading.Barrier(attempts)
    responses: list[Any] = []

    def send() -> None:
        try:
            barrier.wait()
            responses.append(PartnerClient(Client(), token, raw).submit(body, key="same"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in responses] == [201] * attempts
    assert Application.objects.count() == 1
    assert len({r.json()["reference"] for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == attempts - 1
