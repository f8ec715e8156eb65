"""What an applicant declared against what the records say: both evaluations side by side,
criterion by criterion, and the asked aggregates whose answer the records contradict.

Pure functions (no database): the staff's application page builds on them
(:mod:`entraide.review.verification`), and so does the batch verification of a whole fund,
which must raise exactly the same flags.

When an answer **disagrees** with the records, by the type of its question (``ask``):

- ``count``, ``number``, ``money``: the answer differs from the recorded value (declared 14
  days, the declarations show 9);
- ``boolean``: "yes" stands for "at least one record", so yes disagrees with a recorded 0 and no
  with a recorded value above 0 ("do you receive benefits?" yes matches two benefit records);
- an aggregate not asked, or a question left unanswered, never disagrees: there is nothing to
  contradict.

An application's declaration and records disagree when one of its answers does
(:func:`mismatched_aggregates`). A criterion's outcomes may also differ without that, but only
when a yes/no question stands for an aggregate a test compares with something else than 0,
which docs/rules.md advises against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from entraide.rules.aggregates import (
    HOURS_PER_CACHET,
    covered_days,
    has_cachets,
    matching_declarations,
)

# how evaluate_answers reads an answer: the one reading of answers
from entraide.rules.declared import _answered_aggregate, evaluate_answers
from entraide.rules.document import Aggregate, RuleDocument
from entraide.rules.engine import CriterionResult, Evaluation, evaluate, facts_from, format_value
from entraide.rules.expressions import names_in
from entraide.rules.records import Declaration, PersonEvidence

# The aggregates of employer declarations, and the heading of what each line brings to them.
COUNTED_HEADINGS = {
    "worked_days": _("Days counted"),
    "hours": _("Hours counted"),
    "cachets": _("Cachets counted"),
    "gross_pay": _("Pay counted"),
    "employers": None,  # distinct employers: a line is not a share of them
}


def _contradicts(aggregate: Aggregate, answer: Decimal, recorded: Decimal) -> bool:
    """Whether an answer (read as :func:`entraide.rules.declared.evaluate_answers` reads it)
    disagrees with the records' value, by the type of its question."""
    assert aggregate.ask is not None
    if aggregate.ask.type == "boolean":
        return (answer > 0) != (recorded > 0)
    return answer != recorded


def mismatched_aggregates(
    document: RuleDocument, declared: Mapping[str, Any], recorded: Mapping[str, Decimal]
) -> list[str]:
    """The ids of the asked aggregates whose answer in ``declared`` (an application's
    ``declared``) disagrees with their value in ``recorded``, in document order. ``recorded``
    needs the values of the answered aggregates only."""
    mismatched = []
    for aggregate in document.evidence:
        answer = _answered_aggregate(aggregate, declared.get(aggregate.id))
        if answer is not None and _contradicts(aggregate, answer, recorded[aggregate.id]):
            mismatched.append(aggregate.id)
    return mismatched


@dataclass(frozen=True)
class ContractLine:
    """A declaration an aggregate counted, and its share of the total (``None`` for distinct
    employers, which are not shares)."""

    declaration: Declaration
    counted: Decimal | None
    counted_text: str = ""  # the share in the reader's words (a comparison's lines)


def _started_share(kind: str, row: Declaration) -> Decimal:
    """What a contract counted because it starts inside the window brings."""
    cachets = row.cachets or 0
    if kind == "hours":
        return (row.hours or Decimal(0)) + HOURS_PER_CACHET * cachets
    if kind == "gross_pay":
        return row.gross_pay
    return Decimal(cachets)  # cachets, and worked days (a cachet is a day)


def counted_lines(
    aggregate: Aggregate, evidence: PersonEvidence, at: dt.date
) -> tuple[ContractLine, ...]:
    """The declarations an aggregate of declarations counts, in date order, each with its
    share: the shares add up to the aggregate's value (:func:`entraide.rules.aggregates.compute`;
    a day covered by several contracts counts for the first of them). Other kinds: none."""
    if aggregate.kind not in COUNTED_HEADINGS:
        return ()
    assert aggregate.window is not None
    start, end = aggregate.window.resolve(at)
    rows = sorted(
        matching_declarations(aggregate, evidence.declarations), key=lambda r: (r.start, r.end)
    )
    lines = []
    covered: list[tuple[dt.date, dt.date]] = []
    for row in rows:
        counted: Decimal | None = None
        if aggregate.kind == "employers" or (
            aggregate.kind == "worked_days" and not has_cachets(row)
        ):
            # counted when it overlaps the window
            if row.start > end or row.end < start:
                continue
            if aggregate.kind == "worked_days":
                before = covered_days(covered)
                covered.append((max(row.start, start), min(row.end, end)))
                counted = Decimal(covered_days(covered) - before)
        elif start <= row.start <= end:  # counted when it starts inside the window
            counted = _started_share(aggregate.kind, row)
        else:
            continue
        lines.append(ContractLine(row, counted))
    return tuple(lines)


