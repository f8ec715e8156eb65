"""Crew relief runs, the services: the settings, computing a run (weeks of pay, the cap and
its conversion, never twice), the review, and the four eyes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.crew import relief
from entraide.crew.models import CrewReliefSettings, Payout, ReliefRun
from entraide.crew.tests.factories import ProductionFactory
from entraide.crew.tests.relief_helpers import World, crew_fund, today
from entraide.programmes.models import ExchangeRate

pytestmark = pytest.mark.django_db

Status = Payout.Status
Reason = Payout.Reason


@pytest.fixture
def world() -> World:
    return World()


def settings(world: World, **values: Any) -> None:
    current = {"weeks": 2, "days_per_week": 5, "cap": None, "several_productions": False}
    relief.save_settings(actor=world.manager, programme=world.programme, **{**current, **values})


def payout_of(run: ReliefRun, crew_id: int) -> Payout:
    return Payout.objects.get(run=run, crew_member_id=crew_id)


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


def test_the_settings_are_made_with_their_defaults_when_first_read(world: World) -> None:
    current = relief.settings_of(world.programme)

    assert (current.weeks, current.days_per_week, current.cap, current.several_productions) == (
        2,
        5,
        None,
        False,
    )
    assert CrewReliefSettings.objects.filter(programme=world.programme).count() == 1


def test_changing_the_settings_is_audited_before_and_after(world: World) -> None:
    relief.settings_of(world.programme)

    settings(world, weeks=3, cap=Decimal("2500.00"))

    current = relief.settings_of(world.programme)
    assert (current.weeks, current.cap, current.updated_by) == (
        3,
        Decimal("2500.00"),
        world.manager,
    )
    event = AuditEvent.objects.get(action="crew.settings_changed")
    assert event.object_id == str(world.programme.pk)
    assert event.changes == {
        "cap": {"before": None, "after": "2500.00"},
        "weeks": {"before": 2, "after": 3},
    }


def test_saving_the_same_settings_records_nothing(world: World) -> None:
    settings(world)

    assert not AuditEvent.objects.filter(action="crew.settings_changed").exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"weeks": 0}, "weeks"),
        ({"weeks": 53}, "weeks"),
        ({"days_per_week": 8}, "days_per_week"),
        ({"cap": Decimal("0.00")}, "cap"),
        ({"cap": Decimal("10.005")}, "cap"),
        # Converted into a currency of thousands of units per dollar it would not fit.
        ({"cap": Decimal("10000000.00")}, "cap"),
    ],
)
def test_settings_out_of_bounds_are_refused_on_their_field(
    world: World, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        settings(world, **values)

    assert refused.value.field == field


def test_the_donor_cannot_change_the_settings(world: World) -> None:
    with pytest.raises(PermissionDenied):
        relief.save_settings(
            actor=world.donor,
            programme=world.programme,
            weeks=4,
            days_per_week=5,
            cap=None,
            several_productions=False,
        )


# --------------------------------------------------------------------------------------------
# Computing a run
# --------------------------------------------------------------------------------------------


def test_a_run_pays_weeks_of_the_weekly_rate_or_of_the_day_rate_times_the_days(
    world: World,
) -> None:
    settings(world, weeks=2, days_per_week=5)
    shoot = world.production("FR-001")
    weekly = world.crew(shoot, weekly_rate=Decimal("1200.00"))
    daily = world.crew(shoot, weekly_rate=None, day_rate=Decimal("250.55"))

    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])

    first, second = payout_of(run, weekly.pk), payout_of(run, daily.pk)
    assert (first.status, first.weekly_pay, first.computed, first.amount, first.currency) == (
        Status.PROPOSED,
        Decimal("1200.00"),
        Decimal("2400.00"),
        Decimal("2400.00"),
        "EUR",
    )
    assert (second.weekly_pay, second.computed, second.amount) == (
        Decimal("1252.75"),
        Decimal("2505.50"),
        Decimal("2505.50"),
    )
    # In the programme's dollars at the day's rate: 2,400 × 1.0876.
    assert first.programme_amount == Decimal("2610.24")
    assert first.fund == world.france
    assert (first.cap, first.cap_conversion) == (None, "")
    assert {rate.currency for rate in first.rates_used.all()} == {"USD"}


def test_a_run_copies_the_settings_it_was_computed_under(world: World) -> None:
    settings(world, weeks=3, days_per_week=6, cap=Decimal("5000.00"), several_productions=True)
    shoot = world.production("FR-001")
    world.crew(shoot)

    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])
    settings(world, weeks=1)

    run.refresh_from_db()
    assert (run.weeks, run.days_per_week, run.cap, run.several_productions) == (
        3,
        6,
        Decimal("5000.00"),
        True,
    )
    assert (run.status, run.proposed_by) == (ReliefRun.Status.PROPOSED, world.manager)
    assert run.reference.startswith("CR-")
    assert list(run.productions.all()) == [shoot]


def test_the_cap_is_converted_at_the_rate_of_the_day_and_says_which(world: World) -> None:
    settings(world, cap=Decimal("2000.00"))
    london = world.production("UK-001", currency="GBP")
    paris = world.production("FR-001")
    grip = world.crew(london, weekly_rate=Decimal("1500.00"))
    gaffer = world.crew(paris, weekly_rate=Decimal("1200.00"))
    runner = world.crew(paris, weekly_rate=Decimal("300.00"))

    with translation.override("en"):
        run = relief.propose_run(
            actor=world.manager, programme=world.programme, productions=[london, paris]
        )

    uk = payout_of(run, grip.pk)
    # $2,000 at 0.87865 / 1.0876 is £1,615.76; back into dollars, $2,000.00.
    assert (uk.cap, uk.amount, uk.programme_amount) == (
        Decimal("1615.76"),
        Decimal("1615.76"),
        Decimal("2000.00"),
    )
    assert uk.cap_conversion == f"1 USD = 0.80787974 GBP, ECB reference rates of {today()}"
    assert {rate.currency for rate in uk.rates_used.all()} == {"USD", "GBP"}
    assert uk.note.startswith("Limited to what was left of the cap")
    assert uk.fund == world.uk
    fr = payout_of(run, gaffer.pk)
    assert (fr.cap, fr.amount, fr.programme_amount) == (
        Decimal("1838.91"),
        Decimal("1838.91"),
        Decimal("2000.00"),
    )
    below = payout_of(run, runner.pk)
    assert (below.amount, below.note) == (Decimal("600.00"), "")


def test_the_cap_is_never_passed_by_the_rounding_of_two_conversions(world: World) -> None:
    # 13 cents are £0.11 (0.105); £0.11 are 14 cents back (0.136): the run pays £0.10.
    settings(world, cap=Decimal("0.13"))
    london = world.production("UK-001", currency="GBP")
    grip = world.crew(london)

    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[london])

    payout = payout_of(run, grip.pk)
    assert (payout.cap, payout.amount, payout.programme_amount) == (
        Decimal("0.11"),
        Decimal("0.10"),
        Decimal("0.12"),
    )


def test_without_a_crew_relief_fund_in_its_currency_a_production_is_not_paid(
    world: World,
) -> None:
    new_york = world.production("US-001", currency="USD")
    grip = world.crew(new_york)

    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[new_york])

    payout = payout_of(run, grip.pk)
    assert (payout.status, payout.reason, payout.amount, payout.fund) == (
        Status.EXCLUDED,
        Reason.NO_FUND,
        Decimal("0.00"),
        None,
    )
    assert payout.computed == Decimal("2400.00")


def test_the_first_crew_relief_fund_of_a_currency_pays(world: World) -> None:
    crew_fund(world.programme, "EUR", name="Crew relief — France, second")
    paris = world.production("FR-001")
    gaffer = world.crew(paris)

    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[paris])

    assert payout_of(run, gaffer.pk).fund == world.france


def test_without_a_rate_of_the_day_a_production_in_another_currency_is_not_paid(
    db: None,
) -> None:
    world = World(rates=False)
    paris = world.production("FR-001")
    gaffer = world.crew(paris)

    with translation.override("en"):
        run = relief.propose_run(
            actor=world.manager, programme=world.programme, productions=[paris]
        )

    payout = payout_of(run, gaffer.pk)
    assert (payout.status, payout.reason) == (Status.EXCLUDED, Reason.NO_RATE)
    assert payout.note.startswith("No exchange rate for USD")


def test_a_person_on_two_productions_is_paid_once_for_the_first_suspended(world: World) -> None:
    early = world.production("ZZ-EARLY", suspended_on=dt.date(2020, 3, 13))
    late = world.production("AA-LATE", suspended_on=dt.date(2020, 3, 16))
    on_late = world.crew(late, person_key="same-person")
    on_early = world.crew(early, person_key="same-person")

    with translation.override("en"):
        run = relief.propose_run(
            actor=world.manager, programme=world.programme, productions=[late, early]
        )

    assert payout_of(run, on_early.pk).status == Status.PROPOSED
    twice = payout_of(run, on_late.pk)
    assert (twice.status, twice.reason) == (Status.EXCLUDED, Reason.ALREADY_PAID)
    assert twice.note == f"Paid for the production ZZ-EARLY in the run {run.reference}."


def test_a_person_paid_in_an_earlier_run_is_not_paid_again_for_another_production(
    world: World,
) -> None:
    first_shoot, second_shoot = world.production("FR-001"), world.production("FR-002")
    world.crew(first_shoot, person_key="same-person")
    again = world.crew(second_shoot, person_key="same-person")
    first = relief.propose_run(
        actor=world.manager, programme=world.programme, productions=[first_shoot]
    )

    with translation.override("en"):
        second = relief.propose_run(
            actor=world.manager, programme=world.programme, productions=[second_shoot]
        )

    payout = payout_of(second, again.pk)
    assert (payout.status, payout.reason) == (Status.EXCLUDED, Reason.ALREADY_PAID)
    assert payout.note == f"Paid for the production FR-001 in the run {first.reference}."


def test_crew_proposed_for_a_production_are_not_proposed_for_it_again(world: World) -> None:
    shoot = world.production("FR-001")
    world.crew(shoot)
    relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])
    newcomer = world.crew(shoot)

    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])

    assert list(run.payouts.values_list("crew_member_id", flat=True)) == [newcomer.pk]
    with pytest.raises(relief.NothingToPropose):
        relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])


def test_several_productions_pay_a_person_for_each_within_the_cap(world: World) -> None:
    crew_fund(world.programme, "USD", name="Crew relief — US")
    settings(world, cap=Decimal("3000.00"), several_productions=True)
    shoots = [world.production(f"US-00{n}", currency="USD") for n in (1, 2, 3)]
    members = [world.crew(shoot, person_key="same-person") for shoot in shoots]
    first = relief.propose_run(
        actor=world.manager, programme=world.programme, productions=shoots[:1]
    )

    with translation.override("en"):
        second = relief.propose_run(
            actor=world.manager, programme=world.programme, productions=shoots[1:]
        )

    assert payout_of(first, members[0].pk).amount == Decimal("2400.00")
    limited = payout_of(second, members[1].pk)
    assert (limited.status, limited.amount, limited.exclusive_key) == (
        Status.PROPOSED,
        Decimal("600.00"),
        "same-person:US-002",
    )
    reached = payout_of(second, members[2].pk)
    assert (reached.status, reached.reason) == (Status.EXCLUDED, Reason.CAP_REACHED)
    assert reached.note == "$3,000.00 of the cap of $3,000.00 is paid already."


def test_only_the_programmes_productions_can_be_chosen(world: World) -> None:
    elsewhere = ProductionFactory.create()

    with pytest.raises(ValidationFailed) as refused:
        relief.propose_run(actor=world.manager, programme=world.programme, productions=[elsewhere])

    assert refused.value.field == "productions"


def test_the_donor_cannot_propose_a_run(world: World) -> None:
    shoot = world.production("FR-001")
    world.crew(shoot)

    with pytest.raises(PermissionDenied):
        relief.propose_run(actor=world.donor, programme=world.programme, productions=[shoot])

    assert not ReliefRun.objects.exists()


def test_proposing_is_audited_with_counts_and_totals_only(world: World) -> None:
    shoot = world.production("FR-001")
    world.crew(shoot, first_name="Zéphyrine", last_name="Quintavalle")
    world.crew(world.production("US-001", currency="USD"))

    run = relief.propose_run(
        actor=world.manager,
        programme=world.programme,
        productions=list(world.programme.productions.all()),
    )

    event = AuditEvent.objects.get(action="crew.run_proposed")
    assert event.changes["run"] == run.reference
    assert event.changes["productions"] == ["FR-001", "US-001"]
    assert event.changes["payouts"] == {"proposed": 1, "excluded": 1}
    assert event.changes["reasons"] == {"no_fund": 1}
    assert event.changes["totals"] == {"EUR": "2400.00"}
    assert "Quintavalle" not in json.dumps(event.changes)


@pytest.mark.parametrize("crew_count", [3, 30])
def test_computing_a_run_reads_and_writes_in_bulk(
    world: World, django_assert_max_num_queries: Any, crew_count: int
) -> None:
    shoots = [world.production("FR-001"), world.production("UK-001", currency="GBP")]
    for n in range(crew_count):
        world.crew(shoots[n % 2])
    settings(world, cap=Decimal("2000.00"))

    with django_assert_max_num_queries(30):
        run = relief.propose_run(actor=world.manager, programme=world.programme, productions=shoots)

    assert run.payouts.count() == crew_count


# --------------------------------------------------------------------------------------------
# Review
# --------------------------------------------------------------------------------------------


def test_a_payout_left_out_needs_a_note_and_can_be_put_back(world: World) -> None:
    shoot = world.production("FR-001")
    gaffer = world.crew(shoot)
    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])
    payout = payout_of(run, gaffer.pk)

    with pytest.raises(ValidationFailed) as refused:
        relief.exclude_payout(actor=world.second, payout=payout, note="  ")
    assert refused.value.field == "note"

    relief.exclude_payout(actor=world.second, payout=payout, note="Left the shoot in February")
    payout.refresh_from_db()
    assert (payout.status, payout.reason, payout.note, payout.amount) == (
        Status.EXCLUDED,
        Reason.BY_REVIEWER,
        "Left the shoot in February",
        Decimal("2400.00"),
    )

    relief.include_payout(actor=world.manager, payout=payout)
    payout.refresh_from_db()
    assert (payout.status, payout.reason, payout.note) == (Status.PROPOSED, "", "")
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="crew.payout")] == [
        "crew.payout_excluded",
        "crew.payout_included",
    ]


def test_a_payout_left_out_cannot_be_put_back_once_its_person_is_proposed_elsewhere(
    world: World,
) -> None:
    first_shoot, second_shoot = world.production("FR-001"), world.production("FR-002")
    left_out = world.crew(first_shoot, person_key="same-person")
    world.crew(second_shoot, person_key="same-person")
    first = relief.propose_run(
        actor=world.manager, programme=world.programme, productions=[first_shoot]
    )
    payout = payout_of(first, left_out.pk)
    relief.exclude_payout(actor=world.manager, payout=payout, note="Paid on the other shoot")
    second = relief.propose_run(
        actor=world.manager, programme=world.programme, productions=[second_shoot]
    )
    assert second.payouts.get().status == Status.PROPOSED

    with pytest.raises(InvalidTransition):
        relief.include_payout(actor=world.manager, payout=payout)

    payout.refresh_from_db()
    assert payout.status == Status.EXCLUDED


@pytest.mark.parametrize("first_several", [True, False])
def test_a_payout_put_back_never_pays_a_person_twice_for_a_production_whatever_the_setting(
    world: World, first_several: bool
) -> None:
    # Runs proposed under the other setting have other exclusive keys: the database's
    # constraint does not see them, the check of the person and the production does.
    shoot = world.production("FR-001")
    gaffer = world.crew(shoot, person_key="same-person")
    settings(world, several_productions=first_several)
    first = relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])
    payout = payout_of(first, gaffer.pk)
    relief.exclude_payout(actor=world.second, payout=payout, note="Checking the roster")
    settings(world, several_productions=not first_several)
    second = relief.propose_run(actor=world.manager, programme=world.programme, productions=[shoot])
    assert payout_of(second, gaffer.pk).status == Status.PROPOSED

    with pytest.raises(InvalidTransition):
        relief.include_payout(actor=world.second, payout=payout)

    assert Payout.objects.filter(crew_member=gaffer, status__in=Payout.LIVE).count() == 1


def test_a_payout_of_a_run_paying_once_is_not_put_back_for_a_person_paid_elsewhere(
    world: World,
) -> None:
    paris, lyon = world.production("FR-001"), world.production("FR-002")
    left_out = world.crew(paris, person_key="same-person")
    world.crew(lyon, person_key="same-person")
    first = relief.propose_run(actor=world.manager, programme=world.programme, productions=[paris])
    payout = payout_of(first, left_out.pk)
    relief.exclude_payout(actor=world.second, payout=payout, note="Checking the roster")
    settings(world, several_productions=True)
    relief.propose_run(actor=world.manager, programme=world.programme, productions=[lyon])

    # The first run pays a person once in the programme, as it was computed.
    with pytest.raises(InvalidTransition):
        relief.include_payout(actor=world.second, payout=payout)


def test_only_a_payout_left_out_by_a_reviewer_can_be_put_back(world: World) -> None:
    new_york = world.production("US-001", currency="USD")
    grip = world.crew(new_york)
    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[new_york])

    with pytest.raises(InvalidTransition):
        relief.include_payout(actor=world.manager, payout=payout_of(run, grip.pk))


# --------------------------------------------------------------------------------------------
# Four eyes
# --------------------------------------------------------------------------------------------


def proposed_run(world: World) -> ReliefRun:
    paris, london = world.production("FR-001"), world.production("UK-001", currency="GBP")
    world.crew(paris, first_name="Zéphyrine", last_name="Quintavalle")
    world.crew(paris)
    world.crew(london, weekly_rate=Decimal("1000.00"))
    return relief.propose_run(
        actor=world.manager, programme=world.programme, productions=[paris, london]
    )


def test_the_person_who_proposed_a_run_cannot_approve_it(world: World) -> None:
    run = proposed_run(world)

    with pytest.raises(relief.SamePersonDecides):
        relief.approve_run(actor=world.manager, run=run)
    with pytest.raises(relief.SamePersonDecides):
        relief.reject_run(actor=world.manager, run=run, note="Wrong productions")

    run.refresh_from_db()
    assert run.status == ReliefRun.Status.PROPOSED


def test_the_donor_cannot_decide_on_a_run(world: World) -> None:
    run = proposed_run(world)

    with pytest.raises(PermissionDenied):
        relief.approve_run(actor=world.donor, run=run)


def test_the_database_refuses_a_run_decided_by_its_proposer(world: World) -> None:
    run = proposed_run(world)

    with pytest.raises(IntegrityError), transaction.atomic():
        ReliefRun.objects.filter(pk=run.pk).update(
            status=ReliefRun.Status.APPROVED, decided_by=world.manager, decided_at=timezone.now()
        )


def test_the_database_refuses_two_live_payouts_of_one_person(world: World) -> None:
    run = proposed_run(world)
    payout = run.payouts.first()
    assert payout is not None
    payout.pk = None
    payout.crew_member = world.crew(world.production("FR-002"))

    with pytest.raises(IntegrityError), transaction.atomic():
        payout.save()


def test_a_second_manager_approves_and_the_decision_is_in_each_log_without_a_person(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    run = proposed_run(world)

    # The grants are the worker's (entraide/crew/tests/test_awards.py): not run here.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        relief.approve_run(actor=world.second, run=run)

    run.refresh_from_db()
    assert (run.status, run.decided_by) == (ReliefRun.Status.APPROVED, world.second)
    assert run.decided_at is not None
    assert len(callbacks) == 1  # the task that grants the payouts
    events = AuditEvent.objects.filter(action="crew.run_approved").order_by("sequence")
    assert [(e.object_type, e.fund_id) for e in events] == [
        ("programmes.programme", None),
        ("funds.fund", world.france.pk),
        ("funds.fund", world.uk.pk),
    ]
    assert events[0].changes == {
        "run": run.reference,
        "payouts": 3,
        "totals": {"EUR": "4800.00", "GBP": "2000.00"},
    }
    assert events[1].changes == {
        "run": run.reference,
        "payouts": 2,
        "total": "4800.00",
        "currency": "EUR",
    }
    assert "Quintavalle" not in json.dumps([e.changes for e in events])
    with pytest.raises(InvalidTransition):
        relief.approve_run(actor=world.operator, run=run)


def test_a_rejected_run_withdraws_its_payouts_and_their_people_are_proposed_again(
    world: World,
) -> None:
    run = proposed_run(world)

    with pytest.raises(ValidationFailed):
        relief.reject_run(actor=world.second, run=run, note=" ")
    relief.reject_run(actor=world.second, run=run, note="The rates were wrong")

    run.refresh_from_db()
    assert (run.status, run.note) == (ReliefRun.Status.REJECTED, "The rates were wrong")
    assert set(run.payouts.values_list("status", flat=True)) == {Status.WITHDRAWN}
    assert AuditEvent.objects.filter(action="crew.run_rejected").count() == 3
    again = relief.propose_run(
        actor=world.manager,
        programme=world.programme,
        productions=list(world.programme.productions.all()),
    )
    assert again.payouts.filter(status=Status.PROPOSED).count() == 3


def test_a_run_with_nothing_proposed_cannot_be_approved(world: World) -> None:
    new_york = world.production("US-001", currency="USD")
    world.crew(new_york)
    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[new_york])

    with pytest.raises(relief.NothingToPay):
        relief.approve_run(actor=world.second, run=run)


def test_rates_read_by_a_run_are_kept_with_its_payouts(world: World) -> None:
    run = proposed_run(world)

    used = ExchangeRate.objects.filter(pk__in=run.payouts.values("rates_used"))
    assert sorted(used.values_list("currency", flat=True)) == ["GBP", "USD"]
