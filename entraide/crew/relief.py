"""Crew relief runs: the pay of the crew of a programme's suspended productions, computed under
the programme's settings, reviewed, approved by a second person, then granted by the
programme's crew relief funds (a background task, :mod:`entraide.crew.tasks`) and paid like any
fund's awards (entraide.payments).

Never twice: a payout is live while proposed or awarded, and the database holds one live
payout per ``exclusive_key`` of a programme (``payout_never_twice``): the person, or the person
on one production when the programme pays each production. A run is computed with the
programme's row locked, so that two proposals queue; the constraint is the last guard. When
each production is paid, the cap (in the programme's currency) bounds the sum of a person's
live payouts, each counted at the rate of the day it was computed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from entraide.applications import services as application_services
from entraide.applications.models import ROSTER_GRANT_KEY, Application
from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, ValidationFailed
from entraide.core.money import CENT, ZERO, format_money
from entraide.core.refs import new_reference
from entraide.core.tasks import enqueue_with_transaction
from entraide.crew.models import CrewMember, CrewReliefSettings, Payout, Production, ReliefRun
from entraide.crew.relief_selectors import FundShare, proposed_fingerprint, shares_of
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.selectors import lock_fund
from entraide.programmes import rates
from entraide.programmes.models import ExchangeRate, Programme
from entraide.programmes.permissions import require_manage
from entraide.programmes.selectors import lock_programme

SETTINGS_FIELDS = ("weeks", "days_per_week", "cap", "several_productions")
INSERT_BATCH = 2000
# Payouts granted in one transaction by the task: a crash redoes at most this many.
AWARD_CHUNK = 100

Status = Payout.Status
Reason = Payout.Reason


class SamePersonDecides(DomainError):
    code = "same_person_decides"
    default_message = _(
        "Another manager of the programme must decide on this run: you proposed it (four eyes)."
    )


class RunChanged(DomainError):
    code = "run_changed"
    default_message = _(
        "Payouts of this run were left out or put back since you read it: read it again "
        "before approving it."
    )


class NothingToPay(DomainError):
    code = "nothing_to_pay"
    default_message = _("No payout of this run is proposed: there is nothing to approve.")


class NothingToPropose(DomainError):
    code = "nothing_to_propose"
    default_message = _(
        "Every crew member of these productions is proposed or paid already: there is nothing "
        "to propose."
    )


class RunsCrossed(DomainError):
    code = "runs_crossed"
    default_message = _(
        "Another run proposed some of the same people meanwhile: propose this one again."
    )


# -- settings ----------------------------------------------------------------------------------


def settings_of(programme: Programme) -> CrewReliefSettings:
    """The programme's crew relief settings, made with their defaults when first read."""
    current, _created = CrewReliefSettings.objects.get_or_create(programme=programme)
    return current


# The largest cap a programme may set, in its currency.
MOST_CAP = Decimal("9999999.99")


def save_settings(
    *,
    actor: Any,
    programme: Programme,
    weeks: int,
    days_per_week: int,
    cap: Decimal | None,
    several_productions: bool,
) -> CrewReliefSettings:
    """Change how the programme pays crews (its managers); audited before and after. Runs
    already proposed keep the settings they were computed under."""
    if not 1 <= weeks <= 52:
        raise ValidationFailed(_("Between 1 and 52 weeks."), field="weeks")
    if not 1 <= days_per_week <= 7:
        raise ValidationFailed(_("Between 1 and 7 days."), field="days_per_week")
    if cap is not None and (cap <= 0 or cap != cap.quantize(CENT)):
        raise ValidationFailed(
            _("The cap is more than zero, with at most two decimals; empty for no cap."),
            field="cap",
        )
    if cap is not None and cap > MOST_CAP:
        # Converted into a currency of many units per dollar, a larger one would not fit a
        # payout's amounts; and a cap of more than this pays no one less.
        raise ValidationFailed(
            _("The cap is at most %(most)s.")
            % {"most": format_money(MOST_CAP, programme.currency)},
            field="cap",
        )
    values = {
        "weeks": weeks,
        "days_per_week": days_per_week,
        "cap": cap,
        "several_productions": several_productions,
    }
    with transaction.atomic(durable=True):
        require_manage(actor, programme)
        current, _created = CrewReliefSettings.objects.select_for_update().get_or_create(
            programme=programme
        )
        before = audit.snapshot(current, SETTINGS_FIELDS)
        for name, value in values.items():
            setattr(current, name, value)
        changes = audit.diff(before, audit.snapshot(current, SETTINGS_FIELDS))
        if changes:
            current.updated_by = actor
            current.save()
            audit.record(
                actor=actor, action="crew.settings_changed", obj=programme, changes=changes
            )
    return current


