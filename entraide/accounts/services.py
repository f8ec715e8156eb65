"""Creating accounts outside the sign-up flow (staff set up by an operator, demo data)."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from entraide.accounts.models import User
from entraide.audit import services as audit
from entraide.core.errors import PermissionDenied

FUND_OPERATORS_GROUP = "Fund operators"
FUND_OPERATOR_PERMISSIONS = (
    ("funds", "add_fund"),
    ("programmes", "add_programme"),
    ("accounts", "add_user"),
    ("evidence", "add_evidencebatch"),
)


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
