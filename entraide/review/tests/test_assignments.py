"""Assigning applications to reviewers (by hand and round-robin) and the lock of the one
reviewing: the services, the desk panel of the application page and its actions."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import assignments
from entraide.review.assignments import BeingReviewed
from entraide.review.models import Assignment, ReviewLock
from entraide.review.tests.factories import AssignmentFactory, ReviewLockFactory

Role = FundRole.Role


def staff(fund: Fund, role: str = Role.REVIEWER) -> Any:
    return FundRoleFactory.create(fund=fund, role=role).user


def submitted(fund: Fund, count: int, **kwargs: Any) -> list[Application]:
    """``count`` applications, submitted in the reverse order of their ids (so that an order by
    id and an order by submission disagree)."""
    start = timezone.now() - dt.timedelta(days=1)
    return [
        ApplicationFactory.create(fund=fund, submitted_at=start - dt.timedelta(minutes=i), **kwargs)
        for i in range(count)
    ][::-1]


def reviewer_of(application: Application) -> int | None:
    return (
        Assignment.objects.filter(application=application)
        .values_list("reviewer_id", flat=True)
        .first()
    )


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


# --------------------------------------------------------------------------------------------
# Assigning by hand
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_assigns_the_funds_pending_applications_replacing_earlier_assignments() -> None:
    fund = FundFactory.create()
    manager, first, second = staff(fund, Role.OPERATOR_ADMIN), staff(fund), staff(fund)
    waiting = ApplicationFactory.create(fund=fund)
    asked = ApplicationFactory.create(fund=fund, status=Application.Status.INFO_REQUESTED)
    earlier = AssignmentFactory.create(application__fund=fund, reviewer=first).application
    approved = ApplicationFactory.create(fund=fund, status=Application.Status.APPROVED)
    elsewhere = ApplicationFactory.create()
    ids = [waiting.pk, asked.pk, earlier.pk, approved.pk, elsewhere.pk]

    count = assignments.assign(actor=manager, fund=fund, application_ids=ids, reviewer=second)

    assert count == 3
    assert [reviewer_of(a) for a in (waiting, asked, earlier)] == [second.pk] * 3
    assert reviewer_of(approved) is None
    assert reviewer_of(elsewhere) is None
    assert Assignment.objects.get(application=earlier).assigned_by == manager
    event = AuditEvent.objects.get()
    assert (event.action, event.fund_id) == ("assignment.assigned", fund.pk)
    assert (event.changes["count"], event.changes["reviewer"]) == (3, second.email)


@pytest.mark.django_db
def test_assigning_many_applications_takes_as_many_queries_as_assigning_a_few() -> None:
    fund = FundFactory.create()
    manager, reviewer = staff(fund, Role.OPERATOR_ADMIN), staff(fund)
    applicant = UserFactory.create()
    few = [a.pk for a in ApplicationFactory.create_batch(2, fund=fund, applicant=applicant)]
    many = [a.pk for a in ApplicationFactory.create_batch(150, fund=fund, applicant=applicant)]
    assignments.assign(actor=manager, fund=fund, application_ids=few, reviewer=reviewer)

    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as queries:
            assignments.assign(actor=manager, fund=fund, application_ids=ids, reviewer=reviewer)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert Assignment.objects.filter(reviewer=reviewer).count() == 152


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER])
def test_a_reviewer_takes_an_application_for_themselves_but_gives_none_to_others(
    role: str,
) -> None:
    fund = FundFactory.create()
    me, colleague = staff(fund, role), staff(fund)
    application = AssignmentFactory.create(application__fund=fund, reviewer=colleague).application

    with pytest.raises(PermissionDenied):
        assignments.assign(
            actor=me, fund=fund, application_ids=[application.pk], reviewer=colleague
        )
    # A colleague's application stays theirs; one nobody has is taken.
    free = ApplicationFactory.create(fund=fund)
    taken = assignments.assign(
        actor=me, fund=fund, application_ids=[application.pk, free.pk], reviewer=me
    )

    assert taken == 1
    assert reviewer_of(application) == colleague.pk
    assert reviewer_of(free) == me.pk


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_a_role_that_neither_manages_nor_decides_assigns_nothing(role: str) -> None:
    fund = FundFactory.create()
    application = ApplicationFactory.create(fund=fund)
    actor, reviewer = staff(fund, role), staff(fund)

    with pytest.raises(PermissionDenied):
        assignments.assign(
            actor=actor, fund=fund, application_ids=[application.pk], reviewer=reviewer
        )
    with pytest.raises(PermissionDenied):
        assignments.assign(actor=actor, fund=fund, application_ids=[application.pk], reviewer=actor)

    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_applications_go_only_to_someone_who_may_decide_on_the_fund() -> None:
    fund = FundFactory.create()
    application = ApplicationFactory.create(fund=fund)
    manager = staff(fund, Role.OPERATOR_ADMIN)
    finance = staff(fund, Role.FINANCE)
    other_funds_reviewer = staff(FundFactory.create())

    for person in (finance, other_funds_reviewer, manager):
        with pytest.raises(ValidationFailed) as refused:
            assignments.assign(
                actor=manager, fund=fund, application_ids=[application.pk], reviewer=person
            )
        assert refused.value.field == "reviewer"
        assert str(person) in str(refused.value.message)

    assert not Assignment.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_unassigning_a_manager_removes_anyones_a_reviewer_only_their_own() -> None:
    fund = FundFactory.create()
    manager, me, colleague = staff(fund, Role.OPERATOR_ADMIN), staff(fund), staff(fund)
    mine = AssignmentFactory.create(application__fund=fund, reviewer=me).application
    theirs = AssignmentFactory.create(application__fund=fund, reviewer=colleague).application
    ids = [mine.pk, theirs.pk]

    assert assignments.unassign(actor=me, fund=fund, application_ids=ids) == 1
    assert (reviewer_of(mine), reviewer_of(theirs)) == (None, colleague.pk)
    assert assignments.unassign(actor=manager, fund=fund, application_ids=ids) == 1
    assert not Assignment.objects.exists()
    assert actions() == ["assignment.removed", "assignment.removed"]
    with pytest.raises(PermissionDenied):
        assignments.unassign(actor=staff(fund, Role.FINANCE), fund=fund, application_ids=ids)


# --------------------------------------------------------------------------------------------
# Round-robin
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_round_robin_deals_the_applications_in_submission_order_evenly() -> None:
    fund = FundFactory.create()
    manager = staff(fund, Role.OPERATOR_ADMIN)
    first, second, third = sorted(
        [staff(fund), staff(fund, Role.APPROVER), staff(fund)], key=lambda u: u.pk
    )
    applications = submitted(fund, 7)

    given = assignments.assign_round_robin(
        actor=manager, fund=fund, application_ids=[a.pk for a in applications]
    )

    assert given == {first.pk: 3, second.pk: 2, third.pk: 2}
    expected = [first, second, third, first, second, third, first]
    assert [reviewer_of(a) for a in applications] == [u.pk for u in expected]
    event = AuditEvent.objects.get()
    assert event.action == "assignment.spread"
    assert event.changes["count"] == 7


@pytest.mark.django_db
def test_round_robin_gives_to_the_least_loaded_first_counting_only_pending_work() -> None:
    fund = FundFactory.create()
    manager = staff(fund, Role.OPERATOR_ADMIN)
    busy, idle = sorted([staff(fund), staff(fund)], key=lambda u: u.pk)
    AssignmentFactory.create_batch(2, application__fund=fund, reviewer=busy)
    # Decided applications are no work left: they do not count in the load.
    AssignmentFactory.create_batch(
        3, application__fund=fund, application__status="approved", reviewer=idle
    )
    applications = submitted(fund, 3)

    given = assignments.assign_round_robin(
        actor=manager, fund=fund, application_ids=[a.pk for a in applications]
    )

    # idle: 0 → 1 → 2; then both have 2, and the tie goes to the lower id.
    assert given == {idle.pk: 2, busy.pk: 1}
    assert [reviewer_of(a) for a in applications] == [idle.pk, idle.pk, busy.pk]


@pytest.mark.django_db
def test_round_robin_leaves_assigned_and_decided_applications_alone() -> None:
    fund = FundFactory.create()
    manager, keeper, other = staff(fund, Role.OPERATOR_ADMIN), staff(fund), staff(fund)
    kept = AssignmentFactory.create(application__fund=fund, reviewer=keeper).application
    decided = ApplicationFactory.create(fund=fund, status=Application.Status.REJECTED)
    fresh = ApplicationFactory.create(fund=fund)

    given = assignments.assign_round_robin(
        actor=manager,
        fund=fund,
        application_ids=[kept.pk, decided.pk, fresh.pk],
        reviewers=[other],
    )

    assert given == {other.pk: 1}
    assert (reviewer_of(kept), reviewer_of(decided), reviewer_of(fresh)) == (
        keeper.pk,
        None,
        other.pk,
    )


@pytest.mark.django_db
def test_round_robin_by_default_deals_to_the_funds_reviewers_and_approvers_once_each() -> None:
    fund = FundFactory.create()
    manager = staff(fund, Role.OPERATOR_ADMIN)
    reviewer = staff(fund)
    both = staff(fund, Role.APPROVER)
    FundRoleFactory.create(fund=fund, user=both, role=Role.REVIEWER)
    staff(fund, Role.FINANCE)
    staff(fund, Role.AUDITOR)
    staff(FundFactory.create())
    inactive = staff(fund)
    inactive.is_active = False
    inactive.save()

    assert set(assignments.reviewers_of(fund)) == {reviewer, both}
    given = assignments.assign_round_robin(
        actor=manager, fund=fund, application_ids=[a.pk for a in submitted(fund, 4)]
    )

    assert given == {reviewer.pk: 2, both.pk: 2}


@pytest.mark.django_db
def test_round_robin_is_for_managers_and_to_people_who_may_decide() -> None:
    fund = FundFactory.create()
    manager, reviewer = staff(fund, Role.OPERATOR_ADMIN), staff(fund)
    ids = [ApplicationFactory.create(fund=fund).pk]
    nobody_decides = FundFactory.create()
    FundRoleFactory.create(fund=nobody_decides, user=manager, role=Role.OPERATOR_ADMIN)

    with pytest.raises(PermissionDenied):
        assignments.assign_round_robin(actor=reviewer, fund=fund, application_ids=ids)
    with pytest.raises(ValidationFailed):
        assignments.assign_round_robin(
            actor=manager, fund=fund, application_ids=ids, reviewers=[reviewer, manager]
        )
    with pytest.raises(ValidationFailed):
        assignments.assign_round_robin(actor=manager, fund=nobody_decides, application_ids=ids)

    assert not Assignment.objects.exists()


# --------------------------------------------------------------------------------------------
# The review lock
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_claiming_locks_the_application_for_the_configured_time(settings: Any) -> None:
    settings.REVIEW_LOCK_MINUTES = 20
    application = ApplicationFactory.create()
    reviewer = staff(application.fund)
    before = timezone.now()

    lock = assignments.claim(actor=reviewer, application=application)

    assert lock.holder == reviewer
    assert before + dt.timedelta(minutes=20) <= lock.expires_at
    assert lock.expires_at <= timezone.now() + dt.timedelta(minutes=20)
    assert assignments.lock_holder(application) == lock
    assert actions() == ["review_lock.claimed"]


@pytest.mark.django_db
def test_a_second_reviewer_is_refused_with_who_holds_it_and_until_when() -> None:
    application = ApplicationFactory.create(fund__time_zone="Europe/Paris")
    first, second = staff(application.fund), staff(application.fund)
    first.first_name, first.last_name = "Camille", "Durand"
    first.save()
    expires = dt.datetime(2031, 1, 15, 13, 35, tzinfo=dt.UTC)  # 14:35 in Paris
    ReviewLockFactory.create(application=application, holder=first, expires_at=expires)

    with translation.override("fr"), pytest.raises(BeingReviewed) as refused:
        assignments.claim(actor=second, application=application)

    assert refused.value.code == "being_reviewed"
    assert "Camille Durand" in str(refused.value.message)
    assert "14:35" in str(refused.value.message)
    assert ReviewLock.objects.get().holder == first
    with pytest.raises(BeingReviewed):
        assignments.check_not_locked_by_other(second, application)
    assignments.check_not_locked_by_other(first, application)


@pytest.mark.django_db
def test_the_holder_renews_their_lock() -> None:
    application = ApplicationFactory.create()
    reviewer = staff(application.fund)
    started = timezone.now() - dt.timedelta(minutes=10)
    ReviewLockFactory.create(
        application=application,
        holder=reviewer,
        locked_at=started,
        expires_at=started + dt.timedelta(minutes=15),
    )

    lock = assignments.claim(actor=reviewer, application=application, minutes=15)

    assert (lock.holder, lock.locked_at) == (reviewer, started)
    assert lock.expires_at > timezone.now() + dt.timedelta(minutes=14)
    assert ReviewLock.objects.count() == 1


@pytest.mark.django_db
def test_an_expired_lock_no_longer_counts_and_is_taken_over() -> None:
    application = ApplicationFactory.create()
    gone, arriving = staff(application.fund), staff(application.fund)
    ReviewLockFactory.create(
        application=application,
        holder=gone,
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )

    assert assignments.lock_holder(application) is None
    assignments.check_not_locked_by_other(arriving, application)
    lock = assignments.claim(actor=arriving, application=application)

    assert lock.holder == arriving
    assert ReviewLock.objects.get().holder == arriving
    event = AuditEvent.objects.get()
    assert event.changes["expired_lock_of"] == gone.email


@pytest.mark.django_db
def test_the_check_of_the_decision_services_runs_inside_their_own_transaction() -> None:
    lock = ReviewLockFactory.create()
    other = staff(lock.application.fund)

    # A durable block inside another fails: the check must not open one.
    with transaction.atomic(durable=True), pytest.raises(BeingReviewed):
        assignments.check_not_locked_by_other(other, lock.application)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.FINANCE, Role.AUDITOR])
def test_only_those_who_decide_claim(role: str) -> None:
    application = ApplicationFactory.create()

    with pytest.raises(PermissionDenied):
        assignments.claim(actor=staff(application.fund, role), application=application)

    assert not ReviewLock.objects.exists()


@pytest.mark.django_db
def test_a_decided_application_is_not_claimed() -> None:
    application = ApplicationFactory.create(status=Application.Status.APPROVED)

    with pytest.raises(InvalidTransition):
        assignments.claim(actor=staff(application.fund), application=application)


@pytest.mark.django_db
def test_the_holder_releases_and_another_reviewer_cannot() -> None:
    lock = ReviewLockFactory.create()
    application, holder = lock.application, lock.holder
    FundRoleFactory.create(fund=application.fund, user=holder, role=Role.REVIEWER)

    with pytest.raises(PermissionDenied):
        assignments.release(actor=staff(application.fund), application=application)
    assert ReviewLock.objects.exists()
    assignments.release(actor=holder, application=application)

    assert not ReviewLock.objects.exists()
    assert actions() == ["review_lock.released"]


@pytest.mark.django_db
def test_a_manager_breaks_someones_lock_and_the_audit_log_says_whose() -> None:
    lock = ReviewLockFactory.create()
    manager = staff(lock.application.fund, Role.OPERATOR_ADMIN)

    assignments.release(actor=manager, application=lock.application)

    assert not ReviewLock.objects.exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.actor_id) == ("review_lock.broken", manager.pk)
    assert event.changes == {"holder": lock.holder.email, "expired": False}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("expired_lock", [False, True], ids=["no-lock-yet", "expired-lock"])
def test_reviewers_claiming_at_the_same_moment_exactly_one_wins(expired_lock: bool) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL's concurrency")
    application = ApplicationFactory.create()
    reviewers = [staff(application.fund) for _ in range(6)]
    if expired_lock:
        ReviewLockFactory.create(
            application=application,
            holder=staff(application.fund),
            expires_at=timezone.now() - dt.timedelta(minutes=1),
        )
    barrier = threading.Barrier(len(reviewers))
    outcomes: list[str] = []

    def claim_as(reviewer: Any) -> None:
        try:
            barrier.wait()
            assignments.claim(actor=reviewer, application=application)
            outcomes.append("won")
        except BeingReviewed:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim_as, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["refused"] * 5 + ["won"]
    assert ReviewLock.objects.get().holder in reviewers
    assert AuditEvent.objects.filter(action="review_lock.claimed").count() == 1


# --------------------------------------------------------------------------------------------
# The desk panel and its actions
# --------------------------------------------------------------------------------------------


def detail_url(application: Application) -> str:
    return reverse(
        "staff_application",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


def desk_url(name: str, application: Application) -> str:
    return reverse(name, kwargs={"slug": application.fund.slug, "reference": application.reference})


def said(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_a_reviewer_starts_reviewing_from_the_page_and_sees_until_when(client: Client) -> None:
    application = ApplicationFactory.create()
    reviewer = staff(application.fund)
    client.force_login(reviewer)
    page = client.get(detail_url(application)).content.decode()
    assert "Start reviewing" in page
    assert "Take it" in page

    response = client.post(desk_url("staff_application_claim", application))

    assert response.status_code == 302
    assert response["Location"] == detail_url(application) + "#desk"
    assert said(response)[0].startswith("You are reviewing this application until")
    page = client.get(detail_url(application)).content.decode()
    assert "You are reviewing it until" in page
    assert "Stop reviewing" in page
    assert "Start reviewing" not in page


@pytest.mark.django_db
def test_another_reviewer_sees_who_reviews_and_is_refused_with_a_message(client: Client) -> None:
    lock = ReviewLockFactory.create(holder__first_name="Camille", holder__last_name="Durand")
    application = lock.application
    client.force_login(staff(application.fund))

    page = client.get(detail_url(application)).content.decode()
    response = client.post(desk_url("staff_application_claim", application))

    assert "Being reviewed by Camille Durand until" in page
    assert "Start reviewing" not in page
    assert response.status_code == 302
    assert "Camille Durand is reviewing this application until" in said(response)[0]
    assert ReviewLock.objects.get().holder == lock.holder


@pytest.mark.django_db
def test_the_holder_stops_reviewing_from_the_page(client: Client) -> None:
    lock = ReviewLockFactory.create()
    FundRoleFactory.create(fund=lock.application.fund, user=lock.holder)
    client.force_login(lock.holder)

    response = client.post(desk_url("staff_application_release", lock.application))

    assert response.status_code == 302
    assert not ReviewLock.objects.exists()


@pytest.mark.django_db
def test_a_manager_lifts_a_lock_and_assigns_from_the_page(client: Client) -> None:
    lock = ReviewLockFactory.create()
    application = lock.application
    reviewer = staff(application.fund)
    client.force_login(staff(application.fund, Role.OPERATOR_ADMIN))
    page = client.get(detail_url(application))
    assert "Lift the lock" in page.content.decode()
    assert list(page.context["desk"]["assign_form"].fields["reviewer"].queryset) == [reviewer]

    client.post(desk_url("staff_application_release", application))
    response = client.post(
        desk_url("staff_application_assign", application), {"reviewer": reviewer.pk}
    )

    assert not ReviewLock.objects.exists()
    assert response.status_code == 302
    assert said(response)[-1] == f"Assigned to {reviewer}."
    assert reviewer_of(application) == reviewer.pk
    assert "Unassign" in client.get(detail_url(application)).content.decode()


@pytest.mark.django_db
def test_assigning_to_someone_who_cannot_decide_is_a_message_not_an_error(
    client: Client,
) -> None:
    application = ApplicationFactory.create()
    finance = staff(application.fund, Role.FINANCE)
    client.force_login(staff(application.fund, Role.OPERATOR_ADMIN))

    response = client.post(
        desk_url("staff_application_assign", application), {"reviewer": finance.pk}
    )

    assert response.status_code == 302
    assert said(response)[0].startswith("Reviewer: Select a valid choice.")
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_a_reviewer_takes_it_and_gives_it_back_from_the_page(client: Client) -> None:
    application = ApplicationFactory.create()
    reviewer = staff(application.fund)
    client.force_login(reviewer)

    client.post(desk_url("staff_application_assign", application), {"reviewer": reviewer.pk})
    assert reviewer_of(application) == reviewer.pk
    page = client.get(detail_url(application)).content.decode()
    assert "Give it back" in page
    assert "Take it" not in page
    client.post(desk_url("staff_application_unassign", application))

    assert reviewer_of(application) is None


@pytest.mark.django_db
def test_a_reviewer_cannot_give_an_application_to_a_colleague(client: Client) -> None:
    application = ApplicationFactory.create()
    colleague = staff(application.fund)
    client.force_login(staff(application.fund))

    response = client.post(
        desk_url("staff_application_assign", application), {"reviewer": colleague.pk}
    )

    assert response.status_code == 403
    assert not Assignment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_the_panel_shows_no_action_to_those_who_only_read(client: Client, role: str) -> None:
    lock = ReviewLockFactory.create()
    AssignmentFactory.create(application=lock.application, reviewer=lock.holder)
    client.force_login(staff(lock.application.fund, role))

    page = client.get(detail_url(lock.application)).content.decode()

    assert "Being reviewed by" in page
    for action in ("Start reviewing", "Take it", "Lift the lock", "Unassign", "Assign</button>"):
        assert action not in page


DESK_ACTIONS = [
    "staff_application_assign",
    "staff_application_unassign",
    "staff_application_claim",
    "staff_application_release",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", DESK_ACTIONS)
@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 302), ("finance", 403), ("auditor", 403), ("other_fund", 404)],
)
def test_the_desk_actions_are_refused_to_those_who_may_not_use_them(
    client: Client, name: str, who: str, expected: int
) -> None:
    lock = ReviewLockFactory.create()
    application = lock.application
    if who == "other_fund":
        client.force_login(staff(FundFactory.create()))
    elif who != "anonymous":
        client.force_login(staff(application.fund, who))
    reviewer = staff(application.fund)

    response = client.post(desk_url(name, application), {"reviewer": reviewer.pk})

    assert response.status_code == expected
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    assert ReviewLock.objects.get() == lock
    assert not Assignment.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_the_operator_admin_may_not_claim(client: Client) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application.fund, Role.OPERATOR_ADMIN))

    response = client.post(desk_url("staff_application_claim", application))

    assert response.status_code == 403
    assert not ReviewLock.objects.exists()
