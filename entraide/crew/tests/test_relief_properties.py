"""Never twice, whatever the rosters: random people on random productions in three currencies,
random settings, runs proposed, left out, put back, approved and rejected in any order."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.core.errors import DomainError
from entraide.crew import relief
from entraide.crew.models import Payout, ReliefRun
from entraide.crew.tests.factories import CrewMemberFactory, ProductionFactory
from entraide.crew.tests.relief_helpers import GBP_PER_EURO, USD_PER_EURO, crew_fund, today
from entraide.programmes.models import ExchangeRate, Programme, ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory

CURRENCIES = ("EUR", "GBP", "USD")

PRODUCTIONS = st.lists(
    st.tuples(
        st.sampled_from(CURRENCIES),
        st.integers(min_value=0, max_value=3),  # suspended so many days after the first
        # which of the six people are on its roster, and at what pay
        st.lists(
            st.one_of(
                st.none(),
                st.tuples(st.booleans(), st.integers(min_value=1, max_value=300_000)),
            ),
            min_size=6,
            max_size=6,
        ),
    ),
    min_size=1,
    max_size=4,
)
SETTINGS = st.tuples(
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=7),
    st.one_of(st.none(), st.integers(min_value=1, max_value=800_000)),  # the cap in cents
    st.booleans(),
)
ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["propose", "propose", "approve", "reject", "exclude", "include"]),
        st.integers(min_value=0, max_value=2**8),
    ),
    min_size=1,
    max_size=8,
)


def _rates() -> None:
    for currency, value in (("USD", USD_PER_EURO), ("GBP", GBP_PER_EURO)):
        ExchangeRate.objects.get_or_create(
            day=today(),
            currency=currency,
            source=ExchangeRate.Source.ECB,
            defaults={"rate": value, "recorded_at": dt.datetime.now(dt.UTC)},
        )


def _managers(programme: Programme) -> tuple[User, User]:
    first, second = UserFactory.create_batch(2)
    for user in (first, second):
        ProgrammeRole.objects.create(programme=programme, user=user, role="manager")
    return first, second


def _check(programme: Programme, several: bool, cap: Decimal | None) -> None:
    live = Payout.objects.filter(programme=programme, status__in=Payout.LIVE)
    assert not live.values("exclusive_key").annotate(n=Count("pk")).filter(n__gt=1).exists()
    per = ("crew_member__person_key", "production_id") if several else ("crew_member__person_key",)
    assert not live.values(*per).annotate(n=Count("pk")).filter(n__gt=1).exists()
    if cap is not None:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for person, amount in live.values_list("crew_member__person_key", "programme_amount"):
            totals[person] += amount
        assert all(total <= cap for total in totals.values()), (totals, cap)
    assert not live.filter(amount__lte=0).exists()


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(productions=PRODUCTIONS, crew_settings=SETTINGS, actions=ACTIONS, usd_fund=st.booleans())
def test_whatever_the_rosters_and_runs_no_one_is_paid_twice_nor_beyond_the_cap(
    productions: list[tuple[str, int, list[tuple[bool, int] | None]]],
    crew_settings: tuple[int, int, int | None, bool],
    actions: list[tuple[str, int]],
    usd_fund: bool,
    django_capture_on_commit_callbacks: Any,
) -> None:
    _rates()
    programme = ProgrammeFactory.create(currency="USD")
    for currency in CURRENCIES:
        if currency != "USD" or usd_fund:
            crew_fund(programme, currency)
    first, second = _managers(programme)
    weeks, days, cap_cents, several = crew_settings
    cap = None if cap_cents is None else Decimal(cap_cents) / 100
    relief.save_settings(
        actor=first,
        programme=programme,
        weeks=weeks,
        days_per_week=days,
        cap=cap,
        several_productions=several,
    )
    made = []
    for n, (currency, days_after, roster) in enumerate(productions):
        production = ProductionFactory.create(
            programme=programme,
            currency=currency,
            suspended_on=dt.date(2020, 3, 13) + dt.timedelta(days=days_after),
        )
        made.append(production)
        for person, pay in enumerate(roster):
            if pay is None:
                continue
            weekly, cents = pay
            rate = Decimal(cents) / 100
            CrewMemberFactory.create(
                production=production,
                person_key=f"{programme.pk}-person-{person}",
                line=n * 10 + person,
                weekly_rate=rate if weekly else None,
                day_rate=None if weekly else rate,
            )
    for action, pick in actions:
        runs = list(ReliefRun.objects.filter(programme=programme).order_by("pk"))
        run = runs[pick % len(runs)] if runs else None
        try:
            if action == "propose":
                chosen = [p for i, p in enumerate(made) if pick >> i & 1] or made
                relief.propose_run(actor=first, programme=programme, productions=chosen)
            elif action == "approve" and run is not None:
                # The grants' task is not run: approved payouts stay live as proposed.
                with django_capture_on_commit_callbacks(execute=False):
                    relief.approve_run(actor=second, run=run)
            elif action == "reject" and run is not None:
                relief.reject_run(actor=second, run=run, note="Again")
            elif action in ("exclude", "include") and run is not None:
                payouts = (
                    run.payouts.filter(status=Payout.Status.PROPOSED)
                    if action == "exclude"
                    else run.payouts.filter(reason=Payout.Reason.BY_REVIEWER)
                )
                payout = payouts.order_by("pk").first()
                if payout is not None and action == "exclude":
                    relief.exclude_payout(actor=second, payout=payout, note="Not on set")
                elif payout is not None:
                    relief.include_payout(actor=second, payout=payout)
        except DomainError:
            pass  # refused (nothing to propose, decided already, paid elsewhere): still safe
        _check(programme, several, cap)
