"""Batch evaluation: a rule document compiled to one DuckDB query over a whole population.

The query reads five tables (or views) with the columns of FORMATS.md:

- ``applicants(ref, nir, <one column per fact>)``: facts typed as :data:`FACT_SQL_TYPES` says,
  the column of a fact named ``ref`` or ``nir`` is renamed (:func:`fact_column`); a ``_line``
  column orders the result (the loader numbers applicants.jsonl lines; without it, order by
  ``ref`` with ``compile_plan(..., order_column=None)``);
- ``declarations(nir, siret, naf, idcc, contract_type, start, "end", hours, cachets, gross_pay)``;
- ``rights(nir, annex, opened_on, ends_on, status, reason)``;
- ``benefits(nir, scheme, "from", "to")``;
- ``cancellations(nir, siret, date, cachets, signed_on)``.

``nir`` is the person's key and keeps the files' column name, but it holds the blind index of
the NIR (:func:`entraide.core.crypto.blind_index`: computed by the loaders from the files'
clear NIRs, stored so by the evidence app), never a NIR in clear.

Text columns of the evidence are never NULL (empty text instead), dates of declarations,
benefits (``from``) and cancellations are never NULL, ``gross_pay`` is never NULL and a
cancellation's ``cachets`` defaults to 1: :mod:`entraide.rules.loaders` guarantees this, and
the per-applicant records (:mod:`entraide.rules.records`) hold the same values.

Every aggregate has exactly the meaning :mod:`entraide.rules.aggregates` gives it; the property
test ``tests/test_batch_agrees.py`` checks batch and per-applicant evaluation agree on random
documents and data.
"""

# ruff: noqa: S608  (a query compiler: names come from validated documents, values go through
# sql_literal / _decimal only)

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any

import duckdb
from django.utils import translation

from entraide.rules import engine
from entraide.rules.aggregates import HOURS_PER_CACHET
from entraide.rules.document import (
    EVALUATION_DATE,
    PLACEHOLDER,
    AllOf,
    AnyOf,
    Combination,
    Component,
    NoneOf,
    Ref,
    RuleDocument,
    Window,
)
from entraide.rules.expressions import NUMERIC_SQL, names_in, sql_literal, to_sql

FACT_SQL_TYPES = {
    "number": NUMERIC_SQL,
    "money": NUMERIC_SQL,
    "count": NUMERIC_SQL,
    "date": "DATE",
    "boolean": "BOOLEAN",
    "choice": "VARCHAR",
    "country": "VARCHAR",
    "text": "VARCHAR",
}
DECLARATION_KINDS = ("worked_days", "hours", "cachets", "gross_pay", "employers")
# Aggregates whose Python value is a sum of 2-decimal amounts (hours, pay): the batch gives
# them back with 2 decimal places, as the records loaded from the same tables have.
CENT_KINDS = ("hours", "gross_pay")
AMOUNT_SQL = "DECIMAL(38,{scale})"
CENT = Decimal("0.01")


def quote(name: str) -> str:
    """A quoted SQL identifier (names come from validated documents; quoting keeps them apart
    from SQL keywords such as ``end`` or ``from``)."""
    return '"' + name.replace('"', '""') + '"'


def fact_column(fact_id: str) -> str:
    """The column of a fact in ``applicants`` (``ref`` and ``nir`` are the applicant's own)."""
    return f"fact:{fact_id}" if fact_id in ("ref", "nir") else fact_id


