"""The intake API: partner systems submit applications for their members and follow them.

Mounted at ``/api/`` (``entraide/urls.py``); the OpenAPI document is ``/api/openapi.json`` and
its interactive view ``/api/docs``. Every error is an RFC 9457 problem (``problems.py``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import math
from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.operation import Operation
from ninja.params import functions as param
from ninja.security import HttpBearer

from entraide.applications.identity import identifier_of
from entraide.applications.models import Application
from entraide.applications.services import request_digest_of, submit_application
from entraide.core.errors import DomainError, NotFound, ValidationFailed
from entraide.evidence import api as evidence_api
from entraide.funds.models import Fund
from entraide.funds.window import window_state
from entraide.intake import problems, selectors, services
from entraide.intake.models import PartnerToken
from entraide.intake.schemas import (
    ApplicationIn,
    FundOut,
    IsoInstant,
    Problem,
    SubmissionOut,
    SubmissionPage,
)
from entraide.intake.throttling import TOKEN_THROTTLES, refused_tokens
from entraide.rules import declared
from entraide.rules import selectors as rules_selectors

logger = logging.getLogger(__name__)

DESCRIPTION = """
Partner systems (a union, a social-protection body) submit applications to a relief fund for
their members, with the same checks as the fund's own portal, and follow their status.

* **Authentication**: `Authorization: Bearer <token>`. A token belongs to one partner and one
  fund; the fund's operator issues it (`entraide intake issue-token`).
* **Idempotency**: every submission carries an `Idempotency-Key` header. Retrying with the same
  key and the same body answers the first application again (`Idempotent-Replayed: true`);
  the same key with another body is refused (`idempotency_key_reused`).
* **Errors**: RFC 9457 problems (`application/problem+json`), with one entry per field in
  `errors` (`path` such as `applicant.nir`, `bank.iban`, `declared.annual_resources`);
  messages in the language of `Accept-Language` (French or English).
* **Personal identifier**: `applicant.nir` holds the one the fund's rules ask for (the French
  social security number, a codice fiscale, a DNI or NIE, a National Insurance number...):
  `GET /v1/funds/{slug}` names it (`identifier`).
