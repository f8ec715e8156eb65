"""Signing and sending webhook events.

``Entraide-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the partner's
secret>``, as Stripe does: the time in the signed text lets a receiver refuse old replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.error
import urllib.request
from typing import Any

SIGNATURE_HEADER = "Entraide-Signature"
TIMEOUT_SECONDS = 5
USER_AGENT = "entraide-webhooks/1"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300) -> bool:
    """What a receiver does (docs/api.md shows the same in a few lines)."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: the signed event goes only to the address the operator set."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, secret: str, body: bytes) -> str | None:
    """POST the event; ``None`` if the receiver accepted it (2xx), else what went wrong."""
    request = urllib.request.Request(  # noqa: S310 (the operator sets http(s) URLs only)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature(secret, body, int(time.time())),
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return f"{type(error).__name__}: {getattr(error, 'reason', error)}"
    return None if 200 <= status < 300 else f"HTTP {status}"
