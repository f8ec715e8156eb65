from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from entraide.accounts.models import User
from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.funds import ledger
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.programmes import permissions, rates, services
from entraide.programmes.models import Allocation, ExchangeRate, Programme, ProgrammeRole
from entraide.programmes.rollup import rollup
from entraide.programmes.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2020, 4, 1)


def rate(currency: str, value: str, day: dt.date = DAY) -> ExchangeRate:
    row: ExchangeRate = ExchangeRate.objects.create(
        day=day,
        currency=currency,
        rate=Decimal(value),
        source=ExchangeRate.Source.ECB,
        recorded_at=timezone.now(),
    )
    return row


@pytest.fixture
def operator() -> User:
    return create_account(
        actor=None, email="operator@example.org", password=None, fund_operator=True
    )


@pytest.fixture
def programme() -> Programme:
    programme: Programme = ProgrammeFactory(commitment=Decimal("15000000.00"), currency="USD")
    return programme


def test_an_allocation_keeps_both_amounts_and_the_rates_it_read(
    operator: User, programme: Programme
) -> None:
    usd, gbp = rate("USD", "1.0876"), rate("GBP", "0.87865")
    fund = FundFactory(programme=programme, currency="GBP")
    allocation = services.allocate(
        actor=operator,
        programme=programme,
        fund=fund,
        amount=Decimal("2500000.00"),
        day=DAY,
        note="UK partner fund",
    )
    # 1 USD = 0.87865 / 1.0876 GBP = 0.8078797352…, kept to 8 decimals.
    assert allocation.rate == Decimal("0.80787974")
    assert allocation.converted_amount == Decimal("2019699.34")
    assert (allocation.converted_currency, allocation.rate_day) == ("GBP", DAY)
    assert set(allocation.rates_used.all()) == {usd, gbp}
    event = AuditEvent.objects.get(action="programme.allocated")
    assert event.changes["converted_amount"] == "2019699.34"
    assert event.changes["rate"] == "0.80787974"


def test_allocations_never_exceed_the_commitment(operator: User, programme: Programme) -> None:
    fund = FundFactory(programme=programme, currency="USD")
    services.allocate(
        actor=operator, programme=programme, fund=fund, amount=Decimal("14000000.00"), day=DAY
    )
    with pytest.raises(ValidationFailed) as refused:
        services.allocate(
            actor=operator, programme=programme, fund=None, amount=Decimal("1000000.01"), day=DAY
        )
    assert refused.value.field == "amount"
    crew = services.allocate(
        actor=operator, programme=programme, fund=None, amount=Decimal("1000000.00"), day=DAY
    )
    # Crew relief stays in the programme's currency, at 1.
    assert (crew.converted_amount, crew.rate, crew.converted_currency) == (
        Decimal("1000000.00"),
        Decimal("1"),
        "USD",
    )
    assert services.allocated_total(programme) == programme.commitment


def test_what_an_allocation_refuses(operator: User, programme: Programme) -> None:
    outside = FundFactory(currency="EUR")
    ours = FundFactory(programme=programme, currency="INR")
    cases = [
        (outside, Decimal("10.00"), "fund"),
        (ours, Decimal("0"), "amount"),
        (ours, Decimal("10.001"), "amount"),
    ]
    for fund, amount, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            services.allocate(
                actor=operator, programme=programme, fund=fund, amount=amount, day=DAY
            )
        assert refused.value.field == field
    # No INR rate recorded: said, nothing allocated.
    with pytest.raises(rates.NoRate):
        services.allocate(
            actor=operator, programme=programme, fund=ours, amount=Decimal("10.00"), day=DAY
        )
    assert not Allocation.objects.exists()


def test_who_may_allocate_and_read(operator: User, programme: Programme) -> None:
    manager, donor, stranger = UserFactory(), UserFactory(), UserFactory()
    services.grant_programme_role(
        actor=operator, programme=programme, user=manager, role=ProgrammeRole.Role.MANAGER
    )
    services.grant_programme_role(
        actor=manager, programme=programme, user=donor, role=ProgrammeRole.Role.DONOR
    )
    fund = FundFactory(programme=programme, currency="USD")
    for refused in (donor, stranger):
        with pytest.raises(PermissionDenied):
            services.allocate(
                actor=refused, programme=programme, fund=fund, amount=Decimal("1.00"), day=DAY
            )
        with pytest.raises(PermissionDenied):
            services.grant_programme_role(
                actor=refused, programme=programme, user=refused, role=ProgrammeRole.Role.MANAGER
            )
    services.allocate(
        actor=manager, programme=programme, fund=fund, amount=Decimal("1.00"), day=DAY
    )
    assert permissions.can_view(donor, programme)
    assert not permissions.can_manage(donor, programme)
    assert not permissions.can_view(stranger, programme)
    assert list(permissions.programmes_for(donor)) == [programme]
    assert AuditEvent.objects.filter(action="programme_role.granted").count() == 2


