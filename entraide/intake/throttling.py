"""Rate limits of the API, with django-ninja's throttles (counted in the default cache: Redis in
production, shared by every process).

- Per token: a partner's token (``ENTRAIDE_RATE_API_PARTNER``, high: a partner sends a whole
  union's applications on opening day) and a staff member's personal token
  (``ENTRAIDE_RATE_API_STAFF``).
- Per address, for requests whose token is refused (``ENTRAIDE_RATE_API_REFUSED``): ninja checks
  throttles after authentication, so a client guessing tokens would never reach them; the
  bearers count refusals themselves and, beyond the rate, refuse the address even a good token
  until the window has passed.

Rates are read from the settings at each request (a test or an operator may change them); an
empty rate turns the throttle off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.throttling import AnonRateThrottle, AuthRateThrottle, BaseThrottle, SimpleRateThrottle

from entraide.core.middleware import client_ip

if TYPE_CHECKING:
    _Throttle = SimpleRateThrottle
else:
    _Throttle = object


class _RateFromSettings(_Throttle):
    """A ninja throttle whose rate is the setting ``setting``, read at each request."""

    setting = ""

    def __init__(self) -> None:  # the rate is not known yet: see configured()
        self.rate: str | None = None
        self.num_requests: int | None = None
        self.duration: int | None = None

    def configured(self) -> bool:
        self.rate = getattr(settings, self.setting, "") or None
        if self.rate is None:
            return False
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return True

    def get_ident(self, request: HttpRequest) -> str:
        return client_ip(request)


class _TokenThrottle(_RateFromSettings, AuthRateThrottle):
    """Requests per token of one kind; requests with another kind of token are not counted."""

    def holds(self, auth: Any) -> bool:
        raise NotImplementedError

    def allow_request(self, request: HttpRequest) -> bool:
        if not self.configured():
            return True
        return bool(super().allow_request(request))

    def get_cache_key(self, request: HttpRequest) -> str | None:  # type: ignore[override]
        auth: Any = getattr(request, "auth", None)
        if auth is None or not self.holds(auth):
            return None
        return self.cache_format % {"scope": self.scope, "ident": auth.pk}


class PartnerTokenThrottle(_TokenThrottle):
    """Requests per partner token (a partner may hold several: each counts on its own)."""

    scope = "partner"
    setting = "ENTRAIDE_RATE_API_PARTNER"

    def holds(self, auth: Any) -> bool:
        from entraide.intake.models import PartnerToken

        return isinstance(auth, PartnerToken)


class StaffTokenThrottle(_TokenThrottle):
    """Requests per person, with their personal API token."""

    scope = "staff"
    setting = "ENTRAIDE_RATE_API_STAFF"

    def holds(self, auth: Any) -> bool:
        return isinstance(auth, get_user_model())


class RefusedTokenThrottle(_RateFromSettings, AnonRateThrottle):
    """Refused tokens per client address (see the module's description)."""

    scope = "refused"
    setting = "ENTRAIDE_RATE_API_REFUSED"

    def check(self, request: HttpRequest) -> None:
        """Raise :class:`Throttled` if the address used up its refusals, before any token of
        this request is looked at."""
        if not self.configured():
            return
        key = self.get_cache_key(request)
        if key is None:
            return
        duration, limit = self.duration or 0, self.num_requests or 0
        now: float = self.timer()  # type: ignore[misc]
        history = [moment for moment in self.cache.get(key, []) if moment > now - duration]
        if len(history) >= limit:
            raise Throttled(wait=int(duration - (now - history[-1])) + 1)

    def refused(self, request: HttpRequest) -> None:
        """Count one refused token for the address."""
        if self.configured():
            self.allow_request(request)


# Shared by every request of the process, as ninja's throttles are (their state between
# allow_request and wait belongs to one request at a time: sync workers).
TOKEN_THROTTLES: list[BaseThrottle] = [PartnerTokenThrottle(), StaffTokenThrottle()]
refused_tokens = RefusedTokenThrottle()
