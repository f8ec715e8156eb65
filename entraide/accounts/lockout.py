"""django-axes with allauth's login form: who is trying to log in, and the page shown to a
locked-out person.

allauth authenticates with ``email=`` (its form field is ``login``), axes with whatever
``AXES_USERNAME_FORM_FIELD`` names: :func:`login_username` reads both, so that the attempts
of ``Clerk@Fund.example`` and ``clerk@fund.example`` count for one account. Axes keeps every
attempt in its own tables (``AccessAttempt``, ``AccessFailureLog``, ``AccessLog``, shown in
the admin site); lockouts are not copied into the audit log.
"""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from entraide.core import middleware

LOCKOUT_TEMPLATE = "account/lockout.html"
# Where each caller puts the address: allauth's credentials, axes' own, Django's admin form.
USERNAME_KEYS = ("email", "login", "username")


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The address tried, normalised as accounts store it (``AXES_USERNAME_CALLABLE``)."""
    sources: list[Any] = [credentials or {}]
    if request is not None and request.method == "POST":
        sources.append(request.POST)
    for source in sources:
        for key in USERNAME_KEYS:
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip().lower()
    return None


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The translated page of a locked-out login (``AXES_LOCKOUT_CALLABLE``), 429 Too Many
    Requests with the time to wait in ``Retry-After``."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 0
    response = render(
        request,
        LOCKOUT_TEMPLATE,
        {
            "failure_limit": get_failure_limit(request, credentials),
            "minutes": math.ceil(seconds / 60),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the rate limits read it (behind ``ENTRAIDE_TRUSTED_PROXIES``
    reverse proxies), ``None`` when unknown (``AXES_CLIENT_IP_CALLABLE``)."""
    return middleware.client_ip(request) or None
