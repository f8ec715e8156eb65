from __future__ import annotations

from decimal import Decimal

import factory

from entraide.programmes.models import Programme


class ProgrammeFactory(factory.django.DjangoModelFactory[Programme]):
    class Meta:
        model = Programme

    slug = factory.Sequence(lambda n: f"programme-{n}")
    name = factory.Sequence(lambda n: f"Relief programme {n}")
    donor = "Streaming platform"
    commitment = Decimal("1000000.00")
    currency = "EUR"
