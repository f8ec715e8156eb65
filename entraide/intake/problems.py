"""RFC 9457 problem details: every error of the API, whatever raised it, in one JSON shape,
translated into the language of the request's Accept-Language."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from entraide.applications.submission import SubmissionInvalid
from entraide.core.errors import DomainError, ValidationFailed

TYPE_BASE = "https://entraide.example/problems/"
CONTENT_TYPE = "application/problem+json"
VALIDATION_FAILED = "validation_failed"

TITLES = {
    "unauthorized": gettext_lazy("Authentication required"),
    "not_found": gettext_lazy("Not found"),
    "malformed_request": gettext_lazy("Malformed request"),
    VALIDATION_FAILED: gettext_lazy("The request is not valid"),
    "already_applied": gettext_lazy("Already applied"),
    "window_closed": gettext_lazy("Applications are closed"),
    "idempotency_key_reused": gettext_lazy("Idempotency key reused with another request"),
    "permission_denied": gettext_lazy("Forbidden"),
    "internal_error": gettext_lazy("Internal error"),
    "rate_limited": gettext_lazy("Too many requests"),
    "payload_too_large": gettext_lazy("Request too large"),
}
DEFAULT_TITLE = gettext_lazy("Request refused")

# HTTP status of each domain error code; any other DomainError is 422.
DOMAIN_STATUS = {
    "not_found": 404,
    "permission_denied": 403,
    "window_closed": 403,
    "already_applied": 409,
    "invalid_transition": 409,
}


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str
    code: str = "invalid"


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    body = {
        "type": TYPE_BASE + code,
        "title": str(TITLES.get(code, DEFAULT_TITLE)),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [
            {"path": error.path, "message": error.message, "code": error.code} for error in errors
        ],
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def unauthorized(*, token_sent: bool, detail: str | None = None) -> HttpResponse:
    # RFC 6750: say which scheme, and whether the token sent was the problem.
    challenge = 'Bearer realm="entraide"' + (', error="invalid_token"' if token_sent else "")
    return problem(
        401,
        "unauthorized",
        detail or _("Send a valid partner token in the header Authorization: Bearer <token>."),
        headers={"WWW-Authenticate": challenge},
    )


def not_found() -> HttpResponse:
    return problem(404, "not_found", _("Nothing here, or nothing that your token may see."))


def from_domain_error(error: DomainError) -> HttpResponse:
    if isinstance(error, SubmissionInvalid):
        # Every problem of the submission at once, each on its field's path.
        return problem(
            422,
            VALIDATION_FAILED,
            _("Some information is missing or invalid."),
            errors=[FieldError(p.path, str(p.message), p.code) for p in error.problems],
        )
    status = DOMAIN_STATUS.get(error.code, 422)
    field_code = "invalid" if isinstance(error, ValidationFailed) else error.code
    errors = [FieldError(error.field, str(error.message), field_code)] if error.field else []
    return problem(status, error.code, str(error.message), errors=errors)


def from_request_errors(errors: Iterable[Mapping[str, Any]]) -> HttpResponse:
    """Ninja's own validation errors (pydantic's), with dotted paths and translated messages."""
    return problem(
        422,
        VALIDATION_FAILED,
        _("Some information is missing or invalid."),
        errors=[
            FieldError(request_path(error["loc"]), _message(error), _code(error))
            for error in errors
        ],
    )


def request_path(loc: Iterable[Any]) -> str:
    """``("body", "payload", "applicant", "birth_date")`` → ``applicant.birth_date`` (the body
    is the document the partner sent); ``("query", "limit")`` → ``query.limit``."""
    parts = [str(part) for part in loc]
    if parts[:1] == ["body"]:
        # Ninja nests the body under the view's argument name; the partner never sees it.
        return ".".join(parts[2:]) or "body"
    return ".".join(parts)


def _code(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unexpected"
    return "invalid"


def _message(error: Mapping[str, Any]) -> str:
    kind: str = error.get("type", "")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("This field is not expected here.")
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This field is required.")
        return _("Enter at least %(count)s characters.") % {"count": ctx.get("min_length")}
    if kind == "string_too_long":
        return _("Enter at most %(count)s characters.") % {"count": ctx.get("max_length")}
    if kind == "nul_character":
        return _("Remove the invisible NUL character from this value.")
    if kind == "string_pattern_mismatch":
        return _("This value is not in the expected format.")
    if kind.startswith("date_") or kind == "date_type":
        return _("Enter a valid date (YYYY-MM-DD).")
    if kind.startswith("datetime_"):
        return _("Enter a valid date and time (ISO 8601, e.g. 2020-04-15T09:00:00+02:00).")
    if kind.startswith("bool_"):
        return _("Enter true or false.")
    if kind.startswith("int_"):
        return _("Enter a whole number.")
    if kind in {"greater_than_equal", "greater_than"}:
        return _("Enter a number of at least %(limit)s.") % {"limit": ctx.get("ge", ctx.get("gt"))}
    if kind in {"less_than_equal", "less_than"}:
        return _("Enter a number of at most %(limit)s.") % {"limit": ctx.get("le", ctx.get("lt"))}
    if kind in {"enum", "literal_error"}:
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind == "string_type":
        return _("Enter text.")
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return _("Enter an object.")
    return _("This value is not valid.")
