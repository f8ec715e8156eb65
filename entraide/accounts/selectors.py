"""Reading accounts and their API tokens (for the operator's commands)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import QuerySet

from entraide.accounts.models import ApiToken, User


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email=email.strip().lower()).first()


def api_tokens_by_prefix(prefix: str) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(prefix__startswith=prefix).select_related("user")


def command_actor(email: str) -> User:
    """The active account a management command acts as (``--as``, ``--actor``), or the
    command's error."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None:
        raise CommandError(f"no active account with the e-mail address {email}")
    return user
