"""Sessions end: 12 hours after the login whatever happens, after 30 minutes without a request
for the back office's people, after 2 hours for applicants; the person is sent to log in again
and told why. The cookie is HttpOnly and SameSite=Lax."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from entraide.accounts import sessions
from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundRoleFactory

pytestmark = pytest.mark.django_db
MINUTE = 60


class Clock:
    """The sessions' clock, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = sessions.now()
        monkeypatch.setattr(sessions, "now", lambda: self.now)

    def forward(self, minutes: float) -> None:
        self.now += int(minutes * MINUTE)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def staff() -> User:
    granted: FundRole = FundRoleFactory(role=FundRole.Role.APPROVER)
    return granted.user


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_settings() -> None:
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert (settings.ENTRAIDE_STAFF_IDLE_MINUTES, settings.ENTRAIDE_APPLICANT_IDLE_MINUTES) == (
        30,
        120,
    )


def test_staff_are_logged_out_after_30_minutes_without_a_request(
    client: Client, clock: Clock, staff: User
) -> None:
    client.force_login(staff)
    home = reverse("staff_home")
    clock.forward(29)
    assert client.get(home).status_code == 200
    clock.forward(29)  # 58 minutes after the login, 29 after the last request
    assert client.get(home).status_code == 200
    clock.forward(31)
    with translation.override("en"):
        response = client.get(home, follow=True)
    assert response.redirect_chain[0] == (f"{reverse('account_login')}?next={home}", 302)
    assert messages_of(response) == [
        "You were logged out after 30 minutes without activity. Log in again to continue."
    ]
    assert not logged_in(client)


def test_applicants_have_two_hours(client: Client, clock: Clock) -> None:
    applicant = UserFactory()
    client.force_login(applicant)
    page = reverse("my_applications")
    clock.forward(119)
    assert client.get(page).status_code == 200
    clock.forward(121)
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not logged_in(client)


def test_a_post_after_the_idle_time_is_not_acted_on(
    client: Client, clock: Clock, staff: User
) -> None:
    client.force_login(staff)
    clock.forward(31)
    response = client.post(reverse("account_logout"))  # any POST: the session is over first
    assert response["Location"].startswith(reverse("account_login"))
    assert not logged_in(client)


def test_a_session_ends_12_hours_after_the_login_even_when_busy(
    client: Client, clock: Clock, staff: User
) -> None:
    client.force_login(staff)
    home = reverse("staff_home")
    for _ in range(12 * 60 // 20):  # a request every 20 minutes for 12 hours
        clock.forward(20)
        assert client.get(home).status_code == 200
    clock.forward(1)
    with translation.override("en"):
        response = client.get(home, follow=True)
    assert messages_of(response) == [
        "Your session ended 12 hours after you logged in. Log in again to continue."
    ]
    assert not logged_in(client)


def test_activity_is_written_at_most_once_a_minute(
    client: Client, clock: Clock, staff: User
) -> None:
    client.force_login(staff)
    first = client.session[sessions.SESSION_KEY]["seen"]
    clock.forward(0.5)
    client.get(reverse("staff_home"))
    assert client.session[sessions.SESSION_KEY]["seen"] == first
    clock.forward(0.5)
    client.get(reverse("staff_home"))
    assert client.session[sessions.SESSION_KEY]["seen"] == clock.now


def test_a_session_from_before_starts_its_clocks_on_its_next_request(
    client: Client, clock: Clock, staff: User
) -> None:
    client.force_login(staff)
    session = client.session
    del session[sessions.SESSION_KEY]
    session.save()
    assert client.get(reverse("staff_home")).status_code == 200
    assert client.session[sessions.SESSION_KEY]["login"] == clock.now


def test_the_session_cookie_is_http_only_and_same_site(client: Client) -> None:
    UserFactory(email="clerk@fund.example")
    response = client.post(
        reverse("account_login"),
        {"login": "clerk@fund.example", "password": "correct-horse-battery"},
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == ""  # gone when the browser closes ("remember me" is off)
    assert client.session.get_expiry_age() == 12 * 3600  # and forgotten by the server then
