from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.submission import SubmissionData
from entraide.core.refs import new_reference
from entraide.demo.synthetic import make_iban, make_nir
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
    email = factory.LazyAttribute(
        lambda o: o.applicant.email if o.applicant else "member@example.org"
    )
    phone = "+33 6 12 34 56 78"
    address_line = "12 rue des Studios"
    postcode = "93200"
    city = "Saint-Denis"
    profession = Application.Profession.TECHNICIAN
    declared = factory.LazyAttribute(lambda o: {"annual_resources": str(o.annual_resources)})
    iban = factory.LazyFunction(lambda: make_iban(_rng))
    account_holder = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    idempotency_key = factory.LazyFunction(lambda: str(uuid.uuid4()))
    submitted_at = factory.LazyFunction(timezone.now)
    status_changed_at = factory.LazyAttribute(lambda o: o.submitted_at)

    class Params:
        # The most common declared fact of the reference rule sets, as a shortcut in tests.
        annual_resources = Decimal("14200.00")


def submission_data(**overrides: Any) -> SubmissionData:
    """A complete, valid submission (as the portal or a partner sends it) with ``overrides``."""
    birth = overrides.get("birth_date", dt.date(1985, 3, 2))
    values: dict[str, Any] = {
        "nir": make_nir(_rng, birth, 2),
        "first_name": "Camille",
        "last_name": "Martin",
        "birth_date": birth,
        "email": "camille.martin@example.org",
        "profession": "artist",
        "iban": make_iban(_rng),
        "account_holder": "Camille Martin",
        "consent": True,
    }
    return SubmissionData(**{**values, **overrides})
