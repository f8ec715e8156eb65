"""Rate limits (pages with django-ratelimit, the API with ninja's throttles) and request sizes:
each limit triggers, says when to come back, and lets the client in again once its window has
passed. The root conftest empties the cache around every test, so no test spends another's."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import django_ratelimit.core
import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from entraide.accounts.services import issue_api_token
from entraide.accounts.tests.factories import UserFactory
from entraide.core.middleware import client_ip
from entraide.core.tests.test_web_security import problems_of
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.intake import throttling
from entraide.intake.tests.factories import issued_token


@pytest.fixture
def fund(db: None) -> Fund:
    return FundFactory.create(slug="open-fund")


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Moves the rate limits' clocks (django-ratelimit's and ninja's throttles') forward."""

    def move(seconds: float) -> None:
        now = time.time() + seconds
        monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))
        for throttle in (*throttling.TOKEN_THROTTLES, throttling.refused_tokens):
            monkeypatch.setattr(throttle, "timer", lambda: now)

    return move


def assert_too_many(response: Any) -> int:
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 3600
    return seconds


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


def test_the_self_check_is_limited_per_address_and_lets_it_in_again_later(
    client: Client, fund: Fund, settings: Any, later: Any
) -> None:
    settings.ENTRAIDE_RATE_SELF_CHECK = "3/m"
    url = reverse("fund_self_check", kwargs={"slug": fund.slug})
    for _ in range(3):
        assert client.get(url).status_code == 200

    refused = client.get(url)

    assert_too_many(refused)
    with translation.override("en"):
        assert "Too many requests" in refused.content.decode()
    assert problems_of(refused) == []  # the page keeps the policy
    assert client.get(url, REMOTE_ADDR="192.0.2.7").status_code == 200  # another address
    later(61)
    assert client.get(url).status_code == 200


def test_the_limit_page_is_in_the_language_of_the_request(fund: Fund, settings: Any) -> None:
    settings.ENTRAIDE_RATE_SELF_CHECK = "1/m"
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    url = reverse("fund_self_check", kwargs={"slug": fund.slug})
    client.get(url)

    refused = client.get(url)

    assert refused.status_code == 429
    assert '<html lang="fr">' in refused.content.decode()


def test_signing_up_is_limited_per_address_on_posts_only(
    client: Client, db: None, settings: Any
) -> None:
    settings.ENTRAIDE_RATE_SIGNUP = "2/h"
    url = reverse("account_signup")
    for _ in range(2):
        assert client.post(url, {"email": "not-an-address"}).status_code == 200

    assert_too_many(client.post(url, {"email": "not-an-address"}))
    assert client.get(url).status_code == 200


def test_asking_for_a_password_reset_is_limited_per_address(
    client: Client, db: None, settings: Any
) -> None:
    settings.ENTRAIDE_RATE_PASSWORD_RESET = "2/h"
    url = reverse("account_reset_password")
    for _ in range(2):
        assert client.post(url, {"email": "someone@example.org"}).status_code != 429

    assert_too_many(client.post(url, {"email": "someone-else@example.org"}))


def test_the_application_steps_are_limited_per_person(
    client: Client, fund: Fund, settings: Any
) -> None:
    settings.ENTRAIDE_RATE_APPLY = "2/m"
    url = reverse("apply_step", kwargs={"slug": fund.slug, "step": "identity"})
    client.force_login(UserFactory.create())
    for _ in range(2):
        assert client.post(url, {}).status_code != 429

    assert_too_many(client.post(url, {}))
    assert client.get(url).status_code != 429  # reading a step is not counted
    other = Client()
    other.force_login(UserFactory.create())
    assert other.post(url, {}).status_code != 429  # same address, another person


@pytest.mark.parametrize(
    ("setting", "name"),
    [
        ("ENTRAIDE_RATE_ATTESTATION_VERIFY", "attestation_verify"),
        ("ENTRAIDE_RATE_PUBLIC_STATISTICS", "fund_statistics_public"),
    ],
)
def test_public_pages_are_limited_per_address(
    client: Client, fund: Fund, settings: Any, setting: str, name: str
) -> None:
    setattr(settings, setting, "2/m")
    url = reverse(name, kwargs={"slug": fund.slug} if name == "fund_statistics_public" else {})
    for _ in range(2):
        assert client.get(url).status_code != 429

    assert_too_many(client.get(url))


def test_an_empty_rate_turns_a_limit_off(client: Client, fund: Fund, settings: Any) -> None:
    settings.ENTRAIDE_RATE_SELF_CHECK = ""
    url = reverse("fund_self_check", kwargs={"slug": fund.slug})

    assert all(client.get(url).status_code == 200 for _ in range(10))


def test_pages_without_a_limit_are_never_counted(client: Client, fund: Fund) -> None:
    url = reverse("fund_page", kwargs={"slug": fund.slug})

    assert all(client.get(url).status_code == 200 for _ in range(30))


