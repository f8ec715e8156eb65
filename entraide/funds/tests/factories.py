from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from entraide.accounts.selectors import mfa_fund_roles
from entraide.accounts.tests.factories import UserFactory, with_authenticator_app
from entraide.funds.ledger import open_ledger
from entraide.funds.models import Fund, FundDocumentRequirement, FundQuestion, FundRole


class FundFactory(factory.django.DjangoModelFactory[Fund]):
    class Meta:
        model = Fund
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"fund-{n}")
    name = factory.Sequence(lambda n: f"Relief fund {n}")
    currency = "EUR"
    budget = Decimal("10000.00")
    standard_amount = Decimal("500.00")
    opens_on = factory.LazyFunction(lambda: timezone.now().date() - dt.timedelta(days=3))
    closes_on = factory.LazyFunction(lambda: timezone.now().date() + dt.timedelta(days=30))
    time_zone = "Europe/Paris"

    @factory.post_generation
    def ledger(obj: Fund, create: bool, extracted: Any, **kwargs: Any) -> None:
        """The initial budget credited, as create_fund does."""
        if create:
            open_ledger(actor=None, fund=obj)


class FundRoleFactory(factory.django.DjangoModelFactory[FundRole]):
    """A role on a fund. Whoever it lets approve or pay gets an authenticator app, as the back
    office requires (``mfa=False``: not yet)."""

    class Meta:
        model = FundRole
        skip_postgeneration_save = True

    fund = factory.SubFactory(FundFactory)
    user = factory.SubFactory(UserFactory)
    role = FundRole.Role.REVIEWER

    @factory.post_generation
    def mfa(obj: FundRole, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted is not False and obj.role in mfa_fund_roles():
            with_authenticator_app(obj.user)


class FundDocumentRequirementFactory(factory.django.DjangoModelFactory[FundDocumentRequirement]):
    class Meta:
        model = FundDocumentRequirement

    fund = factory.SubFactory(FundFactory)
    code = factory.Sequence(lambda n: f"document-{n}")
    label_fr = factory.Sequence(lambda n: f"Justificatif {n}")
    label_en = factory.Sequence(lambda n: f"Proof {n}")
    position = factory.Sequence(lambda n: n)


class FundQuestionFactory(factory.django.DjangoModelFactory[FundQuestion]):
    class Meta:
        model = FundQuestion

    fund = factory.SubFactory(FundFactory)
    question_fr = factory.Sequence(lambda n: f"Question {n} ?")
    question_en = factory.Sequence(lambda n: f"Question {n}?")
    answer_fr = "Réponse."
    answer_en = "Answer."
    position = factory.Sequence(lambda n: n)
