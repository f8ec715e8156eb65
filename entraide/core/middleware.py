from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.defaults import permission_denied
from django_ratelimit.core import get_usage

from entraide.core.errors import DomainError, NotFound, PermissionDenied


class DomainErrorMiddleware:
    """A refusal raised by a service or a permission check becomes a 400, 403 or 404 page,
    never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message)) from exception
        if isinstance(exception, DomainError):
            # A refusal that the view did not expect: say why, as a client error.
            return render(request, "400.html", {"message": exception.message}, status=400)
        return None


# --------------------------------------------------------------------------------------------
# Web hardening: headers, request sizes and rate limits
# --------------------------------------------------------------------------------------------


class SecurityHeadersMiddleware:
    """The headers Django's SecurityMiddleware does not set: ``Permissions-Policy`` (no camera,
    microphone, location... for our pages or anything they could embed)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``ENTRAIDE_TRUSTED_PROXIES`` reverse
    proxies the address the outermost of them saw (``X-Forwarded-For`` read from the right,
    so that a client cannot choose its own by sending the header)."""
    proxies = getattr(settings, "ENTRAIDE_TRUSTED_PROXIES", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return str(request.META.get("REMOTE_ADDR", ""))


def _content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class UploadLimitMiddleware:
    """Refuses a request whose announced body is larger than its page accepts, before anything
    reads it (CSRF reads the form, which would stream a 2 GB upload to disk first).

    Each page that takes files has its own limit (``ENTRAIDE_UPLOAD_LIMITS``, by URL name, the
    per-kind size of its files plus the form around them); every other request may send
    ``ENTRAIDE_REQUEST_MAX_BYTES``. Django reads no more than ``Content-Length`` announces, so
    a body cannot be larger than what is checked here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        length = _content_length(request)
        if length <= settings.ENTRAIDE_REQUEST_MAX_BYTES:
            return None
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        limit = settings.ENTRAIDE_UPLOAD_LIMITS.get(name, settings.ENTRAIDE_REQUEST_MAX_BYTES)
        if length <= limit:
            return None
        message = _("What was sent is too large: the limit is %(limit)s.") % {
            "limit": filesizeformat(limit)
        }
        if _is_api(request):
            from entraide.intake import problems

            return problems.problem(413, "payload_too_large", str(message))
        # The body is left unread: the server closes the connection (a WSGI application may
        # not say so itself, Connection being hop-by-hop).
        return render(request, "413.html", {"message": message}, status=413)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


@dataclass(frozen=True)
class PageLimit:
    """How often one client may use a page: the rate is the setting ``setting`` (``"20/h"``,
    django-ratelimit's format; empty: no limit), counted per ``key`` (``ip``, ``user_or_ip``)
    on the ``methods`` given."""

    setting: str
    key: str = "ip"
    methods: tuple[str, ...] = ("GET", "HEAD", "POST")


# The pages that anyone can use over and over without an account, or that send e-mails,
# by URL name. Logging in is django-axes' business (failed attempts per account and address).
PAGE_LIMITS: dict[str, PageLimit] = {
    "account_signup": PageLimit("ENTRAIDE_RATE_SIGNUP", methods=("POST",)),
    "account_reset_password": PageLimit("ENTRAIDE_RATE_PASSWORD_RESET", methods=("POST",)),
    "fund_self_check": PageLimit("ENTRAIDE_RATE_SELF_CHECK"),
    "apply_step": PageLimit("ENTRAIDE_RATE_APPLY", key="user_or_ip", methods=("POST",)),
    "attestation_verify": PageLimit("ENTRAIDE_RATE_ATTESTATION_VERIFY"),
    "fund_statistics_public": PageLimit("ENTRAIDE_RATE_PUBLIC_STATISTICS"),
}


class RateLimitMiddleware:
    """Counts the uses of the pages of :data:`PAGE_LIMITS` with django-ratelimit (in the
    default cache: Redis in production, so that every process counts together) and answers
    429 with ``Retry-After`` beyond the rate. The API has its own throttles
    (``entraide/intake/throttling.py``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        match = request.resolver_match
        name = match.view_name if match is not None else ""
        limit = PAGE_LIMITS.get(name)
        if limit is None:
            return None
        rate = getattr(settings, limit.setting, "")
        if not rate:
            return None
        usage = get_usage(
            request,
            group=f"page:{name}",
            key=limit.key,
            rate=rate,
            method=list(limit.methods),
            increment=True,
        )
        if usage is None or not usage["should_limit"]:
            return None
        return too_many_requests(request, retry_after=usage["time_left"])


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """The 429 page: say so, and when to try again."""
    seconds = max(int(retry_after), 1)
    response = render(request, "429.html", {"retry_after": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response
