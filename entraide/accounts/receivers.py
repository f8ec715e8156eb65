"""Every login starts the session's security clocks (:mod:`entraide.accounts.sessions`):
allauth's, after its second step, and the test client's ``force_login`` alike."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from entraide.accounts import sessions


@receiver(user_logged_in, dispatch_uid="entraide.accounts.start_session_clocks")
def start_session_clocks(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.start(request, user)
