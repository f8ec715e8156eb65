"""No NIR, no IBAN, no e-mail in the logs or the error reports; a request id on every line."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.utils.functional import SimpleLazyObject
from django.views.debug import get_exception_reporter_class

from entraide.accounts.tests.factories import UserFactory
from entraide.core.logging import (
    JsonFormatter,
    SensitiveDataFilter,
    TextFormatter,
    mask_data,
    mask_sensitive,
)
from entraide.core.request_id import RequestIdMiddleware

NIR = "185057800608436"
NIR_TYPED = "1 85 05 78 006 084 36"
NIR_MASKED = "1 •• •• •• ••• ••• 36"
CORSICAN_NIR = "285052A12345678"
IBAN = "FR7630006000011234567890189"
IBAN_TYPED = "FR76 3000 6000 0112 3456 7890 189"
IBAN_MASKED = "FR76 •••• 0189"
GB_IBAN = "GB82 WEST 1234 5698 7654 32"

logger = logging.getLogger("entraide.tests.masking")


# --------------------------------------------------------------------------------------------
# The masker
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"nir {NIR} refused", f"nir {NIR_MASKED} refused"),
        (f"NIR: {NIR_TYPED}.", f"NIR: {NIR_MASKED}."),
        (f"nir={CORSICAN_NIR}&x=1", "nir=2 •• •• •• ••• ••• 78&x=1"),
        (f"iban {IBAN} end", f"iban {IBAN_MASKED} end"),
        (f"{IBAN_TYPED} is wrong", f"{IBAN_MASKED} is wrong"),
        (IBAN.lower(), IBAN_MASKED),
        (f"[{GB_IBAN}]", "[GB82 •••• 5432]"),
        # A mistyped IBAN of the right length is masked all the same (its key is wrong).
        ("FR7630006000011234567890188", "FR76 •••• 0188"),
        (f"{NIR} and {IBAN}", f"{NIR_MASKED} and {IBAN_MASKED}"),
    ],
)
def test_identifiers_are_masked(text: str, expected: str) -> None:
    assert mask_sensitive(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "no digits at all",
        "reference A-7K3M-9Q2F, 3 documents",
        "request de1234567890abcdef1234567890abcdef",  # a request id, not an IBAN
        "FR76300060000112345678901",  # too short for a French IBAN
        "FR763000600001123456789018999",  # too long
        "XX7630006000011234567890189",  # no such country
        "1234567890123456",  # 16 digits: not a NIR
        "385057800608436",  # a NIR starts with 1 or 2
        "amount 12345.67 EUR on 2026-11-26T09:48:24",
    ],
)
def test_other_text_is_left_alone(text: str) -> None:
    assert mask_sensitive(text) == text


def test_nested_data_is_masked_at_any_depth() -> None:
    data = {"a": [NIR, {"b": (IBAN, 3)}], "n": None}

    assert mask_data(data) == {"a": [NIR_MASKED, {"b": (IBAN_MASKED, 3)}], "n": None}


# --------------------------------------------------------------------------------------------
# The configured console handler, in both formats
# --------------------------------------------------------------------------------------------


@pytest.fixture
def console() -> Iterator[logging.StreamHandler[Any]]:
    """The root handler LOGGING configured, writing into a buffer for the test."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler)
        and any(isinstance(f, SensitiveDataFilter) for f in handler.filters)
    ]
    assert len(handlers) == 1, "LOGGING's console handler masks identifiers"
    handler = handlers[0]
    stream, formatter = handler.stream, handler.formatter
    handler.setStream(io.StringIO())
    try:
        yield handler
    finally:
        handler.setStream(stream)
        handler.setFormatter(formatter)


def written(handler: logging.StreamHandler[Any]) -> str:
    return handler.stream.getvalue()


def test_settings_default_to_text_and_mask_on_the_console() -> None:
    config: dict[str, Any] = settings.LOGGING
    assert config["handlers"]["console"]["formatter"] == "text"
    assert config["handlers"]["console"]["filters"] == ["request_context", "mask_sensitive"]
    assert config["formatters"]["json"]["()"] == "entraide.core.logging.JsonFormatter"


def test_a_logged_nir_and_iban_come_out_masked_in_text(
    console: logging.StreamHandler[Any],
) -> None:
    assert isinstance(console.formatter, TextFormatter)

    logger.warning("applicant %s, bank account %s", NIR, IBAN_TYPED)
    try:
        raise ValueError(f"invalid NIR {NIR}")
    except ValueError:
        logger.exception("check failed for %(iban)s", {"iban": IBAN})

    output = written(console)
    for secret in (NIR, IBAN, IBAN_TYPED):
        assert secret not in output
    assert f"applicant {NIR_MASKED}, bank account {IBAN_MASKED}" in output
    assert f"ValueError: invalid NIR {NIR_MASKED}" in output
    assert f"check failed for {IBAN_MASKED}" in output
    assert " WARNING entraide.tests.masking [-] applicant" in output


