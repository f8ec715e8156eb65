"""Deciding on applications, within the fund's budget."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.applications import selectors as application_selectors
from entraide.applications import services as application_services
from entraide.applications.models import DECIDABLE_STATUSES, Application
from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, ValidationFailed
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.review.models import Decision
from entraide.review.selectors import committed_total
from entraide.rules import selectors as rules_selectors
from entraide.rules.models import ApplicationEvaluation


class BudgetExceeded(DomainError):
    code = "budget_exceeded"
    default_message = _("This grant would take the fund beyond its budget.")


def record_decision(
    *,
    actor: Any,
    application: Application,
    outcome: str,
    amount: Decimal | None = None,
    reason: str = "",
) -> Decision:
    """Approve (within the budget) or reject an application, and tell the applicant.

    The decision records the rule version of the application's current evaluation; an approval
    without an amount grants the evaluation's amount when the rules found it eligible, else the
    fund's standard amount."""
    if outcome not in Decision.Outcome.values:
        raise ValidationFailed(_("Choose approve or reject."), field="outcome")
    if outcome == Decision.Outcome.REJECTED and not reason.strip():
        raise ValidationFailed(
            _("Give the applicant the reason for the rejection."), field="reason"
        )
    with transaction.atomic(durable=True):
        require(actor, application.fund, Capability.DECIDE)
        # Lock the fund first, then the application: every decision on the fund queues here,
        # so the budget check and the grant are one step whatever the concurrency.
        fund = fund_selectors.lock_fund(application.fund_id)
        application = application_selectors.lock_application(application.pk)
        if application.status not in DECIDABLE_STATUSES:
            raise InvalidTransition(_("This application has already been decided."))
        evaluation = rules_selectors.current_evaluation(application.pk)
        granted = Decimal("0.00")
        if outcome == Decision.Outcome.APPROVED:
            granted = amount if amount is not None else default_amount(fund, evaluation)
            if granted <= 0:
                raise ValidationFailed(_("The amount must be more than zero."), field="amount")
            if committed_total(fund) + granted > fund.budget:
                raise BudgetExceeded()
        decision = Decision.objects.create(
            application=application,
            fund=fund,
            outcome=outcome,
            amount=granted,
            currency=fund.currency,
            reason=reason.strip(),
            decided_by=actor,
            decided_at=timezone.now(),
            rule_version=evaluation.version if evaluation is not None else None,
        )
        audit.record(
            actor=actor,
            action="decision.recorded",
            obj=decision,
            changes=audit.created(
                {
                    "application": application.reference,
                    "outcome": outcome,
                    "amount": granted,
                    "currency": fund.currency,
                    "reason": decision.reason,
                    "rule_version": evaluation.version.number if evaluation is not None else None,
                }
            ),
            fund_id=fund.pk,
        )
        application_services.transition_application(
            actor=actor, application=application, to_status=outcome
        )
        transaction.on_commit(lambda: _enqueue_notification(decision.pk))
    return decision


def default_amount(fund: Fund, evaluation: ApplicationEvaluation | None) -> Decimal:
    """What an approval grants when the reviewer types no amount."""
    if evaluation is not None and evaluation.eligible and evaluation.amount > 0:
        return evaluation.amount
    return fund.standard_amount


def _enqueue_notification(decision_id: int) -> None:
    from entraide.review.tasks import notify_decision

    notify_decision.enqueue(decision_id)
