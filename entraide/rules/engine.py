"""Evaluating one applicant: eligible or not, the amount, and why, criterion by criterion."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from django.utils import translation
from django.utils.translation import gettext as _

from entraide.rules import aggregates
from entraide.rules.document import (
    PLACEHOLDER,
    AllOf,
    AnyOf,
    Combination,
    Component,
    Criterion,
    NoneOf,
    Ref,
    RuleDocument,
    combination_criteria,
)
from entraide.rules.expressions import evaluate as evaluate_expression
from entraide.rules.expressions import names_in
from entraide.rules.records import PersonEvidence

CENT = Decimal("0.01")


class FactError(ValueError):
    def __init__(self, fact_id: str, message: str) -> None:
        self.fact_id = fact_id
        super().__init__(f"{fact_id}: {message}")


@dataclass(frozen=True)
class CriterionResult:
    id: str
    label: str
    passed: bool
    value: Any
    explanation: str


@dataclass(frozen=True)
class Evaluation:
    eligible: bool
    amount: Decimal
    currency: str
    rule_set: str
    version: str
    criteria: list[CriterionResult]
    components: dict[str, Decimal]
    amount_range: tuple[Decimal, Decimal] | None
    values: dict[str, Any] = field(repr=False)

    def as_json(self, ref: str) -> dict[str, Any]:
        """One line of decisions.jsonl (FORMATS.md)."""
        result: dict[str, Any] = {
            "ref": ref,
            "eligible": self.eligible,
            "amount": str(self.amount),
            "currency": self.currency,
            "rule_set": {"name": self.rule_set, "version": self.version},
            "criteria": [
                {
                    "id": c.id,
                    "passed": c.passed,
                    "value": json_value(c.value),
                    "explanation": c.explanation,
                }
                for c in self.criteria
            ],
        }
        if self.amount_range is not None:
            result["amount_range"] = [str(bound) for bound in self.amount_range]
        return result


def json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- facts -------------------------------------------------------------------------------------


def _fact_value(fact_type: str, raw: Any) -> Any:
    if raw is None or raw == "":
        return None
    if fact_type in ("number", "money", "count"):
        if isinstance(raw, bool):
            raise ValueError("a number was expected")
        return Decimal(str(raw))
    if fact_type == "date":
        return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    if fact_type == "boolean":
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "1", "yes", "oui"):
            return True
        if str(raw).lower() in ("false", "0", "no", "non"):
            return False
        raise ValueError("true or false was expected")
    return str(raw)


def facts_from(document: RuleDocument, record: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a rule document reads, from one applicant record (``applicants.jsonl``):
    a fact is looked up in ``declared`` first, then among the top-level fields."""
    declared = record.get("declared") or {}
    facts = {}
    for fact in document.facts:
        raw = declared.get(fact.id, record.get(fact.id))
        try:
            facts[fact.id] = _fact_value(fact.type, raw)
        except (ValueError, InvalidOperation) as error:
            raise FactError(fact.id, f"{raw!r} is not valid: {error}") from None
    return facts


# -- evaluation --------------------------------------------------------------------------------


def holds(combination: Combination, passed: Mapping[str, bool]) -> bool:
    match combination:
        case Ref(criterion=criterion):
            return passed[criterion]
        case AllOf(items=items):
            return all(holds(item, passed) for item in items)
        case AnyOf(items=items):
            return any(holds(item, passed) for item in items)
        case NoneOf(item=item):
            return not holds(item, passed)
    raise AssertionError(combination)


def component_amount(
    component: Component, eligible: bool, passed: Mapping[str, bool], values: Mapping[str, Any]
) -> Decimal:
    if not eligible or (component.when is not None and not holds(component.when, passed)):
        return Decimal(0)
    if component.kind == "flat":
        return component.flat
    if component.kind == "tiers":
        by = values.get(component.tiers_by)
        if by is not None:
            for tier in component.tiers:
                if by <= tier.up_to:
                    return tier.amount
        return component.otherwise
    if component.kind == "per_unit":
        units = values.get(component.units) or Decimal(0)
        units = max(units, Decimal(0))
        capped = component.cap is not None and not (
            component.uncapped_when is not None and holds(component.uncapped_when, passed)
        )
        if capped:
            units = min(units, Decimal(component.cap or 0))
        return component.rate * units
    return component.range_default


def measured_values(
    document: RuleDocument, evidence: PersonEvidence, at: dt.date
) -> dict[str, Any]:
    return {
        **document.parameters,
        "evaluation_date": at,
        **{a.id: aggregates.compute(a, evidence, at) for a in document.evidence},
    }


def evaluate(
    document: RuleDocument,
    *,
    facts: Mapping[str, Any],
    evidence: PersonEvidence,
    at: dt.date,
    language: str = "fr",
) -> Evaluation:
    return evaluate_values(document, {**measured_values(document, evidence, at), **facts}, language)