def _scale(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _decimal(value: Decimal, sql_type: str) -> str:
    return f"CAST('{value}' AS {sql_type})"


def _text_list(values: tuple[str, ...]) -> str:
    return ", ".join(sql_literal(value) for value in values)


def _between(column: str, window: Window, at: dt.date) -> str:
    start, end = window.resolve(at)
    return f"({column} BETWEEN {sql_literal(start)} AND {sql_literal(end)})"


@dataclass(frozen=True)
class BatchPlan:
    """The compiled query and how to read its result back."""

    document: RuleDocument
    at: dt.date
    sql: str
    columns: tuple[str, ...]  # of each result row, in order (see read_row)


def _combination_sql(combination: Combination) -> str:
    match combination:
        case Ref(criterion=criterion):
            return quote(f"crit:{criterion}")
        case AllOf(items=items):
            return "(" + " AND ".join(_combination_sql(item) for item in items) + ")"
        case AnyOf(items=items):
            return "(" + " OR ".join(_combination_sql(item) for item in items) + ")"
        case NoneOf(item=item):
            return f"(NOT {_combination_sql(item)})"
    raise AssertionError(combination)


class _Compiler:
    def __init__(self, document: RuleDocument, at: dt.date, order_column: str | None) -> None:
        self.document = document
        self.at = at
        self.order_column = order_column
        self.ctes: list[tuple[str, str]] = []
        self.joins: list[str] = []
        # aggregate id -> SQL reading its value (before COALESCE) in the joined row
        self.aggregate_sql: dict[str, str] = {}

    # -- evidence ------------------------------------------------------------------------------

    def declaration_filter(self, aggregate_id: str) -> str:
        aggregate = self.document.aggregate(aggregate_id)
        assert aggregate is not None
        conditions = ["TRUE"]
        if aggregate.contract_types:
            conditions.append(f"contract_type IN ({_text_list(aggregate.contract_types)})")
        if aggregate.naf:
            # A NAF entry matches every code that starts with it (59.11 matches 59.11A).
            prefixes = " OR ".join(
                f"starts_with(naf, {sql_literal(prefix)})" for prefix in aggregate.naf
            )
            conditions.append(f"({prefixes})")
        if aggregate.idcc:
            conditions.append(f"idcc IN ({_text_list(aggregate.idcc)})")
        return " AND ".join(conditions)

    def declarations(self) -> None:
        aggregates = [a for a in self.document.evidence if a.kind in DECLARATION_KINDS]
        if not aggregates:
            return
        windows = []
        for aggregate in aggregates:
            assert aggregate.window is not None
            windows.append(aggregate.window.resolve(self.at))
        # Only rows that overlap some window can count (and Parquet skips the others).
        first, last = min(start for start, _ in windows), max(end for _, end in windows)
        self.decl = (
            '(SELECT nir, siret, naf, idcc, contract_type, start, "end", hours, cachets, '
            f'gross_pay FROM declarations WHERE start <= {sql_literal(last)} AND "end" >= '
            f"{sql_literal(first)})"
        )
        sums, started_filters = [], []
        for index, aggregate in enumerate(aggregates):
            assert aggregate.window is not None
            matching = self.declaration_filter(aggregate.id)
            started = f"{matching} AND {_between('start', aggregate.window, self.at)}"
            start, end = aggregate.window.resolve(self.at)
            column = quote(f"v{index}")
            if aggregate.kind == "employers":
                # Its own query: filtering before COUNT(DISTINCT) spares grouping every row by
                # (nir, siret), which DuckDB does for a FILTER clause.
                name = f"employers{index}"
                self.per_nir(
                    name,
                    f"SELECT nir, COUNT(DISTINCT siret) AS n FROM {self.decl} WHERE {matching} "
                    f'AND start <= {sql_literal(end)} AND "end" >= {sql_literal(start)} '
                    "GROUP BY nir",
                )
                self.aggregate_sql[aggregate.id] = f"{name}.n"
                continue
            if aggregate.kind == "hours":
                total = f"COALESCE(hours, 0) + {HOURS_PER_CACHET} * COALESCE(cachets, 0)"
            elif aggregate.kind == "gross_pay":
                total = "gross_pay"
            else:
                # worked_days = days covered by contracts without cachets + cachets started
                total = "COALESCE(cachets, 0)"
            sums.append(f"SUM({total}) FILTER (WHERE {started}) AS {column}")
            started_filters.append(f"({started})")
            value = f"decl_sums.{column}"
            if aggregate.kind == "worked_days":
                days = self.worked_days(index, matching, start, end)
                value = f"(COALESCE({value}, 0) + COALESCE({days}, 0))"
            self.aggregate_sql[aggregate.id] = value
        if sums:
            # Rows that start in no window are left out before grouping.
            self.per_nir(
                "decl_sums",
                f"SELECT nir, {', '.join(sums)} FROM {self.decl} "
                f"WHERE {' OR '.join(started_filters)} GROUP BY nir",
            )

    def per_nir(self, name: str, query: str) -> None:
        """A CTE of one row per person, joined to the applicants by NIR."""
        self.ctes.append((name, query))
        self.joins.append(f"LEFT JOIN {name} ON {name}.nir = a.nir")

    def worked_days(self, index: int, matching: str, start: dt.date, end: dt.date) -> str:
        """Days covered by the union of contracts without cachets, clipped to the window:
        gaps and islands (a contract starts a new island when it starts after every earlier
        one has ended), then the length of each island."""
        name = f"days{index}"
        clipped = (
            f'SELECT nir, GREATEST(start, {sql_literal(start)}) AS s, LEAST("end", '
            f"{sql_literal(end)}) AS e FROM {self.decl} WHERE {matching} "
            f"AND COALESCE(cachets, 0) = 0 AND start <= {sql_literal(end)} "
            f'AND "end" >= {sql_literal(start)}'
        )
        flagged = (
            "SELECT nir, s, e, CASE WHEN s <= MAX(e) OVER (PARTITION BY nir ORDER BY s, e "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS new_island "
            f"FROM ({clipped})"
        )
        numbered = (
            "SELECT nir, s, e, SUM(new_island) OVER (PARTITION BY nir ORDER BY s, e "
            f"ROWS UNBOUNDED PRECEDING) AS island FROM ({flagged})"
        )
        islands = f"SELECT nir, MAX(e) - MIN(s) + 1 AS days FROM ({numbered}) GROUP BY nir, island"
        self.per_nir(name, f"SELECT nir, SUM(days) AS days FROM ({islands}) GROUP BY nir")
        return f"{name}.days"

    def rights(self) -> None:
        counts = []
        for index, aggregate in enumerate(self.document.evidence):
            if aggregate.kind != "rights":
                continue
            conditions = ["TRUE"]
            if aggregate.annexes:
                conditions.append(f"annex IN ({_text_list(aggregate.annexes)})")
            if aggregate.statuses:
                conditions.append(f"status IN ({_text_list(aggregate.statuses)})")
            if aggregate.reasons:
                conditions.append(f"reason IN ({_text_list(aggregate.reasons)})")
            if aggregate.opened is not None:
                conditions.append(_between("opened_on", aggregate.opened, self.at))
            if aggregate.ended is not None:
                conditions.append(_between("ends_on", aggregate.ended, self.at))
            column = quote(f"v{index}")
            counts.append(f"COUNT(*) FILTER (WHERE {' AND '.join(conditions)}) AS {column}")
            self.aggregate_sql[aggregate.id] = f"rights_counts.{column}"
        if counts:
            self.per_nir(
                "rights_counts", f"SELECT nir, {', '.join(counts)} FROM rights GROUP BY nir"
            )

    def benefits(self) -> None:
        counts = []
        for index, aggregate in enumerate(self.document.evidence):
            if aggregate.kind != "benefits":
                continue
            day = self.at if aggregate.at == EVALUATION_DATE else aggregate.at
            assert isinstance(day, dt.date)
            conditions = [
                f'"from" <= {sql_literal(day)}',
                f'("to" IS NULL OR "to" >= {sql_literal(day)})',
            ]
            if aggregate.schemes:
                conditions.append(f"scheme IN ({_text_list(aggregate.schemes)})")
            column = quote(f"v{index}")
            counts.append(f"COUNT(*) FILTER (WHERE {' AND '.join(conditions)}) AS {column}")
            self.aggregate_sql[aggregate.id] = f"benefit_counts.{column}"
        if counts:
            self.per_nir(
                "benefit_counts", f"SELECT nir, {', '.join(counts)} FROM benefits GROUP BY nir"
            )

    def cancellations(self) -> None:
        counts = []
        for index, aggregate in enumerate(self.document.evidence):
            if aggregate.kind != "cancellations":
                continue
            assert aggregate.window is not None
            conditions = [_between("date", aggregate.window, self.at)]
            if aggregate.signed is not None:
                conditions.append(_between("signed_on", aggregate.signed, self.at))
            where = " AND ".join(conditions)
            column = quote(f"v{index}")
            if aggregate.count == "cachets":
                counts.append(f"SUM(cachets) FILTER (WHERE {where}) AS {column}")
            else:
                counts.append(f"COUNT(DISTINCT date) FILTER (WHERE {where}) AS {column}")
            self.aggregate_sql[aggregate.id] = f"cancelled.{column}"
        if counts:
            self.per_nir(
                "cancelled", f"SELECT nir, {', '.join(counts)} FROM cancellations GROUP BY nir"
            )

    # -- decision ------------------------------------------------------------------------------

    def name_sql(self, name: str) -> str:
        """How an expression reads a name in the ``base`` row."""
        if name == EVALUATION_DATE:
            return sql_literal(self.at)
        if name in self.document.parameters:
            return sql_literal(self.document.parameters[name])
        if self.document.aggregate(name) is not None:
            return quote(f"agg:{name}")
        return quote(f"fact:{name}")

    def component_sql(self, component: Component, amount_type: str) -> str:
        """One component's amount. Every branch has the one type ``amount_type``: DuckDB's
        common type of DECIMAL(38,1) and DECIMAL(38,3) cannot widen and would drop digits."""
        if component.kind == "flat":
            amount = _decimal(component.flat, amount_type)
        elif component.kind == "tiers":
            by = self.name_sql(component.tiers_by)
            steps = " ".join(
                f"WHEN {by} <= {_decimal(tier.up_to, self.bound_type(tier.up_to))} "
                f"THEN {_decimal(tier.amount, amount_type)}"
                for tier in component.tiers
            )
            # An unknown value falls to `otherwise`, as in the per-applicant engine.
            otherwise = _decimal(component.otherwise, amount_type)
            amount = f"CASE WHEN {by} IS NULL THEN {otherwise} {steps} ELSE {otherwise} END"
        elif component.kind == "per_unit":
            units = f"GREATEST(COALESCE({self.name_sql(component.units)}, 0), 0)"
            if component.cap is not None:
                capped = f"LEAST({units}, {int(component.cap)})"
                if component.uncapped_when is not None:
                    uncapped = _combination_sql(component.uncapped_when)
                    units = f"(CASE WHEN {uncapped} THEN {units} ELSE {capped} END)"
                else:
                    units = capped
            rate = _decimal(component.rate, f"DECIMAL(18,{min(_scale(component.rate), 14)})")
            amount = f"CAST({rate} * CAST({units} AS {NUMERIC_SQL}) AS {amount_type})"
        else:
            amount = _decimal(component.range_default, amount_type)
        condition = '"eligible"'
        if component.when is not None:
            condition += f" AND {_combination_sql(component.when)}"
        return f"CASE WHEN {condition} THEN {amount} ELSE CAST(0 AS {amount_type}) END"

    @staticmethod
    def bound_type(bound: Decimal) -> str:
        # Compared with DECIMAL(18,4) values: a common type that fits in 38 digits.
        return f"DECIMAL(38,{max(4, min(_scale(bound), 20))})"

    def amount_scale(self) -> int:
        scales = [2]
        for component in self.document.components:
            scales += [_scale(component.flat), _scale(component.otherwise)]
            scales += [_scale(component.range_default)]
            scales += [_scale(tier.amount) for tier in component.tiers]
            scales.append(4 + _scale(component.rate))
        return min(max(scales), 24)

    def compile(self) -> BatchPlan:
        document = self.document
        self.declarations()
        self.rights()
        self.benefits()
        self.cancellations()
        order = quote(self.order_column) if self.order_column else "ref"
        base = [f"a.{order} AS _order", "a.ref AS ref"]
        for fact in document.facts:
            sql_type = FACT_SQL_TYPES[fact.type]
            base.append(
                f"CAST(a.{quote(fact_column(fact.id))} AS {sql_type}) AS {quote('fact:' + fact.id)}"
            )
        for aggregate in document.evidence:
            value = self.aggregate_sql[aggregate.id]
            base.append(
                f"CAST(COALESCE({value}, 0) AS {NUMERIC_SQL}) AS {quote('agg:' + aggregate.id)}"
            )
        self.ctes.append(
            ("base", f"SELECT {', '.join(base)} FROM applicants AS a {' '.join(self.joins)}")
        )
        criteria = [
            f"COALESCE({to_sql(c.test, self.name_sql)}, FALSE) AS {quote('crit:' + c.id)}"
            for c in document.criteria
        ]
        self.ctes.append(("judged", f"SELECT *, {', '.join(criteria)} FROM base"))
        eligible = _combination_sql(document.eligibility)
        if document.exclusions:
            excluded = " OR ".join(quote(f"crit:{c}") for c in document.exclusions)
            eligible = f"({eligible} AND NOT ({excluded}))"
        self.ctes.append(("decided", f'SELECT *, {eligible} AS "eligible" FROM judged'))
        amount_type = AMOUNT_SQL.format(scale=self.amount_scale())
        components = [
            f"{self.component_sql(c, amount_type)} AS {quote('comp:' + c.id)}"
            for c in document.components
        ]
        self.ctes.append(("amounts", f"SELECT *, {', '.join(components)} FROM decided"))
        parts = [quote(f"comp:{c.id}") for c in document.components]
        total = " + ".join(parts) if document.combine == "sum" else f"GREATEST({', '.join(parts)})"
        names = (
            "ref",
            *(f"fact:{f.id}" for f in document.facts),
            *(f"agg:{a.id}" for a in document.evidence),
            *(f"crit:{c.id}" for c in document.criteria),
            "eligible",
            *(f"comp:{c.id}" for c in document.components),
            "amount",
        )
        # CAST to DECIMAL(18,2) rounds half away from zero, as ROUND_HALF_UP in the engine.
        select = [quote(name) for name in names[:-1]]
        select.append(f'CAST({total} AS DECIMAL(18,2)) AS "amount"')
        with_clause = ",\n".join(f"{quote(name)} AS ({sql})" for name, sql in self.ctes)
        sql = f"WITH {with_clause}\nSELECT {', '.join(select)} FROM amounts ORDER BY _order"
        return BatchPlan(document=document, at=self.at, sql=sql, columns=names)


def compile_plan(
    document: RuleDocument, *, at: dt.date, order_column: str | None = "_line"
) -> BatchPlan:
    """The query evaluating every applicant of ``applicants`` under ``document`` on ``at``;
    rows come ordered by ``order_column`` (``ref`` when None)."""
    return _Compiler(document, at, order_column).compile()


# -- reading results back ----------------------------------------------------------------------


def canonical_number(value: Decimal) -> Decimal:
    """A number without trailing zeros, integers as integers. Facts come back from DECIMAL(18,4)
    columns with 4 decimal places; the loader gives the per-applicant engine the same canonical
    numbers, so both engines print the same value."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1)) + 0
    return value.normalize()


@dataclass(frozen=True)
class BatchRow:
    """One applicant's result, read from a row of the plan."""

    ref: str
    facts: dict[str, Any]
    aggregates: dict[str, Decimal]
    passed: dict[str, bool]
    eligible: bool
    components: dict[str, Decimal]
    amount: Decimal


def read_row(plan: BatchPlan, row: tuple[Any, ...]) -> BatchRow:
    """A row of the plan as the per-applicant engine's values: canonical fact numbers, whole
    counts, hours and pay with 2 decimal places."""
    document = plan.document
    values = dict(zip(plan.columns, row, strict=True))
    facts = {}
    for fact in document.facts:
        value = values[f"fact:{fact.id}"]
        facts[fact.id] = canonical_number(value) if isinstance(value, Decimal) else value
    aggregates = {}
    for aggregate in document.evidence:
        number: Decimal = values[f"agg:{aggregate.id}"]
        if number == number.to_integral_value() or aggregate.kind not in CENT_KINDS:
            aggregates[aggregate.id] = Decimal(int(number))
        else:
            aggregates[aggregate.id] = number.quantize(CENT, rounding=ROUND_HALF_UP)
    return BatchRow(
        ref=values["ref"],
        facts=facts,
        aggregates=aggregates,
        passed={c.id: bool(values[f"crit:{c.id}"]) for c in document.criteria},
        eligible=bool(values["eligible"]),
        components={c.id: values[f"comp:{c.id}"] for c in document.components},
        amount=values["amount"],
    )


class Explainer:
    """Turns rows of a plan into :class:`engine.Evaluation` (with the explanations of the
    per-applicant engine) or straight into decisions.jsonl lines.

    Many applicants share the same measured values: what a criterion says (its value and
    explanation) is rendered once per distinct (outcome, values it reads), keyed on the row's
    raw values, and reused.
    """

    def __init__(self, plan: BatchPlan, language: str) -> None:
        self.plan = plan
        self.language = language
        document = plan.document
        self.constants = {**document.parameters, EVALUATION_DATE: plan.at}
        index = {name: position for position, name in enumerate(plan.columns)}
        self.eligible = index["eligible"]
        self.amount = index["amount"]
        self.components = [(c, index[f"comp:{c.id}"]) for c in document.components]
        self.ranges = any(c.kind == "range" for c in document.components)
        self.criteria = []
        for criterion in document.criteria:
            # Every name whose value the criterion's value or explanation may show.
            names = set(names_in(criterion.test))
            for template in (criterion.explain_pass, criterion.explain_fail):
                if template is not None:
                    for text in (template.fr, template.en):
                        names |= {m.group(1) for m in PLACEHOLDER.finditer(text)}
            columns = [
                index[f"agg:{name}" if document.aggregate(name) else f"fact:{name}"]
                for name in sorted(names - set(self.constants))
            ]
            self.criteria.append((criterion, index[f"crit:{criterion.id}"], tuple(columns)))
        # The cache key of each criterion, taken from a row in one C call.
        self.keys = [itemgetter(passed_at, *columns) for _, passed_at, columns in self.criteria]
        self.cache: list[dict[tuple[Any, ...], tuple[Any, str, str]]] = [
            {} for _ in document.criteria
        ]
        self.head = json.dumps(document.currency, ensure_ascii=False)
        self.rule_set = json.dumps(
            {"name": document.id, "version": document.version}, ensure_ascii=False
        )

    def said(
        self, position: int, row: tuple[Any, ...], values: dict[str, Any] | None
    ) -> tuple[tuple[Any, str, str], dict[str, Any] | None]:
        """(value, explanation, JSON of the criterion) for one criterion of one row, and the
        row's values if they had to be read."""
        criterion, passed_at, _ = self.criteria[position]
        passed = bool(row[passed_at])
        key = self.keys[position](row)
        said = self.cache[position].get(key)
        if said is None:
            if values is None:
                read = read_row(self.plan, row)
                values = {**self.constants, **read.aggregates, **read.facts}
            document = self.plan.document
            with translation.override(self.language):
                value = engine._criterion_value(document, criterion, values)
                explanation = engine.explain(document, criterion, passed, values, self.language)
            fragment = json.dumps(
                {
                    "id": criterion.id,
                    "passed": passed,
                    "value": engine.json_value(value),
                    "explanation": explanation,
                },
                ensure_ascii=False,
            )
            said = (value, explanation, fragment)
            if len(self.cache[position]) < 50_000:
                self.cache[position][key] = said
        return said, values

    def amount_range(self, row: tuple[Any, ...]) -> tuple[Decimal, Decimal] | None:
        ranges = [c for c, at in self.components if c.kind == "range" and row[at] > 0]
        if not ranges:
            return None
        return (
            sum((c.range_min for c in ranges), Decimal(0)),
            sum((c.range_max for c in ranges), Decimal(0)),
        )

    def evaluation(self, row: tuple[Any, ...]) -> engine.Evaluation:
        document = self.plan.document
        read = read_row(self.plan, row)
        values = {**self.constants, **read.aggregates, **read.facts}
        criteria = []
        for position, criterion in enumerate(document.criteria):
            (value, explanation, _), _ = self.said(position, row, values)
            criteria.append(
                engine.CriterionResult(
                    id=criterion.id,
                    label=criterion.label.get(self.language),
                    passed=read.passed[criterion.id],
                    value=value,
                    explanation=explanation,
                )
            )
        return engine.Evaluation(
            eligible=read.eligible,
            amount=read.amount,
            currency=document.currency,
            rule_set=document.id,
            version=document.version,
            criteria=criteria,
            components=read.components,
            amount_range=self.amount_range(row),
            values=values,
        )

    def json_line(self, row: tuple[Any, ...]) -> str:
        """``json.dumps(self.evaluation(row).as_json(ref), ensure_ascii=False)``, without
        building the evaluation: the same text, several times faster."""
        values = None
        fragments = []
        for position, (key, cache) in enumerate(zip(self.keys, self.cache, strict=True)):
            said = cache.get(key(row))
            if said is None:
                said, values = self.said(position, row, values)
            fragments.append(said[2])
        line = (
            f'{{"ref": {json.dumps(row[0], ensure_ascii=False)}, '
            f'"eligible": {"true" if row[self.eligible] else "false"}, '
            f'"amount": "{row[self.amount]}", "currency": {self.head}, '
            f'"rule_set": {self.rule_set}, "criteria": [{", ".join(fragments)}]'
        )
        if self.ranges:
            bounds = self.amount_range(row)
            if bounds is not None:
                line += f', "amount_range": ["{bounds[0]}", "{bounds[1]}"]'
        return line + "}"


def rows(
    connection: duckdb.DuckDBPyConnection, plan: BatchPlan, chunk: int = 10_000
) -> Iterator[tuple[Any, ...]]:
    """The plan's rows, fetched in chunks (the result is read to its end)."""
    result = connection.execute(plan.sql)
    while batch := result.fetchmany(chunk):
        yield from batch


def evaluate_all(
    connection: duckdb.DuckDBPyConnection,
    document: RuleDocument,
    *,
    at: dt.date,
    language: str = "fr",
    order_column: str | None = "_line",
) -> Iterator[tuple[str, engine.Evaluation]]:
    """Evaluate every applicant in ``applicants``: (ref, evaluation), in order."""
    plan = compile_plan(document, at=at, order_column=order_column)
    explainer = Explainer(plan, language)
    for row in rows(connection, plan):
        yield row[0], explainer.evaluation(row)


def decision_lines(
    connection: duckdb.DuckDBPyConnection,
    document: RuleDocument,
    *,
    at: dt.date,
    language: str = "fr",
    order_column: str | None = "_line",
) -> Iterator[str]:
    """decisions.jsonl (FORMATS.md) for every applicant in ``applicants``, line by line."""
    plan = compile_plan(document, at=at, order_column=order_column)
    explainer = Explainer(plan, language)
    for row in rows(connection, plan):
        yield explainer.json_line(row)
