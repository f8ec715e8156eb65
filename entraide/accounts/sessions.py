"""What a session remembers for its security rules: when the person logged in, when they were
last seen, and their :class:`~entraide.accounts.selectors.SecurityProfile` (staff or not, a
second factor needed and enrolled), read again at most once a minute.

Kept in the session so that a back-office page costs no query more: the profile is read when
the person logs in, then again on a back-office request once :data:`RECHECK_SECONDS` have
passed, and on every such request while a second factor is missing (so that enrolling one
takes effect at once). A role granted, or an authenticator removed by an administrator, is
therefore seen within a minute.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from entraide.accounts import selectors

SESSION_KEY = "entraide.security"
# The last activity is written at most this often (a session write per request otherwise).
ACTIVITY_PRECISION_SECONDS = 60
# How long the profile read from the database is trusted.
RECHECK_SECONDS = 60


def now() -> int:
    """Seconds since the epoch (not ``timezone.now()``, which tests move for the services)."""
    return int(time.time())


def _with_profile(state: dict[str, Any], user: Any, at: int) -> dict[str, Any]:
    user.__dict__.pop("_entraide_security_profile", None)  # read it again
    profile = selectors.security_profile(user)
    return {
        **state,
        "checked": at,
        "staff": profile.staff,
        "mfa_required": profile.mfa_required,
        "mfa_enrolled": profile.mfa_enrolled,
    }


def start(request: HttpRequest, user: Any) -> None:
    """A new login: the clocks start now."""
    at = now()
    request.session[SESSION_KEY] = _with_profile({"login": at, "seen": at}, user, at)


def state_of(request: HttpRequest) -> dict[str, Any]:
    """The session's state, started now for a session that has none (logged in before)."""
    state = request.session.get(SESSION_KEY)
    if not isinstance(state, dict) or not {"login", "seen", "checked"} <= state.keys():
        start(request, request.user)
        state = request.session[SESSION_KEY]
    return dict(state)


def save(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = state


def refreshed(
    request: HttpRequest, state: dict[str, Any], *, force: bool = False
) -> dict[str, Any]:
    """The state with the profile read again if it is older than :data:`RECHECK_SECONDS`."""
    at = now()
    if force or at - int(state["checked"]) >= RECHECK_SECONDS:
        state = _with_profile(state, request.user, at)
        save(request, state)
    return state


def idle_limit_seconds(state: dict[str, Any]) -> int:
    minutes = (
        settings.ENTRAIDE_STAFF_IDLE_MINUTES
        if state.get("staff")
        else settings.ENTRAIDE_APPLICANT_IDLE_MINUTES
    )
    return int(minutes) * 60


def expiry(state: dict[str, Any], at: int) -> str | None:
    """Why the session is over (``"absolute"``, ``"idle"``), or ``None``."""
    if at - int(state["login"]) > settings.SESSION_COOKIE_AGE:
        return "absolute"
    if at - int(state["seen"]) > idle_limit_seconds(state):
        return "idle"
    return None
