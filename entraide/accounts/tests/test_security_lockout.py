"""Failed logins with django-axes through allauth's form: five failures for one account from
one address lock that pair out for 15 minutes with a translated 429 page; a successful login
clears the count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.utils import reset
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from entraide.accounts.lockout import login_username
from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
HERE = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


@pytest.fixture(autouse=True)
def _fresh_counts() -> Iterator[None]:
    """allauth's per-address limit counts in the cache, which outlives a test's database."""
    cache.clear()
    yield
    cache.clear()
    reset()


@pytest.fixture
def clerk() -> User:
    user: User = UserFactory(email="clerk@fund.example")
    return user


def log_in(client: Client, login: str, password: str, address: str = HERE) -> Any:
    return client.post(
        reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=address
    )


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, times: int, login: str = "clerk@fund.example") -> list[int]:
    return [log_in(client, login, "not-the-password").status_code for _ in range(times)]


def test_the_fifth_failure_locks_the_account_out_from_that_address(
    client: Client, clerk: User
) -> None:
    assert fail(client, 4) == [200] * 4  # the form, with its error
    with translation.override("en"):
        locked = log_in(client, clerk.email, "not-the-password")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    html = locked.content.decode()
    assert "Too many failed attempts" in html
    assert "Try again in 15 minutes" in html
    assert reverse("account_reset_password") in html
    assert 'lang="en"' in html  # the site's page, in the person's language

    # Even the right password is refused now, with the same page and never a 500.
    again = log_in(client, clerk.email, PASSWORD)
    assert again.status_code == 429
    assert not logged_in(client)
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("clerk@fund.example", HERE)
    assert "not-the-password" not in attempt.post_data
    assert AccessFailureLog.objects.filter(username="clerk@fund.example", locked_out=True).exists()


def test_the_lockout_holds_one_account_from_one_address(client: Client, clerk: User) -> None:
    other = UserFactory(email="other@fund.example")
    fail(client, 5)
    assert log_in(client, clerk.email, PASSWORD).status_code == 429
    # From elsewhere (the real person's own connection), the account still logs in…
    assert log_in(Client(), clerk.email, PASSWORD, address=ELSEWHERE).status_code == 302
    # …and another account from the locked address too.
    other_client = Client()
    assert log_in(other_client, other.email, PASSWORD).status_code == 302
    assert logged_in(other_client)


def test_the_address_is_counted_whatever_its_case(client: Client, clerk: User) -> None:
    fail(client, 3, login="Clerk@Fund.example")
    fail(client, 1, login=" clerk@fund.EXAMPLE ")
    assert log_in(client, "CLERK@fund.example", "not-the-password").status_code == 429


def test_a_successful_login_clears_the_count(client: Client, clerk: User) -> None:
    fail(client, 4)
    assert log_in(client, clerk.email, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    client.post(reverse("account_logout"))
    assert fail(client, 4) == [200] * 4  # four more before a lockout, not one
    assert log_in(client, clerk.email, PASSWORD).status_code == 302


def test_the_lockout_ends_after_15_minutes(client: Client, clerk: User) -> None:
    fail(client, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    response = log_in(client, clerk.email, PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_an_unknown_address_is_counted_too(client: Client) -> None:
    """Otherwise an attacker would learn which addresses have an account."""
    codes = fail(client, 5, login="nobody@fund.example")
    assert codes == [200, 200, 200, 200, 429]


def test_the_login_field_is_read_from_allauth_and_from_the_form(rf: Any) -> None:
    request = rf.post("/accounts/login/", {"login": " Clerk@Fund.example "})
    assert login_username(request, {"email": "A@B.example", "login": None}) == "a@b.example"
    assert login_username(request, None) == "clerk@fund.example"
    assert login_username(rf.get("/"), {}) is None
