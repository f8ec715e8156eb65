"""The password policy (12 characters at least; not like the e-mail address, not a common
password, not only digits), applied by allauth's sign-up and password change."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
GOOD = "lantern-orchard-42"


def sign_up(client: Client, email: str, password: str) -> list[str]:
    with translation.override("en"):
        response = client.post(
            reverse("account_signup"),
            {"email": email, "password1": password, "password2": password},
        )
    if response.status_code == 302:
        return []
    return [str(error) for error in response.context["form"].errors.get("password1", [])]


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("short-pass1", "at least 12 characters"),  # 11
        ("password1234", "too common"),
        ("839201746153", "entirely numeric"),
        ("camille.martin", "too similar"),
    ],
)
def test_sign_up_refuses_a_weak_password(client: Client, password: str, refusal: str) -> None:
    errors = sign_up(client, "camille.martin@example.org", password)
    assert any(refusal in error for error in errors), errors
    assert not User.objects.exists()


def test_sign_up_takes_a_good_password_of_12_characters(client: Client) -> None:
    assert sign_up(client, "camille.martin@example.org", "lantern-owl1") == []  # 12
    assert User.objects.get().check_password("lantern-owl1")


def test_changing_a_password_follows_the_same_policy(client: Client) -> None:
    user = UserFactory()
    client.force_login(user)
    url = reverse("account_change_password")
    old = "correct-horse-battery"
    with translation.override("en"):
        refused = client.post(
            url, {"oldpassword": old, "password1": "short-pass1", "password2": "short-pass1"}
        )
    assert refused.status_code == 200
    assert "at least 12 characters" in str(refused.context["form"].errors["password1"])
    done = client.post(url, {"oldpassword": old, "password1": GOOD, "password2": GOOD})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(GOOD)
