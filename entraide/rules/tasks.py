"""Background work of the rules: evaluating a new submission, re-evaluating a fund's pending
applications under a new version (with its progress)."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.base import TaskContext

from entraide.applications import selectors as application_selectors
from entraide.core.errors import InvalidTransition
from entraide.core.progress import report_progress
from entraide.funds import selectors as fund_selectors
from entraide.rules import selectors, services

logger = logging.getLogger(__name__)


@task()
def evaluate_submitted_application(application_id: int) -> str:
    """Evaluate a new application under the version in force on the day it was submitted.

    Idempotent: a retry finds the same inputs and stores nothing more."""
    application = application_selectors.application_by_id(application_id)
    try:
        evaluation = services.evaluate_application(actor=None, application=application)
    except (services.NoRulesInForce, services.FactsUnreadable, InvalidTransition) as refusal:
        # Nothing to evaluate with, facts the rules cannot read (a reviewer evaluates it again
        # from the application's page once this is fixed), or already decided.
        logger.warning("application %s not evaluated: %s", application.reference, refusal.code)
        return refusal.code
    return "eligible" if evaluation.eligible else "not_eligible"


@task(takes_context=True)
def reevaluate_pending_applications(
    context: TaskContext, fund_id: int, version_id: int, actor_id: int
) -> dict[str, Any]:
    """Re-evaluate a fund's pending applications under a published version, in chunks (each
    its own transaction), then write the one audit event with the counts."""
    fund = fund_selectors.fund_by_id(fund_id)
    version = selectors.version_by_id(version_id)
    actor = get_user_model().objects.get(pk=actor_id)
    ids = list(services.pending_applications(fund).values_list("pk", flat=True))
    total = len(ids)
    report_progress(context, done=0, total=total, label=_("Re-evaluating pending applications"))
    stored = unreadable = eligible = gainers = losers = 0
    amount = Decimal("0.00")
    for start in range(0, total, services.REEVALUATION_CHUNK):
        chunk = ids[start : start + services.REEVALUATION_CHUNK]
        with transaction.atomic():
            done, changes, skipped = services.reevaluate_chunk(
                actor=actor, fund=fund, version=version, application_ids=chunk
            )
        stored += done
        unreadable += skipped
        eligible += sum(1 for change in changes if change.after_eligible)
        amount += sum((change.after_amount for change in changes), Decimal("0.00"))
        gainers += sum(1 for change in changes if change.gains)
        losers += sum(1 for change in changes if change.loses)
        report_progress(context, done=min(start + len(chunk), total), total=total)
    counts: dict[str, Any] = {
        "pending": total,
        "eligible": eligible,
        "total": str(amount),
        "gainers": gainers,
        "losers": losers,
        "unreadable": unreadable,
        "stored": stored,
    }
    with transaction.atomic():
        services.record_reevaluation(actor=actor, fund=fund, version=version, counts=counts)
    report_progress(context, done=total, total=total)
    return counts
