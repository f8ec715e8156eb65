"""The fixtures of the reporting dashboards' tests: a fund whose every figure is known, made
through the services at chosen moments (around midnight on the fund's clock, across the change
to summer time), and a programme of three funds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from entraide.accounts.models import User
from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds import ledger
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.intake.models import Partner
from entraide.intake.tests.factories import PartnerFactory
from entraide.programmes import services as programme_services
from entraide.programmes.models import ExchangeRate, Programme, ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.reporting.tests.helpers import member_of, paid
from entraide.review import services as review_services


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Clock:
    """``timezone.now()`` for the services, set by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def at(self, text: str) -> None:
        self.now = utc(text)


@dataclass
class Example:
    """A fund in Paris open from 27 March to 2 April 2026 (summer time began on the 29th):

    ====  ======================  ============  ==========  =========  =======================
    ref   submitted (UTC)         Paris day     where       by         what became of it
    ====  ======================  ============  ==========  =========  =======================
    a1    27 March 22:59          27 March      75011       portal     approved 1 April 23:30
                                                                       Paris, paid 4 April
    a2    27 March 23:00          28 March      20000 (2A)  portal     approved 2 April 00:30
    a3    29 March 21:59 (CEST)   29 March      20200 (2B)  portal     rejected 2 April
    a4    29 March 22:00          30 March      97400       portal     waiting list 3 April
    a5    30 March 10:00          30 March      Belgium     partner    —
    a6    31 March 12:00          31 March      (none)      partner    —
    ====  ======================  ============  ==========  =========  =======================

    a1 and a2 are artists, the others technicians. The budget: €10,000 credited on 26 March,
    €500 reserved on 1 and on 2 April, €1,000 credited on 3 April, €500 paid on 4 April.
    """

    fund: Fund
    partner: Partner
    approver: User
    applications: dict[str, Application]


def example_fund(monkeypatch: pytest.MonkeyPatch) -> Example:
    clock = Clock(monkeypatch)
    clock.at("2026-03-26T10:00:00")
    fund: Fund = FundFactory(
        slug="plateaux",
        name="Fonds Plateaux",
        time_zone="Europe/Paris",
        opens_on=dt.date(2026, 3, 27),
        closes_on=dt.date(2026, 4, 2),
        budget=Decimal("10000.00"),
        standard_amount=Decimal("500.00"),
    )
    partner: Partner = PartnerFactory(name="Syndicat des techniciens")
    made: dict[str, Application] = {}
    for name, submitted, postcode, country, profession, by_partner in (
        ("a1", "2026-03-27T22:59:00", "75011", "FR", "artist", False),
        ("a2", "2026-03-27T23:00:00", "20000", "FR", "artist", False),
        ("a3", "2026-03-29T21:59:00", "20200", "FR", "technician", False),
        ("a4", "2026-03-29T22:00:00", "97400", "FR", "technician", False),
        ("a5", "2026-03-30T10:00:00", "1000", "BE", "technician", True),
        ("a6", "2026-03-31T12:00:00", "", "FR", "technician", True),
    ):
        partner_fields: dict[str, Any] = (
            {"applicant": None, "partner": partner, "email": "member@example.org"}
            if by_partner
            else {}
        )
        made[name] = ApplicationFactory(
            fund=fund,
            submitted_at=utc(submitted),
            postcode=postcode,
            country=country,
            profession=profession,
            **partner_fields,
        )
    approver = member_of(fund, FundRole.Role.APPROVER)
    clock.at("2026-04-01T21:30:00")
    review_services.approve_application(actor=approver, application=made["a1"])
    clock.at("2026-04-01T22:30:00")
    review_services.approve_application(actor=approver, application=made["a2"])
    clock.at("2026-04-02T08:00:00")
    review_services.reject_application(actor=approver, application=made["a3"], reason="Non.")
    clock.at("2026-04-03T09:00:00")
    review_services.waitlist_application(actor=approver, application=made["a4"])
    clock.at("2026-04-03T10:00:00")
    ledger.credit_budget(
        actor=member_of(fund, FundRole.Role.OPERATOR_ADMIN), fund=fund, amount=Decimal("1000")
    )
    clock.at("2026-04-04T09:00:00")
    made["a1"].refresh_from_db()
    paid(made["a1"], sent_at=clock.now)
    return Example(fund=fund, partner=partner, approver=approver, applications=made)


def rate(currency: str, value: str, day: dt.date) -> None:
    ExchangeRate.objects.create(
        day=day,
        currency=currency,
        rate=Decimal(value),
        source=ExchangeRate.Source.ECB,
        recorded_at=timezone.now(),
    )


@dataclass
class ProgrammeExample:
    """A programme in dollars: a French fund (euros, Paris), a UK fund (pounds, London) with
    allocations, and a crew relief fund (dollars) without."""

    programme: Programme
    france: Fund
    uk: Fund
    crew: Fund
    operator: User
    manager: User
    donor: User


def example_programme() -> ProgrammeExample:
    day = dt.date(2020, 4, 1)
    rate("USD", "1.0876", day)
    rate("GBP", "0.87865", day)
    programme: Programme = ProgrammeFactory(
        slug="streaming-relief", currency="USD", commitment=Decimal("15000000.00")
    )
    france: Fund = FundFactory(
        slug="fr-crew", name="French crew fund", programme=programme, currency="EUR"
    )
    uk: Fund = FundFactory(
        slug="uk-crew",
        name="UK crew fund",
        programme=programme,
        currency="GBP",
        time_zone="Europe/London",
    )
    crew: Fund = FundFactory(
        slug="crew-usd",
        name="Crew relief in dollars",
        programme=programme,
        currency="USD",
        kind=Fund.Kind.CREW_RELIEF,
    )
    operator = create_account(
        actor=None, email="operator@example.org", password=None, fund_operator=True
    )
    for fund, amount in ((uk, "2500000.00"), (france, "543800.00")):
        programme_services.allocate(
            actor=operator, programme=programme, fund=fund, amount=Decimal(amount), day=day
        )
    manager: User = UserFactory(email="manager@example.org")
    donor: User = UserFactory(email="donor@example.org")
    for person, role in ((manager, ProgrammeRole.Role.MANAGER), (donor, ProgrammeRole.Role.DONOR)):
        programme_services.grant_programme_role(
            actor=operator, programme=programme, user=person, role=role
        )
    return ProgrammeExample(programme, france, uk, crew, operator, manager, donor)


def grant(fund: Fund, count: int, amount: str = "500.00", **fields: Any) -> list[Application]:
    """``count`` applications of ``fund`` with their awards reserved."""
    granted = []
    actor = member_of(fund, FundRole.Role.APPROVER)
    for _ in range(count):
        application: Application = ApplicationFactory(
            fund=fund, status=Application.Status.APPROVED, **fields
        )
        ledger.place_award(actor=actor, fund=fund, application=application, amount=Decimal(amount))
        granted.append(application)
    return granted
