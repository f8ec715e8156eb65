"""A request id on every request: taken from ``X-Request-ID`` (set by the reverse proxy, or by a
partner's system) or made up, kept in a context variable for the log lines written while the
request runs (``entraide.core.logging.RequestContextFilter``), and sent back in the response so
that a person reporting a problem can quote it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
# What a proxy's or a partner's id may be; anything else (too long, control characters that
# would forge log lines) is replaced by our own.
_VALID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def request_id_of(request: HttpRequest) -> str:
    given = request.headers.get(HEADER, "")
    return given if _VALID.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that whatever logs during the request carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        id_token = current_request_id.set(request_id)
        request_token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(request_token)
            current_request_id.reset(id_token)
        response[HEADER] = request_id
        return response
