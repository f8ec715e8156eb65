from __future__ import annotations

import copy
import datetime as dt
import random
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.demo.synthetic import make_iban
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.integrity import exact, linkage, services
from entraide.integrity.models import IntegritySettings, Link, LinkageRun, PersonRecord
from entraide.integrity.signals import (
    POSSIBLE_DUPLICATE,
    SAME_PERSON,
    SHARED_ACCOUNT,
    SHARED_CONTACT,
    SHARED_ORIGIN,
)
from entraide.integrity.tests.factories import LinkageRunFactory
from entraide.integrity.tests.helpers import second_application, stranger
from entraide.payments.tests.helpers import member_of
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.review import services as review_services
from entraide.review.models import Flag
from entraide.rules.tests.factories import RuleSetVersionFactory, rules_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(budget=Decimal("100000.00"))
    return fund


@pytest.fixture
def reviewer(fund: Fund) -> User:
    return member_of(fund, FundRole.Role.APPROVER)


def open_codes(application: Application) -> set[str]:
    return set(
        Flag.objects.filter(application=application, resolved_at__isnull=True).values_list(
            "code", flat=True
        )
    )


def link_between(left: Application, right: Application) -> Link:
    low, high = sorted((left.pk, right.pk))
    return Link.objects.get(left_id=low, right_id=high)


def test_a_second_application_of_the_same_person_is_flagged_on_both(fund: Fund) -> None:
    for _ in range(5):
        stranger(fund)
    first = stranger(fund)
    again = second_application(first)
    stored = services.check_application(again.pk)

    link = link_between(first, again)
    assert link.status == Link.Status.OPEN
    assert link.flagged
    assert link.reasons == ["iban"]
    assert link.match_weight is not None
    assert link.match_weight >= linkage.DEFAULT_THRESHOLD
    assert {e["field"] for e in link.evidence} == set(linkage.FIELDS)
    assert open_codes(first) == open_codes(again) == {POSSIBLE_DUPLICATE}
    assert stored.links_created == 1
    assert stored.flags_raised == 2
    # The note names the other application.
    assert Flag.objects.get(application=first).note.startswith(again.reference)
    # Strangers are not linked.
    assert Link.objects.count() == 1


def test_checking_again_changes_nothing(fund: Fund) -> None:
    first = stranger(fund)
    again = second_application(first)
    services.check_application(again.pk)
    stored = services.check_application(again.pk)
    assert (stored.links_created, stored.flags_raised) == (0, 0)
    assert Link.objects.count() == 1
    assert Flag.objects.count() == 2


def test_different_people_sharing_an_account_or_a_phone(fund: Fund) -> None:
    holder = stranger(fund)
    partner = stranger(fund, iban=holder.iban, phone=holder.phone)
    services.check_application(partner.pk)
    link = link_between(holder, partner)
    assert link.reasons == ["iban", "phone"]
    assert link.match_weight is not None
    assert link.match_weight < linkage.DEFAULT_THRESHOLD
    assert open_codes(partner) == {SHARED_ACCOUNT, SHARED_CONTACT}


def test_the_fund_may_not_flag_shared_accounts(fund: Fund) -> None:
    IntegritySettings.objects.create(fund=fund, flag_shared_account=False)
    holder = stranger(fund)
    partner = stranger(fund, iban=holder.iban)
    services.check_application(partner.pk)
    # Linked and shown, not flagged.
    assert not link_between(holder, partner).flagged
    assert not Flag.objects.exists()


def test_a_higher_threshold_lists_without_flagging(fund: Fund) -> None:
    IntegritySettings.objects.create(fund=fund, duplicate_threshold=60, listed_threshold=5)
    first = stranger(fund)
    again = second_application(first, iban=make_iban(random.Random(5)))
    services.check_application(again.pk)
    assert not link_between(first, again).flagged
    assert not Flag.objects.filter(application=again).exists()


def _programme_funds(one_per_programme: bool) -> tuple[Fund, Fund]:
    programme = ProgrammeFactory()
    funds: tuple[Fund, Fund] = (FundFactory(programme=programme), FundFactory(programme=programme))
    if one_per_programme:
        for fund in funds:
            RuleSetVersionFactory(
                rule_set__fund=fund,
                source=rules_with(**{"currency: EUR": "currency: EUR\none_per_person: programme"}),
            )
    return funds


