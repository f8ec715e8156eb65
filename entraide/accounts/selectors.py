"""Reading accounts and their API tokens (for the operator's commands)."""

from __future__ import annotations

from django.db.models import QuerySet

from entraide.accounts.models import ApiToken, User


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email=email.strip().lower()).first()


def api_tokens_by_prefix(prefix: str) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(prefix__startswith=prefix).select_related("user")