def test_the_rollup_converts_each_funds_figures_at_its_allocations_rate(
    operator: User, programme: Programme, django_assert_max_num_queries: object
) -> None:
    rate("USD", "1.0876")
    rate("GBP", "0.87865")
    uk: Fund = FundFactory(programme=programme, currency="GBP", budget=Decimal("2000000.00"))
    france: Fund = FundFactory(programme=programme, currency="EUR", budget=Decimal("500000.00"))
    unallocated: Fund = FundFactory(programme=programme, currency="EUR")
    services.allocate(
        actor=operator, programme=programme, fund=uk, amount=Decimal("2500000.00"), day=DAY
    )
    services.allocate(
        actor=operator, programme=programme, fund=france, amount=Decimal("543800.00"), day=DAY
    )
    services.allocate(
        actor=operator, programme=programme, fund=None, amount=Decimal("1000000.00"), day=DAY
    )
    granted = ApplicationFactory(fund=uk, status=Application.Status.APPROVED)
    ApplicationFactory(fund=uk)
    ledger.place_award(actor=operator, fund=uk, application=granted, amount=Decimal("1615.76"))

    with django_assert_max_num_queries(5):  # type: ignore[operator]
        picture = rollup(programme)
        lines = {line.fund: line for line in picture.funds}
    assert picture.allocated == Decimal("4043800.00")
    assert picture.left_to_allocate == Decimal("10956200.00")
    assert picture.crew_allocated == Decimal("1000000.00")
    # 543,800 USD at 1 / 1.0876 = 500,000.00 EUR.
    assert lines[france].allocated_converted == Decimal("500000.00")
    # £1,615.76 committed in the UK: 1,615.76 / 0.80787974 = $2,000.00.
    assert lines[uk].totals.committed == Decimal("1615.76")
    assert lines[uk].committed_converted == Decimal("2000.00")
    assert (lines[uk].applications, lines[uk].granted) == (2, 1)
    assert lines[unallocated].rate is None
    assert lines[unallocated].committed_converted is None
    assert picture.committed == Decimal("2000.00")


def test_a_rate_an_allocation_read_stays_as_it_was(operator: User, programme: Programme) -> None:
    fund = FundFactory(programme=programme, currency="GBP")
    rate("USD", "1.0876")
    manual = rates.record_rate(
        actor=operator, currency="GBP", day=DAY, rate=Decimal("0.9"), note="Bank's rate"
    )
    allocation = services.allocate(
        actor=operator, programme=programme, fund=fund, amount=Decimal("1000.00"), day=DAY
    )
    with pytest.raises(InvalidTransition):
        rates.record_rate(
            actor=operator, currency="GBP", day=DAY, rate=Decimal("0.5"), note="Corrected"
        )
    manual.refresh_from_db()
    assert manual.rate == Decimal("0.9")
    assert manual in allocation.rates_used.all()


def test_a_day_before_the_euro_has_no_rate(operator: User, programme: Programme) -> None:
    fund = FundFactory(programme=programme, currency="GBP")
    with pytest.raises(rates.NoRate):
        services.allocate(
            actor=operator,
            programme=programme,
            fund=fund,
            amount=Decimal("1.00"),
            day=dt.date(1, 1, 1),
        )


def test_a_fund_back_converts_its_whole_allocation_to_the_cent(
    operator: User, programme: Programme
) -> None:
    rate("USD", "1.0876")
    rate("GBP", "0.87865")
    fund: Fund = FundFactory(programme=programme, currency="GBP", budget=Decimal("0"))
    amounts = [Decimal("4714166.83"), Decimal("1000.00"), Decimal("333.33")]
    for amount in amounts:
        services.allocate(actor=operator, programme=programme, fund=fund, amount=amount, day=DAY)
    rate("GBP", "0.9", day=DAY + dt.timedelta(days=1))
    services.allocate(
        actor=operator,
        programme=programme,
        fund=fund,
        amount=Decimal("10.00"),
        day=DAY + dt.timedelta(days=1),
    )
    (line,) = rollup(programme).funds
    assert line.rate_is_average
    assert line.in_programme_currency(line.allocated_converted) == sum(amounts) + Decimal("10.00")
    # The programme's own currency needs no allocation to be converted.
    same: Fund = FundFactory(programme=programme, currency="USD")
    lines = {line.fund: line for line in rollup(programme).funds}
    assert lines[same].rate == Decimal(1)
    assert lines[same].in_programme_currency(Decimal("12.34")) == Decimal("12.34")