# -- computing a run ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Currency:
    """How the crew of productions in one currency are paid: by which fund, and the rates that
    convert the cap into it and its amounts back into the programme's currency (None, with
    the reason, when there is no rate)."""

    fund_id: int | None
    to_local: rates.Conversion | None
    to_programme: rates.Conversion | None
    no_rate: str = ""
    # The conversion of the cap in a sentence, written once for all the crew lines.
    sentence: str = ""


def _currencies(programme: Programme, currencies: set[str], day: dt.date) -> dict[str, _Currency]:
    """Each currency's crew relief fund (the first by id) and conversions of ``day``."""
    funds: dict[str, int] = {}
    crew_funds = Fund.objects.filter(
        programme=programme, kind=Fund.Kind.CREW_RELIEF, currency__in=currencies
    ).order_by("pk")
    for fund_id, currency in crew_funds.values_list("pk", "currency"):
        funds.setdefault(currency, fund_id)
    found = {}
    for currency in sorted(currencies):
        try:
            to_local = rates.conversion(programme.currency, currency, day)
            to_programme = rates.conversion(currency, programme.currency, day)
        except rates.NoRate as missing:
            found[currency] = _Currency(funds.get(currency), None, None, str(missing.message))
        else:
            found[currency] = _Currency(
                funds.get(currency), to_local, to_programme, sentence=to_local.describe()[:300]
            )
    return found


@dataclass
class _Person:
    """A person's live payouts in the programme: where (production code, run reference), and
    their sum in the programme's currency."""

    paid_in: list[tuple[str, str]] = field(default_factory=list)
    total: Decimal = ZERO


def _weekly_pay(weekly_rate: Decimal | None, day_rate: Decimal | None, days: int) -> Decimal:
    pay = weekly_rate if weekly_rate else (day_rate or ZERO) * days
    return pay.quantize(CENT, rounding=ROUND_HALF_UP)


