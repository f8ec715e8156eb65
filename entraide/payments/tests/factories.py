from __future__ import annotations

import random

import factory
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.tests.factories import ApplicationFactory
from entraide.demo.synthetic import make_iban
from entraide.funds.tests.factories import FundFactory
from entraide.payments.models import BankDetailsChange, BankReturn, FileFormat, PaymentSettings

_rng = random.Random(11)


class PaymentSettingsFactory(factory.django.DjangoModelFactory[PaymentSettings]):
    """A fund's SEPA settings, as save_payment_settings would store them (normalised)."""

    class Meta:
        model = PaymentSettings

    fund = factory.SubFactory(FundFactory)
    file_format = FileFormat.PAIN_001_001_09
    debtor_name = factory.LazyAttribute(lambda o: o.fund.name)
    debtor_iban = "FR7630006000011234567890189"
    debtor_bic = "AGRIFRPP"
    initiating_party = factory.LazyAttribute(lambda o: o.fund.name)


class BankReturnFactory(factory.django.DjangoModelFactory[BankReturn]):
    class Meta:
        model = BankReturn

    fund = factory.SubFactory(FundFactory)
    kind = BankReturn.Kind.PAIN_002
    file_name = factory.Sequence(lambda n: f"status-report-{n}.xml")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    message_id = factory.Sequence(lambda n: f"STATUS-{n}")
    imported_by = factory.SubFactory(UserFactory)
    imported_at = factory.LazyFunction(timezone.now)


class BankDetailsChangeFactory(factory.django.DjangoModelFactory[BankDetailsChange]):
    """New bank details given by the applicant, waiting for finance's verification."""

    class Meta:
        model = BankDetailsChange

    application = factory.SubFactory(ApplicationFactory)
    fund = factory.SelfAttribute("application.fund")
    status = BankDetailsChange.Status.SUBMITTED
    iban = factory.LazyFunction(lambda: make_iban(_rng))
    account_holder = factory.LazyAttribute(lambda o: o.application.full_name)
    holder_matches = True
    requested_at = factory.LazyFunction(timezone.now)
    submitted_at = factory.LazyAttribute(lambda o: o.requested_at)
