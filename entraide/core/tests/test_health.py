"""``/healthz``: 200 when the database answers, 503 when it does not; nothing personal."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from entraide.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_answers_anyone_with_one_query(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(1):
        response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies
    assert response["X-Request-ID"]


def test_it_says_the_same_to_a_logged_in_person(client: Client) -> None:
    client.force_login(UserFactory.create(email="someone@example.org"))

    response = client.get("/healthz")

    assert response.json() == {"status": "ok", "database": "ok"}
    assert b"someone" not in response.content


def test_a_database_that_does_not_answer_is_a_503(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr("entraide.core.health.connection.cursor", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable"}


def test_head_works_and_post_is_refused(client: Client) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_it_answers_over_plain_http_where_pages_redirect_to_https(
    client: Client, settings: Any
) -> None:
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301
