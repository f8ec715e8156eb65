"""Deciding on applications: approvals within the budget (or onto its waiting list), four eyes,
rejections with their grounds, and the waiting list funded after a top-up.

An approval reserves its award in the fund's budget ledger (:mod:`entraide.funds.ledger`) in the
same transaction as the decision; when the budget cannot cover it, the application waits. An
approval that goes against the rules' result, changes the rules' amount or is above the fund's
threshold is only *proposed*: a second person with the approver role confirms it (four eyes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.applications import selectors as application_selectors
from entraide.applications import services as application_services
from entraide.applications.models import DECIDABLE_STATUSES, Application
from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from entraide.core.tasks import enqueue_with_transaction
from entraide.funds import ledger
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Award, Fund
from entraide.funds.permissions import Capability, require
from entraide.review import assignments, flags
from entraide.review.models import Decision, MessageTemplate, ReviewLock, SecondApproval
from entraide.rules import selectors as rules_selectors
from entraide.rules.document import RuleDocument
from entraide.rules.models import ApplicationEvaluation

Ground = SecondApproval.Ground


class SameSecondApprover(DomainError):
    code = "four_eyes"
    default_message = _("The second approval must come from another person.")


class FlagsOpen(DomainError):
    code = "flags_open"
    default_message = _("Resolve the application's flags before approving it.")


class SecondApprovalPending(DomainError):
    code = "second_approval_pending"
    default_message = _("An approval of this application is waiting for a second approver.")


@dataclass(frozen=True)
class Outcome:
    """What an approval led to: a decision (the award reserved), an award waiting for budget,
    or a proposal waiting for a second approver."""

    decision: Decision | None = None
    award: Award | None = None
    second_approval: SecondApproval | None = None


def default_amount(fund: Fund, evaluation: ApplicationEvaluation | None) -> Decimal:
    """What an approval grants when the reviewer types no amount."""
    if evaluation is not None and evaluation.eligible and evaluation.amount > 0:
        return evaluation.amount
    return fund.standard_amount


def amount_range(evaluation: ApplicationEvaluation | None) -> tuple[Decimal, Decimal] | None:
    """The range the rules allow (need-based funds), when the evaluation gives one."""
    if evaluation is None or not evaluation.eligible:
        return None
    bounds = evaluation.result.get("amount_range")
    return (Decimal(bounds[0]), Decimal(bounds[1])) if bounds else None


def second_approval_grounds(
    fund: Fund, evaluation: ApplicationEvaluation | None, amount: Decimal
) -> list[str]:
    """Why approving ``amount`` needs a second person (none: one person decides)."""
    grounds = []
    if evaluation is not None and not evaluation.eligible:
        grounds.append(Ground.OVERRIDE)
    elif evaluation is None and rules_selectors.has_published_rules(fund.pk):
        grounds.append(Ground.OVERRIDE)  # not evaluated (yet) under the fund's rules
    else:
        bounds = amount_range(evaluation)
        if bounds is not None:
            changed = not bounds[0] <= amount <= bounds[1]
        else:  # the rules' amount; without rules, the fund's standard grant
            changed = amount != default_amount(fund, evaluation)
        if changed:
            grounds.append(Ground.AMOUNT_CHANGED)
    if fund.second_approval_above is not None and amount > fund.second_approval_above:
        grounds.append(Ground.ABOVE_THRESHOLD)
    return [str(ground) for ground in grounds]


def _lock_for_decision(actor: Any, application: Application) -> tuple[Fund, Application]:
    """Lock the fund, then the application (every decision of the fund queues on the fund),
    check that the application can be decided by ``actor`` now, and end its review lock (a
    decided or proposed application needs none; undone if the action fails).

    Every row a decision locks is locked before its first audit event: the audit chain's head
    stays locked from then on, and paths that lock these rows before writing to the audit log
    would otherwise deadlock with it."""
    fund = fund_selectors.lock_fund(application.fund_id)
    application = application_selectors.lock_application(application.pk)
    if application.status not in DECIDABLE_STATUSES:
        raise InvalidTransition(_("This application has already been decided."))
    assignments.check_not_locked_by_other(actor, application)
    ReviewLock.objects.filter(application=application).delete()
    return fund, application


def _open_for_decision(actor: Any, application: Application) -> tuple[Fund, Application]:
    """A reviewer's decision (approve, reject, wait): allowed, locked, and no proposal of an
    approval waiting for its second approver."""
    require(actor, application.fund, Capability.DECIDE)
    fund, application = _lock_for_decision(actor, application)
    if _pending_second_approval(application) is not None:
        raise SecondApprovalPending()
    return fund, application


def _pending_second_approval(application: Application) -> SecondApproval | None:
    return (
        SecondApproval.objects.select_for_update()
        .filter(application=application, status=SecondApproval.Status.PENDING)
        .first()
    )


def _notify(application_id: int, kind: str) -> None:
    from entraide.review.tasks import notify_applicant

    enqueue_with_transaction(notify_applicant, application_id, kind)


def approve_application(
    *, actor: Any, application: Application, amount: Decimal | None = None, note: str = ""
) -> Outcome:
    """Approve: the award is reserved (or waits for budget) — or, when four eyes are needed,
    the approval is proposed to a second approver. Without an amount, the rules' amount (else
    the fund's standard amount) is granted."""
    with transaction.atomic(durable=True):
        fund, application = _open_for_decision(actor, application)
        if application.status == Application.Status.WAITLISTED:
            raise InvalidTransition(_("This application is approved and waits for budget."))
        if flags.open_flags(application).exists():
            raise FlagsOpen()
        evaluation = rules_selectors.current_evaluation(application.pk)
        granted = amount if amount is not None else default_amount(fund, evaluation)
        if granted <= 0:
            raise ValidationFailed(_("The amount must be more than zero."), field="amount")
        grounds = second_approval_grounds(fund, evaluation, granted)
        if grounds:
            return Outcome(
                second_approval=_propose(
                    actor, fund, application, evaluation, granted, grounds, note
                )
            )
        return _grant(actor, fund, application, granted, evaluation)


