"""Domain errors: what a service raises when it refuses an action.

Each error has a stable ``code`` (for the API and tests) and a translatable message (for people).
Views turn them into a form error or a message; they never become a 500.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    default_message: Any = _("This action is not allowed.")

    def __init__(self, message: Any = None, *, field: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        super().__init__(str(self.message))


class PermissionDenied(DomainError):
    code = "permission_denied"
    default_message = _("You do not have permission to do this.")


class NotFound(DomainError):
    code = "not_found"
    default_message = _("Not found.")


class InvalidTransition(DomainError):
    code = "invalid_transition"
    default_message = _("This change of status is not allowed.")


class ValidationFailed(DomainError):
    code = "validation_failed"
    default_message = _("Some information is missing or invalid.")
