"""What would reach Sentry carries no NIR, no IBAN and no secret (no network: the hooks are
called on synthetic events)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from entraide.core import sentry
from entraide.core.sentry import scrub_event

NIR = "185057800608436"
IBAN = "FR7630006000011234567890189"
IBAN_TYPED = "FR76 3000 6000 0112 3456 7890 189"


def synthetic_event() -> dict[str, Any]:
    return {
        "level": "error",
        "request": {
            "url": "https://entraide.example/funds/x/apply/identity/",
            "method": "POST",
            "query_string": f"nir={NIR}",
            "data": {"nir": NIR, "iban": IBAN, "note": f"my IBAN is {IBAN_TYPED}"},
            "headers": {"Authorization": "Bearer partner-token", "X-Note": NIR},
            "cookies": {"sessionid": "abc"},
        },
        "breadcrumbs": {
            "values": [
                {"category": "query", "message": f"SELECT 1 WHERE nir = '{NIR}'"},
                {"category": "log", "message": f"iban {IBAN}", "data": {"args": [NIR]}},
            ]
        },
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"invalid NIR {NIR} for IBAN {IBAN_TYPED}",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "submit",
                                "vars": {
                                    "nir": NIR,
                                    "message": f"bank account {IBAN}",
                                    "deep": {"list": [NIR, {"iban": IBAN}]},
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "extra": {"bank": {"bic": "BNPAFRPPXXX"}, "context": f"applicant {NIR}"},
        "logentry": {"message": "nir %s", "params": [NIR]},
    }


def test_before_send_masks_every_nir_and_iban_of_an_event() -> None:
    event = scrub_event(synthetic_event(), {})

    dumped = json.dumps(event, default=str, ensure_ascii=False)
    for secret in (NIR, IBAN, IBAN_TYPED, "BNPAFRPPXXX", "partner-token"):
        assert secret not in dumped
    exception = event["exception"]["values"][0]
    assert exception["value"] == "invalid NIR 1 •• •• •• ••• ••• 36 for IBAN FR76 •••• 0189"
    assert event["breadcrumbs"]["values"][0]["message"] == (
        "SELECT 1 WHERE nir = '1 •• •• •• ••• ••• 36'"
    )
    assert event["request"]["data"]["note"] == "my IBAN is FR76 •••• 0189"
    assert event["request"]["query_string"] == "nir=1 •• •• •• ••• ••• 36"
    # Fields named like an identifier or a secret are hidden altogether, not only masked.
    assert "0189" not in str(event["request"]["data"]["iban"])
    assert "•••• " not in str(exception["stacktrace"]["frames"][0]["vars"]["nir"])


def test_sentry_is_set_up_without_personal_data(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("sentry_sdk.init", lambda **options: calls.append(options))

    sentry.init_sentry(
        dsn="https://key@sentry.invalid/1",
        environment="production",
        traces_sample_rate=0.25,
        release="",
    )

    (options,) = calls
    assert options["send_default_pii"] is False
    assert options["max_request_body_size"] == "never"
    assert options["before_send"] is scrub_event
    assert options["before_send_transaction"] is scrub_event
    assert options["traces_sample_rate"] == 0.25
    assert [type(i).__name__ for i in options["integrations"]] == ["DjangoIntegration"]