def test_behind_proxies_the_address_is_the_one_the_outermost_proxy_saw(settings: Any) -> None:
    factory = RequestFactory()
    spoofed = factory.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.4")
    spoofed.META["REMOTE_ADDR"] = "10.0.0.1"

    settings.ENTRAIDE_TRUSTED_PROXIES = 0
    assert client_ip(spoofed) == "10.0.0.1"
    settings.ENTRAIDE_TRUSTED_PROXIES = 1
    assert client_ip(spoofed) == "198.51.100.4"  # what the client wrote itself is ignored
    settings.ENTRAIDE_TRUSTED_PROXIES = 2
    assert client_ip(spoofed) == "203.0.113.9"


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------


def rate_limited_problem(response: Any) -> dict[str, Any]:
    assert_too_many(response)
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == 429
    assert body["code"] == "rate_limited"
    assert body["type"].endswith("/rate_limited")
    assert response["Retry-After"] in body["detail"]
    return body


def test_a_partner_token_is_limited_and_lets_it_in_again_later(
    client: Client, fund: Fund, settings: Any, later: Any
) -> None:
    settings.ENTRAIDE_RATE_API_PARTNER = "2/m"
    _token, raw = issued_token(fund=fund)
    _other, other_raw = issued_token(fund=fund)
    url = f"/api/v1/funds/{fund.slug}"
    headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}
    for _ in range(2):
        assert client.get(url, headers=headers).status_code == 200

    body = rate_limited_problem(client.get(url, headers=headers))

    assert body["title"] == "Too many requests"
    assert client.get(url, headers={"Authorization": f"Bearer {other_raw}"}).status_code == 200
    later(61)
    assert client.get(url, headers=headers).status_code == 200


def test_the_default_partner_rate_lets_a_partner_send_ten_a_second(settings: Any) -> None:
    count, period = throttling.PartnerTokenThrottle().parse_rate(settings.ENTRAIDE_RATE_API_PARTNER)
    assert count is not None
    assert period is not None
    assert count / period >= 10


def test_an_address_that_sends_refused_tokens_waits_even_with_a_good_one(
    client: Client, fund: Fund, settings: Any, later: Any
) -> None:
    settings.ENTRAIDE_RATE_API_REFUSED = "3/m"
    _token, raw = issued_token(fund=fund)
    url = f"/api/v1/funds/{fund.slug}"
    for guess in ("Bearer ents_guess-1", "Bearer ents_guess-2", None):
        headers = {"Authorization": guess} if guess else {}
        assert client.get(url, headers=headers).status_code == 401

    rate_limited_problem(client.get(url, headers={"Authorization": f"Bearer {raw}"}))

    elsewhere = client.get(url, headers={"Authorization": f"Bearer {raw}"}, REMOTE_ADDR="192.0.2.8")
    assert elsewhere.status_code == 200
    later(61)
    assert client.get(url, headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_a_personal_token_is_limited_on_the_evidence_api(
    client: Client, db: None, settings: Any
) -> None:
    settings.ENTRAIDE_RATE_API_STAFF = "1/m"
    _token, raw = issue_api_token(actor=None, user=UserFactory.create(), name="script")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/evidence/imports/unknown", headers=headers).status_code != 429

    rate_limited_problem(client.get("/api/v1/evidence/imports/unknown", headers=headers))


# --------------------------------------------------------------------------------------------
# Request sizes
# --------------------------------------------------------------------------------------------


def test_an_evidence_file_too_large_is_refused_before_it_is_read_with_a_problem(
    client: Client, db: None, settings: Any
) -> None:
    _token, raw = issue_api_token(actor=None, user=UserFactory.create(), name="script")
    announced = settings.ENTRAIDE_UPLOAD_LIMITS["intake-api:evidence_imports"] + 1

    response = client.post(
        "/api/v1/evidence/imports",
        {"kind": "declarations"},
        headers={"Authorization": f"Bearer {raw}"},
        CONTENT_LENGTH=str(announced),
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("apply_step", {"slug": "x", "step": "documents"}),
        ("application_status", {"reference": "A-X"}),
        ("evidence_import_new", {}),
        ("crew_rosters", {"slug": "x"}),
        ("exchange_rates_import", {}),
        ("bank_returns", {"slug": "x"}),
        ("home", {}),
        ("account_login", {}),
    ],
)
def test_every_page_refuses_a_body_larger_than_it_takes_before_reading_it(
    client: Client, db: None, settings: Any, name: str, kwargs: dict[str, str]
) -> None:
    limit = settings.ENTRAIDE_UPLOAD_LIMITS.get(name, settings.ENTRAIDE_REQUEST_MAX_BYTES)

    response = client.post(reverse(name, kwargs=kwargs), {"a": "b"}, CONTENT_LENGTH=str(limit + 1))

    assert response.status_code == 413


def test_a_page_that_takes_files_accepts_more_than_the_others(
    client: Client, db: None, settings: Any
) -> None:
    settings.ENTRAIDE_REQUEST_MAX_BYTES = 100
    body = {"file": "x" * 1000}

    assert client.post(reverse("home"), body).status_code == 413
    accepted = client.post(reverse("crew_rosters", kwargs={"slug": "x"}), body)
    assert accepted.status_code != 413
