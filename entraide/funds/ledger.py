"""The budget ledger of a fund: credits, award reservations, releases and payments.

Every change appends one :class:`BudgetEntry` carrying the fund's totals after it, computed from
the entry before it while the fund's row is locked (:func:`entraide.funds.selectors.lock_fund`):
approvals of one fund queue there, so the check "does it fit?" and the reservation are one step
whatever the concurrency. The database is the backstop: an entry that would commit more than
was credited breaks a ``CHECK``, and two entries with the same number break a unique constraint.

An approval the budget cannot cover waits, in the fund's award order
(:attr:`Fund.award_order`): by the time it was approved, or first come first served by the
application's submission time. While anyone waits, a new approval waits behind them rather than
take money before them; a top-up funds the waiting list in order, up to the first award that
does not fit.

The functions that change awards run inside the caller's action (a decision, a top-up, a
payment): they expect its transaction, lock the fund themselves and write the audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, ValidationFailed
from entraide.core.money import ZERO
from entraide.funds.models import Award, BudgetEntry, Fund
from entraide.funds.permissions import Capability, require
from entraide.funds.selectors import lock_fund
from entraide.programmes import selectors as programme_selectors


@dataclass(frozen=True)
class Totals:
    """A fund's budget as its ledger says: ``left`` is what new awards can still take."""

    credited: Decimal
    committed: Decimal
    paid: Decimal

    @property
    def left(self) -> Decimal:
        return self.credited - self.committed

    @property
    def reserved(self) -> Decimal:
        """Committed to awards not paid yet."""
        return self.committed - self.paid


NOTHING = Totals(ZERO, ZERO, ZERO)


def _last(fund: Fund) -> tuple[int, Totals]:
    """The number of the fund's last ledger entry (0: none yet) and the totals after it."""
    last = (
        BudgetEntry.objects.filter(fund=fund)
        .order_by("-sequence")
        .values_list("sequence", "credited", "committed", "paid")
        .first()
    )
    return (0, NOTHING) if last is None else (last[0], Totals(*last[1:]))


def totals(fund: Fund) -> Totals:
    """The totals after the fund's last ledger entry."""
    return _last(fund)[1]


def _append(
    fund: Fund,
    kind: str,
    amount: Decimal,
    *,
    actor: Any,
    award: Award | None = None,
    note: str = "",
) -> BudgetEntry:
    """One entry after the fund's last (the caller holds the fund's lock)."""
    sequence, before = _last(fund)
    credited, committed, paid = before.credited, before.committed, before.paid
    match kind:
        case BudgetEntry.Kind.CREDIT:
            credited += amount
        case BudgetEntry.Kind.RESERVATION:
            committed += amount
        case BudgetEntry.Kind.PAYMENT:
            paid += amount
        case BudgetEntry.Kind.RETURN:
            paid -= amount
        case BudgetEntry.Kind.RELEASE:
            committed -= amount
            if award is not None and award.status == Award.Status.PAID:
                paid -= amount  # a payment returned: the money is the fund's again
    return BudgetEntry.objects.create(
        fund=fund,
        sequence=sequence + 1,
        kind=kind,
        amount=amount,
        currency=fund.currency,
        award=award,
        note=note[:300],
        credited=credited,
        committed=committed,
        paid=paid,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )


# -- credits -----------------------------------------------------------------------------------


def open_ledger(*, actor: Any, fund: Fund) -> None:
    """The fund's initial budget as its first credit (inside the fund's creation)."""
    if fund.budget > 0:
        with transaction.atomic():
            _append(lock_fund(fund.pk), BudgetEntry.Kind.CREDIT, fund.budget, actor=actor)


def credit_budget(*, actor: Any, fund: Fund, amount: Decimal, note: str = "") -> Totals:
    """Add money to the fund's budget (a top-up); the waiting list is not funded here (the
    operator is offered to: :func:`entraide.review.services.fund_waitlist`)."""
    if amount <= 0:
        raise ValidationFailed(_("The amount must be more than zero."), field="amount")
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        fund = lock_fund(fund.pk)
        entry = _append(fund, BudgetEntry.Kind.CREDIT, amount, actor=actor, note=note)
        audit.record(
            actor=actor,
            action="budget.credited",
            obj=fund,
            changes={
                "amount": amount,
                "currency": fund.currency,
                "note": entry.note,
                "credited": entry.credited,
                "left": entry.left,
            },
            fund_id=fund.pk,
        )
    return Totals(entry.credited, entry.committed, entry.paid)


