from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.crypto import blind_index
from entraide.evidence import partitions
from entraide.evidence.models import (
    ApplicationVerification,
    BenefitRecord,
    CancellationRecord,
    EmployerDeclaration,
    EvidenceBatch,
    RightsRecord,
    VerificationRun,
)
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.rules.models import RuleSetVersion
from entraide.rules.tests.factories import RuleSetVersionFactory

_rng = random.Random(11)


def _siret() -> str:
    from entraide.demo.synthetic import make_siret

    return make_siret(_rng)


class EvidenceBatchFactory(factory.django.DjangoModelFactory[EvidenceBatch]):
    class Meta:
        model = EvidenceBatch

    kind = EvidenceBatch.Kind.DECLARATIONS
    source = factory.Sequence(lambda n: f"test-{n}.csv")


class _RecordFactory(factory.django.DjangoModelFactory[Any]):
    """Records go into their batch's partition on PostgreSQL: it must exist first. A record is
    made for a NIR (``nir=``, e.g. ``application.nir``) and keeps its blind index only."""

    class Meta:
        abstract = True

    class Params:
        nir = "185037512345678"

    nir_index = factory.LazyAttribute(lambda o: blind_index("nir", o.nir))

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        partitions.ensure(model_class, kwargs["batch"].pk)
        return super()._create(model_class, *args, **kwargs)


class EmployerDeclarationFactory(_RecordFactory):
    class Meta:
        model = EmployerDeclaration

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.DECLARATIONS)
    siret = factory.LazyFunction(_siret)
    naf = "59.11A"
    idcc = "2642"
    contract_type = "CDDU"
    start = dt.date(2019, 10, 1)
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(days=4))
    hours = Decimal("40.00")
    cachets = None
    gross_pay = Decimal("1000.00")


class RightsRecordFactory(_RecordFactory):
    class Meta:
        model = RightsRecord

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.RIGHTS)
    annex = "8"
    opened_on = dt.date(2019, 2, 1)
    ends_on = dt.date(2020, 1, 31)
    status = "ended"
    reason = ""


class BenefitRecordFactory(_RecordFactory):
    class Meta:
        model = BenefitRecord

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.BENEFITS)
    scheme = "annex8"
    start = dt.date(2020, 3, 1)
    end = None


class CancellationRecordFactory(_RecordFactory):
    class Meta:
        model = CancellationRecord

    batch = factory.SubFactory(EvidenceBatchFactory, kind=EvidenceBatch.Kind.CANCELLATIONS)
    siret = factory.LazyFunction(_siret)
    date = dt.date(2020, 4, 10)
    cachets = 1
    signed_on = dt.date(2020, 1, 15)


def _version_of(fund: Fund) -> RuleSetVersion:
    """The fund's latest rule version (one made if it has none)."""
    latest = RuleSetVersion.objects.filter(rule_set__fund=fund).order_by("-number").first()
    return latest or RuleSetVersionFactory.create(rule_set__fund=fund)


class VerificationRunFactory(factory.django.DjangoModelFactory[VerificationRun]):
    """A finished run (``status="running"`` for one under way); its counts as given."""

    class Meta:
        model = VerificationRun

    fund = factory.SubFactory(FundFactory)
    status = VerificationRun.Status.DONE
    finished_at = factory.Maybe(
        factory.LazyAttribute(lambda o: o.status != VerificationRun.Status.RUNNING),
        yes_declaration=factory.LazyFunction(timezone.now),
        no_declaration=None,
    )


class ApplicationVerificationFactory(factory.django.DjangoModelFactory[ApplicationVerification]):
    """What a run found for one application (of the run's fund), stored as given."""

    class Meta:
        model = ApplicationVerification

    run = factory.SubFactory(VerificationRunFactory)
    application = factory.SubFactory(ApplicationFactory, fund=factory.SelfAttribute("..run.fund"))
    version = factory.LazyAttribute(lambda o: _version_of(o.run.fund))
    evaluated_on = dt.date(2020, 4, 20)
    eligible = True
    amount = Decimal("500.00")
    mismatched = factory.LazyAttribute(lambda o: ["days"] if o.has_mismatch else [])
    has_mismatch = False
    changed = False
