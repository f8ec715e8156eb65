"""Who may do what on a programme: its managers (and the fund operators, who create
programmes) manage it; its donor's people read its roll-up and reports, no person's data."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from entraide.core.errors import PermissionDenied
from entraide.programmes.models import Programme, ProgrammeRole

Role = ProgrammeRole.Role


def is_operator(user: Any) -> bool:
    """The fund operators (and superusers) manage every programme."""
    return bool(user.is_authenticated and user.has_perm("programmes.add_programme"))


def can_manage(user: Any, programme: Programme) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        is_operator(user)
        or ProgrammeRole.objects.filter(programme=programme, user=user, role=Role.MANAGER).exists()
    )


def can_view(user: Any, programme: Programme) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        is_operator(user) or ProgrammeRole.objects.filter(programme=programme, user=user).exists()
    )


def require_manage(user: Any, programme: Programme) -> None:
    if not can_manage(user, programme):
        raise PermissionDenied()


def programmes_for(user: Any) -> QuerySet[Programme]:
    """The programmes the person may read."""
    if not user.is_authenticated or not user.is_active:
        return Programme.objects.none()
    if is_operator(user):
        return Programme.objects.all()
    return Programme.objects.filter(
        pk__in=ProgrammeRole.objects.filter(user=user).values("programme_id")
    )