def _propose(
    actor: Any,
    fund: Fund,
    application: Application,
    evaluation: ApplicationEvaluation | None,
    amount: Decimal,
    grounds: list[str],
    note: str,
) -> SecondApproval:
    proposal = SecondApproval.objects.create(
        application=application,
        fund=fund,
        amount=amount,
        currency=fund.currency,
        rules_eligible=evaluation.eligible if evaluation is not None else None,
        rules_amount=evaluation.amount if evaluation is not None else None,
        grounds=grounds,
        note=note.strip(),
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        action="approval.proposed",
        obj=proposal,
        changes={
            "application": application.reference,
            "amount": amount,
            "grounds": grounds,
            "note": proposal.note,
        },
        fund_id=fund.pk,
    )
    if application.status == Application.Status.RECEIVED:
        application_services.transition_application(
            actor=actor, application=application, to_status=Application.Status.UNDER_REVIEW
        )
    return proposal


def _grant(
    actor: Any,
    fund: Fund,
    application: Application,
    amount: Decimal,
    evaluation: ApplicationEvaluation | None,
    *,
    proposed_by: Any = None,
    wait: bool = False,
) -> Outcome:
    """Place the award: reserved, the application is approved; else it waits for budget."""
    award = ledger.place_award(
        actor=actor,
        fund=fund,
        application=application,
        amount=amount,
        wait=wait,
        one_per_programme=_one_per_programme(fund, application, evaluation),
        rule_version=evaluation.version if evaluation is not None else None,
        proposed_by=proposed_by,
    )
    if award.status == Award.Status.RESERVED:
        return Outcome(decision=_approve(actor, fund, application, award), award=award)
    if application.status != Application.Status.WAITLISTED:
        application_services.transition_application(
            actor=actor, application=application, to_status=Application.Status.WAITLISTED
        )
        _notify(application.pk, MessageTemplate.Kind.WAITLISTED)
    return Outcome(award=award)


def _one_per_programme(
    fund: Fund, application: Application, evaluation: ApplicationEvaluation | None
) -> bool:
    """Whether the rules allow one award per person in the whole programme of the fund."""
    if fund.programme_id is None:
        return False
    document: RuleDocument | None
    if evaluation is not None:
        document = rules_selectors.document_of(evaluation.version)
    else:
        submitted_on = application.submitted_at.astimezone(ZoneInfo(fund.time_zone)).date()
        document = rules_selectors.document_in_force(fund, submitted_on)
    return document is not None and document.one_per_person == "programme"