def entries(fund: Fund) -> QuerySet[BudgetEntry]:
    """The fund's ledger, newest first."""
    return BudgetEntry.objects.filter(fund=fund).order_by("-sequence")


# -- awards ------------------------------------------------------------------------------------


def waiting(fund: Fund) -> QuerySet[Award]:
    """The fund's waiting list, in the order it is funded."""
    return Award.objects.filter(fund=fund, status=Award.Status.WAITLISTED).order_by(
        "queued_at", "pk"
    )


def award_of(application: Any) -> Award | None:
    """The application's award (a released one included), if any."""
    return Award.objects.filter(application=application).first()


def _ahead_of(award: Award) -> QuerySet[Award]:
    """The waiting awards funded before ``award``."""
    return waiting(award.fund).filter(
        Q(queued_at__lt=award.queued_at) | Q(queued_at=award.queued_at, pk__lt=award.pk)
    )


def waiting_position(award: Award) -> int:
    """The award's place in the waiting list (1: funded next)."""
    return _ahead_of(award).count() + 1


def live_award(application: Any) -> Award | None:
    """The application's award waiting, reserved or paid, if any."""
    return Award.objects.filter(application=application, status__in=Award.LIVE).first()


class AlreadyAwarded(DomainError):
    code = "already_awarded"
    default_message = _("This person already has an award from another fund of the programme.")


def place_award(
    *,
    actor: Any,
    fund: Fund,
    application: Any,
    amount: Decimal,
    wait: bool = False,
    one_per_programme: bool = False,
    rule_version: Any = None,
    proposed_by: Any = None,
) -> Award:
    """Reserve ``amount`` for an approved application, or put it on the waiting list when the
    budget cannot cover it, others wait before it, or ``wait`` says so (an application put on
    the waiting list by hand). ``one_per_programme``: the fund's rules allow one award per
    person in the whole programme. Runs in the caller's transaction."""
    fund = lock_fund(fund.pk)
    programme_id = fund.programme_id if one_per_programme else None
    if programme_id is not None:
        # Funds of a programme lock their own rows: the programme's serialises this check.
        programme_selectors.lock_programme(programme_id)
        live = Award.objects.filter(
            programme_id=programme_id, nir_index=application.nir_index, status__in=Award.LIVE
        )
        if live.exclude(fund=fund).exists():
            raise AlreadyAwarded()
    now = timezone.now()
    by_submission = fund.award_order == Fund.AwardOrder.SUBMISSION
    award = Award.objects.create(
        application=application,
        fund=fund,
        programme_id=programme_id,
        nir_index=application.nir_index,
        amount=amount,
        currency=fund.currency,
        status=Award.Status.WAITLISTED,
        approved_by=actor,
        proposed_by=proposed_by,
        rule_version=rule_version,
        queued_at=application.submitted_at if by_submission else now,
        created_at=now,
    )
    # First come first served: an application submitted before those waiting goes before them.
    if wait or _ahead_of(award).exists() or totals(fund).left < amount:
        audit.record(
            actor=actor,
            action="award.waitlisted",
            obj=award,
            changes={"application": application.reference, "amount": amount},
            fund_id=fund.pk,
        )
        return award
    return _reserve(actor, fund, award)


def _reserve(actor: Any, fund: Fund, award: Award) -> Award:
    entry = _append(fund, BudgetEntry.Kind.RESERVATION, award.amount, actor=actor, award=award)
    award.status = Award.Status.RESERVED
    award.reserved_at = entry.recorded_at
    award.save(update_fields=["status", "reserved_at"])
    audit.record(
        actor=actor,
        action="award.reserved",
        obj=award,
        changes={"application": award.application_id, "amount": award.amount, "left": entry.left},
        fund_id=fund.pk,
    )
    return award


def fundable(fund: Fund, limit: int | None = None) -> list[Award]:
    """The first waiting awards that the budget left covers, in order, up to the first that
    does not fit (or ``limit`` of them). The caller holds the fund's lock, under which every
    award of the fund changes: the list cannot move meanwhile."""
    left = totals(fund).left
    awards = []
    for award in waiting(fund)[:limit].iterator(chunk_size=500):
        if award.amount > left:
            break
        left -= award.amount
        awards.append(award)
    return awards


def reserve_waiting(*, actor: Any, award: Award) -> Award:
    """Reserve a waiting award that :func:`fundable` returned (in the same transaction)."""
    return _reserve(actor, award.fund, award)