class _Computation:
    """The payouts of one run, computed in the order of the crew lines: a person on two
    productions is paid for the first (or, production by production, within the cap)."""

    def __init__(
        self,
        programme: Programme,
        run: ReliefRun,
        productions: dict[int, Production],
        currencies: dict[str, _Currency],
        people: dict[str, _Person],
    ) -> None:
        self.programme = programme
        self.run = run
        self.productions = productions
        self.currencies = currencies
        self.people = people
        self.payouts: list[Payout] = []
        self.rates_of: list[tuple[Payout, tuple[ExchangeRate, ...]]] = []

    def add(
        self,
        crew_id: int,
        production_id: int,
        person_key: str,
        weekly_rate: Decimal | None,
        day_rate: Decimal | None,
    ) -> None:
        run, production = self.run, self.productions[production_id]
        weekly_pay = _weekly_pay(weekly_rate, day_rate, run.days_per_week)
        computed = (weekly_pay * run.weeks).quantize(CENT, rounding=ROUND_HALF_UP)
        payout = Payout(
            run=run,
            programme=self.programme,
            crew_member_id=crew_id,
            production=production,
            exclusive_key=(
                f"{person_key}:{production.code}" if run.several_productions else person_key
            ),
            weekly_pay=weekly_pay,
            computed=computed,
            amount=ZERO,
            programme_amount=ZERO,
            currency=production.currency,
        )
        self.payouts.append(payout)
        person = self.people.setdefault(person_key, _Person())
        currency = self.currencies[production.currency]
        if person.paid_in and not run.several_productions:
            code, reference = person.paid_in[0]
            self._exclude(
                payout,
                Reason.ALREADY_PAID,
                gettext("Paid for the production %(production)s in the run %(run)s.")
                % {"production": code, "run": reference},
            )
            return
        if currency.fund_id is None:
            self._exclude(
                payout,
                Reason.NO_FUND,
                gettext("No crew relief fund of the programme pays in %(currency)s.")
                % {"currency": production.currency},
            )
            return
        payout.fund_id = currency.fund_id
        if currency.to_local is None or currency.to_programme is None:
            self._exclude(payout, Reason.NO_RATE, currency.no_rate)
            return
        self.rates_of.append((payout, currency.to_local.rates))
        self._pay(payout, person, currency)

    def _pay(self, payout: Payout, person: _Person, currency: _Currency) -> None:
        """The weeks of pay, within what is left of the cap; converted back into the
        programme's currency, never beyond the cap, whatever the rounding."""
        to_local, to_programme = currency.to_local, currency.to_programme
        assert to_local is not None
        assert to_programme is not None
        cap = self.run.cap
        amount = payout.computed
        if cap is not None:
            payout.cap = rates.convert(cap, to_local)
            payout.cap_conversion = currency.sentence
            left = cap - person.total
            if left <= 0:
                self._cap_reached(payout, person.total, cap)
                return
            amount = min(amount, rates.convert(left, to_local))
            while amount > 0 and rates.convert(amount, to_programme) > left:
                amount -= CENT  # rounded up on the way there and back: a cent too many
            if amount <= 0:
                self._cap_reached(payout, person.total, cap)
                return
            if amount < payout.computed:
                payout.note = gettext(
                    "Limited to what was left of the cap: %(left)s of %(cap)s."
                ) % {
                    "left": format_money(left, self.programme.currency),
                    "cap": format_money(cap, self.programme.currency),
                }
        payout.amount = amount
        payout.programme_amount = rates.convert(amount, to_programme)
        payout.status = Status.PROPOSED
        person.paid_in.append((payout.production.code, self.run.reference))
        person.total += payout.programme_amount

    def _cap_reached(self, payout: Payout, paid: Decimal, cap: Decimal) -> None:
        self._exclude(
            payout,
            Reason.CAP_REACHED,
            gettext("%(paid)s of the cap of %(cap)s is paid already.")
            % {
                "paid": format_money(paid, self.programme.currency),
                "cap": format_money(cap, self.programme.currency),
            },
        )

    @staticmethod
    def _exclude(payout: Payout, reason: str, note: str) -> None:
        payout.status = Status.EXCLUDED
        payout.reason = reason
        payout.note = note[:300]
        payout.amount = payout.programme_amount = ZERO

    def save(self) -> None:
        Payout.objects.bulk_create(self.payouts, batch_size=INSERT_BATCH)
        through = Payout.rates_used.through
        through.objects.bulk_create(
            (
                through(payout_id=payout.pk, exchangerate_id=rate.pk)
                for payout, used in self.rates_of
                for rate in used
            ),
            batch_size=INSERT_BATCH,
        )


def _people_paid(
    programme: Programme, production_ids: set[int]
) -> tuple[set[tuple[str, int]], dict[str, _Person]]:
    """Of the people on these productions' rosters: which already have a live payout for
    which production, and each one's live payouts in the programme (one query)."""
    keys = CrewMember.objects.filter(production_id__in=production_ids).values("person_key")
    rows = (
        Payout.objects.filter(
            programme=programme, status__in=Payout.LIVE, crew_member__person_key__in=keys
        )
        .order_by("run__proposed_at", "pk")
        .values_list(
            "crew_member__person_key",
            "production_id",
            "production__code",
            "run__reference",
            "programme_amount",
        )
    )
    paid_for: set[tuple[str, int]] = set()
    people: dict[str, _Person] = {}
    for person_key, production_id, code, reference, amount in rows.iterator(chunk_size=5000):
        paid_for.add((person_key, production_id))
        person = people.setdefault(person_key, _Person())
        person.paid_in.append((code, reference))
        person.total += amount
    return paid_for, people


def _summary(payouts: Iterable[Payout]) -> dict[str, Any]:
    """Counts and totals of payouts, for the audit log: no person in it."""
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for payout in payouts:
        statuses[payout.status] += 1
        if payout.reason:
            reasons[payout.reason] += 1
        if payout.status in Payout.LIVE:
            totals[payout.currency] += payout.amount
    return {"payouts": dict(statuses), "reasons": dict(reasons), "totals": dict(totals)}


def propose_run(
    *, actor: Any, programme: Programme, productions: Sequence[Production]
) -> ReliefRun:
    """Compute the pay of the crew of ``productions`` under the programme's settings: a payout
    for each crew member not proposed or paid for that production yet, proposed or excluded
    with its reason. It waits for a second manager's approval (:func:`approve_run`)."""
    production_ids = {production.pk for production in productions}
    if not production_ids:
        raise ValidationFailed(_("Choose at least one production."), field="productions")
    if any(production.programme_id != programme.pk for production in productions):
        raise ValidationFailed(_("Choose productions of this programme only."), field="productions")
    try:
        with transaction.atomic(durable=True):
            require_manage(actor, programme)
            # Proposals of one programme queue here: each sees the payouts of those before.
            programme = lock_programme(programme.pk)
            run = _compute(actor, programme, production_ids)
    except IntegrityError:
        # payout_never_twice: the last guard, should a proposal ever run without the lock.
        raise RunsCrossed() from None
    return run


