"""A programme's one picture, for its managers and its donor: the commitment, what was
allocated to each partner fund and to crew relief, and what each fund has committed and paid,
in the fund's currency and in the programme's. Counts and amounts only: never a person.

A fund's figures are converted into the programme's currency at the rate of its allocations
(what the programme's money became in the fund's currency), which the page states; a fund
without an allocation has no such rate and its figures stay in its own currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from entraide.applications import selectors as application_selectors
from entraide.core.money import CENT, ZERO
from entraide.funds import ledger
from entraide.funds.models import Fund
from entraide.programmes.models import Allocation, Programme

# Below this many grants a fund's figures are not shown to a donor (k-anonymity).
SMALL_COUNT = 10


@dataclass(frozen=True)
class FundLine:
    fund: Fund
    allocated: Decimal  # in the programme's currency
    allocated_converted: Decimal  # in the fund's
    # Units of the fund's currency per unit of the programme's: its allocations' rate (their
    # average when they had several), 1 in the programme's currency; None without allocation.
    rate: Decimal | None
    rate_is_average: bool
    totals: ledger.Totals  # the fund's ledger, in its currency
    applications: int
    granted: int

    def in_programme_currency(self, amount: Decimal) -> Decimal | None:
        """``amount`` of the fund's currency in the programme's, as its allocations converted:
        the whole allocation back to the cent, one rounding."""
        if self.rate is None:
            return None
        if not self.allocated:  # the programme's own currency, nothing allocated yet
            return amount
        exact = amount * self.allocated / self.allocated_converted
        return exact.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def committed_converted(self) -> Decimal | None:
        return self.in_programme_currency(self.totals.committed)

    @property
    def paid_converted(self) -> Decimal | None:
        return self.in_programme_currency(self.totals.paid)


@dataclass(frozen=True)
class Rollup:
    programme: Programme
    funds: list[FundLine]
    crew_allocated: Decimal
    allocations: list[Allocation]

    @property
    def allocated(self) -> Decimal:
        return sum((line.allocated for line in self.funds), self.crew_allocated)

    @property
    def left_to_allocate(self) -> Decimal:
        return self.programme.commitment - self.allocated

    @property
    def committed(self) -> Decimal:
        """Committed by the funds with a rate, in the programme's currency."""
        return sum((line.committed_converted or ZERO for line in self.funds), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((line.paid_converted or ZERO for line in self.funds), ZERO)


def rollup(programme: Programme) -> Rollup:
    """The programme's picture (five queries, whatever the number of funds)."""
    funds = list(Fund.objects.filter(programme=programme).order_by("name", "pk"))
    fund_ids = [fund.pk for fund in funds]
    allocations = list(
        Allocation.objects.filter(programme=programme)
        .select_related("fund", "allocated_by")
        .prefetch_related("rates_used")
        .order_by("allocated_at", "pk")
    )
    allocated: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    converted: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for allocation in allocations:
        allocated[allocation.fund_id] += allocation.amount
        converted[allocation.fund_id] += allocation.converted_amount
    totals = ledger.totals_of(fund_ids)
    counts = application_selectors.counts_by_fund(fund_ids)
    rates_of: dict[int | None, set[Decimal]] = defaultdict(set)
    for allocation in allocations:
        rates_of[allocation.fund_id].add(allocation.rate)
    lines = []
    for fund in funds:
        rate: Decimal | None = None
        if len(rates_of[fund.pk]) == 1:
            (rate,) = rates_of[fund.pk]
        elif rates_of[fund.pk]:
            rate = (converted[fund.pk] / allocated[fund.pk]).quantize(Decimal("0.00000001"))
        elif fund.currency == programme.currency:
            rate = Decimal(1)
        lines.append(
            FundLine(
                fund=fund,
                allocated=allocated[fund.pk],
                allocated_converted=converted[fund.pk],
                rate=rate,
                rate_is_average=len(rates_of[fund.pk]) > 1,
                totals=totals.get(fund.pk, ledger.NOTHING),
                applications=counts.get(fund.pk, (0, 0))[0],
                granted=counts.get(fund.pk, (0, 0))[1],
            )
        )
    return Rollup(
        programme=programme,
        funds=lines,
        crew_allocated=allocated[None],
        allocations=allocations,
    )
