from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from entraide.accounts.selectors import MFA_PROGRAMME_ROLES
from entraide.accounts.tests.factories import UserFactory, with_authenticator_app
from entraide.programmes.models import Programme, ProgrammeRole


class ProgrammeFactory(factory.django.DjangoModelFactory[Programme]):
    class Meta:
        model = Programme

    slug = factory.Sequence(lambda n: f"programme-{n}")
    name = factory.Sequence(lambda n: f"Relief programme {n}")
    donor = "Streaming platform"
    commitment = Decimal("1000000.00")
    currency = "EUR"


class ProgrammeRoleFactory(factory.django.DjangoModelFactory[ProgrammeRole]):
    """A role in a programme. Its managers approve crew relief runs: they get an authenticator
    app, as the back office requires (``mfa=False``: not yet)."""

    class Meta:
        model = ProgrammeRole
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    user = factory.SubFactory(UserFactory)
    role = ProgrammeRole.Role.MANAGER

    @factory.post_generation
    def mfa(obj: ProgrammeRole, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted is not False and obj.role in MFA_PROGRAMME_ROLES:
            with_authenticator_app(obj.user)
