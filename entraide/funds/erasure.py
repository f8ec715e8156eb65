"""What the funds app holds about a person, for the privacy app (entraide.privacy): the awards
of their applications (for their copy of their data, and to know which grants are live or
given up), and the person's blind index on an award, erased with the application.

Changes run inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from entraide.funds.models import Award

ERASED_PREFIX = "erased:"


def awards_of(application_ids: Iterable[int]) -> dict[int, Award]:
    """application id → its award (granted, waiting, paid or given up)."""
    return {
        award.application_id: award
        for award in Award.objects.filter(application_id__in=list(application_ids))
    }


def award_data(award: Award) -> dict[str, Any]:
    """The award as its applicant may read it (who approved it is the fund's staff: not named)."""
    return {
        "amount": award.amount,
        "currency": award.currency,
        "status": award.status,
        "status_label": str(award.get_status_display()),
        "granted_at": award.created_at,
        "reserved_at": award.reserved_at,
        "released_at": award.released_at,
    }


def award_ids_of(application_ids: Iterable[int]) -> dict[int, int]:
    """application id → award id."""
    return dict(
        Award.objects.filter(application_id__in=list(application_ids)).values_list(
            "application_id", "pk"
        )
    )


def with_live_award(application_ids: Iterable[int]) -> set[int]:
    """The applications granted and not given up (waiting for budget, reserved or paid)."""
    return set(
        Award.objects.filter(
            application_id__in=list(application_ids), status__in=Award.LIVE
        ).values_list("application_id", flat=True)
    )


def released_before(fund_id: int, cutoff: dt.datetime) -> QuerySet[Award, Any]:
    """Applications of the fund whose award was given up before ``cutoff``."""
    return Award.objects.filter(
        fund_id=fund_id, status=Award.Status.RELEASED, released_at__lt=cutoff
    ).values_list("application_id", flat=True)


def erase(application_ids: Iterable[int]) -> int:
    """Replace the person's blind index on these applications' awards by a value of the
    award's own, so that the constraint "one award per person" still holds."""
    erased = 0
    for award in Award.objects.filter(application_id__in=list(application_ids)).exclude(
        nir_index__startswith=ERASED_PREFIX
    ):
        award.nir_index = f"{ERASED_PREFIX}{award.pk}"
        award.save(update_fields=["nir_index"])
        erased += 1
    return erased
