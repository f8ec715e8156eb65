"""Batch evaluation (one DuckDB query) and per-applicant evaluation agree on random rule
documents and random people: every criterion, eligibility, every amount component, the total,
and the whole decisions.jsonl line (values and explanations)."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from entraide.rules import batch, engine, loaders
from entraide.rules.document import build
from entraide.rules.records import Benefit, Cancellation, Declaration, PersonEvidence, Rights

KEY_DATES = [dt.date(2020, 1, 1), dt.date(2020, 1, 31), dt.date(2020, 2, 29)]
# Window edges, contract edges and the evaluation date often fall on the same day, or one off.
key_dates = st.sampled_from(
    [day + dt.timedelta(days=shift) for day in KEY_DATES for shift in (-1, 0, 1)]
)
dates = st.one_of(
    key_dates,
    key_dates,
    key_dates,
    st.dates(min_value=dt.date(2019, 12, 1), max_value=dt.date(2020, 3, 31)),
)
FACTS = {
    "f_number": "number",
    "f_money": "money",
    "f_count": "count",
    "f_date": "date",
    "f_flag": "boolean",
    "f_choice": "choice",
    "f_country": "country",
    "nir": "text",  # a fact whose column must not clash with the applicant's NIR
}
TEXT_VALUES = ["a", "b", "o'c", "FR"]
NAF = ["59.11A", "59.11B", "59.12Z", "90.01Z", "59.1", ""]
IDCC = ["2642", "3097", "2412", ""]
CONTRACTS = ["CDDU", "CDD", "CDI", ""]
SIRETS = ["11111111111111", "22222222222222", "33333333333333"]
ANNEXES = ["8", "10", "general", ""]
STATUSES = ["open", "ended", "refused", ""]
REASONS = ["", "maternity", "illness"]
SCHEMES = ["annex8", "annex10", "general", ""]


def iso(day: dt.date) -> str:
    return day.isoformat()


def decimals(places: int, low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=low, max_value=high, places=places, allow_nan=False)


def subset(options: list[str]) -> st.SearchStrategy[list[str]]:
    """A filter: absent (empty) two times out of three, so that records often match."""
    some = st.lists(st.sampled_from(options), unique=True, min_size=1, max_size=3)
    return st.one_of(st.just([]), st.just([]), some)


def sized(strategy: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[list[Any]]:
    """Lists whose length is uniform in 0..most (hypothesis favours short lists otherwise)."""
    return st.integers(0, most).flatmap(lambda n: st.lists(strategy, min_size=n, max_size=n))


@st.composite
def windows(draw: st.DrawFn) -> dict[str, str]:
    start, end = sorted([draw(dates), draw(dates)])
    bounds = [iso(start), iso(end)]
    # The evaluation date may stand for either bound (and then the window may be empty).
    if draw(st.booleans()) and draw(st.booleans()):
        bounds[draw(st.integers(0, 1))] = "evaluation_date"
    return {"from": bounds[0], "to": bounds[1]}


KINDS = [
    "worked_days",
    "hours",
    "cachets",
    "gross_pay",
    "employers",
    "rights",
    "benefits",
    "cancellations",
]


@st.composite
def aggregates(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": kind}
    if kind in batch.DECLARATION_KINDS:
        item["window"] = draw(windows())
        for key, options in (
            ("contract_types", ["CDDU", "CDD", "CDI"]),
            ("naf", ["59", "59.1", "59.11", "59.11A", "59.12Z", "90.01Z"]),
            ("idcc", ["2642", "3097", "2412"]),
        ):
            chosen = draw(subset(options))
            if chosen:
                item[key] = chosen
    elif kind == "rights":
        for key, options in (
            ("annexes", ["8", "10", "general"]),
            ("statuses", ["open", "ended", "refused"]),
            ("reasons", REASONS),
        ):
            chosen = draw(subset(options))
            if chosen:
                item[key] = chosen
        for key in ("opened", "ended"):
            if draw(st.booleans()):
                item[key] = draw(windows())
    elif kind == "benefits":
        chosen = draw(subset(["annex8", "annex10", "general"]))
        if chosen:
            item["schemes"] = chosen
        item["at"] = draw(st.one_of(st.just("evaluation_date"), dates.map(iso)))
    else:
        item["window"] = draw(windows())
        if draw(st.booleans()):
            item["signed"] = draw(windows())
        item["count"] = draw(st.sampled_from(["dates", "cachets"]))
    return item


class Names:
    def __init__(self, numbers: list[str], dates_: list[str]) -> None:
        self.numbers = numbers
        self.dates = dates_


number_constants = st.one_of(
    st.integers(-20, 400).map(str),
    decimals(4, 0, 50).map(lambda d: str(d.normalize()) if d else "0"),
)


def number_expr(names: Names, depth: int, products: bool = True) -> st.SearchStrategy[str]:
    atom = st.one_of(st.sampled_from(names.numbers), number_constants)
    if depth <= 0:
        return atom
    sub = number_expr(names, depth - 1, products)
    # At most two factors in a product: the values stay far below DECIMAL(18,4)'s 10^14.
    plain = number_expr(names, depth - 1, products=False)
    branches = [
        atom,
        st.tuples(sub, st.sampled_from(["+", "-"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        sub.map(lambda e: f"-({e})"),
        sub.map(lambda e: f"abs({e})"),
        st.tuples(st.sampled_from(["min", "max"]), st.lists(sub, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
    ]
    if products:
        branches.append(st.tuples(plain, plain).map(lambda t: f"({t[0]} * {t[1]})"))
    return st.one_of(*branches)


def date_expr(names: Names) -> st.SearchStrategy[str]:
    atom = st.one_of(st.sampled_from(names.dates), dates.map(lambda d: f'date("{iso(d)}")'))
    return st.one_of(
        atom,
        st.tuples(st.sampled_from(["min", "max"]), st.lists(atom, min_size=2, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
    )


COMPARE = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])


def text_literal(value: str) -> str:
    return '"' + value + '"'


def bool_expr(names: Names, depth: int) -> st.SearchStrategy[str]:
    numbers = number_expr(names, 2)
    atoms = st.one_of(
        st.tuples(numbers, COMPARE, numbers).map(" ".join),
        st.tuples(date_expr(names), COMPARE, date_expr(names)).map(" ".join),
        st.tuples(
            st.sampled_from(["f_choice", "f_country", "nir"]),
            st.sampled_from(["==", "!=", "<"]),
            st.sampled_from(TEXT_VALUES).map(text_literal),
        ).map(" ".join),
        st.tuples(
            st.sampled_from(["f_choice", "f_country"]),
            st.sampled_from(["in", "not in"]),
            st.lists(st.sampled_from(TEXT_VALUES).map(text_literal), min_size=1, max_size=3),
        ).map(lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]"),
        st.tuples(
            st.sampled_from(names.numbers),
            st.sampled_from(["in", "not in"]),
            st.lists(st.integers(-2, 15).map(str), min_size=1, max_size=3),
        ).map(lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]"),
        st.sampled_from(["f_flag", "f_flag == True", "f_flag != False", "True", "False"]),
    )
    if depth <= 0:
        return atoms
    sub = bool_expr(names, depth - 1)
    return st.one_of(
        atoms,
        st.tuples(st.sampled_from(["and", "or"]), st.lists(sub, min_size=2, max_size=3)).map(
            lambda t: "(" + f" {t[0]} ".join(t[1]) + ")"
        ),
        sub.map(lambda e: f"not ({e})"),
    )


def combination(criteria: list[str], depth: int = 2) -> st.SearchStrategy[Any]:
    leaf = st.sampled_from(criteria)
    if depth <= 0:
        return leaf
    sub = combination(criteria, depth - 1)
    return st.one_of(
        leaf,
        st.lists(sub, min_size=1, max_size=3).map(lambda items: {"all": items}),
        st.lists(sub, min_size=1, max_size=3).map(lambda items: {"any": items}),
        sub.map(lambda item: {"not": item}),
    )


COMPONENT_KINDS = ["flat", "tiers", "per_unit", "range"]
# Tier bounds, and the values facts often take: equal values test the bounds.
BOUNDS = st.sampled_from([0, 1, 2, 5, 12])
# Distinct amounts most of the time (hypothesis favours 0, and equal amounts on both sides of
# a tier bound would hide a wrong bound); 3 decimal places test the rounding of the total.
money = st.one_of(
    st.sampled_from([100, 250.5, 500, 900, 1000.125, 0.005]), decimals(3, 0, 2000).map(float)
)


@st.composite
def components(
    draw: st.DrawFn, kind: str, criteria: list[str], numbers: list[str]
) -> dict[str, Any]:
    # Facts half of the time: they take negative values and meet tier bounds exactly.
    measured = st.one_of(
        st.just("f_number"),
        st.sampled_from(["f_number", "f_money", "f_count"]),
        st.sampled_from(numbers),
    )
    item: dict[str, Any] = {}
    if draw(st.booleans()):
        item["when"] = draw(combination(criteria, 1))
    if kind == "flat":
        item["flat"] = draw(money)
    elif kind == "tiers":
        # bounds near the values facts and aggregates take, so that `by == up_to` happens
        bounds = sorted(set(draw(st.lists(BOUNDS, min_size=1, max_size=3))))
        item["tiers"] = {
            "by": draw(measured),
            "steps": [{"up_to": bound, "amount": draw(money)} for bound in bounds],
            "otherwise": draw(money),
        }
    elif kind == "per_unit":
        unit: dict[str, Any] = {
            "units": draw(measured),
            "rate": draw(st.sampled_from([100, 0.5, 33.335, 12.345, 0.001])),
        }
        if draw(st.booleans()):
            unit["cap"] = draw(st.integers(0, 10))
            if draw(st.booleans()):
                unit["uncapped_when"] = draw(combination(criteria, 1))
        item["per_unit"] = unit
    else:
        low, default, high = sorted(draw(st.lists(money, min_size=3, max_size=3)))
        item["range"] = {"min": low, "max": high, "default": default}
    return item


def explanation(names: list[str], windowed: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    placeholders = [f"{{{name}}}" for name in names] + [
        f"{{{name}.{bound}}}" for name in windowed for bound in ("from", "to")
    ]
    text = st.lists(st.sampled_from(placeholders), max_size=3).map(lambda p: "v " + " / ".join(p))
    pair = st.builds(lambda fr, en: {"fr": fr, "en": en}, text, text)
    return st.fixed_dictionaries({}, optional={"pass": pair, "fail": pair})


@st.composite
def rule_documents(draw: st.DrawFn) -> dict[str, Any]:
    parameters = {
        "p_number": draw(decimals(2, 0, 100).map(float)),
        "p_count": draw(st.integers(0, 30)),
        "p_date": iso(draw(dates)),
    }
    # One or two aggregates of every kind: each example checks every kind on the same data.
    chosen = [
        item for kind in KINDS for item in draw(st.lists(aggregates(kind), min_size=1, max_size=2))
    ]
    evidence = {f"g{i}": item for i, item in enumerate(chosen)}
    numbers = ["f_number", "f_money", "f_count", "p_number", "p_count", *evidence]
    names = Names(numbers, ["f_date", "p_date", "evaluation_date"])
    windowed = [key for key, item in evidence.items() if {"window", "opened", "ended"} & set(item)]
    criteria = [
        {
            "id": f"c{i}",
            "label": {"fr": f"Critère {i}", "en": f"Criterion {i}"},
            "test": draw(bool_expr(names, 2)),
            "explanation": draw(explanation([*numbers, "f_date", "f_choice"], windowed)),
        }
        for i in range(draw(st.integers(1, 5)))
    ]
    ids = [c["id"] for c in criteria]
    facts = [
        {"id": fact_id, "type": fact_type, "label": {"fr": fact_id, "en": fact_id}}
        | (
            {"choices": [{"value": v, "label": {"fr": v, "en": v}} for v in TEXT_VALUES]}
            if fact_type == "choice"
            else {}
        )
        for fact_id, fact_type in FACTS.items()
    ]
    return {
        "id": "random-rules",
        "name": {"fr": "Règles", "en": "Rules"},
        "version": "1",
        "effective_from": "2020-01-01",
        "currency": "EUR",
        "parameters": parameters,
        "facts": facts,
        "evidence": evidence,
        "criteria": criteria,
        "eligibility": draw(combination(ids)),
        "exclusions": draw(st.one_of(st.just([]), st.lists(st.sampled_from(ids), max_size=1))),
        "amount": {
            "combine": draw(st.sampled_from(["sum", "max"])),
            "components": [
                {"id": f"k{i}", **component}
                for i, component in enumerate(
                    draw(components(kind, ids, numbers))
                    for kind in (
                        [kind for kind in COMPONENT_KINDS if draw(st.booleans())]
                        or [draw(st.sampled_from(COMPONENT_KINDS))]
                    )
                )
            ],
        },
    }


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, missing one time out of five."""
    return st.one_of(st.none(), strategy, strategy, strategy, strategy)


