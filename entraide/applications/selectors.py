"""Reading applications: an applicant sees only their own; staff only those of their funds."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from entraide.applications.models import Application
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require


def applications_of_applicant(user: Any) -> QuerySet[Application]:
    if not user.is_authenticated:
        return Application.objects.none()
    return (
        Application.objects.filter(applicant=user).select_related("fund").order_by("-submitted_at")
    )


def application_of_applicant(user: Any, reference: str) -> Application:
    """404 for anyone else's application, so references cannot be probed."""
    return get_object_or_404(applications_of_applicant(user), reference=reference)


def applications_for_staff(
    user: Any, fund: Fund, *, status: str | None = None, search: str = ""
) -> QuerySet[Application]:
    require(user, fund, Capability.VIEW_APPLICATIONS)
    queryset = Application.objects.filter(fund=fund)
    if status:
        queryset = queryset.filter(status=status)
    if search:
        term = search.strip()
        queryset = queryset.filter(
            Q(reference__iexact=term)
            | Q(last_name__icontains=term)
            | Q(first_name__icontains=term)
            | Q(email__iexact=term)
        )
    return queryset.order_by("submitted_at", "pk")


def application_for_staff(user: Any, fund: Fund, reference: str) -> Application:
    return get_object_or_404(
        applications_for_staff(user, fund).select_related("fund"), reference=reference
    )


def lock_application(application_id: int) -> Application:
    return Application.objects.select_for_update().select_related("fund").get(pk=application_id)


def status_counts(fund: Fund) -> list[tuple[str, str, int]]:
    """``(status, label, count)`` for every status, zeros included, in one query."""
    counts = dict(
        Application.objects.filter(fund=fund)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        (value, str(label), counts.get(value, 0)) for value, label in Application.Status.choices
    ]


def application_by_id(application_id: int) -> Application:
    return Application.objects.select_related("fund").get(pk=application_id)