def evaluate_values(
    document: RuleDocument, values: Mapping[str, Any], language: str = "fr"
) -> Evaluation:
    """Evaluate with every name's value given: parameters, ``evaluation_date``, facts and
    aggregates (``None`` is unknown), wherever they come from (records or the applicant's
    answers)."""
    values = dict(values)
    passed = {c.id: evaluate_expression(c.test, values) is True for c in document.criteria}
    excluded = any(passed[criterion_id] for criterion_id in document.exclusions)
    eligible = holds(document.eligibility, passed) and not excluded
    components = {
        component.id: component_amount(component, eligible, passed, values)
        for component in document.components
    }
    amounts = list(components.values())
    total = max(amounts) if document.combine == "max" else sum(amounts, Decimal(0))
    ranges = [c for c in document.components if c.kind == "range" and components[c.id] > 0]
    amount_range = (
        (
            sum((c.range_min for c in ranges), Decimal(0)),
            sum((c.range_max for c in ranges), Decimal(0)),
        )
        if ranges
        else None
    )
    with translation.override(language):
        criteria = [
            CriterionResult(
                id=criterion.id,
                label=criterion.label.get(language),
                passed=passed[criterion.id],
                value=_criterion_value(document, criterion, values),
                explanation=explain(document, criterion, passed[criterion.id], values, language),
            )
            for criterion in document.criteria
        ]
    return Evaluation(
        eligible=eligible,
        amount=total.quantize(CENT, rounding=ROUND_HALF_UP),
        currency=document.currency,
        rule_set=document.id,
        version=document.version,
        criteria=criteria,
        components=components,
        amount_range=amount_range,
        values=values,
    )


def _criterion_value(
    document: RuleDocument, criterion: Criterion, values: Mapping[str, Any]
) -> Any:
    """What the criterion measured: the one fact or aggregate it reads, or each of them."""
    measured = sorted(
        name
        for name in names_in(criterion.test)
        if name not in document.parameters and name != "evaluation_date"
    )
    if len(measured) == 1:
        return values.get(measured[0])
    return {name: values.get(name) for name in measured}


# -- explanations ------------------------------------------------------------------------------


def format_value(value: Any, language: str, currency: str | None = None) -> str:
    locale = "en_GB" if language.startswith("en") else "fr_FR"
    if value is None:
        return _("unknown")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.date):
        # 01/09/2019 in French, 1 Sept 2019 in English: what each reader expects in a letter.
        return format_date(value, format="medium" if locale == "en_GB" else "short", locale=locale)
    if isinstance(value, Decimal):
        if currency:
            return format_currency(value, currency, locale=locale)
        return format_decimal(value, locale=locale)
    return str(value)


def explain(
    document: RuleDocument,
    criterion: Criterion,
    passed: bool,
    values: Mapping[str, Any],
    language: str,
) -> str:
    template = criterion.explain_pass if passed else criterion.explain_fail
    if template is None:
        measured = ", ".join(
            f"{name} = {format_value(values.get(name), language)}"
            for name in sorted(names_in(criterion.test))
            if name != "evaluation_date"
        )
        # A document without explanations still says, in the reader's language, what was found.
        template_text = (
            _("%(criterion)s: met (%(measured)s)")
            if passed
            else _("%(criterion)s: not met (%(measured)s)")
        )
        return template_text % {"criterion": criterion.label.get(language), "measured": measured}
    at = values["evaluation_date"]

    def substitute(match: re.Match[str]) -> str:
        name, bound = match.group(1), match.group(2)
        if bound is not None:
            aggregate = document.aggregate(name)
            window = aggregate.window or aggregate.opened or aggregate.ended if aggregate else None
            if window is None:
                return match.group(0)
            start, end = window.resolve(at)
            return format_value(start if bound == "from" else end, language)
        fact = document.fact(name)
        value = values.get(name)
        if fact is not None and fact.choices:
            # a choice reads as its label ("Technicien·ne"), not as its stored value
            chosen = next((c.label for c in fact.choices if c.value == value), None)
            if chosen is not None:
                return chosen.get(language)
        currency = document.currency if fact is not None and fact.type == "money" else None
        return format_value(value, language, currency)

    return PLACEHOLDER.sub(substitute, template.get(language))


# -- what decided ------------------------------------------------------------------------------


def _reasons(combination: Combination, passed: Mapping[str, bool], holding: bool) -> set[str]:
    """The criteria whose results make ``combination`` hold (``holding``) or fail."""
    match combination:
        case Ref(criterion=criterion):
            return {criterion}
        case AllOf(items=items):
            # holds because every item holds; fails because of the items that fail
            chosen = items if holding else [i for i in items if not holds(i, passed)]
        case AnyOf(items=items):
            chosen = [i for i in items if holds(i, passed)] if holding else items
        case NoneOf(item=item):
            return _reasons(item, passed, not holding)
        case _:
            raise AssertionError(combination)
    return set().union(*(_reasons(item, passed, holding) for item in chosen))


def deciding_criteria(document: RuleDocument, evaluation: Evaluation) -> list[CriterionResult]:
    """The criteria that explain the outcome, in document order. Eligible: those that make the
    eligibility hold, the exclusions escaped and the criteria that bear only on the amount.
    Not eligible: those that make the eligibility fail, and the exclusions met."""
    passed = {c.id: c.passed for c in evaluation.criteria}
    eligibility_holds = holds(document.eligibility, passed)
    chosen = _reasons(document.eligibility, passed, eligibility_holds)
    if evaluation.eligible:
        chosen |= {c.id for c in document.criteria} - combination_criteria(document.eligibility)
    elif eligibility_holds:
        chosen = {c for c in document.exclusions if passed[c]}
    else:
        chosen |= {c for c in document.exclusions if passed[c]}
    return [c for c in evaluation.criteria if c.id in chosen]
