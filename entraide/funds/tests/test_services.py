from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from entraide.accounts.services import fund_operators_group
from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.funds import permissions
from entraide.funds.models import FundRole
from entraide.funds.services import create_fund, grant_fund_role
from entraide.funds.tests.factories import FundFactory, FundRoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> Any:
    user = UserFactory()
    user.groups.add(fund_operators_group())
    return user


def fund_values(**overrides: Any) -> dict[str, Any]:
    values = {
        "name": "Fonds d'urgence",
        "slug": "urgence",
        "currency": "EUR",
        "budget": Decimal("1000000.00"),
        "standard_amount": Decimal("500.00"),
        "opens_on": dt.date(2020, 4, 15),
        "closes_on": dt.date(2020, 6, 30),
    }
    return {**values, **overrides}


def test_operator_creates_a_fund_and_becomes_its_admin(operator: Any) -> None:
    fund = create_fund(actor=operator, **fund_values())
    assert FundRole.objects.filter(fund=fund, user=operator, role="operator_admin").exists()
    actions = list(AuditEvent.objects.filter(fund_id=fund.pk).values_list("action", flat=True))
    assert actions == ["fund.created", "fund_role.granted"]
    created = AuditEvent.objects.get(action="fund.created")
    assert created.actor == operator
    assert created.changes["budget"] == {"before": None, "after": "1000000.00"}


def test_a_person_without_the_operator_permission_cannot_create_a_fund() -> None:
    with pytest.raises(PermissionDenied):
        create_fund(actor=UserFactory(), **fund_values())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"closes_on": dt.date(2020, 4, 1)}, "closes_on"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        (
            {
                "closes_on": dt.date(2020, 4, 15),
                "opening_time": dt.time(14, 0),
                "closing_time": dt.time(13, 59),
            },
            "closing_time",
        ),
        ({"standard_amount": Decimal("0")}, "standard_amount"),
        ({"budget": Decimal("-1")}, "budget"),
    ],
)
def test_invalid_fund_is_refused_on_the_right_field(
    operator: Any, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        create_fund(actor=operator, **fund_values(**overrides))
    assert refused.value.field == field


def test_a_fund_opens_and_closes_at_its_times_audited_with_the_window(operator: Any) -> None:
    fund = create_fund(
        actor=operator,
        **fund_values(opening_time=dt.time(9, 30), closing_time=dt.time(18, 0)),
    )
    assert (fund.opening_time, fund.closing_time) == (dt.time(9, 30), dt.time(18, 0))
    created = AuditEvent.objects.get(action="fund.created")
    assert created.changes["opening_time"] == {"before": None, "after": "09:30:00"}
    # 09:30 in Paris on 15 April 2020 is 07:30 UTC
    assert not fund.is_open(dt.datetime(2020, 4, 15, 7, 29, tzinfo=dt.UTC))
    assert fund.is_open(dt.datetime(2020, 4, 15, 7, 30, tzinfo=dt.UTC))


def test_the_database_refuses_a_one_day_window_that_closes_before_it_opens() -> None:
    fund = FundFactory(opens_on=dt.date(2020, 4, 15), closes_on=dt.date(2020, 4, 15))
    fund.opening_time, fund.closing_time = dt.time(12, 0), dt.time(11, 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        fund.save()
    fund.closing_time = dt.time(12, 0)  # open for that one minute
    fund.save()


def test_slug_must_be_unique(operator: Any) -> None:
    create_fund(actor=operator, **fund_values())
    with pytest.raises(ValidationFailed) as refused:
        create_fund(actor=operator, **fund_values(name="Another"))
    assert refused.value.field == "slug"


def test_window_is_inclusive_in_the_fund_time_zone() -> None:
    fund = FundFactory(opens_on=dt.date(2020, 4, 15), closes_on=dt.date(2020, 4, 30))
    # 22:30 UTC on 14 April is already 15 April in Paris (UTC+2).
    assert fund.is_open(dt.datetime(2020, 4, 14, 22, 30, tzinfo=dt.UTC))
    assert not fund.is_open(dt.datetime(2020, 4, 14, 21, 30, tzinfo=dt.UTC))
    assert fund.is_open(dt.datetime(2020, 4, 30, 21, 59, tzinfo=dt.UTC))
    assert not fund.is_open(dt.datetime(2020, 4, 30, 22, 1, tzinfo=dt.UTC))


def test_only_the_fund_admin_grants_roles_and_granting_twice_changes_nothing() -> None:
    admin = FundRoleFactory(role="operator_admin")
    fund = admin.fund
    colleague = UserFactory()
    first = grant_fund_role(actor=admin.user, fund=fund, user=colleague, role="reviewer")
    again = grant_fund_role(actor=admin.user, fund=fund, user=colleague, role="reviewer")
    assert first == again
    assert AuditEvent.objects.filter(action="fund_role.granted").count() == 1
    reviewer = FundRoleFactory(fund=fund, role="reviewer").user
    with pytest.raises(PermissionDenied):
        grant_fund_role(actor=reviewer, fund=fund, user=UserFactory(), role="approver")


def test_staff_see_only_the_funds_they_have_a_role_on() -> None:
    mine = FundRoleFactory(role="auditor")
    FundFactory()
    visible = permissions.funds_with_capability(mine.user, permissions.Capability.VIEW_FUND)
    assert list(visible) == [mine.fund]
    assert not permissions.has_capability(mine.user, mine.fund, permissions.Capability.DECIDE)


def test_every_role_has_capabilities_and_only_deciders_decide() -> None:
    assert set(permissions.ROLE_CAPABILITIES) == set(FundRole.Role.values)
    deciders = permissions.roles_granting(permissions.Capability.DECIDE)
    assert sorted(deciders) == ["approver", "reviewer"]