# Small whole numbers half of the time: they meet tier bounds, caps and thresholds exactly
# (and go below zero, where per-unit amounts stop).
small = st.one_of(BOUNDS, st.integers(-3, 14)).map(Decimal)
FACT_VALUES = {
    "f_number": maybe(
        st.one_of(small, st.integers(-3, -1).map(Decimal), decimals(4, -1000, 10**5))
    ),
    "f_money": maybe(st.one_of(small.map(abs), decimals(2, 0, 50_000))),
    "f_count": maybe(st.one_of(BOUNDS, st.integers(0, 12)).map(Decimal)),
    "f_date": maybe(dates),
    "f_flag": maybe(st.booleans()),
    "f_choice": maybe(st.sampled_from(TEXT_VALUES)),
    "f_country": maybe(st.sampled_from(TEXT_VALUES)),
    "nir": maybe(st.sampled_from(TEXT_VALUES)),
}


@st.composite
def declarations(draw: st.DrawFn, days: st.SearchStrategy[dt.date]) -> Declaration:
    start = draw(days)
    return Declaration(
        siret=draw(st.sampled_from(SIRETS)),
        naf=draw(st.sampled_from(NAF)),
        idcc=draw(st.sampled_from(IDCC)),
        contract_type=draw(st.sampled_from(CONTRACTS)),
        start=start,
        # short contracts, or contracts ending on a boundary (often where another starts)
        end=draw(
            st.one_of(
                st.integers(0, 6).map(lambda days: start + dt.timedelta(days)),
                days.map(lambda day: max(start, day)),
            )
        ),
        hours=draw(maybe(decimals(2, 0, 100))),
        cachets=draw(st.one_of(st.none(), st.integers(0, 5))),
        gross_pay=draw(decimals(2, 0, 5000)),
    )


