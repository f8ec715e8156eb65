"""Signals other domains listen to, sent after the change is committed."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit when an application is received or changes status.
# Arguments: ``application_id`` (int), ``status`` (str), ``partner`` (the intake partner that
# submitted it, or None when the applicant applied in the portal).
application_status_changed = Signal()
