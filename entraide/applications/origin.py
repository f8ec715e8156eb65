"""Where a portal submission came from, kept as a keyed digest: enough to notice several
applications from one place within minutes (entraide.integrity), never the address itself."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.crypto import salted_hmac


def origin_of(request: HttpRequest) -> str:
    """The digest of the client's address as the server saw it (behind a reverse proxy, the
    deployment sets REMOTE_ADDR from the proxy's forwarded header)."""
    address = request.META.get("REMOTE_ADDR") or ""
    if not address:
        return ""
    return salted_hmac("entraide.applications.origin", address, algorithm="sha256").hexdigest()