* **Rate limits**: each token may send a number of requests per minute (600 by default for a
  partner's); beyond, `429` with `Retry-After` (seconds). Refused tokens are counted per
  address: beyond a few, the address waits too.
* **Status changes**: poll `GET .../applications?changed_since=...` or receive signed webhooks.
* **Evidence** (`/v1/evidence/...`): for the scripts of a fund operator, who import files of
  records; authenticated by a staff member's personal token (`entraide accounts token`).
"""


class IntakeAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        return str(operation.view_func.__name__)

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Ninja documents every response as application/json; problems are not."""
        schema = super().get_openapi_schema(**kwargs)
        for path in schema["paths"].values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    json_content = content.get("application/json", {})
                    if json_content.get("schema", {}).get("$ref", "").endswith("/Problem"):
                        response["content"] = {problems.CONTENT_TYPE: json_content}
        return schema


api = IntakeAPI(
    title="entraide intake API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="intake-api",
    throttle=TOKEN_THROTTLES,
)

# 429: a token (or an address) over its rate limit (entraide/intake/throttling.py).
ERRORS: dict[int, Any] = {401: Problem, 404: Problem, 422: Problem, 429: Problem}
# 400: a body that is not JSON (malformed_request).
SUBMIT_ERRORS: dict[int, Any] = {**ERRORS, 400: Problem, 403: Problem, 409: Problem}
IDEMPOTENCY_KEY = r"^[\x20-\x7E]+$"  # printable ASCII


class PartnerBearer(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        refused_tokens.check(request)  # an address that guessed too many tokens waits
        partner_token = super().__call__(request)
        if partner_token is None:
            refused_tokens.refused(request)
        return partner_token

    def authenticate(self, request: HttpRequest, token: str) -> PartnerToken | None:
        partner_token = services.authenticate(token)
        if partner_token is None:
            return None
        # A token works for its own fund only; any other fund does not exist for it.
        match = request.resolver_match
        slug = match.kwargs.get("slug") if match is not None else None
        if slug is not None and slug != partner_token.fund.slug:
            raise Http404
        # A crew relief fund takes no application (entraide.crew): not even from a partner.
        if partner_token.fund.kind != Fund.Kind.APPLICATIONS:
            raise Http404
        return partner_token


partner_auth = PartnerBearer()


def token_of(request: HttpRequest) -> PartnerToken:
    token = request.auth  # type: ignore[attr-defined]
    assert isinstance(token, PartnerToken)
    return token


# -- errors: always problems --------------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problems.unauthorized(token_sent=bool(request.headers.get("Authorization")))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        # The only 400 ninja raises: a body that is not JSON.
        return problems.problem(400, "malformed_request", _("The request body is not valid JSON."))
    return problems.problem(exc.status_code, "http_error", str(exc))


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    seconds = max(math.ceil(exc.wait), 1) if exc.wait is not None else 60
    return problems.problem(
        429,
        "rate_limited",
        _("Too many requests: try again in %(seconds)s seconds.") % {"seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


@api.exception_handler(ValidationError)
def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problems.from_request_errors(exc.errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problems.not_found()


@api.exception_handler(DomainError)
def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problems.from_domain_error(exc)


@api.exception_handler(Exception)
def _internal_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("intake API error on %s %s", request.method, request.path)
    return problems.problem(
        500, "internal_error", _("Something went wrong on our side; try again later.")
    )


# -- fund --------------------------------------------------------------------------------------


@api.get(
    "/v1/funds/{slug}",
    auth=partner_auth,
    response={200: FundOut, **ERRORS},
    url_name="partner_fund",
    summary="The fund: window and the questions an application answers",
    tags=["funds"],
)
def get_fund(request: HttpRequest, slug: str) -> dict[str, Any]:
    fund = token_of(request).fund
    window = window_state(fund)
    version = rules_selectors.current_version(fund)
    document = rules_selectors.document_of(version) if version is not None else None
    questions = (
        declared.questions(document, skip=frozenset({"profession", "birth_date"}))
        if document is not None
        else []
    )
    identifier = identifier_of(document)
    return {
        "slug": fund.slug,
        "name": fund.name,
        "currency": fund.currency,
        "identifier": {
            "id": identifier.id,
            "label": _bilingual(identifier.label),
            "help": _bilingual(identifier.help_text),
        },
        "window": {
            "opens_at": window.opens_at,
            "closes_at": window.closes_at,
            "time_zone": fund.time_zone,
            "is_open": window.is_open,
        },
        "rules_version": version.number if version is not None else None,
        "professions": [
            {"value": value, "label": str(label)} for value, label in Application.Profession.choices
        ],
        "questions": [
            {
                "id": question.id,
                "type": question.type,
                "label": {"fr": question.label.fr, "en": question.label.en},
                "help": {"fr": question.help.fr, "en": question.help.en} if question.help else None,
                "required": question.required,
                "min": None if question.min is None else str(question.min),
                "max": None if question.max is None else str(question.max),
                "choices": [
                    {"value": choice.value, "label": {"fr": choice.label.fr, "en": choice.label.en}}
                    for choice in question.choices
                ],
            }
            for question in questions
        ],
    }


def _bilingual(text: Promise) -> dict[str, str]:
    """A text of the platform in both languages, as the rules' own texts are given."""
    bilingual = {}
    for language in ("fr", "en"):
        with translation.override(language):
            bilingual[language] = str(text)
    return bilingual


# -- applications -------------------------------------------------------------------------------


def submission_out(application: Application, fund_slug: str) -> dict[str, Any]:
    return {
        "reference": application.reference,
        "status": application.status,
        "status_label": str(application.get_status_display()),
        "submitted_at": application.submitted_at,
        "status_changed_at": application.status_changed_at,
        "fund": fund_slug,
        "links": {
            "self": reverse(
                "intake-api:partner_application",
                kwargs={"slug": fund_slug, "reference": application.reference},
            )
        },
    }


@api.post(
    "/v1/funds/{slug}/applications",
    auth=partner_auth,
    response={201: SubmissionOut, **SUBMIT_ERRORS},
    url_name="partner_applications",
    summary="Submit an application for a member",
    description=(
        "Checked exactly as on the fund's portal. 201 with the application; a retry with the "
        "same `Idempotency-Key` and body answers 201 again with the same application and "
        "`Idempotent-Replayed: true`. 409 `already_applied`: this person already applied to "
        "the fund. 403 `window_closed`: the fund does not take applications now. 422: "
        "`validation_failed` (see `errors`) or `idempotency_key_reused`."
    ),
    tags=["applications"],
)
def create_application(
    request: HttpRequest,
    slug: str,
    payload: ApplicationIn,
    response: HttpResponse,
    idempotency_key: Annotated[
        str,
        param.Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            pattern=IDEMPOTENCY_KEY,
            description="1 to 128 printable ASCII characters, unique per application (a UUID).",
        ),
    ],
) -> Status[dict[str, Any]]:
    token = token_of(request)
    # Fingerprint of what was asked, whatever the key order or spacing: a retry must match it.
    # Keys are the partner's, across its funds: the fund is part of what was asked.
    asked = {"fund": token.fund.slug, "body": payload.model_dump(mode="json")}
    canonical = json.dumps(asked, sort_keys=True, separators=(",", ":"))
    submitted = submit_application(
        actor=None,
        fund=token.fund,
        idempotency_key=idempotency_key,
        data=payload.to_submission(),
        partner=token.partner,
        request_digest=request_digest_of(canonical.encode()),
    )
    if not submitted.created:
        response["Idempotent-Replayed"] = "true"
    return Status(201, submission_out(submitted.application, token.fund.slug))


INVALID_CURSOR = gettext_lazy("This cursor is not valid: use the next_cursor of a previous page.")


def encode_cursor(application: Application) -> str:
    text = f"{application.status_changed_at.isoformat()}|{application.reference}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, reference = text.split("|", 1)
        changed_at = dt.datetime.fromisoformat(moment)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed(INVALID_CURSOR, field="query.cursor") from None
    if changed_at.tzinfo is None or not _plausible(changed_at) or "\x00" in reference:
        raise ValidationFailed(INVALID_CURSOR, field="query.cursor")
    return changed_at, reference


def _plausible(moment: dt.datetime) -> bool:
    # Far enough from year 1 and 9999 that converting to UTC cannot overflow.
    return 1970 <= moment.year <= 2200


@api.get(
    "/v1/funds/{slug}/applications",
    auth=partner_auth,
    response={200: SubmissionPage, **ERRORS},
    url_name="partner_application_list",
    summary="The partner's applications, in the order their status last changed",
    description=(
        "Only the applications this partner submitted. Ordered by `status_changed_at`: to "
        "poll, keep the last `next_cursor` (or the latest `status_changed_at` as "
        "`changed_since`) and ask again later."
    ),
    tags=["applications"],
)
def list_applications(
    request: HttpRequest,
    slug: str,
    status: Application.Status | None = None,
    changed_since: Annotated[
        IsoInstant | None,
        param.Query(description="Only applications whose status changed at or after this instant."),
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int, param.Query(ge=1, le=selectors.MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    token = token_of(request)
    if changed_since is not None and changed_since.tzinfo is None:
        raise ValidationFailed(
            _("Give the time zone of the instant (e.g. Z or +02:00)."), field="query.changed_since"
        )
    if changed_since is not None and not _plausible(changed_since):
        raise ValidationFailed(
            _("Give an instant between 1970 and 2200."), field="query.changed_since"
        )
    page = selectors.changes_page(
        token,
        status=status,
        changed_since=changed_since,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    # An empty page keeps the cursor it was given: a poller holds on to its place.
    next_cursor = encode_cursor(page[-1]) if page else cursor
    has_more = len(page) == limit
    next_link = None
    if has_more and next_cursor is not None:
        query = request.GET.copy()
        query["cursor"] = next_cursor
        next_link = f"{request.path}?{query.urlencode()}"
    return {
        "items": [submission_out(application, token.fund.slug) for application in page],
        "next_cursor": next_cursor,
        "has_more": has_more,
        "links": {"next": next_link},
    }


@api.get(
    "/v1/funds/{slug}/applications/{reference}",
    auth=partner_auth,
    response={200: SubmissionOut, **ERRORS},
    url_name="partner_application",
    summary="One of the partner's applications",
    tags=["applications"],
)
def get_application(request: HttpRequest, slug: str, reference: str) -> dict[str, Any]:
    token = token_of(request)
    if "\x00" in reference:  # no reference has one, and PostgreSQL refuses it in a query
        raise NotFound()
    application = selectors.application_of_partner(token, reference)
    return submission_out(application, token.fund.slug)


# -- evidence, for staff scripts (their own tokens, the same problems) -------------------------

evidence_api.register(api)
