"""Approving the auto-eligible queue at once: the summary, the confirmation, the run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied
from entraide.evidence.tests.factories import ApplicationVerificationFactory, VerificationRunFactory
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import bulk
from entraide.review.models import BulkApproval, ReviewLock
from entraide.rules.tests.factories import ApplicationEvaluationFactory


def eligible(fund: Fund, amount: str, *, mismatch: bool = False, minutes: int = 0) -> Application:
    """An application the rules find eligible for ``amount``, verified against the records."""
    run = VerificationRunFactory(fund=fund)
    verification = ApplicationVerificationFactory(
        run=run,
        has_mismatch=mismatch,
        application__submitted_at=timezone.now() - dt.timedelta(days=1, minutes=-minutes),
    )
    ApplicationEvaluationFactory(application=verification.application, amount=Decimal(amount))
    application: Application = verification.application
    return application


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(budget=Decimal("2000.00"), second_approval_above=Decimal("1500.00"))
    return fund


@pytest.mark.django_db
def test_the_summary_counts_the_queue_in_order_against_the_budget(fund: Fund) -> None:
    approver = FundRoleFactory(fund=fund, role="approver").user
    for minutes, amount in enumerate(["900.00", "900.00", "900.00"]):
        eligible(fund, amount, minutes=minutes)
    eligible(fund, "900.00", mismatch=True)  # contradicted by the records: not in the queue
    eligible(fund, "1600.00", minutes=9)  # above the threshold: left for a person
    summary = bulk.summary(actor=approver, fund=fund)
    assert (summary.count, summary.total, summary.left) == (3, Decimal("2700.00"), Decimal(2000))
    assert (summary.reserved, summary.waiting, summary.left_out) == (2, 1, 1)
    assert summary.left_after == Decimal("200.00")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["reviewer", "operator_admin", "finance", "auditor"])
def test_only_an_approver_approves_the_queue(fund: Fund, role: str) -> None:
    with pytest.raises(PermissionDenied):
        bulk.summary(actor=FundRoleFactory(fund=fund, role=role).user, fund=fund)


@pytest.mark.django_db
def test_the_queue_is_approved_as_summarised_and_changes_are_skipped(
    fund: Fund, django_capture_on_commit_callbacks: Any
) -> None:
    approver = FundRoleFactory(fund=fund, role="approver").user
    first, second, locked, third = (eligible(fund, "900.00", minutes=m) for m in range(4))
    summary = bulk.summary(actor=approver, fund=fund)
    with pytest.raises(bulk.QueueChanged):
        bulk.request_bulk_approval(
            actor=approver, fund=fund, seen_count=3, seen_total=summary.total
        )
    other: User = FundRoleFactory(fund=fund, role="reviewer").user
    ReviewLock.objects.create(
        application=locked,
        holder=other,
        locked_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(minutes=15),
    )
    with django_capture_on_commit_callbacks(execute=True):  # the in-process task runs
        approval = bulk.request_bulk_approval(
            actor=approver, fund=fund, seen_count=summary.count, seen_total=summary.total
        )
    approval.refresh_from_db()
    assert approval.status == BulkApproval.Status.DONE
    assert approval.task_id
    assert (approval.approved, approval.waitlisted, approval.skipped) == (2, 1, 1)
    assert ledger.totals(fund).committed == Decimal("1800.00")
    assert Award.objects.get(application=third).status == Award.Status.WAITLISTED
    locked.refresh_from_db()
    assert locked.status == Application.Status.RECEIVED  # the reviewer's, untouched
    assert {first.pk, second.pk} == set(
        Award.objects.filter(status=Award.Status.RESERVED).values_list("application", flat=True)
    )
    assert AuditEvent.objects.filter(action="review.bulk_approved").count() == 1


@pytest.mark.django_db
def test_the_pages_show_the_summary_then_the_result(
    client: Client, fund: Fund, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(FundRoleFactory(fund=fund, role="approver").user)
    eligible(fund, "500.00")
    url = reverse("bulk_approval", kwargs={"slug": fund.slug})
    queue = reverse("application_list", kwargs={"slug": fund.slug}) + "?queue=auto_eligible"
    assert url in client.get(queue).content.decode()  # offered from the queue
    body = client.get(url).content.decode()
    assert "Approve 1 application" in body
    stale = client.post(url, {"count": "5", "total": "500.00"})
    assert "The queue changed" in stale.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"count": "1", "total": "500.00"}, follow=True)
    assert done.status_code == 200
    assert BulkApproval.objects.get().approved == 1


@pytest.mark.django_db
def test_a_reviewer_cannot_open_the_bulk_approval(client: Client, fund: Fund) -> None:
    client.force_login(FundRoleFactory(fund=fund, role="reviewer").user)
    assert client.get(reverse("bulk_approval", kwargs={"slug": fund.slug})).status_code == 404
