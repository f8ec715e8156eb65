"""Reading crew relief runs: the programme's runs and productions, a run's payouts, totals and
funds (with their budget and what would wait for it). Each page reads a few queries, whatever
the number of payouts."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from entraide.core.money import CENT, ZERO
from entraide.crew.models import Payout, Production, ReliefRun
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.programmes.models import Programme

Status = Payout.Status


@dataclass(frozen=True)
class FundShare:
    """What one fund pays in a run: its proposed (or awarded) payouts."""

    fund_id: int
    currency: str
    count: int
    total: Decimal


def shares_of(run: ReliefRun, statuses: Sequence[str]) -> list[FundShare]:
    """What each fund pays in the run: its payouts of these statuses, counted and added up."""
    rows = (
        Payout.objects.filter(run=run, status__in=statuses)
        .values_list("fund_id", "currency")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("fund_id", "currency")
    )
    # Sums come back without their two decimals from some databases (SQLite).
    return [
        FundShare(fund_id, currency, count, total.quantize(CENT))
        for fund_id, currency, count, total in rows
    ]


def proposed_fingerprint(run: ReliefRun) -> str:
    """Which payouts the run proposes, in a digest of their ids: the run's page sends back the
    one it showed with the approval, so that a payout left out or put back meanwhile is never
    approved unseen."""
    digest = hashlib.sha256()
    proposed = (
        Payout.objects.filter(run=run, status=Status.PROPOSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for payout_id in proposed.iterator(chunk_size=5000):
        digest.update(b"%d," % payout_id)
    return digest.hexdigest()


def run_by_id(run_id: int) -> ReliefRun:
    return ReliefRun.objects.select_related("programme", "proposed_by", "decided_by").get(pk=run_id)


def run_of(programme: Programme, reference: str) -> ReliefRun | None:
    return (
        ReliefRun.objects.filter(programme=programme, reference=reference)
        .select_related("programme", "proposed_by", "decided_by")
        .first()
    )


def payout_of(run: ReliefRun, payout_id: int) -> Payout | None:
    return Payout.objects.filter(run=run, pk=payout_id).select_related("run__programme").first()


def runs_of(programme: Programme) -> QuerySet[ReliefRun]:
    """The programme's runs, the last proposed first, with their payouts counted by status."""
    return (
        ReliefRun.objects.filter(programme=programme)
        .select_related("proposed_by", "decided_by")
        .annotate(
            proposed=Count("payouts", filter=Q(payouts__status=Status.PROPOSED)),
            awarded=Count("payouts", filter=Q(payouts__status=Status.AWARDED)),
            excluded=Count("payouts", filter=Q(payouts__status=Status.EXCLUDED)),
            withdrawn=Count("payouts", filter=Q(payouts__status=Status.WITHDRAWN)),
        )
        .order_by("-proposed_at", "-pk")
    )


