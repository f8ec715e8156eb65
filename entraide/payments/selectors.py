"""Reading the payments from other domains."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from entraide.funds.models import Award
from entraide.payments.models import Payment


def _sent_transfers(award: Any) -> QuerySet[Payment]:
    """The award's transfers gone to the bank (in a batch marked sent), the last attempt first."""
    return Payment.objects.filter(
        award=award,
        status__in=(Payment.Status.SENT, Payment.Status.CONFIRMED),
        batch__sent_at__isnull=False,
    ).order_by("-attempt")


def sent_at(award: Award) -> dt.datetime | None:
    """When the award's transfer went to the bank (the batch marked sent): its last attempt
    sent or confirmed; None while none is."""
    moment: dt.datetime | None = (
        _sent_transfers(award).values_list("batch__sent_at", flat=True).first()
    )
    return moment


def sent_at_of(award_field: str) -> Subquery:
    """``sent_at`` of the award in ``award_field`` of each row of a query, in that query."""
    return Subquery(_sent_transfers(OuterRef(award_field)).values("batch__sent_at")[:1])