def _approve(actor: Any, fund: Fund, application: Application, award: Award) -> Decision:
    """The decision of an approval whose award is reserved, as it was approved: by
    ``award.approved_by`` (after ``award.proposed_by`` proposed it) under ``award.rule_version``,
    even when ``actor`` funds it later from the waiting list."""
    decision = Decision.objects.create(
        application=application,
        fund=fund,
        outcome=Decision.Outcome.APPROVED,
        amount=award.amount,
        currency=award.currency,
        decided_by=award.approved_by,
        proposed_by=award.proposed_by,
        decided_at=timezone.now(),
        rule_version=award.rule_version,
    )
    _record(actor, decision, application)
    application_services.transition_application(
        actor=actor, application=application, to_status=Application.Status.APPROVED
    )
    _notify(application.pk, MessageTemplate.Kind.APPROVED)
    return decision


def _record(actor: Any, decision: Decision, application: Application) -> None:
    audit.record(
        actor=actor,
        action="decision.recorded",
        obj=decision,
        changes=audit.created(
            {
                "application": application.reference,
                "outcome": decision.outcome,
                "amount": decision.amount,
                "currency": decision.currency,
                "reasons": decision.reasons,
                "reason": decision.reason,
                "proposed_by": decision.proposed_by_id,
                "rule_version": decision.rule_version.number
                if decision.rule_version is not None
                else None,
            }
        ),
        fund_id=decision.fund_id,
    )


def reject_application(
    *, actor: Any, application: Application, reasons: Sequence[str] = (), reason: str = ""
) -> Decision:
    """Reject, with the criteria of the rules the application fails (ids of the rule version's
    criteria) and/or a free text for the applicant. An award waiting for budget is released."""
    reason = reason.strip()
    if not reasons and not reason:
        raise ValidationFailed(
            _("Give the applicant the reason for the rejection."), field="reason"
        )
    with transaction.atomic(durable=True):
        fund, application = _open_for_decision(actor, application)
        evaluation = rules_selectors.current_evaluation(application.pk)
        known = rejection_grounds(evaluation)
        unknown = [ground for ground in reasons if ground not in known]
        if unknown:
            raise ValidationFailed(
                _("Not a criterion of the rules: %(ids)s.") % {"ids": ", ".join(unknown)},
                field="reasons",
            )
        waiting = ledger.live_award(application)
        if waiting is not None:
            ledger.release_award(actor=actor, award=waiting, note="rejected")
        decision = Decision.objects.create(
            application=application,
            fund=fund,
            outcome=Decision.Outcome.REJECTED,
            currency=fund.currency,
            reasons=list(reasons),
            reason=reason,
            decided_by=actor,
            decided_at=timezone.now(),
            rule_version=evaluation.version if evaluation is not None else None,
        )
        _record(actor, decision, application)
        application_services.transition_application(
            actor=actor, application=application, to_status=Application.Status.REJECTED
        )
        _notify(application.pk, MessageTemplate.Kind.REJECTED)
    return decision


def rejection_grounds(evaluation: ApplicationEvaluation | None) -> list[str]:
    """The criteria a rejection may name: those of the rule version of the evaluation."""
    if evaluation is None:
        return []
    return [item["id"] for item in evaluation.result.get("criteria", [])]


def waitlist_application(
    *, actor: Any, application: Application, amount: Decimal | None = None
) -> Award:
    """Put an eligible application on the waiting list by hand: its award waits for budget in
    the fund's order, whatever is left now. An approval that needs four eyes is proposed
    instead (approve it)."""
    with transaction.atomic(durable=True):
        fund, application = _open_for_decision(actor, application)
        if application.status == Application.Status.WAITLISTED:
            raise InvalidTransition(_("This application is on the waiting list already."))
        evaluation = rules_selectors.current_evaluation(application.pk)
        granted = amount if amount is not None else default_amount(fund, evaluation)
        if granted <= 0:
            raise ValidationFailed(_("The amount must be more than zero."), field="amount")
        if second_approval_grounds(fund, evaluation, granted):
            raise ValidationFailed(
                _("This approval needs a second approver: approve it to propose it."),
                field="outcome",
            )
        award = _grant(actor, fund, application, granted, evaluation, wait=True).award
        assert award is not None
    return award


