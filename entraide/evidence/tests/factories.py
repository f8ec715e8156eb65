from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import factory

from entraide.evidence.models import (
    BenefitRecord,
    CancellationRecord,
    EmployerDeclaration,
    EvidenceBatch,
    RightsRecord,
)

_rng = random.Random(11)


def _siret() -> str:
    from entraide.demo.synthetic import make_siret

    return make_siret(_rng)


class EvidenceBatchFactory(factory.django.DjangoModelFactory[EvidenceBatch]):
    class Meta:
        model = EvidenceBatch

    kind = EvidenceBatch.Kind.DECLARATIONS
    source = factory.Sequence(lambda n: f"test-{n}.csv")


class EmployerDeclarationFactory(factory.django.DjangoModelFactory[EmployerDeclaration]):
    class Meta:
        model = EmployerDeclaration

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.DECLARATIONS)
    nir = "185037512345678"
    siret = factory.LazyFunction(_siret)
    naf = "59.11A"
    idcc = "2642"
    contract_type = "CDDU"
    start = dt.date(2019, 10, 1)
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(days=4))
    hours = Decimal("40.00")
    cachets = None
    gross_pay = Decimal("1000.00")


class RightsRecordFactory(factory.django.DjangoModelFactory[RightsRecord]):
    class Meta:
        model = RightsRecord

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.RIGHTS)
    nir = "185037512345678"
    annex = "8"
    opened_on = dt.date(2019, 2, 1)
    ends_on = dt.date(2020, 1, 31)
    status = "ended"
    reason = ""


class BenefitRecordFactory(factory.django.DjangoModelFactory[BenefitRecord]):
    class Meta:
        model = BenefitRecord

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.BENEFITS)
    nir = "185037512345678"
    scheme = "annex8"
    start = dt.date(2020, 3, 1)
    end = None


class CancellationRecordFactory(factory.django.DjangoModelFactory[CancellationRecord]):
    class Meta:
        model = CancellationRecord

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.CANCELLATIONS)
    nir = "185037512345678"
    siret = factory.LazyFunction(_siret)
    date = dt.date(2020, 4, 10)
    cachets = 1
    signed_on = dt.date(2020, 1, 15)