def _compute(actor: Any, programme: Programme, production_ids: set[int]) -> ReliefRun:
    current = settings_of(programme)
    now = timezone.now()
    chosen = {
        production.pk: production
        for production in Production.objects.filter(programme=programme, pk__in=production_ids)
    }
    paid_for, people = _people_paid(programme, production_ids)
    crew = (
        CrewMember.objects.filter(production_id__in=production_ids)
        .order_by("production__suspended_on", "production__code", "pk")
        .values_list("pk", "production_id", "person_key", "weekly_rate", "day_rate")
    )
    run = ReliefRun(
        reference=new_reference("CR"),
        programme=programme,
        weeks=current.weeks,
        days_per_week=current.days_per_week,
        cap=current.cap,
        several_productions=current.several_productions,
        proposed_by=actor,
        proposed_at=now,
    )
    computation = _Computation(
        programme,
        run,
        chosen,
        _currencies(programme, {p.currency for p in chosen.values()}, timezone.localdate(now)),
        people,
    )
    for crew_id, production_id, person_key, weekly_rate, day_rate in crew.iterator(chunk_size=5000):
        if (person_key, production_id) not in paid_for:
            computation.add(crew_id, production_id, person_key, weekly_rate, day_rate)
    if not computation.payouts:
        raise NothingToPropose()
    run.save()
    run.productions.set(chosen.values())
    computation.save()
    audit.record(
        actor=actor,
        action="crew.run_proposed",
        obj=programme,
        changes={
            "run": run.reference,
            "productions": sorted(production.code for production in chosen.values()),
            "settings": audit.snapshot(run, SETTINGS_FIELDS),
            **_summary(computation.payouts),
        },
    )
    return run


# -- review ------------------------------------------------------------------------------------


def _lock_run(run: ReliefRun) -> ReliefRun:
    return ReliefRun.objects.select_for_update().get(pk=run.pk)


def _lock_payout(run: ReliefRun, payout: Payout) -> Payout:
    return Payout.objects.select_for_update().get(pk=payout.pk, run=run)


def _open_for_review(actor: Any, run: ReliefRun) -> ReliefRun:
    require_manage(actor, run.programme)
    run = _lock_run(run)
    if run.status != ReliefRun.Status.PROPOSED:
        raise InvalidTransition(_("This run has been decided already."))
    return run


def exclude_payout(*, actor: Any, payout: Payout, note: str) -> Payout:
    """Leave a proposed payout out of its run, saying why (the run's managers, while it waits
    for approval)."""
    note = " ".join(note.split())
    if not note:
        raise ValidationFailed(_("Say why this payout is left out."), field="note")
    with transaction.atomic(durable=True):
        run = _open_for_review(actor, payout.run)
        payout = _lock_payout(run, payout)
        if payout.status != Status.PROPOSED:
            raise InvalidTransition(_("Only a proposed payout can be left out."))
        payout.status = Status.EXCLUDED
        payout.reason = Reason.BY_REVIEWER
        payout.note = note[:300]
        payout.save(update_fields=["status", "reason", "note"])
        audit.record(
            actor=actor,
            action="crew.payout_excluded",
            obj=payout,
            changes={"run": run.reference, "amount": payout.amount, "currency": payout.currency},
        )
    return payout