def test_a_logged_nir_and_iban_come_out_masked_in_json(
    console: logging.StreamHandler[Any],
) -> None:
    console.setFormatter(JsonFormatter())

    logger.info("applicant %s", NIR, extra={"bank": {"iban": IBAN}, "note": f"nir {NIR}"})
    try:
        raise ValueError(f"invalid IBAN {IBAN_TYPED}")
    except ValueError:
        logger.exception("refused")

    lines = written(console).splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == f"applicant {NIR_MASKED}"
    assert first["level"] == "INFO"
    assert first["logger"] == "entraide.tests.masking"
    assert first["time"]
    assert first["request_id"] is None
    assert first["user_id"] is None
    assert first["bank"] == {"iban": IBAN_MASKED}
    assert first["note"] == f"nir {NIR_MASKED}"
    assert f"ValueError: invalid IBAN {IBAN_MASKED}" in second["exc_info"]
    assert NIR not in written(console)
    assert IBAN_TYPED not in written(console)


def test_lines_of_a_request_carry_its_id_and_the_user_id_never_the_email(
    console: logging.StreamHandler[Any], db: None
) -> None:
    console.setFormatter(JsonFormatter())
    user = UserFactory.create(email="someone@example.org")

    def view(request: HttpRequest) -> HttpResponse:
        logger.info("inside the view")
        return HttpResponse("ok")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="proxy-id-42")
    request.user = user
    response = RequestIdMiddleware(view)(request)

    line = json.loads(written(console))
    assert line["request_id"] == "proxy-id-42" == response["X-Request-ID"]
    assert line["user_id"] == user.pk
    assert "someone@example.org" not in written(console)


def test_logging_never_loads_the_user(console: logging.StreamHandler[Any]) -> None:
    console.setFormatter(JsonFormatter())

    def view(request: HttpRequest) -> HttpResponse:
        logger.info("before the user is known")
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: pytest.fail("the log line loaded the user"))
    response = RequestIdMiddleware(view)(request)

    line = json.loads(written(console))
    assert line["user_id"] is None
    assert len(line["request_id"]) == 32
    assert line["request_id"] == response["X-Request-ID"]


@pytest.mark.parametrize("given", ["", "bad\nid", "x" * 129, "<script>"])
def test_an_unusable_request_id_is_replaced(client: Client, db: None, given: str) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] != given
    assert len(response["X-Request-ID"]) == 32


# --------------------------------------------------------------------------------------------
# Error reports: the technical 500 page and the e-mails to ADMINS
# --------------------------------------------------------------------------------------------


# Module-level: the report shows the source lines around each frame, which must not be what
# gives these values away.
BIC = "BNPAFRPPXXX"
PASSWORD = "correct horse battery"
POSTED = {
    "nir": NIR,
    "iban": IBAN,
    "bic": BIC,
    "password1": PASSWORD,
    "note": f"my IBAN is {IBAN_TYPED}",
}


def failing_request() -> tuple[HttpRequest, Any]:
    request = RequestFactory().post(f"/funds/x/apply/identity/?nir={NIR}", POSTED)
    iban = IBAN  # a local variable named like an identifier  # noqa: F841
    answers = {"declared": NIR}  # noqa: F841
    try:
        raise ValueError(f"invalid NIR {NIR}")
    except ValueError:
        return request, sys.exc_info()


def assert_nothing_sensitive(report: str) -> None:
    for secret in (NIR, IBAN, IBAN_TYPED, BIC, PASSWORD):
        assert secret not in report


@pytest.mark.parametrize("debug", [False, True])
def test_the_technical_error_report_shows_no_identifier(settings: Any, debug: bool) -> None:
    settings.DEBUG = debug
    request, exc_info = failing_request()
    reporter_class: Any = get_exception_reporter_class(request)
    reporter = reporter_class(request, *exc_info)

    html, text = reporter.get_traceback_html(), reporter.get_traceback_text()

    assert_nothing_sensitive(html)
    assert_nothing_sensitive(text)
    assert "FR76 •••• 0189" in text  # the free text's IBAN, masked
    assert "invalid NIR 1 •• •• •• ••• ••• 36" in text


def test_the_error_email_to_admins_shows_no_identifier(settings: Any) -> None:
    settings.ADMINS = [("Operations", "ops@example.org")]
    request, exc_info = failing_request()

    logging.getLogger("django.request").error(
        "Internal Server Error: %s (%s)",
        request.path,
        NIR,
        exc_info=exc_info,
        extra={"status_code": 500, "request": request},
    )

    assert len(mail.outbox) == 1
    assert_nothing_sensitive(mail.outbox[0].subject)
    assert_nothing_sensitive(mail.outbox[0].body)
    assert "nir = '********************'" in mail.outbox[0].body