@st.composite
def people(draw: st.DrawFn, at: dt.date) -> PersonEvidence:
    """Evidence whose dates fall on window edges, on the evaluation date, or a day off."""
    days = st.one_of(dates, st.sampled_from([at + dt.timedelta(days=n) for n in (-1, 0, 1)]))
    return PersonEvidence(
        declarations=tuple(draw(sized(declarations(days), 8))),
        rights=tuple(
            draw(
                st.lists(
                    st.builds(
                        Rights,
                        annex=st.sampled_from(ANNEXES),
                        opened_on=maybe(days),
                        ends_on=maybe(days),
                        status=st.sampled_from(STATUSES),
                        reason=st.sampled_from(REASONS),
                    ),
                    max_size=3,
                    min_size=draw(st.integers(0, 3)),
                )
            )
        ),
        benefits=tuple(
            draw(
                st.lists(
                    st.builds(
                        lambda scheme, start, end: Benefit(
                            scheme, min(start, end or start), end and max(start, end)
                        ),
                        st.sampled_from(SCHEMES),
                        days,
                        maybe(days),
                    ),
                    max_size=2,
                )
            )
        ),
        cancellations=tuple(
            draw(
                st.lists(
                    st.builds(
                        Cancellation,
                        siret=st.sampled_from(SIRETS),
                        date=days,
                        cachets=st.integers(1, 3),
                        signed_on=maybe(days),
                    ),
                    max_size=6,
                    min_size=draw(st.integers(0, 6)),
                )
            )
        ),
    )