def include_payout(*, actor: Any, payout: Payout) -> Payout:
    """Put back a payout a reviewer left out, unless its person was proposed or paid
    elsewhere meanwhile, or it would now pay them beyond the cap."""
    with transaction.atomic(durable=True):
        require_manage(actor, payout.run.programme)
        # Runs are computed under the programme's lock: the checks below hold until the end.
        lock_programme(payout.run.programme_id)
        run = _open_for_review(actor, payout.run)
        payout = _lock_payout(run, payout)
        if payout.status != Status.EXCLUDED or payout.reason != Reason.BY_REVIEWER:
            raise InvalidTransition(_("Only a payout left out by a reviewer can be put back."))
        person_key = payout.crew_member.person_key
        live = Payout.objects.filter(
            programme_id=run.programme_id,
            status__in=Payout.LIVE,
            crew_member__person_key=person_key,
        )
        # As the run was computed: paid once in the programme, or once per production. Not
        # by the exclusive key alone: runs proposed under the other setting have other keys.
        clashing = (
            live if not run.several_productions else live.filter(production=payout.production)
        )
        elsewhere = clashing.select_related("run", "production").first()
        if elsewhere is not None:
            raise InvalidTransition(
                _("This person is paid for the production %(production)s in the run %(run)s.")
                % {"production": elsewhere.production.code, "run": elsewhere.run.reference}
            )
        if run.cap is not None:
            paid = live.aggregate(total=Sum("programme_amount"))["total"]
            if (paid or ZERO) + payout.programme_amount > run.cap:
                raise InvalidTransition(
                    _("Put back, this payout would pay the person beyond the cap of %(cap)s.")
                    % {"cap": format_money(run.cap, run.programme.currency)}
                )
        payout.status = Status.PROPOSED
        payout.reason = ""
        payout.note = ""
        payout.save(update_fields=["status", "reason", "note"])
        audit.record(
            actor=actor,
            action="crew.payout_included",
            obj=payout,
            changes={"run": run.reference, "amount": payout.amount, "currency": payout.currency},
        )
    return payout


# -- four eyes ---------------------------------------------------------------------------------


