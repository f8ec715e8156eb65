"""Logging in, in tests: ``client.force_login(person)`` stands for a login through allauth's
form, its second step included. Whoever must use a second factor in the back office (who may
approve or pay: entraide/accounts/selectors.py ``requires_mfa``) gets the tests' authenticator
app on the way, as a real person would have set one up before reaching it; the factories of
fund and programme roles already give it to theirs.

Tests of the enforcement itself mark themselves ``without_test_authenticator`` to log in
people exactly as they are.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "without_test_authenticator: client.force_login does not set up the tests' "
        "authenticator app for those who must use a second factor",
    )


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_step(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("without_test_authenticator"):
        return
    original = Client.force_login

    def force_login(self: Client, user: Any, backend: str | None = None) -> None:
        from entraide.accounts.selectors import requires_mfa
        from entraide.accounts.tests.factories import with_authenticator_app

        if requires_mfa(user):
            with_authenticator_app(user)
        user.__dict__.pop("_entraide_security_profile", None)
        original(self, user, backend)

    monkeypatch.setattr(Client, "force_login", force_login)