@dataclass(frozen=True)
class AggregateComparison:
    """One aggregate: the applicant's answer and the records' value, in the reader's words."""

    id: str
    label: str
    declared: Decimal | None  # None: not asked or not answered
    recorded: Decimal
    declared_text: str
    recorded_text: str
    mismatch: bool
    window: tuple[dt.date, dt.date] | None
    of_declarations: bool
    lines: tuple[ContractLine, ...]  # what an aggregate of declarations counted
    counted_heading: str  # what the lines' shares are ("" for distinct employers)

    @property
    def employers(self) -> int:
        return len({line.declaration.siret for line in self.lines})


@dataclass(frozen=True)
class CriterionComparison:
    """One criterion on the records and as declared (``None``: it reads an aggregate the
    applicant was not asked or did not answer, so the declaration says nothing of it)."""

    id: str
    label: str
    on_records: CriterionResult
    as_declared: CriterionResult | None
    aggregates: tuple[AggregateComparison, ...]  # those its test reads

    @property
    def mismatch(self) -> bool:
        return self.as_declared is not None and self.as_declared.passed != self.on_records.passed


@dataclass(frozen=True)
class Comparison:
    at: dt.date
    on_records: Evaluation
    as_declared: Evaluation
    criteria: tuple[CriterionComparison, ...]
    aggregates: tuple[AggregateComparison, ...]
    mismatched: tuple[str, ...]  # mismatched_aggregates: the flag the batch raises too

    @property
    def disagrees(self) -> bool:
        return bool(self.mismatched)

    @property
    def eligibility_differs(self) -> bool:
        return self.on_records.eligible != self.as_declared.eligible

    @property
    def amount_differs(self) -> bool:
        return self.on_records.amount != self.as_declared.amount


def _compare_aggregate(
    document: RuleDocument,
    aggregate: Aggregate,
    answer: Any,
    recorded: Decimal,
    evidence: PersonEvidence,
    at: dt.date,
    language: str,
) -> AggregateComparison:
    """Inside ``translation.override(language)``."""
    declared = _answered_aggregate(aggregate, answer)
    yes_no = aggregate.ask is not None and aggregate.ask.type == "boolean"
    money = aggregate.kind == "gross_pay" or (
        aggregate.ask is not None and aggregate.ask.type == "money"
    )
    currency = document.currency if money else None
    if declared is None:
        declared_text = gettext("not asked") if aggregate.ask is None else gettext("not answered")
    else:
        declared_text = format_value(declared > 0 if yes_no else declared, language, currency)
    if yes_no:
        # yes or no, as the question was asked, and how many records say so
        count = int(recorded)
        recorded_text = ngettext(
            "%(answer)s (%(count)s record)", "%(answer)s (%(count)s records)", count
        ) % {"answer": format_value(recorded > 0, language), "count": count}
    else:
        recorded_text = format_value(recorded, language, currency)
    label = aggregate.label or (aggregate.ask.label if aggregate.ask else None)
    heading = COUNTED_HEADINGS.get(aggregate.kind)
    return AggregateComparison(
        id=aggregate.id,
        label=label.get(language) if label else aggregate.id,
        declared=declared,
        recorded=recorded,
        declared_text=declared_text,
        recorded_text=recorded_text,
        mismatch=declared is not None and _contradicts(aggregate, declared, recorded),
        window=aggregate.window.resolve(at) if aggregate.window is not None else None,
        of_declarations=aggregate.kind in COUNTED_HEADINGS,
        lines=tuple(
            replace(line, counted_text=format_value(line.counted, language, currency))
            for line in counted_lines(aggregate, evidence, at)
        ),
        counted_heading=str(heading) if heading else "",
    )


def compare(
    document: RuleDocument,
    applicant: Mapping[str, Any],
    evidence: PersonEvidence,
    *,
    at: dt.date,
    language: str,
) -> Comparison:
    """Evaluate ``applicant`` on ``evidence`` and on its answers, on ``at``, and compare the
    two criterion by criterion. ``applicant`` has the shape of ``applicants.jsonl``
    (:func:`entraide.rules.services.applicant_record`): the facts in ``declared`` or at the top,
    the asked aggregates' answers in ``declared``. The facts are the same on both sides.

    Raises :class:`entraide.rules.engine.FactError` when a declared fact cannot be read."""
    declared: Mapping[str, Any] = applicant.get("declared") or {}
    facts = facts_from(document, applicant)
    on_records = evaluate(document, facts=facts, evidence=evidence, at=at, language=language)
    as_declared = evaluate_answers(document, {**declared, **facts}, at=at, language=language)
    with translation.override(language):
        aggregates = {
            aggregate.id: _compare_aggregate(
                document,
                aggregate,
                declared.get(aggregate.id),
                on_records.values[aggregate.id],
                evidence,
                at,
                language,
            )
            for aggregate in document.evidence
        }
    criteria = []
    for criterion, recorded, answered in zip(
        document.criteria, on_records.criteria, as_declared.criteria, strict=True
    ):
        names = names_in(criterion.test)
        read = tuple(a for a in aggregates.values() if a.id in names)
        criteria.append(
            CriterionComparison(
                id=criterion.id,
                label=recorded.label,
                on_records=recorded,
                as_declared=answered if all(a.declared is not None for a in read) else None,
                aggregates=read,
            )
        )
    return Comparison(
        at=at,
        on_records=on_records,
        as_declared=as_declared,
        criteria=tuple(criteria),
        aggregates=tuple(aggregates.values()),
        mismatched=tuple(mismatched_aggregates(document, declared, on_records.values)),
    )
