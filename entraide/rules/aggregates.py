"""Evidence aggregates for one person, computed in Python from their records.

The batch engine computes the same numbers in SQL (:mod:`entraide.rules.batch`); the meaning of
each kind is documented in docs/rules.md and must stay identical in both places:

- a declaration counts in a window by the days it covers inside the window (``worked_days``,
  days covered by several contracts count once) or, for hours, cachets and pay, when the
  contract *starts* inside the window;
- a cachet counts as one worked day and as 12 hours;
- a NAF filter entry matches every code that starts with it (``59.11`` matches ``59.11A``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from entraide.rules.document import Aggregate, Window
from entraide.rules.records import Declaration, PersonEvidence

HOURS_PER_CACHET = 12


def _in(day: dt.date | None, window: Window | None, at: dt.date) -> bool:
    if window is None:
        return True
    if day is None:
        return False
    start, end = window.resolve(at)
    return start <= day <= end


def matching_declarations(aggregate: Aggregate, rows: Iterable[Declaration]) -> list[Declaration]:
    return [
        row
        for row in rows
        if (not aggregate.contract_types or row.contract_type in aggregate.contract_types)
        and (not aggregate.naf or any(row.naf.startswith(prefix) for prefix in aggregate.naf))
        and (not aggregate.idcc or row.idcc in aggregate.idcc)
    ]


def has_cachets(row: Declaration) -> bool:
    return bool(row.cachets)


def covered_days(intervals: list[tuple[dt.date, dt.date]]) -> int:
    """Days covered by the union of inclusive date intervals."""
    total, current_start, current_end = 0, None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += (current_end - current_start).days + 1
            current_start, current_end = start, end
        elif end > current_end:
            current_end = end
    if current_end is not None and current_start is not None:
        total += (current_end - current_start).days + 1
    return total


def compute(aggregate: Aggregate, evidence: PersonEvidence, at: dt.date) -> Decimal:
    """The value of one aggregate for one person (0 when there is no matching record)."""
    kind = aggregate.kind
    if kind in ("worked_days", "hours", "cachets", "gross_pay", "employers"):
        assert aggregate.window is not None
        start, end = aggregate.window.resolve(at)
        rows = matching_declarations(aggregate, evidence.declarations)
        started = [row for row in rows if start <= row.start <= end]
        if kind == "worked_days":
            intervals = [
                (max(row.start, start), min(row.end, end))
                for row in rows
                if not has_cachets(row) and row.start <= end and row.end >= start
            ]
            return Decimal(covered_days(intervals) + sum(row.cachets or 0 for row in started))
        if kind == "hours":
            return sum(
                (
                    (row.hours or Decimal(0)) + HOURS_PER_CACHET * (row.cachets or 0)
                    for row in started
                ),
                Decimal(0),
            )
        if kind == "cachets":
            return Decimal(sum(row.cachets or 0 for row in started))
        if kind == "gross_pay":
            return sum((row.gross_pay for row in started), Decimal(0))
        overlapping = {row.siret for row in rows if row.start <= end and row.end >= start}
        return Decimal(len(overlapping))
    if kind == "rights":
        return Decimal(
            sum(
                1
                for row in evidence.rights
                if (not aggregate.annexes or row.annex in aggregate.annexes)
                and (not aggregate.statuses or row.status in aggregate.statuses)
                and (not aggregate.reasons or row.reason in aggregate.reasons)
                and _in(row.opened_on, aggregate.opened, at)
                and _in(row.ends_on, aggregate.ended, at)
            )
        )
    if kind == "benefits":
        assert aggregate.at is not None
        day = at if aggregate.at == "evaluation_date" else aggregate.at
        assert isinstance(day, dt.date)
        return Decimal(
            sum(
                1
                for row in evidence.benefits
                if (not aggregate.schemes or row.scheme in aggregate.schemes)
                and row.start <= day
                and (row.end is None or row.end >= day)
            )
        )
    if kind == "cancellations":
        cancelled = [
            row
            for row in evidence.cancellations
            if _in(row.date, aggregate.window, at)
            and (aggregate.signed is None or _in(row.signed_on, aggregate.signed, at))
        ]
        if aggregate.count == "cachets":
            return Decimal(sum(row.cachets for row in cancelled))
        return Decimal(len({row.date for row in cancelled}))
    raise AssertionError(kind)
