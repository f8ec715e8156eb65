"""Reading accounts and their API tokens (for the operator's commands), and who must use
two-factor authentication."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.core.management.base import CommandError
from django.db.models import Exists, OuterRef, Q, QuerySet

from entraide.accounts.models import ApiToken, User
from entraide.funds.permissions import Capability, roles_granting
from entraide.funds.selectors import fund_roles_held
from entraide.programmes.models import ProgrammeRole
from entraide.programmes.selectors import programme_roles_held

# What lets a person approve a grant (or fund the waiting list, grant roles, change the rules
# that set amounts) or pay: whoever has one of these on any fund must use a second factor.
MFA_CAPABILITIES = (
    Capability.DECIDE,
    Capability.CONFIRM_APPROVAL,
    Capability.MANAGE_FUND,
    Capability.MANAGE_PAYMENTS,
)
# A programme's managers allocate its money and approve its crew relief runs.
MFA_PROGRAMME_ROLES = (ProgrammeRole.Role.MANAGER,)
# The fund operators create funds (becoming their operator admin) and manage every programme.
MFA_PERMISSIONS = (("funds", "add_fund"), ("programmes", "add_programme"))
# What counts as a second factor at login (recovery codes only stand in for one).
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


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


def mfa_fund_roles() -> list[str]:
    """The fund roles that need two-factor authentication, read from the capabilities."""
    return sorted({role for capability in MFA_CAPABILITIES for role in roles_granting(capability)})


@dataclass(frozen=True)
class SecurityProfile:
    """What the session's security rules need to know about a person."""

    staff: bool  # works in the back office: the staff's shorter idle timeout
    mfa_required: bool  # may approve or pay: the back office needs a second factor
    mfa_enrolled: bool  # has an authenticator app (or a security key)

    @property
    def mfa_missing(self) -> bool:
        return self.mfa_required and not self.mfa_enrolled


def _permissions_of(user: Any) -> QuerySet[Permission]:
    return Permission.objects.filter(Q(user=user) | Q(group__user=user))


def security_profile(user: Any) -> SecurityProfile:
    """The person's :class:`SecurityProfile`, in one query, kept on the user object for the
    rest of the request."""
    cached: SecurityProfile | None = getattr(user, "_entraide_security_profile", None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        return SecurityProfile(staff=False, mfa_required=False, mfa_enrolled=False)
    person = OuterRef("pk")
    privileged_permission = Q()
    for app_label, codename in MFA_PERMISSIONS:
        privileged_permission |= Q(content_type__app_label=app_label, codename=codename)
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            approves_or_pays=Exists(fund_roles_held(person, mfa_fund_roles())),
            manages_programme=Exists(programme_roles_held(person, MFA_PROGRAMME_ROLES)),
            operates=Exists(_permissions_of(person).filter(privileged_permission)),
            any_role=Exists(fund_roles_held(person)) | Exists(programme_roles_held(person)),
            any_permission=Exists(_permissions_of(person)),
            enrolled=Exists(Authenticator.objects.filter(user=person, type__in=SECOND_FACTORS)),
        )
        .values(
            "is_staff",
            "is_superuser",
            "approves_or_pays",
            "manages_programme",
            "operates",
            "any_role",
            "any_permission",
            "enrolled",
        )
        .first()
    )
    if row is None:  # deleted meanwhile
        return SecurityProfile(staff=False, mfa_required=False, mfa_enrolled=False)
    # Django's admin changes anything without the services' checks: its users count too.
    required = any(
        row[name]
        for name in (
            "is_staff",
            "is_superuser",
            "approves_or_pays",
            "manages_programme",
            "operates",
        )
    )
    profile = SecurityProfile(
        staff=required or row["any_role"] or row["any_permission"],
        mfa_required=required,
        mfa_enrolled=row["enrolled"],
    )
    user._entraide_security_profile = profile
    return profile


def requires_mfa(user: Any) -> bool:
    """Whether the person may approve or pay (a role, the fund operators' permissions, the
    admin site), and so must use two-factor authentication in the back office."""
    return security_profile(user).mfa_required


def has_second_factor(user: Any) -> bool:
    return security_profile(user).mfa_enrolled
