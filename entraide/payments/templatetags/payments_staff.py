"""Template tags of the payments in the back office's pages of other domains."""

from __future__ import annotations

from django import template

from entraide.funds.models import Award
from entraide.payments import reasons
from entraide.payments.models import Payment

register = template.Library()


@register.simple_tag
def award_transfers(award: Award) -> list[tuple[Payment, str]]:
    """The award's transfers, first attempt first, each with the bank's reason explained (so
    that whoever answers the applicant sees what became of the money)."""
    transfers = Payment.objects.filter(award=award).select_related("batch").order_by("attempt")
    return [
        (transfer, reasons.explain(transfer.reason_code) if transfer.reason_code else "")
        for transfer in transfers.defer("iban", "bic")
    ]