def test_only_the_fund_allowing_one_per_person_in_the_programme_decides_only_one() -> None:
    strict, lenient = _programme_funds(one_per_programme=False)
    RuleSetVersionFactory(
        rule_set__fund=strict,
        source=rules_with(**{"currency: EUR": "currency: EUR\none_per_person: programme"}),
    )
    first = stranger(lenient)
    again = second_application(first, fund=strict)
    services.check_application(again.pk)
    assert open_codes(again) == {POSSIBLE_DUPLICATE}
    assert open_codes(first) == set()
    services.decide_link(
        actor=member_of(strict, FundRole.Role.REVIEWER),
        link=link_between(first, again),
        same_person=True,
    )
    # The strict fund's application waits for a decision on only one; the other may be granted.
    assert open_codes(again) == {SAME_PERSON}
    assert open_codes(first) == set()


@pytest.mark.parametrize("one_per_programme", [True, False])
def test_across_the_funds_of_a_programme(one_per_programme: bool) -> None:
    first_fund, second_fund = _programme_funds(one_per_programme)
    first = stranger(first_fund)
    again = second_application(first, fund=second_fund)
    unrelated = stranger(FundFactory())
    services.check_application(again.pk)
    link = link_between(first, again)
    assert (link.left_fund_id, link.right_fund_id) == (first_fund.pk, second_fund.pk)
    # Flagged only where the rules allow one application per person in the programme.
    assert link.flagged is one_per_programme
    assert open_codes(again) == ({POSSIBLE_DUPLICATE} if one_per_programme else set())
    # Funds outside the programme are not compared.
    assert not Link.objects.filter(left=unrelated).exists()


def test_an_identifier_shared_by_too_many_links_no_pair(fund: Fund) -> None:
    placeholder = "+33 6 00 00 00 00"
    crowd = [stranger(fund, phone=placeholder) for _ in range(exact.MAX_GROUP + 1)]
    services.check_application(crowd[-1].pk)
    # One crowded value (the full check lists it), not 50 links and 51 flags.
    assert not Link.objects.exists()
    assert not Flag.objects.exists()
    # A real duplicate among them is still found, by the rest.
    again = second_application(crowd[0], phone=placeholder)
    services.check_application(again.pk)
    (link,) = Link.objects.all()
    assert (link.left_id, link.right_id) == (crowd[0].pk, again.pk)
    assert link.reasons == ["iban"]
    assert next(e for e in link.evidence if e["field"] == "phone")["level"] == linkage.MISSING


def test_the_same_nir_typed_otherwise_is_found_by_its_blind_index(
    django_capture_on_commit_callbacks: Any,
) -> None:
    first_fund, second_fund = _programme_funds(one_per_programme=True)
    first = stranger(first_fund)
    spaced = " ".join(first.nir[i : i + 3] for i in range(0, 15, 3)).lower()
    again = stranger(second_fund, nir=spaced)
    assert again.nir_index == first.nir_index

    services.check_application(again.pk)

    link = link_between(first, again)
    assert link.reasons == ["nir"]
    assert next(e for e in link.evidence if e["field"] == "nir")["level"] == 1
    assert open_codes(first) == open_codes(again) == {POSSIBLE_DUPLICATE}
    # The full check finds the same pair on the indexes it reads.
    Link.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_linkage_run(
            actor=member_of(first_fund, FundRole.Role.APPROVER), fund=first_fund
        )
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE, run.error
    assert link_between(first, again).reasons == ["nir"]


def test_an_account_shared_by_too_many_links_no_pair(fund: Fund) -> None:
    shared = make_iban(random.Random(8))
    crowd = [stranger(fund, iban=shared) for _ in range(exact.MAX_GROUP + 1)]
    services.check_application(crowd[-1].pk)
    assert not Link.objects.exists()
    assert not Flag.objects.exists()


