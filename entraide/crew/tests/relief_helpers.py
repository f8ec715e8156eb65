"""The crew relief runs' tests' world: a programme in dollars with crew relief funds in euros
and pounds, the rates of the day, its managers and donor, and productions with their crew."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from entraide.accounts.models import User
from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import UserFactory
from entraide.crew.models import CrewMember, Production
from entraide.crew.tests.factories import CrewMemberFactory, ProductionFactory
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.programmes import services as programme_services
from entraide.programmes.models import ExchangeRate, Programme, ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory

USD_PER_EURO = Decimal("1.0876")
GBP_PER_EURO = Decimal("0.87865")


def today() -> dt.date:
    """The day a run reads its rates."""
    return timezone.localdate()


def rate(currency: str, value: Decimal, day: dt.date | None = None) -> ExchangeRate:
    row: ExchangeRate = ExchangeRate.objects.create(
        day=day or today(),
        currency=currency,
        rate=value,
        source=ExchangeRate.Source.ECB,
        recorded_at=timezone.now(),
    )
    return row


@dataclass
class World:
    """A programme in dollars (``rates``: with the day's dollar and pound rates), its crew
    relief funds in euros and pounds, an operator, two managers and a donor."""

    rates: bool = True
    programme: Programme = field(init=False)
    france: Fund = field(init=False)
    uk: Fund = field(init=False)
    operator: User = field(init=False)
    manager: User = field(init=False)
    second: User = field(init=False)
    donor: User = field(init=False)

    def __post_init__(self) -> None:
        if self.rates:
            rate("USD", USD_PER_EURO)
            rate("GBP", GBP_PER_EURO)
        self.programme = ProgrammeFactory.create(
            slug="streaming-crews", name="Streaming crews", currency="USD"
        )
        self.france = crew_fund(self.programme, "EUR", name="Crew relief — France")
        self.uk = crew_fund(self.programme, "GBP", name="Crew relief — UK")
        self.operator = create_account(
            actor=None, email="operator@example.org", password=None, fund_operator=True
        )
        self.manager, self.second, self.donor = UserFactory.create_batch(3)
        for user, role in (
            (self.manager, ProgrammeRole.Role.MANAGER),
            (self.second, ProgrammeRole.Role.MANAGER),
            (self.donor, ProgrammeRole.Role.DONOR),
        ):
            programme_services.grant_programme_role(
                actor=self.operator, programme=self.programme, user=user, role=role
            )

    def production(self, code: str, currency: str = "EUR", **fields: Any) -> Production:
        country = {"EUR": "FR", "GBP": "GB", "USD": "US"}.get(currency, "FR")
        made: Production = ProductionFactory.create(
            programme=self.programme,
            code=code,
            currency=currency,
            country=fields.pop("country", country),
            **fields,
        )
        return made

    def crew(self, production: Production, **fields: Any) -> CrewMember:
        member: CrewMember = CrewMemberFactory.create(production=production, **fields)
        return member


def crew_fund(programme: Programme, currency: str, **fields: Any) -> Fund:
    fields.setdefault("budget", Decimal("100000.00"))
    fund: Fund = FundFactory.create(
        programme=programme, currency=currency, kind=Fund.Kind.CREW_RELIEF, **fields
    )
    return fund
