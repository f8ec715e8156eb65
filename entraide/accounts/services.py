"""Creating accounts outside the sign-up flow (staff set up by an operator, demo data), and
the personal API tokens of staff members."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.accounts.models import ApiToken, User
from entraide.audit import services as audit
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.tokens import hash_token

FUND_OPERATORS_GROUP = "Fund operators"
FUND_OPERATOR_PERMISSIONS = (
    ("funds", "add_fund"),
    ("programmes", "add_programme"),
    ("accounts", "add_user"),
    ("evidence", "view_evidencebatch"),
    ("evidence", "add_evidencebatch"),
    ("evidence", "delete_evidencebatch"),  # rolling an import back
)
# "ents_" (staff) and 8 random characters: enough to tell tokens apart, useless to guess. Not the
# partners' "ent_": each API refuses the other's tokens at a glance.
API_TOKEN_PREFIX = "ents_"  # noqa: S105
SHOWN_PREFIX_LENGTH = len(API_TOKEN_PREFIX) + 8
# A token's last use is written at most this often.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


class ApiTokenAlreadyRevoked(DomainError):
    code = "token_revoked"
    default_message = _("This token has already been revoked.")


def create_account(
    *,
    actor: Any,
    email: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    fund_operator: bool = False,
) -> User:
    """An account whose e-mail address is already verified (the operator vouches for it).

    Without a password the account cannot log in until its owner resets it. ``actor=None`` is
    the platform itself (a command run by the system administrator).
    """
    with transaction.atomic(durable=True):
        if actor is not None and not actor.has_perm("accounts.add_user"):
            raise PermissionDenied()
        user = User.objects.create_user(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        if fund_operator:
            user.groups.add(fund_operators_group())
        audit.record(
            actor=actor,
            action="account.created",
            obj=user,
            changes=audit.created({"email": user.email, "fund_operator": fund_operator}),
        )
    return user


def fund_operators_group() -> Group:
    group, _ = Group.objects.get_or_create(name=FUND_OPERATORS_GROUP)
    for app_label, codename in FUND_OPERATOR_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group


def issue_api_token(*, actor: Any, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new personal token of ``user``. The clear token is returned here, once: only its
    SHA-256 is stored. ``actor=None`` is the platform (``entraide accounts token``)."""
    raw_token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        if actor is not None and not actor.has_perm("accounts.add_apitoken"):
            raise PermissionDenied()
        token = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=raw_token[:SHOWN_PREFIX_LENGTH],
            token_hash=hash_token(raw_token),
        )
        audit.record(
            actor=actor,
            action="api_token.issued",
            obj=token,
            # The prefix identifies the token; the token and its hash stay out of the log.
            changes=audit.created({"user": user.email, "name": token.name, "prefix": token.prefix}),
        )
    return token, raw_token


def revoke_api_token(*, actor: Any, token: ApiToken) -> ApiToken:
    """Refuse the token from now on; its row stays, for the audit log and its last use."""
    with transaction.atomic(durable=True):
        if actor is not None and not actor.has_perm("accounts.change_apitoken"):
            raise PermissionDenied()
        token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if token.revoked_at is not None:
            raise ApiTokenAlreadyRevoked()
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="api_token.revoked",
            obj=token,
            changes={"revoked_at": {"before": None, "after": token.revoked_at.isoformat()}},
        )
    return token


def authenticate_api_token(raw_token: str) -> User | None:
    """The active user of the active token whose hash matches, else ``None``."""
    if not raw_token.startswith(API_TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw_token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # A plain UPDATE, once a minute at most: not worth an audit event.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
