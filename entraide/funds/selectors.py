"""Reading funds, already filtered by what the person may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

from entraide.core.errors import PermissionDenied
from entraide.funds.models import (
    Award,
    BudgetEntry,
    Fund,
    FundDocumentRequirement,
    FundQuestion,
    FundRole,
)
from entraide.funds.permissions import Capability, funds_with_capability, is_back_office_user


def funds_for_staff(user: Any) -> QuerySet[Fund]:
    """With ``credited``: the budget credited in all, from the fund's last ledger entry."""
    last_entry = BudgetEntry.objects.filter(fund=OuterRef("pk")).order_by("-sequence")
    return (
        funds_with_capability(user, Capability.VIEW_FUND)
        .annotate(credited=Subquery(last_entry.values("credited")[:1]))
        .order_by("-opens_on", "name")
    )


def fund_for_staff(user: Any, slug: str, capability: Capability = Capability.VIEW_FUND) -> Fund:
    """The fund, if the person holds ``capability`` on it; otherwise 404, so that a fund that
    is not theirs does not even show that it exists. Someone with no back-office access at all
    (an applicant) gets 403 instead, as on every other back-office page."""
    try:
        return get_object_or_404(funds_with_capability(user, capability), slug=slug)
    except Http404:
        if not is_back_office_user(user):
            raise PermissionDenied() from None
        raise


def public_funds(today: dt.date) -> QuerySet[Fund]:
    """Funds taking applications whose window has not closed yet (a day of margin for time
    zones ahead of UTC); a crew relief fund takes none."""
    return Fund.objects.filter(
        kind=Fund.Kind.APPLICATIONS, closes_on__gte=today - dt.timedelta(days=1)
    ).order_by("closes_on")


def public_fund(slug: str) -> Fund:
    """A fund taking applications (a crew relief fund has no public page: 404)."""
    return get_object_or_404(Fund, slug=slug, kind=Fund.Kind.APPLICATIONS)


def fund_by_id(fund_id: int) -> Fund:
    return Fund.objects.get(pk=fund_id)


def funds_with_ids(ids: QuerySet[Any, Any]) -> QuerySet[Fund]:
    """The funds whose ids a sub-query gives, in the order they were created."""
    return Fund.objects.filter(pk__in=ids).order_by("pk")


def waitlisted(fund: Fund) -> Q:
    """A filter of an application query of ``fund``: its award waits for budget (the fund
    named, so that the waiting list's index gives the awards in order)."""
    return Q(award__fund=fund, award__status=Award.Status.WAITLISTED)


# The waiting list's order (the ledger funds it in this order), from an application query.
WAITING_ORDER = ("award__queued_at", "award__id")


def lock_fund(fund_id: int) -> Fund:
    """Lock the fund row for the rest of the transaction: budget checks queue up behind it."""
    # NO KEY UPDATE: rows that merely reference the fund (their foreign-key checks take KEY
    # SHARE) are not held up, nor deadlocked, by the decisions queuing on it.
    return Fund.objects.select_for_update(no_key=True).get(pk=fund_id)


def fund_by_slug(slug: str) -> Fund | None:
    return Fund.objects.filter(slug=slug).first()


def document_requirements(fund: Fund) -> list[FundDocumentRequirement]:
    """The documents the fund asks for, in the order its public page lists them."""
    return list(fund.document_requirements.order_by("position", "pk"))


def frequently_asked(fund: Fund) -> list[FundQuestion]:
    """The fund's own FAQ, in order (empty: the public page shows a default one)."""
    return list(fund.faq.order_by("position", "pk"))


def text_in(obj: Any, name: str, language: str) -> str:
    """The French or English text of ``obj`` (``name_fr`` / ``name_en``) for ``language``,
    or the other language's when it is blank."""
    first, other = ("en", "fr") if language.startswith("en") else ("fr", "en")
    return str(getattr(obj, f"{name}_{first}") or getattr(obj, f"{name}_{other}"))


def fund_ids_of_programme(fund: Fund) -> list[int]:
    """The fund's own id and those of the other funds of its programme (just its own outside
    a programme)."""
    if fund.programme_id is None:
        return [fund.pk]
    return list(
        Fund.objects.filter(programme_id=fund.programme_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def fund_roles_held(user: Any, roles: Iterable[str] | None = None) -> QuerySet[FundRole]:
    """The fund roles a person holds (of ``roles`` if given); ``user`` may be an ``OuterRef``
    (the accounts' security checks read it as a sub-query)."""
    held = FundRole.objects.filter(user=user)
    return held if roles is None else held.filter(role__in=list(roles))