def test_a_model_trained_before_the_comparisons_changed_is_not_used(fund: Fund) -> None:
    scope = services.scope_of(fund)
    assert services.current_model(scope) == linkage.DEFAULT_MODEL
    # A model with the NIR's former one-digit level, before the blind indexes.
    older = copy.deepcopy(linkage.DEFAULT_MODEL)
    (nir,) = [c for c in older["comparisons"] if c["output_column_name"] == "nir"]
    nir["comparison_levels"].insert(2, {"sql_condition": "levenshtein(nir_l, nir_r) <= 1"})
    LinkageRunFactory(fund=fund, trained=True, model=older)
    assert services.current_model(scope) == linkage.DEFAULT_MODEL
    # One trained on today's comparisons is.
    trained = copy.deepcopy(linkage.DEFAULT_MODEL)
    trained["probability_two_random_records_match"] = 1e-6
    LinkageRunFactory(fund=fund, trained=True, model=trained)
    assert services.current_model(scope) == trained


def test_several_applications_from_one_place_within_minutes(fund: Fund) -> None:
    IntegritySettings.objects.create(fund=fund, origin_burst=3, origin_window_minutes=10)
    start = timezone.now()
    sent = [
        stranger(fund, origin="a" * 64, submitted_at=start + dt.timedelta(minutes=minutes))
        for minutes in (0, 4, 30, 33)
    ]
    stranger(fund, origin="b" * 64, submitted_at=start + dt.timedelta(minutes=35))
    for application in sent:
        services.check_application(application.pk)
    # Two within ten minutes, then two more: never three within the window.
    assert not Flag.objects.exists()
    third = stranger(fund, origin="a" * 64, submitted_at=start + dt.timedelta(minutes=36))
    services.check_application(third.pk)
    flagged = set(Flag.objects.filter(code=SHARED_ORIGIN).values_list("application_id", flat=True))
    assert flagged == {sent[2].pk, sent[3].pk, third.pk}
    assert sent[2].reference in Flag.objects.get(application=third).note


def test_dismissing_needs_a_reason_and_closes_the_flags(fund: Fund, reviewer: User) -> None:
    holder = stranger(fund)
    partner = stranger(fund, iban=holder.iban)
    services.check_application(partner.pk)
    link = link_between(holder, partner)
    with pytest.raises(ValidationFailed) as refused:
        services.decide_link(actor=reviewer, link=link, same_person=False, note=" ")
    assert refused.value.field == "note"

    services.decide_link(
        actor=reviewer, link=link, same_person=False, note="Un couple, compte joint"
    )
    link.refresh_from_db()
    assert (link.status, link.decided_by) == (Link.Status.DISMISSED, reviewer)
    assert not Flag.objects.filter(resolved_at__isnull=True).exists()
    resolved = Flag.objects.get(application=partner)
    assert resolved.resolved_by == reviewer
    assert holder.reference in resolved.resolution
    assert AuditEvent.objects.filter(action="integrity.link_dismissed").count() == 1
    with pytest.raises(InvalidTransition):
        services.decide_link(actor=reviewer, link=link, same_person=True)
    # A check after the decision keeps it, and raises nothing again.
    assert services.check_application(partner.pk).flags_raised == 0
    assert Link.objects.get(pk=link.pk).status == Link.Status.DISMISSED


def test_a_flag_stays_while_another_link_of_the_application_is_open(
    fund: Fund, reviewer: User
) -> None:
    holder = stranger(fund)
    first_partner = stranger(fund, iban=holder.iban)
    second_partner = stranger(fund, iban=holder.iban)
    for application in (first_partner, second_partner):
        services.check_application(application.pk)
    services.decide_link(
        actor=reviewer, link=link_between(holder, first_partner), same_person=False, note="Couple"
    )
    assert open_codes(holder) == {SHARED_ACCOUNT}
    assert open_codes(first_partner) == {SHARED_ACCOUNT}  # its link with the second is open
    assert open_codes(second_partner) == {SHARED_ACCOUNT}


