from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.core.refs import new_reference
from entraide.demo.synthetic import make_nir
from entraide.funds.tests.factories import FundFactory

_rng = random.Random(7)


class ApplicationFactory(factory.django.DjangoModelFactory[Application]):
    class Meta:
        model = Application

    reference = factory.LazyFunction(lambda: new_reference("A"))
    fund = factory.SubFactory(FundFactory)
    applicant = factory.SubFactory(UserFactory)
    birth_date = dt.date(1985, 3, 2)
    nir = factory.LazyAttribute(lambda o: make_nir(_rng, o.birth_date, 1))
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    email = factory.LazyAttribute(lambda o: o.applicant.email)
    profession = Application.Profession.TECHNICIAN
    annual_resources = Decimal("14200.00")
    idempotency_key = factory.LazyFunction(uuid.uuid4)
    submitted_at = factory.LazyFunction(timezone.now)
