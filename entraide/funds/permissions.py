"""Who may do what on a fund: the one place where roles turn into capabilities.

Views and services ask :func:`has_capability` / :func:`require`; selectors use
:func:`funds_with_capability` to filter what a person can see.
"""

from __future__ import annotations

import enum
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from entraide.core.errors import PermissionDenied
from entraide.funds.models import Fund, FundRole

Role = FundRole.Role


class Capability(enum.StrEnum):
    VIEW_FUND = "view_fund"
    MANAGE_FUND = "manage_fund"
    VIEW_APPLICATIONS = "view_applications"
    DECIDE = "decide"
    CONFIRM_APPROVAL = "confirm_approval"  # the second pair of eyes
    EXPORT = "export"
    VIEW_PAYMENTS = "view_payments"
    # Prepare and release payment batches (never both on one batch), import the bank's
    # returns, verify changed bank details.
    MANAGE_PAYMENTS = "manage_payments"
    VIEW_AUDIT = "view_audit"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OPERATOR_ADMIN: frozenset(
        {
            Capability.VIEW_FUND,
            Capability.MANAGE_FUND,
            Capability.VIEW_APPLICATIONS,
            Capability.EXPORT,
            Capability.VIEW_AUDIT,
            Capability.VIEW_PAYMENTS,
        }
    ),
    Role.REVIEWER: frozenset(
        {Capability.VIEW_FUND, Capability.VIEW_APPLICATIONS, Capability.DECIDE}
    ),
    Role.APPROVER: frozenset(
        {
            Capability.VIEW_FUND,
            Capability.VIEW_APPLICATIONS,
            Capability.DECIDE,
            Capability.CONFIRM_APPROVAL,
        }
    ),
    Role.FINANCE: frozenset(
        {
            Capability.VIEW_FUND,
            Capability.VIEW_APPLICATIONS,
            Capability.VIEW_PAYMENTS,
            Capability.MANAGE_PAYMENTS,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Capability.VIEW_FUND,
            Capability.VIEW_APPLICATIONS,
            Capability.EXPORT,
            Capability.VIEW_AUDIT,
            Capability.VIEW_PAYMENTS,
        }
    ),
}


def roles_granting(capability: Capability) -> list[str]:
    return [role for role, caps in ROLE_CAPABILITIES.items() if capability in caps]


def can_create_funds(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm("funds.add_fund"))


def is_back_office_user(user: Any) -> bool:
    if not user.is_authenticated:
        return False
    return bool(
        user.is_superuser
        or can_create_funds(user)
        # A role in a fund, or in a programme (its managers and donor read its roll-up): one
        # query for both.
        or get_user_model()
        .objects.filter(pk=user.pk)
        .filter(Q(fund_roles__isnull=False) | Q(programme_roles__isnull=False))
        .exists()
        # The evidence imports are the platform's, not a fund's (read after can_create_funds,
        # whose permissions are cached on the user: no query more).
        or user.has_perm("evidence.view_evidencebatch")
    )


def capabilities(user: Any, fund: Fund) -> frozenset[Capability]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Capability)
    roles = FundRole.objects.filter(fund=fund, user=user).values_list("role", flat=True)
    granted: set[Capability] = set()
    for role in roles:
        granted |= ROLE_CAPABILITIES[role]
    return frozenset(granted)


def has_capability(user: Any, fund: Fund, capability: Capability) -> bool:
    return capability in capabilities(user, fund)


def require(user: Any, fund: Fund, capability: Capability) -> None:
    if not has_capability(user, fund, capability):
        raise PermissionDenied()


def funds_with_capability(user: Any, capability: Capability) -> QuerySet[Fund]:
    if not user.is_authenticated or not user.is_active:
        return Fund.objects.none()
    if user.is_superuser:
        return Fund.objects.all()
    return Fund.objects.filter(
        pk__in=FundRole.objects.filter(user=user, role__in=roles_granting(capability)).values(
            "fund_id"
        )
    )
