"""Error reports to Sentry, when ``SENTRY_DSN`` is set, with no personal data in them.

``send_default_pii=False`` keeps out cookies, the user's address and e-mail; the request's body
is never sent; :func:`scrub_event` then hides every field named like an identifier or a secret
(Sentry's own ``EventScrubber``, with our names added) and masks each NIR and IBAN left in any
text of the event: the request, the breadcrumbs (log lines, queries), the exception messages and
the local variables of the stack frames.
"""

from __future__ import annotations

from typing import Any

from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

# Field names (exact, lower case, as Sentry compares them) whose values are always hidden.
DENYLIST = [
    *DEFAULT_DENYLIST,
    "nir",
    "nir_index",
    "iban",
    "iban_index",
    "bic",
    "password1",
    "password2",
    "oldpassword",
    "email",
    "phone",
    "birth_date",
]

_scrubber = EventScrubber(denylist=DENYLIST, recursive=True)


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_send`` (and ``before_send_transaction``): the event with nothing personal."""
    # Imported here: the settings import this module, before Django is set up.
    from entraide.core.logging import mask_data

    _scrubber.scrub_event(event)  # type: ignore[arg-type]
    return mask_data(event)


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float, release: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        event_scrubber=_scrubber,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=scrub_event,  # type: ignore[arg-type]
        traces_sample_rate=traces_sample_rate,
    )