def live_totals_of_runs(run_ids: list[int]) -> dict[int, list[tuple[str, Decimal]]]:
    """What each of these runs pays (proposed or awarded), by currency (one query)."""
    rows = (
        Payout.objects.filter(run_id__in=run_ids, status__in=Payout.LIVE)
        .values_list("run_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by("run_id", "currency")
    )
    totals: dict[int, list[tuple[str, Decimal]]] = defaultdict(list)
    for run_id, currency, total in rows:
        totals[run_id].append((currency, total))
    return totals


def productions_of(programme: Programme) -> QuerySet[Production]:
    """The programme's productions in the order runs pay them, with their crew counted and
    how many of them have a live payout for the production (one each at most)."""
    return (
        Production.objects.filter(programme=programme)
        .annotate(
            crew_count=Count("crew", distinct=True),
            paid_count=Count(
                "crew__payouts",
                filter=Q(crew__payouts__status__in=Payout.LIVE),
                distinct=True,
            ),
        )
        .order_by("suspended_on", "code")
    )


def payouts_of(
    run: ReliefRun, *, status: str = "", production_id: int | None = None
) -> QuerySet[Payout]:
    """The run's payouts, by production then name, filtered."""
    payouts = Payout.objects.filter(run=run)
    if status:
        payouts = payouts.filter(status=status)
    if production_id is not None:
        payouts = payouts.filter(production_id=production_id)
    return payouts.select_related("crew_member", "production", "fund").order_by(
        "production__suspended_on",
        "production__code",
        "crew_member__last_name",
        "crew_member__first_name",
        "pk",
    )


@dataclass(frozen=True)
class CurrencyLine:
    currency: str
    status: str
    count: int
    total: Decimal

    @property
    def label(self) -> str:
        return str(Status(self.status).label)


def totals_by_currency(run: ReliefRun) -> list[CurrencyLine]:
    """The run's payouts counted and added up by currency and status (one query)."""
    rows = (
        Payout.objects.filter(run=run)
        .values_list("currency", "status")
        .annotate(count=Count("pk"), total=Sum("amount"))
        .order_by("currency", "status")
    )
    return [CurrencyLine(*row) for row in rows]


@dataclass(frozen=True)
class FundLine:
    """A crew relief fund's part of a run: its live payouts, the budget it has left, and (while
    they are not granted) how many of them the budget would leave waiting."""

    fund: Fund
    count: int
    total: Decimal
    budget: ledger.Totals
    would_wait: int
    would_wait_total: Decimal
    waiting: int  # granted, and waiting for budget


def funds_of_run(run: ReliefRun) -> list[FundLine]:
    """Each fund of the run (a few queries, whatever the number of payouts)."""
    shares = {share.fund_id: share for share in shares_of(run, Payout.LIVE)}
    funds = Fund.objects.filter(pk__in=list(shares)).order_by("name", "pk")
    budgets = ledger.totals_of(list(shares))
    waiting = dict(
        Payout.objects.filter(
            run=run, status=Status.AWARDED, application__award__status=Award.Status.WAITLISTED
        )
        .values_list("fund_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    queued = set(
        Award.objects.filter(fund_id__in=list(shares), status=Award.Status.WAITLISTED)
        .values_list("fund_id", flat=True)
        .distinct()
    )
    proposed: dict[int, list[Decimal]] = defaultdict(list)
    amounts = (
        Payout.objects.filter(run=run, status=Status.PROPOSED)
        .order_by("pk")
        .values_list("fund_id", "amount")
    )
    for fund_id, amount in amounts.iterator(chunk_size=5000):
        proposed[fund_id].append(amount)
    lines = []
    for fund in funds:
        budget = budgets.get(fund.pk, ledger.NOTHING)
        share = shares[fund.pk]
        wait_count, wait_total = _would_wait(proposed[fund.pk], budget.left, fund.pk in queued)
        lines.append(
            FundLine(
                fund=fund,
                count=share.count,
                total=share.total,
                budget=budget,
                would_wait=wait_count,
                would_wait_total=wait_total,
                waiting=waiting.get(fund.pk, 0),
            )
        )
    return lines


def _would_wait(amounts: list[Decimal], left: Decimal, queue: bool) -> tuple[int, Decimal]:
    """How many of these awards, granted in order, the ledger would put on the waiting list:
    from the first that does not fit on (all of them behind a waiting list already)."""
    if not queue:
        for index, amount in enumerate(amounts):
            if amount > left:
                amounts = amounts[index:]
                break
            left -= amount
        else:
            return 0, ZERO
    return len(amounts), sum(amounts, ZERO)


def crew_funds(programme: Programme) -> list[Fund]:
    """The programme's crew relief funds, by currency then id (the first of a currency pays)."""
    return list(
        Fund.objects.filter(programme=programme, kind=Fund.Kind.CREW_RELIEF).order_by(
            "currency", "pk"
        )
    )