def _record_decision(actor: Any, run: ReliefRun, action: str, shares: list[FundShare]) -> None:
    """The decision in the programme's log and in each crew relief fund's (counts and totals
    only: no person)."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for share in shares:
        totals[share.currency] += share.total
    audit.record(
        actor=actor,
        action=action,
        obj=run.programme,
        changes={
            "run": run.reference,
            "payouts": sum(share.count for share in shares),
            "totals": dict(totals),
        },
    )
    for share in shares:
        audit.record(
            actor=actor,
            action=action,
            obj=Fund.objects.get(pk=share.fund_id),
            changes={
                "run": run.reference,
                "payouts": share.count,
                "total": share.total,
                "currency": share.currency,
            },
            fund_id=share.fund_id,
        )


def _decide(actor: Any, run: ReliefRun) -> ReliefRun:
    """The run locked, still proposed, and decided by someone else than its proposer."""
    run = _open_for_review(actor, run)
    if actor.pk == run.proposed_by_id:
        raise SamePersonDecides()
    return run


def approve_run(*, actor: Any, run: ReliefRun, reviewed: str | None = None) -> ReliefRun:
    """The second manager agrees: the worker grants each proposed payout from its crew relief
    fund (:func:`award_payouts`). ``reviewed``: the fingerprint of the payouts the approver
    read (``relief_selectors.proposed_fingerprint``, sent back by the run's page); refused if
    a payout was left out or put back since. None only where no one reads a page (tests)."""
    with transaction.atomic(durable=True):
        run = _decide(actor, run)
        if reviewed is not None and reviewed != proposed_fingerprint(run):
            raise RunChanged()
        shares = shares_of(run, [Status.PROPOSED])
        if not shares:
            raise NothingToPay()
        run.status = ReliefRun.Status.APPROVED
        run.decided_by = actor
        run.decided_at = timezone.now()
        run.save(update_fields=["status", "decided_by", "decided_at"])
        _record_decision(actor, run, "crew.run_approved", shares)
        from entraide.crew.tasks import award_run

        enqueue_with_transaction(award_run, run.pk)
    return run


def reject_run(*, actor: Any, run: ReliefRun, note: str) -> ReliefRun:
    """The second manager refuses the run: its proposed payouts are withdrawn, and their
    people may be proposed again in another run."""
    note = note.strip()
    if not note:
        raise ValidationFailed(_("Say why the run is rejected."), field="note")
    with transaction.atomic(durable=True):
        run = _decide(actor, run)
        shares = shares_of(run, [Status.PROPOSED])
        Payout.objects.filter(run=run, status=Status.PROPOSED).update(status=Status.WITHDRAWN)
        run.status = ReliefRun.Status.REJECTED
        run.decided_by = actor
        run.decided_at = timezone.now()
        run.note = note
        run.save(update_fields=["status", "decided_by", "decided_at", "note"])
        _record_decision(actor, run, "crew.run_rejected", shares)
    return run


# -- awards (the worker's) ---------------------------------------------------------------------


def pseudonymous_nir(exclusive_key: str) -> str:
    """What stands for a NIR on a crew member's grant: "C" and 14 hexadecimal digits of the
    SHA-256 of the key they are paid once per. It is never an identifier a fund asks its
    applicants for (a NIR is 15 digits but for Corsica's 2A/2B; the others have 9 or 16
    characters), and the fund's one award per person agrees with the programme's rule."""
    return "C" + hashlib.sha256(exclusive_key.encode()).hexdigest()[:14].upper()


def payouts_to_award(run: ReliefRun) -> list[tuple[int, list[int]]]:
    """The proposed payouts of an approved run, by fund, in chunks granted one transaction
    each, in the order they were computed."""
    if run.status != ReliefRun.Status.APPROVED:
        return []
    by_fund: dict[int, list[int]] = defaultdict(list)
    rows = (
        Payout.objects.filter(run=run, status=Status.PROPOSED)
        .order_by("pk")
        .values_list("fund_id", "pk")
    )
    for fund_id, payout_id in rows.iterator(chunk_size=5000):
        by_fund[fund_id].append(payout_id)
    return [
        (fund_id, ids[start : start + AWARD_CHUNK])
        for fund_id, ids in sorted(by_fund.items())
        for start in range(0, len(ids), AWARD_CHUNK)
    ]


def award_payouts(*, run: ReliefRun, fund_id: int, payout_ids: list[int]) -> int:
    """Grant these proposed payouts of one fund: each becomes an application of the fund
    (approved, or waiting for budget as the ledger decides) with its award, in the name of the
    run's approver. Done again after a crash, it grants only what is left. Returns how many."""
    from entraide.crew.tasks import tell_crew_member_granted

    with transaction.atomic(durable=True):
        # Every row locked before the first audit event: decisions lock the fund first too.
        fund = lock_fund(fund_id)
        payouts = list(
            Payout.objects.select_for_update(of=("self",))
            .filter(pk__in=payout_ids, run=run, fund=fund, status=Status.PROPOSED)
            .select_related("crew_member", "production")
            .order_by("pk")
        )
        approver = run.decided_by
        for payout in payouts:
            application = _record_grant(run, fund, payout)
            award = ledger.place_award(
                actor=approver,
                fund=fund,
                application=application,
                amount=payout.amount,
                proposed_by=run.proposed_by,
            )
            application_services.transition_application(
                actor=approver,
                application=application,
                to_status=(
                    Application.Status.APPROVED
                    if award.status == Award.Status.RESERVED
                    else Application.Status.WAITLISTED
                ),
                note=run.reference,
            )
            payout.status = Status.AWARDED
            payout.application = application
            if payout.crew_member.email:
                enqueue_with_transaction(tell_crew_member_granted, payout.pk)
        Payout.objects.bulk_update(payouts, ["status", "application"])
    return len(payouts)


def _record_grant(run: ReliefRun, fund: Fund, payout: Payout) -> Application:
    crew, production = payout.crew_member, payout.production
    assert run.decided_at is not None
    return application_services.record_crew_grant(
        actor=run.decided_by,
        fund=fund,
        idempotency_key=f"{ROSTER_GRANT_KEY}{payout.pk}",
        nir=pseudonymous_nir(payout.exclusive_key),
        first_name=crew.first_name,
        last_name=crew.last_name,
        birth_date=crew.birth_date,
        email=crew.email,
        iban=crew.iban,
        bic=crew.bic,
        account_holder=crew.account_holder,
        language=crew.language,
        country=production.country,
        declared={
            "crew": {
                "production": production.code,
                "title": production.title,
                "role": crew.role,
                "run": run.reference,
            }
        },
        submitted_at=run.decided_at,
    )


def finish_awards(run: ReliefRun) -> ReliefRun:
    """Once every payout of the run is granted: when, and how many wait for budget."""
    with transaction.atomic(durable=True):
        run = _lock_run(run)
        if run.awarded_at is not None or run.status != ReliefRun.Status.APPROVED:
            return run
        if Payout.objects.filter(run=run, status=Status.PROPOSED).exists():
            return run  # a chunk failed: the task is run again
        run.awarded_at = timezone.now()
        run.save(update_fields=["awarded_at"])
        granted = Payout.objects.filter(run=run, status=Status.AWARDED)
        audit.record(
            actor=None,
            action="crew.run_awarded",
            obj=run.programme,
            changes={
                "run": run.reference,
                "awarded": granted.count(),
                "waiting_for_budget": granted.filter(
                    application__award__status=Award.Status.WAITLISTED
                ).count(),
            },
        )
    return run