def test_only_a_person_who_decides_in_one_of_the_funds(fund: Fund) -> None:
    first = stranger(fund)
    again = second_application(first)
    services.check_application(again.pk)
    for role in (FundRole.Role.FINANCE, FundRole.Role.OPERATOR_ADMIN):
        with pytest.raises(PermissionDenied):
            services.decide_link(
                actor=member_of(fund, role), link=link_between(first, again), same_person=True
            )
    other_fund_reviewer = member_of(FundFactory(), FundRole.Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        services.decide_link(
            actor=other_fund_reviewer, link=link_between(first, again), same_person=True
        )


def test_confirming_makes_one_person_and_asks_to_decide_only_one(
    fund: Fund, reviewer: User
) -> None:
    first = stranger(fund)
    again = second_application(first)
    third = second_application(first, first_name=first.first_name + "e")
    for application in (again, third):
        services.check_application(application.pk)
    services.decide_link(actor=reviewer, link=link_between(first, again), same_person=True)

    person = PersonRecord.objects.get(application=first).person
    assert set(person.records.values_list("application_id", flat=True)) == {first.pk, again.pk}
    # Undecided, both must now be decided as one.
    assert SAME_PERSON in open_codes(first)
    assert SAME_PERSON in open_codes(again)
    with pytest.raises(review_services.FlagsOpen):
        review_services.approve_application(actor=reviewer, application=again)
    # A confirmation joining a third application keeps one person.
    services.decide_link(actor=reviewer, link=link_between(again, third), same_person=True)
    assert set(person.records.values_list("application_id", flat=True)) == {
        first.pk,
        again.pk,
        third.pk,
    }
    # The originals are untouched.
    first.refresh_from_db()
    assert first.status == Application.Status.RECEIVED
    assert AuditEvent.objects.filter(action="integrity.link_confirmed").count() == 2


def test_confirming_closes_the_open_pairs_within_the_person(fund: Fund, reviewer: User) -> None:
    first = stranger(fund)
    again = second_application(first)
    third = second_application(first, first_name=first.first_name + "e")
    for application in (again, third):
        services.check_application(application.pk)
    services.decide_link(actor=reviewer, link=link_between(first, again), same_person=True)
    services.decide_link(actor=reviewer, link=link_between(again, third), same_person=True)
    # first–third is one person's too: confirmed with the decision that made it so.
    closing = link_between(first, third)
    assert (closing.status, closing.decided_by) == (Link.Status.CONFIRMED, reviewer)
    assert open_codes(third) == {SAME_PERSON}
    event = AuditEvent.objects.filter(action="integrity.link_confirmed").latest("sequence")
    assert event.changes["also_confirmed"] == [closing.pk]


def test_two_applications_of_one_person_cannot_be_different_people(
    fund: Fund, reviewer: User
) -> None:
    first = stranger(fund)
    again = second_application(first)
    third = second_application(first, first_name=first.first_name + "e")
    for application in (again, third):
        services.check_application(application.pk)
    services.decide_link(actor=reviewer, link=link_between(first, again), same_person=True)
    services.decide_link(actor=reviewer, link=link_between(first, third), same_person=True)
    assert link_between(again, third).status == Link.Status.CONFIRMED
    with pytest.raises(InvalidTransition):
        services.decide_link(
            actor=reviewer, link=link_between(again, third), same_person=False, note="Non"
        )


def test_a_decision_across_funds_is_in_both_funds_audit() -> None:
    first_fund, second_fund = _programme_funds(one_per_programme=True)
    first = stranger(first_fund)
    again = second_application(first, fund=second_fund)
    services.check_application(again.pk)
    services.decide_link(
        actor=member_of(second_fund, FundRole.Role.REVIEWER),
        link=link_between(first, again),
        same_person=False,
        note="Homonymes",
    )
    events = AuditEvent.objects.filter(action="integrity.link_dismissed")
    assert set(events.values_list("fund_id", flat=True)) == {first_fund.pk, second_fund.pk}
    raised = AuditEvent.objects.filter(action="flag.raised_by_check")
    assert {event.fund_id: event.changes["applications"] for event in raised} == {
        first_fund.pk: [first.pk],
        second_fund.pk: [again.pk],
    }


def test_confirming_two_people_merges_them(fund: Fund, reviewer: User) -> None:
    first = stranger(fund)
    again = second_application(first)
    other_first = second_application(first, first_name=first.first_name + "e")
    other_again = second_application(first, first_name=first.first_name + "a")
    for application in (again, other_first, other_again):
        services.check_application(application.pk)
    services.decide_link(actor=reviewer, link=link_between(first, again), same_person=True)
    services.decide_link(
        actor=reviewer, link=link_between(other_first, other_again), same_person=True
    )
    assert PersonRecord.objects.values("person").distinct().count() == 2
    services.decide_link(actor=reviewer, link=link_between(again, other_first), same_person=True)
    assert PersonRecord.objects.values("person").distinct().count() == 1
    assert PersonRecord.objects.count() == 4


def test_saving_settings(fund: Fund) -> None:
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    values: dict[str, Any] = {
        "duplicate_threshold": Decimal("12"),
        "listed_threshold": Decimal("6"),
        "flag_shared_account": True,
        "flag_shared_contact": False,
        "origin_window_minutes": 15,
        "origin_burst": 4,
    }
    for listed in ("13", "-1"):
        with pytest.raises(ValidationFailed) as refused:
            services.save_integrity_settings(
                actor=admin, fund=fund, values=values | {"listed_threshold": Decimal(listed)}
            )
        assert refused.value.field == "listed_threshold"
    with pytest.raises(PermissionDenied):
        services.save_integrity_settings(
            actor=member_of(fund, FundRole.Role.REVIEWER), fund=fund, values=values
        )
    saved = services.save_integrity_settings(actor=admin, fund=fund, values=values)
    assert services.settings_of(fund) == saved
    assert saved.duplicate_threshold == Decimal("12")
    event = AuditEvent.objects.get(action="integrity.settings_changed")
    assert event.changes["flag_shared_contact"] == {"before": True, "after": False}


def test_a_full_check_links_flags_and_keeps_decisions(
    fund: Fund, reviewer: User, django_capture_on_commit_callbacks: Any
) -> None:
    strangers = [stranger(fund) for _ in range(6)]
    again = second_application(strangers[0])
    partner = stranger(fund, iban=strangers[1].iban)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.request_linkage_run(actor=reviewer, fund=fund)
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE, run.error
    assert run.records == 8
    assert not run.trained  # too few to learn from: the default model
    assert run.links_created == 2
    assert run.flags_raised == 4
    assert open_codes(again) == {POSSIBLE_DUPLICATE}
    assert open_codes(partner) == {SHARED_ACCOUNT}
    assert AuditEvent.objects.filter(action="flag.raised_by_check").count() == 1

    services.decide_link(
        actor=reviewer, link=link_between(strangers[1], partner), same_person=False, note="Couple"
    )
    with django_capture_on_commit_callbacks(execute=True):
        again_run = services.request_linkage_run(actor=reviewer, fund=fund)
    again_run.refresh_from_db()
    assert (again_run.links_created, again_run.flags_raised) == (0, 0)
    assert link_between(strangers[1], partner).status == Link.Status.DISMISSED
    # Found by the first check, rescored by the second.
    assert link_between(strangers[0], again).run == run
    # A pair below the listing threshold that shares an account keeps its score and evidence.
    couple = link_between(strangers[1], partner)
    assert couple.match_weight is not None
    assert couple.match_weight < linkage.DEFAULT_THRESHOLD
    assert {item["field"] for item in couple.evidence} == set(linkage.FIELDS)


def test_one_full_check_at_a_time(fund: Fund, reviewer: User) -> None:
    services.request_linkage_run(actor=reviewer, fund=fund)
    with pytest.raises(services.CheckAlreadyQueued):
        services.request_linkage_run(actor=reviewer, fund=fund)
    with pytest.raises(PermissionDenied):
        services.request_linkage_run(actor=member_of(fund, FundRole.Role.FINANCE), fund=fund)


def test_a_check_whose_worker_died_gives_way(fund: Fund, reviewer: User) -> None:
    run = services.request_linkage_run(actor=reviewer, fund=fund)
    LinkageRun.objects.filter(pk=run.pk).update(
        status=LinkageRun.Status.RUNNING, started_at=timezone.now() - dt.timedelta(minutes=30)
    )
    with pytest.raises(services.CheckAlreadyQueued):
        services.request_linkage_run(actor=reviewer, fund=fund)
    LinkageRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - services.STALE_AFTER - dt.timedelta(minutes=1)
    )
    services.request_linkage_run(actor=reviewer, fund=fund)
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.FAILED
    assert run.error
    assert AuditEvent.objects.filter(action="integrity.check_failed").count() == 1


def test_a_failed_full_check_keeps_its_error(
    fund: Fund, reviewer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger(fund)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(linkage, "train_model", broken)
    run = services.request_linkage_run(actor=reviewer, fund=fund)
    done = services.perform_linkage_run(run.pk)
    assert (done.status, done.error) == (LinkageRun.Status.FAILED, "out of memory")
    # Run once only, and another may be requested.
    assert services.perform_linkage_run(run.pk).status == LinkageRun.Status.FAILED
    services.request_linkage_run(actor=reviewer, fund=fund)
