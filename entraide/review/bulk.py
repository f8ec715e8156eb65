"""Approving the whole auto-eligible queue at once, after a batch evaluation.

The operator first sees a summary (how many, the total at the rules' amounts, the budget after,
how many would wait for budget); confirming it records the applications of that summary and a
background task approves them one by one, each in its own transaction through
:func:`entraide.review.services.approve_application` (same budget, same locks, same audit as a
reviewer's approval). Applications that changed meanwhile (decided, locked by a reviewer, a
proposal waiting) are skipped, not forced.

Left out of the queue's bulk approval, for a person to decide: amounts above the fund's
threshold of a second approval (four eyes), and eligible applications whose rules' amount is
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.applications import selectors as application_selectors
from entraide.applications.selectors import ListFilters, Queue
from entraide.audit import services as audit
from entraide.core.errors import DomainError
from entraide.core.money import ZERO
from entraide.core.tasks import enqueue_with_transaction
from entraide.funds import ledger
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.review import services
from entraide.review.models import BulkApproval
from entraide.rules import selectors as rules_selectors

LIMIT = 50_000  # applications per bulk approval: a larger queue is approved in several
Progress = Callable[[BulkApproval], None]


class QueueChanged(DomainError):
    code = "queue_changed"
    default_message = _("The queue changed since the summary: read the new one and confirm it.")


@dataclass(frozen=True)
class Summary:
    """What approving the queue would do now."""

    application_ids: list[int]
    total: Decimal
    left: Decimal  # the budget left before
    reserved: int  # approvals the budget covers, in order
    reserved_total: Decimal
    left_out: int  # above the threshold or without an amount: for a person to decide

    @property
    def count(self) -> int:
        return len(self.application_ids)

    @property
    def waiting(self) -> int:
        return self.count - self.reserved

    @property
    def left_after(self) -> Decimal:
        return self.left - self.reserved_total


def summary(*, actor: Any, fund: Fund) -> Summary:
    require(actor, fund, Capability.CONFIRM_APPROVAL)
    rows = (
        application_selectors.applications_for_staff(
            actor, fund, ListFilters(queue=Queue.AUTO_ELIGIBLE)
        )
        .annotate(rules_amount=rules_selectors.current_outcome_columns()["rules_amount"])
        .values_list("pk", "rules_amount")[:LIMIT]
    )
    threshold = fund.second_approval_above
    ids, amounts, left_out = [], [], 0
    for application_id, amount in rows:
        if amount is None or amount <= 0 or (threshold is not None and amount > threshold):
            left_out += 1
            continue
        ids.append(application_id)
        amounts.append(amount)
    left = ledger.totals(fund).left
    reserved, reserved_total = 0, ZERO
    if not ledger.waiting(fund).exists():  # else every approval waits behind them
        for amount in amounts:
            if reserved_total + amount > left:
                break
            reserved += 1
            reserved_total += amount
    return Summary(ids, sum(amounts, ZERO), left, reserved, reserved_total, left_out)


def request_bulk_approval(
    *, actor: Any, fund: Fund, seen_count: int, seen_total: Decimal
) -> BulkApproval:
    """Record the approval of the queue as summarised (refused if it changed since the
    summary the actor confirmed) and start it in the background."""
    with transaction.atomic(durable=True):
        now = summary(actor=actor, fund=fund)
        if (now.count, now.total) != (seen_count, seen_total):
            raise QueueChanged()
        if not now.count:
            raise QueueChanged(_("No application is waiting in the queue."))
        bulk = BulkApproval.objects.create(
            fund=fund,
            requested_by=actor,
            requested_at=timezone.now(),
            application_ids=now.application_ids,
            total=now.total,
        )
        audit.record(
            actor=actor,
            action="review.bulk_approval_requested",
            obj=bulk,
            changes={"applications": now.count, "total": now.total, "currency": fund.currency},
            fund_id=fund.pk,
        )
        from entraide.review.tasks import approve_in_bulk

        bulk_id = bulk.pk

        def keep(task_id: str) -> None:
            # the id only: with the in-process backend, the approval is over already
            BulkApproval.objects.filter(pk=bulk_id).update(task_id=task_id)

        enqueue_with_transaction(approve_in_bulk, bulk_id, on_enqueued=keep)
    return bulk


def run_bulk_approval(bulk: BulkApproval, progress: Progress | None = None) -> BulkApproval:
    """Approve the recorded applications one by one (the task's work; a run over is left)."""
    if bulk.status not in (BulkApproval.Status.QUEUED, BulkApproval.Status.RUNNING):
        return bulk
    bulk.status = BulkApproval.Status.RUNNING
    bulk.save(update_fields=["status"])
    actor = bulk.requested_by
    try:
        for application_id in bulk.application_ids[bulk.handled :]:
            application = application_selectors.application_by_id(application_id)
            try:
                outcome = services.approve_application(actor=actor, application=application)
            except DomainError:
                bulk.skipped += 1  # decided, locked or proposed meanwhile: a person looks
            else:
                if outcome.decision is not None:
                    bulk.approved += 1
                elif outcome.award is not None:
                    bulk.waitlisted += 1
                else:
                    bulk.skipped += 1  # now needs a second approver: proposed
            bulk.handled += 1
            if bulk.handled % 100 == 0:
                bulk.save(update_fields=["handled", "approved", "waitlisted", "skipped"])
                if progress is not None:
                    progress(bulk)
    except BaseException:
        bulk.status = BulkApproval.Status.FAILED
        bulk.finished_at = timezone.now()
        bulk.save()
        raise
    with transaction.atomic(durable=True):
        bulk.status = BulkApproval.Status.DONE
        bulk.finished_at = timezone.now()
        bulk.save()
        audit.record(
            actor=actor,
            action="review.bulk_approved",
            obj=bulk,
            changes={
                "approved": bulk.approved,
                "waitlisted": bulk.waitlisted,
                "skipped": bulk.skipped,
            },
            fund_id=bulk.fund_id,
        )
    if progress is not None:
        progress(bulk)
    return bulk


def bulk_approval_of(fund: Fund, bulk_id: int) -> BulkApproval:
    return BulkApproval.objects.select_related("requested_by").get(fund=fund, pk=bulk_id)
