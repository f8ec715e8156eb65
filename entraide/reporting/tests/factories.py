from __future__ import annotations

import factory

from entraide.funds.tests.factories import FundFactory
from entraide.reporting.models import AttestationSettings


class AttestationSettingsFactory(factory.django.DjangoModelFactory[AttestationSettings]):
    """A fund's own wording (attestations are issued by the service: their codes come from
    their facts, see helpers.py)."""

    class Meta:
        model = AttestationSettings

    fund = factory.SubFactory(FundFactory)
    status_text_fr = "Aide exceptionnelle du fonds, non imposable et non remboursable."
    status_text_en = "An exceptional grant of the fund, not taxable and not repayable."
    signatory = "Le service des aides"
