from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.http import Http404

from entraide.core.errors import PermissionDenied
from entraide.funds.permissions import is_back_office_user
from entraide.programmes.models import ExchangeRate, Programme, ProgrammeRole, RateImport
from entraide.programmes.permissions import can_view, programmes_for


def programme_by_slug(slug: str) -> Programme | None:
    return Programme.objects.filter(slug=slug).first()


def lock_programme(programme_id: int) -> Programme:
    """Lock the programme row for the rest of the transaction: checks that span its funds (one
    application per person in the programme) queue up behind it."""
    return Programme.objects.select_for_update().get(pk=programme_id)


def programmes_with_allocated(user: Any) -> QuerySet[Programme]:
    """The programmes the person may read, with ``allocated``: the sum of their allocations
    (None before the first one)."""
    return (
        programmes_for(user).annotate(allocated=Sum("allocations__amount")).order_by("name", "pk")
    )


def programme_for_reader(user: Any, slug: str) -> Programme:
    """The programme, if the person may read it; otherwise 404, so that a programme that is not
    theirs does not even show that it exists. Someone with no back-office access at all (an
    applicant) gets 403, as on every other back-office page."""
    programme = programme_by_slug(slug)
    if programme is None or not can_view(user, programme):
        if not is_back_office_user(user):
            raise PermissionDenied()
        raise Http404()
    return programme


def roles_of(programme: Programme) -> list[ProgrammeRole]:
    """Who has a part in the programme, by role then address."""
    return list(
        ProgrammeRole.objects.filter(programme=programme)
        .select_related("user")
        .order_by("role", "user__email")
    )


def programme_roles_held(user: Any, roles: Iterable[str] | None = None) -> QuerySet[ProgrammeRole]:
    """The programme roles a person holds (of ``roles`` if given); ``user`` may be an
    ``OuterRef``."""
    held = ProgrammeRole.objects.filter(user=user)
    return held if roles is None else held.filter(role__in=list(roles))


def latest_rates() -> list[ExchangeRate]:
    """Each currency's rates of the last day it has one (a rate recorded by hand beside the
    ECB's, when both exist), by currency."""
    last_day = ExchangeRate.objects.filter(currency=OuterRef("currency")).order_by("-day")
    return list(
        ExchangeRate.objects.filter(day=Subquery(last_day.values("day")[:1]))
        .select_related("recorded_by")
        .order_by("currency", "-source")
    )


def manual_rates() -> QuerySet[ExchangeRate]:
    """The rates recorded by hand, the last recorded first."""
    return (
        ExchangeRate.objects.filter(source=ExchangeRate.Source.MANUAL)
        .select_related("recorded_by")
        .order_by("-recorded_at", "-pk")
    )


def rate_imports() -> QuerySet[RateImport]:
    """The files of reference rates imported, the last first."""
    return RateImport.objects.select_related("imported_by").order_by("-imported_at", "-pk")
