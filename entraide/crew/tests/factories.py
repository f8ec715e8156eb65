from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import factory
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.crew.models import CrewMember, Production, RosterImport
from entraide.programmes.tests.factories import ProgrammeFactory


class ProductionFactory(factory.django.DjangoModelFactory[Production]):
    class Meta:
        model = Production

    programme = factory.SubFactory(ProgrammeFactory)
    code = factory.Sequence(lambda n: f"PROD-{n:04d}")
    title = factory.Sequence(lambda n: f"Series {n}")
    country = "FR"
    currency = "EUR"
    suspended_on = dt.date(2020, 3, 16)
    created_at = factory.LazyFunction(timezone.now)


class RosterImportFactory(factory.django.DjangoModelFactory[RosterImport]):
    class Meta:
        model = RosterImport

    programme = factory.SubFactory(ProgrammeFactory)
    file_name = "roster.csv"
    sha256 = factory.Sequence(lambda n: hashlib.sha256(str(n).encode()).hexdigest())
    imported_by = factory.SubFactory(UserFactory)
    imported_at = factory.LazyFunction(timezone.now)


class CrewMemberFactory(factory.django.DjangoModelFactory[CrewMember]):
    class Meta:
        model = CrewMember

    production = factory.SubFactory(ProductionFactory)
    roster = factory.SubFactory(
        RosterImportFactory, programme=factory.SelfAttribute("..production.programme")
    )
    line = factory.Sequence(lambda n: n + 2)
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    birth_date = dt.date(1985, 6, 1)
    email = factory.Sequence(lambda n: f"crew{n}@example.org")
    role = "Electrician"
    weekly_rate = Decimal("1200.00")
    day_rate = None
    currency = factory.SelfAttribute("production.currency")
    iban = "FR7630006000011234567890189"
    account_holder = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    person_key = factory.Sequence(lambda n: hashlib.sha256(f"person-{n}".encode()).hexdigest())
