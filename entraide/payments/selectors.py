"""Reading the payments from other domains."""

from __future__ import annotations

import datetime as dt

from entraide.funds.models import Award
from entraide.payments.models import Payment


def sent_at(award: Award) -> dt.datetime | None:
    """When the award's transfer went to the bank (the batch marked sent): its last attempt
    sent or confirmed; None while none is."""
    moment: dt.datetime | None = (
        Payment.objects.filter(
            award=award,
            status__in=(Payment.Status.SENT, Payment.Status.CONFIRMED),
            batch__sent_at__isnull=False,
        )
        .order_by("-attempt")
        .values_list("batch__sent_at", flat=True)
        .first()
    )
    return moment