NIRS = ["185037512345678", "285037512345678", "2A5037512345678"]


def arrow_table(columns: dict[str, tuple[pa.DataType, list[Any]]]) -> pa.Table:
    return pa.table({name: pa.array(values, kind) for name, (kind, values) in columns.items()})


def load_evidence(connection: Any, evidence: dict[str, PersonEvidence]) -> None:
    """The tables of FORMATS.md, holding exactly the records the per-applicant engine sees."""
    rows = [(nir, person) for nir, person in evidence.items()]
    decl = [(nir, d) for nir, person in rows for d in person.declarations]
    rights = [(nir, r) for nir, person in rows for r in person.rights]
    benefits = [(nir, b) for nir, person in rows for b in person.benefits]
    cancelled = [(nir, c) for nir, person in rows for c in person.cancellations]
    text, day, cents = pa.string(), pa.date32(), pa.decimal128(18, 2)
    tables = {
        "declarations": {
            "nir": (text, [n for n, _ in decl]),
            "siret": (text, [d.siret for _, d in decl]),
            "naf": (text, [d.naf for _, d in decl]),
            "idcc": (text, [d.idcc for _, d in decl]),
            "contract_type": (text, [d.contract_type for _, d in decl]),
            "start": (day, [d.start for _, d in decl]),
            "end": (day, [d.end for _, d in decl]),
            "hours": (cents, [d.hours for _, d in decl]),
            "cachets": (pa.int32(), [d.cachets for _, d in decl]),
            "gross_pay": (cents, [d.gross_pay for _, d in decl]),
        },
        "rights": {
            "nir": (text, [n for n, _ in rights]),
            "annex": (text, [r.annex for _, r in rights]),
            "opened_on": (day, [r.opened_on for _, r in rights]),
            "ends_on": (day, [r.ends_on for _, r in rights]),
            "status": (text, [r.status for _, r in rights]),
            "reason": (text, [r.reason for _, r in rights]),
        },
        "benefits": {
            "nir": (text, [n for n, _ in benefits]),
            "scheme": (text, [b.scheme for _, b in benefits]),
            "from": (day, [b.start for _, b in benefits]),
            "to": (day, [b.end for _, b in benefits]),
        },
        "cancellations": {
            "nir": (text, [n for n, _ in cancelled]),
            "siret": (text, [c.siret for _, c in cancelled]),
            "date": (day, [c.date for _, c in cancelled]),
            "cachets": (pa.int32(), [c.cachets for _, c in cancelled]),
            "signed_on": (day, [c.signed_on for _, c in cancelled]),
        },
    }
    for table in loaders.TABLES:
        loaders.create_empty(connection, table)
        connection.register("incoming", arrow_table(tables[table.name]))
        connection.execute(f"INSERT INTO {batch.quote(table.name)} SELECT * FROM incoming")  # noqa: S608
        connection.unregister("incoming")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Any, ...]:
    at = draw(dates)
    evidence = draw(st.fixed_dictionaries({nir: people(at) for nir in NIRS}))
    applicants = draw(
        st.lists(
            st.tuples(st.sampled_from([*NIRS, None]), st.fixed_dictionaries(FACT_VALUES)),
            min_size=3,
            max_size=12,
        )
    )
    return at, evidence, applicants