# -- four eyes ---------------------------------------------------------------------------------


def confirm_second_approval(
    *, actor: Any, second_approval: SecondApproval, answer: str = ""
) -> Outcome:
    """The second approver confirms: the approval goes through as proposed (its award reserved,
    or waiting for budget). The person who proposed it cannot confirm it."""
    with transaction.atomic(durable=True):
        proposal = _answerable(actor, second_approval)
        fund, application = _lock_for_decision(actor, proposal.application)
        if flags.open_flags(application).exists():
            raise FlagsOpen()
        evaluation = rules_selectors.current_evaluation(application.pk)
        outcome = _grant(
            actor, fund, application, proposal.amount, evaluation, proposed_by=proposal.proposed_by
        )
        _answer(actor, proposal, SecondApproval.Status.CONFIRMED, answer)
        return outcome


def refuse_second_approval(
    *, actor: Any, second_approval: SecondApproval, answer: str
) -> SecondApproval:
    """The second approver refuses: the application goes back to review as it was."""
    if not answer.strip():
        raise ValidationFailed(_("Say why, for the person who proposed it."), field="answer")
    with transaction.atomic(durable=True):
        proposal = _answerable(actor, second_approval)
        return _answer(actor, proposal, SecondApproval.Status.REFUSED, answer)


def withdraw_second_approval(*, actor: Any, second_approval: SecondApproval) -> SecondApproval:
    """The person who proposed an approval takes it back (to change the amount, say)."""
    with transaction.atomic(durable=True):
        require(actor, second_approval.fund, Capability.DECIDE)
        proposal = _locked_pending(second_approval)
        if proposal.proposed_by_id != actor.pk:
            raise PermissionDenied()
        return _answer(actor, proposal, SecondApproval.Status.WITHDRAWN, "")


def _locked_pending(second_approval: SecondApproval) -> SecondApproval:
    fund_selectors.lock_fund(second_approval.fund_id)
    proposal = (
        SecondApproval.objects.select_for_update()
        .select_related("application", "proposed_by")
        .get(pk=second_approval.pk)
    )
    if proposal.status != SecondApproval.Status.PENDING:
        raise InvalidTransition(_("This approval was answered already."))
    return proposal


def _answerable(actor: Any, second_approval: SecondApproval) -> SecondApproval:
    require(actor, second_approval.fund, Capability.CONFIRM_APPROVAL)
    proposal = _locked_pending(second_approval)
    if proposal.proposed_by_id == actor.pk:
        raise SameSecondApprover()
    return proposal


def _answer(actor: Any, proposal: SecondApproval, status: str, answer: str) -> SecondApproval:
    proposal.status = status
    # A withdrawn proposal has no second person's answer (its author took it back).
    proposal.answered_by = None if status == SecondApproval.Status.WITHDRAWN else actor
    proposal.answered_at = timezone.now()
    proposal.answer = answer.strip()
    proposal.save(update_fields=["status", "answered_by", "answered_at", "answer"])
    audit.record(
        actor=actor,
        action=f"approval.{status}",
        obj=proposal,
        changes={"application": proposal.application.reference, "answer": proposal.answer},
        fund_id=proposal.fund_id,
    )
    return proposal


# -- the waiting list --------------------------------------------------------------------------


def fund_waitlist(*, actor: Any, fund: Fund, limit: int | None = None) -> list[Decision]:
    """Approve the waiting applications that the budget left now covers, in the fund's order,
    up to the first that does not fit (or ``limit`` of them); each decision is the approver's
    who approved it, the funding the actor's."""
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        fund = fund_selectors.lock_fund(fund.pk)
        awards = ledger.fundable(fund, limit)
        # Every row locked before the first audit event (see _lock_for_decision).
        applications = [application_selectors.lock_application(a.application_id) for a in awards]
        ReviewLock.objects.filter(application__in=applications).delete()
        decisions = [
            _approve(actor, fund, application, ledger.reserve_waiting(actor=actor, award=award))
            for award, application in zip(awards, applications, strict=True)
        ]
        audit.record(
            actor=actor,
            action="budget.waitlist_funded",
            obj=fund,
            changes={
                "approved": len(decisions),
                "total": sum((d.amount for d in decisions), Decimal("0.00")),
            },
            fund_id=fund.pk,
        )
    return decisions
