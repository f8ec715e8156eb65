"""The session's security rules, on every request of a logged-in person:

- **expiry**: a session ends ``SESSION_COOKIE_AGE`` after the login whatever happens
  (absolute lifetime), and after ``ENTRAIDE_STAFF_IDLE_MINUTES`` without a request for the
  back office's people, ``ENTRAIDE_APPLICANT_IDLE_MINUTES`` for everyone else (applicants'
  forms take time, and their drafts are kept): the person is logged out and sent to the login
  page with a message;
- **a second factor for those who approve or pay**: such a person without an authenticator
  reaches no back-office page (``/staff/``, the admin site) and is sent to the page that sets
  one up, told why. The set-up pages and logging out are under ``/accounts/``, outside.

See :mod:`entraide.accounts.sessions` for what the session keeps and how often it is read.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.translation import gettext, ngettext

from entraide.accounts import sessions


@cache
def protected_prefixes() -> tuple[str, ...]:
    """The back office's pages: the staff pages and Django's admin site."""
    return (reverse("staff_home"), reverse("admin:index"))


def is_back_office_path(path: str) -> bool:
    return path.startswith(protected_prefixes())


class SessionSecurityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        state = sessions.state_of(request)
        at = sessions.now()
        reason = sessions.expiry(state, at)
        if reason is not None:
            return self.expire(request, reason, state)
        if at - int(state["seen"]) >= sessions.ACTIVITY_PRECISION_SECONDS:
            state["seen"] = at
            sessions.save(request, state)
        if not is_back_office_path(request.path):
            return None
        # A missing second factor is read again on every request: enrolling takes effect at once.
        missing = state["mfa_required"] and not state["mfa_enrolled"]
        state = sessions.refreshed(request, state, force=missing)
        if state["mfa_required"] and not state["mfa_enrolled"]:
            messages.warning(
                request,
                gettext(
                    "Your role lets you approve or pay grants, so the back office needs "
                    "two-factor authentication: set up an authenticator app to continue."
                ),
            )
            return redirect("mfa_activate_totp")
        return None

    def expire(self, request: HttpRequest, reason: str, state: dict[str, object]) -> HttpResponse:
        if reason == "idle":
            minutes = sessions.idle_limit_seconds(state) // 60
            message = ngettext(
                "You were logged out after %(minutes)d minute without activity. Log in again "
                "to continue.",
                "You were logged out after %(minutes)d minutes without activity. Log in again "
                "to continue.",
                minutes,
            ) % {"minutes": minutes}
        else:
            hours = settings.SESSION_COOKIE_AGE // 3600
            message = ngettext(
                "Your session ended %(hours)d hour after you logged in. Log in again to continue.",
                "Your session ended %(hours)d hours after you logged in. Log in again to continue.",
                hours,
            ) % {"hours": hours}
        logout(request)
        messages.info(request, message)
        return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