@settings(
    # BATCH_AGREES_EXAMPLES=2000 for a deeper search than the suite's
    max_examples=int(os.environ.get("BATCH_AGREES_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=rule_documents(), scenario=scenarios(), language=st.sampled_from(["fr", "en"]))
def test_batch_and_per_applicant_evaluation_agree(
    data: dict[str, Any], scenario: tuple[Any, ...], language: str
) -> None:
    at, evidence, applicants = scenario
    document = build(data)
    people_ = [
        loaders.Applicant(
            line=index + 1,
            ref=f"A-{index}",
            nir=nir,
            facts={
                key: batch.canonical_number(value) if isinstance(value, Decimal) else value
                for key, value in facts.items()
            },
        )
        for index, (nir, facts) in enumerate(applicants)
    ]
    connection = loaders.connect()
    load_evidence(connection, evidence)
    loaders.create_applicants(connection, document, people_)
    plan = batch.compile_plan(document, at=at)
    raw = connection.execute(plan.sql).fetchall()
    rows = [batch.read_row(plan, row) for row in raw]
    explainer = batch.Explainer(plan, language)
    assert [row.ref for row in rows] == [person.ref for person in people_]
    for person, row, raw_row in zip(people_, rows, raw, strict=True):
        expected = engine.evaluate(
            document,
            facts=person.facts,
            evidence=evidence.get(person.nir or "", PersonEvidence()),
            at=at,
            language=language,
        )
        aggregates = {a.id: expected.values[a.id] for a in document.evidence}
        event(f"eligible: {expected.eligible}, amount > 0: {expected.amount > 0}")
        for aggregate in document.evidence:
            event(f"{aggregate.kind} is {'not ' if aggregates[aggregate.id] else ''}0")
        assert row.aggregates == aggregates, plan.sql
        assert row.passed == {c.id: c.passed for c in expected.criteria}, plan.sql
        assert row.eligible == expected.eligible
        assert row.components == expected.components, plan.sql
        assert row.amount == expected.amount
        line = json.dumps(expected.as_json(person.ref), ensure_ascii=False)
        assert json.dumps(explainer.evaluation(raw_row).as_json(person.ref)) == json.dumps(
            expected.as_json(person.ref)
        )
        assert explainer.json_line(raw_row) == line