@dataclass(frozen=True)
class WaitlistOffer:
    """What a top-up can fund from the waiting list, in order: the first ``count`` awards."""

    waiting: int
    count: int
    total: Decimal
    left_after: Decimal


def waitlist_offer(fund: Fund, limit: int = 100_000) -> WaitlistOffer:
    """How many waiting awards the budget left funds, in order (the first that does not fit
    stops the count)."""
    left = totals(fund).left
    count, total = 0, ZERO
    amounts = waiting(fund).values_list("amount", flat=True)
    for amount in amounts[:limit].iterator(chunk_size=2000):
        if total + amount > left:
            break
        count += 1
        total += amount
    return WaitlistOffer(waiting(fund).count(), count, total, left - total)


def release_award(*, actor: Any, award: Award, note: str = "") -> Award:
    """Give an award's money back to the budget (an award cancelled, a payment returned), or
    take a waiting one off the list. Runs in the caller's transaction."""
    fund = lock_fund(award.fund_id)
    award = Award.objects.select_for_update().get(pk=award.pk)
    if award.status == Award.Status.RELEASED:
        raise InvalidTransition(_("This award was released already."))
    if award.status != Award.Status.WAITLISTED:
        _append(fund, BudgetEntry.Kind.RELEASE, award.amount, actor=actor, award=award, note=note)
    before = award.status
    award.status = Award.Status.RELEASED
    award.released_at = timezone.now()
    award.save(update_fields=["status", "released_at"])
    audit.record(
        actor=actor,
        action="award.released",
        obj=award,
        changes={"status": {"before": before, "after": award.status}, "note": note},
        fund_id=fund.pk,
    )
    return award


def record_awards_paid(
    *, actor: Any, fund: Fund, award_ids: list[int], total: Decimal, note: str
) -> BudgetEntry:
    """The money of these reserved awards left the fund's account together (a payment batch
    sent to the bank, named by ``note``): one ledger entry for their ``total``. Runs in the
    caller's transaction; refuses if any of them is not reserved any more or the total differs,
    so that the ledger's paid total is always the sum of the awards paid."""
    fund = lock_fund(fund.pk)
    awards = Award.objects.filter(fund=fund, pk__in=award_ids, status=Award.Status.RESERVED)
    found = awards.aggregate(count=Count("pk"), total=Sum("amount"))
    if found["count"] != len(set(award_ids)) or (found["total"] or ZERO) != total:
        raise InvalidTransition(_("Only reserved awards can be paid, each once."))
    entry = _append(fund, BudgetEntry.Kind.PAYMENT, total, actor=actor, note=note)
    awards.update(status=Award.Status.PAID)
    audit.record(
        actor=actor,
        action="awards.paid",
        obj=entry,
        changes={"count": len(award_ids), "total": total, "batch": note},
        fund_id=fund.pk,
    )
    return entry


def record_payment_returned(*, actor: Any, award: Award, note: str = "") -> Award:
    """The bank gave a paid award's money back (a transfer rejected or returned): the money is
    the fund's again and stays reserved for the award, to be paid again or released. Runs in
    the caller's transaction."""
    fund = lock_fund(award.fund_id)
    award = Award.objects.select_for_update().get(pk=award.pk)
    if award.status != Award.Status.PAID:
        raise InvalidTransition(_("Only a paid award can come back from the bank."))
    _append(fund, BudgetEntry.Kind.RETURN, award.amount, actor=actor, award=award, note=note)
    award.status = Award.Status.RESERVED
    award.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="award.returned",
        obj=award,
        changes={"status": {"before": Award.Status.PAID, "after": award.status}, "note": note},
        fund_id=fund.pk,
    )
    return award


def totals_of(fund_ids: list[int]) -> dict[int, Totals]:
    """The totals of each of these funds (one query: each fund's last entry read from the
    ledger's (fund, sequence) index, however long its ledger; a fund without entries has
    none)."""
    last = BudgetEntry.objects.filter(fund_id=OuterRef("pk")).order_by("-sequence")
    rows = (
        Fund.objects.filter(pk__in=fund_ids)
        .annotate(
            credited=Subquery(last.values("credited")[:1]),
            committed=Subquery(last.values("committed")[:1]),
            paid=Subquery(last.values("paid")[:1]),
        )
        .values_list("pk", "credited", "committed", "paid")
    )
    return {
        fund_id: Totals(credited, committed, paid)
        for fund_id, credited, committed, paid in rows
        if credited is not None
    }
