"""Rule documents: read (YAML or JSON), validated against the published JSON Schema, then
checked for meaning (references, types of expressions) and turned into a typed model.

Every problem names the path of what is wrong (``criteria[2].test``), so an operator can fix
the document without a developer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from entraide.rules.expressions import (
    ExpressionError,
    Node,
    Type,
    node_type,
    number_problem,
    parse,
)

SCHEMA_PATH = Path(__file__).with_name("rule-document.schema.json")
EVALUATION_DATE = "evaluation_date"
FACT_TYPES = {
    "number": Type.NUMBER,
    "money": Type.NUMBER,
    "count": Type.NUMBER,
    "date": Type.DATE,
    "boolean": Type.BOOLEAN,
    "choice": Type.TEXT,
    "country": Type.TEXT,
    "text": Type.TEXT,
}
# {name} is a value (parameter, fact, evidence aggregate, evaluation_date); {name.from} and
# {name.to} are the bounds of an aggregate's window.
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?:\.(from|to))?\}")
# The personal identifier applicants give when a document names none: the French NIR, which
# every document had to ask for before the key existed (entraide.applications.identity).
DEFAULT_IDENTIFIER = "fr-nir"


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RuleDocumentError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class Text:
    fr: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language.startswith("en") else self.fr


@dataclass(frozen=True)
class Choice:
    value: str
    label: Text


@dataclass(frozen=True)
class Fact:
    id: str
    type: str
    label: Text
    help: Text | None
    required: bool
    min: Decimal | None
    max: Decimal | None
    choices: tuple[Choice, ...]


DateRef = dt.date | Literal["evaluation_date"]


@dataclass(frozen=True)
class Ask:
    """The question that stands in for an evidence aggregate when the fund has no records of
    the applicant (the self-check, the declared facts of an application)."""

    type: str  # count, number, money or boolean (yes counts as 1, no as 0)
    label: Text
    help: Text | None


@dataclass(frozen=True)
class Window:
    start: DateRef
    end: DateRef

    def resolve(self, at: dt.date) -> tuple[dt.date, dt.date]:
        return (
            at if self.start == EVALUATION_DATE else self.start,  # type: ignore[return-value]
            at if self.end == EVALUATION_DATE else self.end,
        )


@dataclass(frozen=True)
class Aggregate:
    id: str
    kind: str
    label: Text | None = None
    window: Window | None = None
    contract_types: tuple[str, ...] = ()
    naf: tuple[str, ...] = ()
    idcc: tuple[str, ...] = ()
    annexes: tuple[str, ...] = ()
    opened: Window | None = None
    ended: Window | None = None
    statuses: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    at: DateRef | None = None
    signed: Window | None = None
    count: str = "dates"
    ask: Ask | None = None


@dataclass(frozen=True)
class Criterion:
    id: str
    label: Text
    source: str
    test: Node
    explain_pass: Text | None
    explain_fail: Text | None


@dataclass(frozen=True)
class Ref:
    criterion: str


@dataclass(frozen=True)
class AllOf:
    items: tuple[Combination, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Combination, ...]


@dataclass(frozen=True)
class NoneOf:
    item: Combination


Combination = Ref | AllOf | AnyOf | NoneOf


@dataclass(frozen=True)
class Tier:
    up_to: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Component:
    id: str
    label: Text | None
    when: Combination | None  # None: when eligible
    kind: Literal["flat", "tiers", "per_unit", "range"]
    flat: Decimal = Decimal("0")
    tiers_by: str = ""
    tiers: tuple[Tier, ...] = ()
    otherwise: Decimal = Decimal("0")
    units: str = ""
    rate: Decimal = Decimal("0")
    cap: int | None = None
    uncapped_when: Combination | None = None
    range_min: Decimal = Decimal("0")
    range_max: Decimal = Decimal("0")
    range_default: Decimal = Decimal("0")


@dataclass(frozen=True)
class RuleDocument:
    id: str
    name: Text
    description: Text | None
    version: str
    effective_from: dt.date
    currency: str
    one_per_person: str
    identifier: str
    parameters: dict[str, Decimal | dt.date]
    facts: tuple[Fact, ...]
    evidence: tuple[Aggregate, ...]
    criteria: tuple[Criterion, ...]
    eligibility: Combination
    exclusions: tuple[str, ...]
    combine: str
    components: tuple[Component, ...]
    source: dict[str, Any] = field(compare=False, repr=False)

    def criterion(self, criterion_id: str) -> Criterion:
        return next(c for c in self.criteria if c.id == criterion_id)

    def aggregate(self, aggregate_id: str) -> Aggregate | None:
        return next((a for a in self.evidence if a.id == aggregate_id), None)

    def fact(self, fact_id: str) -> Fact | None:
        return next((f for f in self.facts if f.id == fact_id), None)


# -- reading -----------------------------------------------------------------------------------


class _TextDatesLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text, as JSON and the schema expect."""


_TextDatesLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _unique_keys_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A mapping whose keys are unique: YAML itself keeps the last of two equal keys silently,
    which would drop a criterion or a parameter without a word."""
    loader.flatten_mapping(node)
    first_line: dict[Any, int] = {}
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str | int | float | bool):
            continue
        if key in first_line:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (already given on line {first_line[key]})",
                key_node.start_mark,
            )
        first_line[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node)


_TextDatesLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_keys_mapping,
)


def read_source(text: str) -> dict[str, Any]:
    """Parse YAML or JSON (JSON is YAML) into a mapping."""
    try:
        data = yaml.load(text, Loader=_TextDatesLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RuleDocumentError([Problem(where, f"not valid YAML or JSON: {error}")]) from None
    if not isinstance(data, dict):
        raise RuleDocumentError([Problem("", "a rule document is a mapping (keys and values)")])
    return data


@cache
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_problems(data: dict[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        # oneOf failures say little; the most relevant sub-error says what to fix.
        best = jsonschema.exceptions.best_match([error])
        message = best.message
        if best.validator == "oneOf" and "description" in best.schema:
            # "{...the whole value...} is not valid under any of the given schemas" helps no one
            message = f"expected {best.schema['description']}"
        problems.append(Problem(_path(best.absolute_path), message))
    return problems


def load(text: str) -> RuleDocument:
    """Read, validate and build a rule document, or raise :class:`RuleDocumentError`."""
    return build(read_source(text))


def load_file(path: Path | str) -> RuleDocument:
    return load(Path(path).read_text(encoding="utf-8"))


def build(data: dict[str, Any]) -> RuleDocument:
    problems = schema_problems(data)
    if problems:
        raise RuleDocumentError(problems)
    return _Builder(data).build()


def _text(data: dict[str, str] | None) -> Text | None:
    return Text(fr=data["fr"], en=data["en"]) if data else None


def _ask(data: dict[str, Any] | None) -> Ask | None:
    if not data:
        return None
    return Ask(type=data["type"], label=Text(**data["label"]), help=_text(data.get("help")))


def _date_ref(value: str) -> DateRef:
    return "evaluation_date" if value == EVALUATION_DATE else dt.date.fromisoformat(value)


def _window(data: dict[str, str] | None) -> Window | None:
    return Window(_date_ref(data["from"]), _date_ref(data["to"])) if data else None


class _Builder:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def build(self) -> RuleDocument:
        data = self.data
        parameters = {
            name: (dt.date.fromisoformat(value) if isinstance(value, str) else Decimal(str(value)))
            for name, value in data.get("parameters", {}).items()
        }
        facts = tuple(self.fact(item) for item in data.get("facts", []))
        evidence = tuple(
            self.aggregate(name, item) for name, item in data.get("evidence", {}).items()
        )
        names: dict[str, Type] = {EVALUATION_DATE: Type.DATE}
        for name, value in parameters.items():
            problem = isinstance(value, Decimal) and number_problem(value)
            if problem:
                self.problems.append(Problem(f"parameters.{name}", problem))
            self.declare(
                names,
                name,
                Type.DATE if isinstance(value, dt.date) else Type.NUMBER,
                f"parameters.{name}",
            )
        for index, fact in enumerate(facts):
            self.declare(names, fact.id, FACT_TYPES[fact.type], f"facts[{index}].id")
        for aggregate in evidence:
            self.declare(names, aggregate.id, Type.NUMBER, f"evidence.{aggregate.id}")
        criteria = []
        seen: set[str] = set()
        for index, item in enumerate(data["criteria"]):
            path = f"criteria[{index}]"
            if item["id"] in seen or item["id"] in names:
                self.problems.append(
                    Problem(f"{path}.id", f"the name {item['id']!r} is already used")
                )
            seen.add(item["id"])
            test = self.expression(item["test"], names, f"{path}.test", Type.BOOLEAN)
            explanation = item.get("explanation", {})
            self.placeholders(explanation, names, evidence, f"{path}.explanation")
            criteria.append(
                Criterion(
                    id=item["id"],
                    label=Text(**item["label"]),
                    source=item["test"],
                    test=test,
                    explain_pass=_text(explanation.get("pass")),
                    explain_fail=_text(explanation.get("fail")),
                )
            )
        eligibility = self.combination(data["eligibility"], seen, "eligibility")
        exclusions = tuple(data.get("exclusions", []))
        for index, criterion_id in enumerate(exclusions):
            if criterion_id not in seen:
                self.problems.append(
                    Problem(f"exclusions[{index}]", f"unknown criterion {criterion_id!r}")
                )
        components = tuple(
            self.component(item, seen, names, f"amount.components[{index}]")
            for index, item in enumerate(data["amount"]["components"])
        )
        if len({c.id for c in components}) != len(components):
            self.problems.append(Problem("amount.components", "component ids must be unique"))
        if self.problems:
            raise RuleDocumentError(self.problems)
        return RuleDocument(
            id=data["id"],
            name=Text(**data["name"]),
            description=_text(data.get("description")),
            version=str(data.get("version", "")),
            effective_from=dt.date.fromisoformat(data["effective_from"]),
            currency=data["currency"],
            one_per_person=data.get("one_per_person", "fund"),
            identifier=data.get("identifier", DEFAULT_IDENTIFIER),
            parameters=parameters,
            facts=facts,
            evidence=evidence,
            criteria=tuple(criteria),
            eligibility=eligibility,
            exclusions=exclusions,
            combine=data["amount"].get("combine", "sum"),
            components=components,
            source=data,
        )

    def declare(self, names: dict[str, Type], name: str, type_: Type, path: str) -> None:
        if name in names:
            self.problems.append(Problem(path, f"the name {name!r} is already used"))
        names[name] = type_

    def fact(self, item: dict[str, Any]) -> Fact:
        return Fact(
            id=item["id"],
            type=item["type"],
            label=Text(**item["label"]),
            help=_text(item.get("help")),
            required=item.get("required", True),
            min=Decimal(str(item["min"])) if "min" in item else None,
            max=Decimal(str(item["max"])) if "max" in item else None,
            choices=tuple(
                Choice(value=c["value"], label=Text(**c["label"])) for c in item.get("choices", [])
            ),
        )

    def aggregate(self, name: str, item: dict[str, Any]) -> Aggregate:
        aggregate = Aggregate(
            id=name,
            kind=item["kind"],
            label=_text(item.get("label")),
            window=_window(item.get("window")),
            contract_types=tuple(item.get("contract_types", ())),
            naf=tuple(item.get("naf", ())),
            idcc=tuple(item.get("idcc", ())),
            annexes=tuple(item.get("annexes", ())),
            opened=_window(item.get("opened")),
            ended=_window(item.get("ended")),
            statuses=tuple(item.get("statuses", ())),
            reasons=tuple(item.get("reasons", ())),
            schemes=tuple(item.get("schemes", ())),
            at=_date_ref(item["at"]) if "at" in item else None,
            signed=_window(item.get("signed")),
            count=item.get("count", "dates"),
            ask=_ask(item.get("ask")),
        )
        for key, window in (
            ("window", aggregate.window),
            ("opened", aggregate.opened),
            ("ended", aggregate.ended),
            ("signed", aggregate.signed),
        ):
            if (
                window is not None
                and isinstance(window.start, dt.date)
                and isinstance(window.end, dt.date)
                and window.end < window.start
            ):
                self.problems.append(
                    Problem(f"evidence.{name}.{key}", "the window ends before it starts")
                )
        return aggregate

    def placeholders(
        self,
        explanation: dict[str, dict[str, str]],
        names: dict[str, Type],
        evidence: tuple[Aggregate, ...],
        path: str,
    ) -> None:
        windowed = {a.id for a in evidence if a.window or a.opened or a.ended}
        for outcome, text in explanation.items():
            for language, template in text.items():
                for match in PLACEHOLDER.finditer(template):
                    name, bound = match.group(1), match.group(2)
                    if name not in names:
                        message = f"unknown name {name!r} in {match.group(0)}"
                    elif bound is not None and name not in windowed:
                        message = f"{match.group(0)}: {name!r} is not evidence with a window"
                    else:
                        continue
                    self.problems.append(Problem(f"{path}.{outcome}.{language}", message))

    def expression(self, source: str, names: dict[str, Type], path: str, expected: Type) -> Node:
        try:
            node = parse(source, names)
        except ExpressionError as error:
            self.problems.append(Problem(path, str(error)))
            return parse("True", {})
        if node_type(node) != expected:
            self.problems.append(
                Problem(path, f"the test must be true or false, not a {node_type(node)}")
            )
        return node

    def combination(self, item: Any, criteria: set[str], path: str) -> Combination:
        if isinstance(item, str):
            if item not in criteria:
                self.problems.append(Problem(path, f"unknown criterion {item!r}"))
            return Ref(item)
        if "all" in item:
            return AllOf(
                tuple(
                    self.combination(x, criteria, f"{path}.all[{i}]")
                    for i, x in enumerate(item["all"])
                )
            )
        if "any" in item:
            return AnyOf(
                tuple(
                    self.combination(x, criteria, f"{path}.any[{i}]")
                    for i, x in enumerate(item["any"])
                )
            )
        return NoneOf(self.combination(item["not"], criteria, f"{path}.not"))

    def number_name(self, name: str, names: dict[str, Type], path: str) -> None:
        if names.get(name) != Type.NUMBER:
            self.problems.append(
                Problem(path, f"{name!r} must be a number (a fact, evidence or parameter)")
            )

    def component(
        self, item: dict[str, Any], criteria: set[str], names: dict[str, Type], path: str
    ) -> Component:
        when = self.combination(item["when"], criteria, f"{path}.when") if "when" in item else None
        common = {"id": item["id"], "label": _text(item.get("label")), "when": when}
        if "flat" in item:
            return Component(kind="flat", flat=Decimal(str(item["flat"])), **common)
        if "tiers" in item:
            tiers = item["tiers"]
            self.number_name(tiers["by"], names, f"{path}.tiers.by")
            steps = tuple(
                Tier(Decimal(str(s["up_to"])), Decimal(str(s["amount"]))) for s in tiers["steps"]
            )
            if any(low.up_to >= high.up_to for low, high in itertools.pairwise(steps)):
                self.problems.append(
                    Problem(f"{path}.tiers.steps", "steps must go up (up_to in increasing order)")
                )
            return Component(
                kind="tiers",
                tiers_by=tiers["by"],
                tiers=steps,
                otherwise=Decimal(str(tiers["otherwise"])),
                **common,
            )
        if "per_unit" in item:
            unit = item["per_unit"]
            self.number_name(unit["units"], names, f"{path}.per_unit.units")
            uncapped = unit.get("uncapped_when")
            return Component(
                kind="per_unit",
                units=unit["units"],
                rate=Decimal(str(unit["rate"])),
                cap=unit.get("cap"),
                uncapped_when=(
                    self.combination(uncapped, criteria, f"{path}.per_unit.uncapped_when")
                    if uncapped is not None
                    else None
                ),
                **common,
            )
        bounds = item["range"]
        low, high = Decimal(str(bounds["min"])), Decimal(str(bounds["max"]))
        default = Decimal(str(bounds.get("default", bounds["min"])))
        if not low <= default <= high:
            self.problems.append(Problem(f"{path}.range", "min ≤ default ≤ max is required"))
        return Component(
            kind="range", range_min=low, range_max=high, range_default=default, **common
        )


def combination_criteria(combination: Combination) -> set[str]:
    match combination:
        case Ref(criterion=criterion):
            return {criterion}
        case AllOf(items=items) | AnyOf(items=items):
            return set().union(*(combination_criteria(item) for item in items))
        case NoneOf(item=item):
            return combination_criteria(item)
    raise AssertionError(combination)
