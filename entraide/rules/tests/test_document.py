"""Reading rule documents: every problem names the path of what is wrong, schema problems and
problems of meaning alike, so that an operator can fix a document without a developer."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from entraide.rules.document import (
    SCHEMA_PATH,
    AllOf,
    AnyOf,
    NoneOf,
    Ref,
    RuleDocumentError,
    build,
    load,
    load_file,
    read_source,
    schema,
)
from entraide.rules.tests.builders import RULESETS

NETFLIX = (RULESETS / "netflix-audiens.yaml").read_text(encoding="utf-8")
Edit = Callable[[dict[str, Any]], object]


def problems_of(edit: Edit) -> list[tuple[str, str]]:
    """The problems found in the Netflix × Audiens document once ``edit`` changed it."""
    data = copy.deepcopy(read_source(NETFLIX))
    edit(data)
    with pytest.raises(RuleDocumentError) as raised:
        build(data)
    return [(problem.path, problem.message) for problem in raised.value.problems]


def problems_in_text(text: str) -> list[tuple[str, str]]:
    with pytest.raises(RuleDocumentError) as raised:
        load(text)
    return [(problem.path, problem.message) for problem in raised.value.problems]


def criterion_index(data: dict[str, Any], criterion_id: str) -> int:
    return next(i for i, c in enumerate(data["criteria"]) if c["id"] == criterion_id)


# -- the reference documents -----------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(RULESETS.glob("*.yaml")), ids=lambda p: p.name)
def test_reference_documents_are_valid(path: Path) -> None:
    document = load_file(path)

    assert document.criteria
    assert jsonschema.Draft202012Validator(schema()).is_valid(document.source)


@pytest.mark.parametrize("path", sorted(RULESETS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_reference_criterion_explains_pass_and_fail_in_french_and_english(
    path: Path,
) -> None:
    for criterion in load_file(path).criteria:
        assert criterion.explain_pass is not None, criterion.id
        assert criterion.explain_fail is not None, criterion.id


def test_the_published_schema_is_a_valid_json_schema() -> None:
    document_schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator.check_schema(document_schema)
    assert Path(__file__).resolve().parents[1] / "rule-document.schema.json" == SCHEMA_PATH


def test_json_and_yaml_give_the_same_document() -> None:
    as_json = json.dumps(read_source(NETFLIX), ensure_ascii=False)

    assert load(as_json) == load(NETFLIX)


def test_the_netflix_document_is_built_into_its_model() -> None:
    document = load(NETFLIX)

    assert (document.id, document.version, document.currency) == (
        "netflix-audiens",
        "2020-04-15",
        "EUR",
    )
    assert document.parameters == {
        "min_days": Decimal(12),
        "min_sector_days": Decimal(1),
        "resources_ceiling": Decimal(15000),
    }
    assert document.eligibility == AllOf(
        (
            Ref("sector_worker"),
            AnyOf((Ref("could_not_renew"), Ref("no_opening_2019"), Ref("worked_12_days"))),
        )
    )
    assert document.exclusions == ("receives_benefits",)
    days = document.aggregate("days_sep_feb")
    assert days is not None
    assert days.window is not None
    assert (days.window.start, days.window.end) == (dt.date(2019, 9, 1), dt.date(2020, 2, 29))
    assert days.naf == ("59.11A", "59.11B", "59.11C")
    rights = document.aggregate("rights_ended_2020")
    assert rights is not None
    assert rights.ended is not None
    assert rights.ended.end == "evaluation_date"


def test_a_not_combination_is_read() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["eligibility"] = {"all": ["sector_worker", {"not": "receives_benefits"}]}

    data = copy.deepcopy(read_source(NETFLIX))
    edit(data)

    assert build(data).eligibility == AllOf(
        (Ref("sector_worker"), NoneOf(Ref("receives_benefits")))
    )


# -- problems of meaning ---------------------------------------------------------------------------


def _set(path: str, value: Any) -> Edit:
    """An edit that sets ``a.b[2].c`` to ``value``."""

    def edit(data: dict[str, Any]) -> None:
        parts: list[str | int] = []
        for part in path.replace("[", ".").replace("]", "").split("."):
            parts.append(int(part) if part.isdigit() else part)
        target: Any = data
        for part in parts[:-1]:
            target = target[part]
        target[parts[-1]] = value

    return edit


def _add_criterion(criterion_id: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        data["criteria"].append({**data["criteria"][0], "id": criterion_id})

    return edit


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        pytest.param(
            _set("criteria[1].test", "rights_ended_2020 > 0 and bogus"),
            "criteria[1].test",
            "unknown name 'bogus'",
            id="unknown-name-in-a-test",
        ),
        pytest.param(
            _set("criteria[3].test", "days_sep_feb + 1"),
            "criteria[3].test",
            "the test must be true or false, not a number",
            id="non-boolean-test",
        ),
        pytest.param(
            _set("criteria[3].test", "days_sep_feb >= 12 and profession"),
            "criteria[3].test",
            "expected a boolean but got a text: profession",
            id="text-used-as-a-condition",
        ),
        pytest.param(
            _set("criteria[3].test", 'days_sep_feb >= "12"'),
            "criteria[3].test",
            "cannot compare a number with a text",
            id="ill-typed-comparison",
        ),
        pytest.param(
            _set("criteria[3].test", "days_sep_feb >= min_days / 2"),
            "criteria[3].test",
            "only +, - and * are allowed in arithmetic",
            id="division-in-a-test",
        ),
        pytest.param(
            _set("criteria[3].test", "days_sep_feb => 12"),
            "criteria[3].test",
            "syntax error at column 14: 'days_sep_feb => 12'",
            id="expression-syntax-error",
        ),
        pytest.param(
            _set("evidence.days_sep_feb.window", {"from": "2020-02-29", "to": "2019-09-01"}),
            "evidence.days_sep_feb.window",
            "the window ends before it starts",
            id="window-ends-before-it-starts",
        ),
        pytest.param(
            _set("evidence.rights_opened_2019.opened", {"from": "2019-12-31", "to": "2019-01-01"}),
            "evidence.rights_opened_2019.opened",
            "the window ends before it starts",
            id="opened-window-ends-before-it-starts",
        ),
        pytest.param(
            _set("eligibility.all[1].any[2]", "worked_11_days"),
            "eligibility.all[1].any[2]",
            "unknown criterion 'worked_11_days'",
            id="unknown-criterion-in-eligibility",
        ),
        pytest.param(
            _set("eligibility", "sector_days"),
            "eligibility",
            "unknown criterion 'sector_days'",
            id="evidence-is-not-a-criterion",
        ),
        pytest.param(
            _set("exclusions", ["receives_benefits", "receives_benefit"]),
            "exclusions[1]",
            "unknown criterion 'receives_benefit'",
            id="unknown-criterion-in-exclusions",
        ),
        pytest.param(
            _set("amount.components[0].when", {"not": "low_resource"}),
            "amount.components[0].when.not",
            "unknown criterion 'low_resource'",
            id="unknown-criterion-in-when",
        ),
        pytest.param(
            _set(
                "amount.components",
                [
                    {
                        "id": "per_day",
                        "per_unit": {
                            "units": "days_sep_feb",
                            "rate": 10,
                            "cap": 5,
                            "uncapped_when": "low_resource",
                        },
                    }
                ],
            ),
            "amount.components[0].per_unit.uncapped_when",
            "unknown criterion 'low_resource'",
            id="unknown-criterion-in-uncapped-when",
        ),
        pytest.param(
            _add_criterion("could_not_renew"),
            "criteria[6].id",
            "the name 'could_not_renew' is already used",
            id="duplicate-criterion-id",
        ),
        pytest.param(
            _add_criterion("sector_days"),
            "criteria[6].id",
            "the name 'sector_days' is already used",
            id="criterion-named-like-evidence",
        ),
        pytest.param(
            _set("parameters.annual_resources", 15000),
            "facts[0].id",
            "the name 'annual_resources' is already used",
            id="fact-named-like-a-parameter",
        ),
        pytest.param(
            _set("evidence.min_days", {"kind": "benefits", "at": "evaluation_date"}),
            "evidence.min_days",
            "the name 'min_days' is already used",
            id="evidence-named-like-a-parameter",
        ),
        pytest.param(
            _set("evidence.evaluation_date", {"kind": "benefits", "at": "evaluation_date"}),
            "evidence.evaluation_date",
            "the name 'evaluation_date' is already used",
            id="evaluation-date-is-reserved",
        ),
        pytest.param(
            _set(
                "amount.components",
                [{"id": "grant", "flat": 500}, {"id": "grant", "flat": 400}],
            ),
            "amount.components",
            "component ids must be unique",
            id="duplicate-component-id",
        ),
        pytest.param(
            _set(
                "amount.components[0].tiers.steps",
                [{"up_to": 15000, "amount": 900}, {"up_to": 10000, "amount": 1000}],
            ),
            "amount.components[0].tiers.steps",
            "steps must go up (up_to in increasing order)",
            id="tiers-going-down",
        ),
        pytest.param(
            _set(
                "amount.components[0].tiers.steps",
                [{"up_to": 15000, "amount": 900}, {"up_to": 15000, "amount": 700}],
            ),
            "amount.components[0].tiers.steps",
            "steps must go up (up_to in increasing order)",
            id="tiers-with-equal-steps",
        ),
        pytest.param(
            _set("amount.components[0].tiers.by", "profession"),
            "amount.components[0].tiers.by",
            "'profession' must be a number (a fact, evidence or parameter)",
            id="tiers-by-a-choice",
        ),
        pytest.param(
            _set(
                "amount.components",
                [{"id": "per_day", "per_unit": {"units": "days_worked", "rate": 10}}],
            ),
            "amount.components[0].per_unit.units",
            "'days_worked' must be a number (a fact, evidence or parameter)",
            id="per-unit-of-an-unknown-name",
        ),
        pytest.param(
            _set("amount.components", [{"id": "need", "range": {"min": 900, "max": 500}}]),
            "amount.components[0].range",
            "min ≤ default ≤ max is required",
            id="range-min-above-max",
        ),
        pytest.param(
            _set(
                "amount.components",
                [{"id": "need", "range": {"min": 500, "max": 900, "default": 1000}}],
            ),
            "amount.components[0].range",
            "min ≤ default ≤ max is required",
            id="range-default-outside",
        ),
        pytest.param(
            _set("parameters.rate", 0.00001),
            "parameters.rate",
            "0.00001 has more than 4 decimal places",
            id="parameter-finer-than-the-batch-engine-holds",
        ),
        pytest.param(
            _set("criteria[3].explanation.fail.en", "You worked {days_worked} days."),
            "criteria[3].explanation.fail.en",
            "unknown name 'days_worked' in {days_worked}",
            id="unknown-name-in-an-explanation",
        ),
        pytest.param(
            _set("criteria[3].explanation.pass.fr", "Depuis le {min_days.from}."),
            "criteria[3].explanation.pass.fr",
            "{min_days.from}: 'min_days' is not evidence with a window",
            id="window-bound-of-a-parameter",
        ),
        pytest.param(
            _set("criteria[4].explanation.pass.fr", "Depuis le {benefits_now.from}."),
            "criteria[4].explanation.pass.fr",
            "{benefits_now.from}: 'benefits_now' is not evidence with a window",
            id="window-bound-of-evidence-without-window",
        ),
    ],
)
def test_problem_of_meaning_names_its_path(edit: Edit, path: str, message: str) -> None:
    assert problems_of(edit) == [(path, message)]


def test_all_problems_of_meaning_are_reported_at_once() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["criteria"][0]["test"] = "bogus > 1"
        data["criteria"][5]["test"] = "annual_resources"
        data["exclusions"] = ["nobody"]

    assert [path for path, _ in problems_of(edit)] == [
        "criteria[0].test",
        "criteria[5].test",
        "exclusions[0]",
    ]


def test_error_text_lists_one_problem_per_line_with_its_path() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["criteria"][1]["test"] = "bogus"
        data["exclusions"] = ["nobody"]

    data = copy.deepcopy(read_source(NETFLIX))
    edit(data)
    with pytest.raises(RuleDocumentError) as raised:
        build(data)

    assert str(raised.value) == (
        "criteria[1].test: unknown name 'bogus'\nexclusions[0]: unknown criterion 'nobody'"
    )


# -- schema problems -------------------------------------------------------------------------------


def _drop(path: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[int(last) if last.isdigit() else last]

    return edit


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        pytest.param(_drop("currency"), "", "'currency' is a required property", id="missing-key"),
        pytest.param(
            _set("currency", "eur"), "currency", "'eur' does not match '^[A-Z]{3}$'", id="currency"
        ),
        pytest.param(
            _set("budget", 1000000),
            "",
            "Additional properties are not allowed ('budget' was unexpected)",
            id="unknown-top-level-key",
        ),
        pytest.param(
            _set("id", "Netflix"),
            "id",
            "'Netflix' does not match '^[a-z][a-z0-9-]{0,62}$'",
            id="id",
        ),
        pytest.param(
            _set("one_per_person", "household"),
            "one_per_person",
            "'household' is not one of ['fund', 'programme']",
            id="one-per-person",
        ),
        pytest.param(
            _set("evidence.sector_days.kind", "days"),
            "evidence.sector_days.kind",
            "'days' is not one of ['worked_days', 'hours', 'cachets', 'gross_pay', 'employers', "
            "'rights', 'benefits', 'cancellations']",
            id="unknown-aggregate-kind",
        ),
        pytest.param(
            _drop("evidence.sector_days.window"),
            "evidence.sector_days",
            "'window' is a required property",
            id="worked-days-without-window",
        ),
        pytest.param(
            _set("evidence.sector_days.annexes", ["8"]),
            "evidence.sector_days",
            "Additional properties are not allowed ('annexes' was unexpected)",
            id="filter-of-another-kind",
        ),
        pytest.param(
            _set("evidence.sector_days.contract_types", ["CDDU", "freelance"]),
            "evidence.sector_days.contract_types[1]",
            "'freelance' is not one of ['CDDU', 'CDD', 'CDI']",
            id="unknown-contract-type",
        ),
        pytest.param(
            _set("evidence.sector_days.naf", ["5911A"]),
            "evidence.sector_days.naf[0]",
            "'5911A' does not match '^[0-9]{2}(\\\\.[0-9]{1,2}[A-Z]?)?$'",
            id="naf-without-dot",
        ),
        pytest.param(
            _set("evidence.rights_ended_2020.annexes", ["8", "9"]),
            "evidence.rights_ended_2020.annexes[1]",
            "'9' is not one of ['8', '10', 'general']",
            id="unknown-annex",
        ),
        pytest.param(
            _set("evidence.benefits_now.at", "today"),
            "evidence.benefits_now.at",
            "expected a date written YYYY-MM-DD, or evaluation_date",
            id="benefits-at-neither-date-nor-evaluation-date",
        ),
        pytest.param(
            _set("facts[0].type", "float"),
            "facts[0].type",
            "'float' is not one of ['number', 'money', 'count', 'date', 'boolean', 'choice', "
            "'country', 'text']",
            id="unknown-fact-type",
        ),
        pytest.param(
            _drop("facts.1.choices"),
            "facts[1]",
            "'choices' is a required property",
            id="choice-without-choices",
        ),
        pytest.param(
            _drop("criteria.0.label.en"),
            "criteria[0].label",
            "'en' is a required property",
            id="label-without-english",
        ),
        pytest.param(
            _set("criteria[0].test", ""),
            "criteria[0].test",
            "'' should be non-empty",
            id="empty-test",
        ),
        pytest.param(
            _set("criteria[0].test", True),
            "criteria[0].test",
            "True is not of type 'string'",
            id="test-not-text",
        ),
        pytest.param(
            _set("eligibility.all[1]", {"any": ["no_opening_2019"], "all": ["worked_12_days"]}),
            "eligibility.all[1]",
            "expected a criterion id, or an object with exactly one key: all, any or not",
            id="combination-with-two-keys",
        ),
        pytest.param(
            _set("eligibility", {"all": []}),
            "eligibility.all",
            "[] should be non-empty",
            id="empty-combination",
        ),
        pytest.param(
            _set("amount.components[0].flat", 900),
            "amount.components[0]",
            "expected an amount component: an id, optional label and when, and exactly one of "
            "flat, tiers, per_unit or range",
            id="component-both-flat-and-tiers",
        ),
        pytest.param(
            _set("amount.components[0].tiers.otherwise", -500),
            "amount.components[0].tiers.otherwise",
            "-500 is less than the minimum of 0",
            id="negative-amount",
        ),
        pytest.param(
            _set("parameters.min_days", "12"),
            "parameters.min_days",
            "expected a number, or a date written YYYY-MM-DD",
            id="parameter-number-as-text",
        ),
        pytest.param(
            _set("parameters.min_days", True),
            "parameters.min_days",
            "expected a number, or a date written YYYY-MM-DD",
            id="parameter-boolean",
        ),
    ],
)
def test_schema_problem_names_its_path(edit: Edit, path: str, message: str) -> None:
    assert problems_of(edit) == [(path, message)]


# -- YAML ------------------------------------------------------------------------------------------


def test_yaml_syntax_error_gives_line_and_column() -> None:
    broken = NETFLIX.replace(
        "label: {fr: Profession, en: Profession}", "label: {fr: Profession, en: Profession"
    )
    line = NETFLIX.splitlines().index("    label: {fr: Profession, en: Profession}") + 1

    [(path, message)] = problems_in_text(broken)

    assert path == f"line {line + 1}, column 12"
    assert message.startswith("not valid YAML or JSON: while parsing a flow mapping")


def test_duplicate_yaml_key_is_refused_with_both_lines() -> None:
    doubled = NETFLIX.replace("  min_days: 12\n", "  min_days: 12\n  min_days: 10\n")
    line = NETFLIX.splitlines().index("  min_days: 12") + 1

    [(path, message)] = problems_in_text(doubled)

    assert path == f"line {line + 1}, column 3"
    assert f"duplicate key 'min_days' (already given on line {line})" in message


def test_duplicate_evidence_name_is_refused_not_silently_replaced() -> None:
    doubled = NETFLIX.replace(
        "  benefits_now:\n", "  sector_days:\n    kind: benefits\n    at: evaluation_date\n", 1
    )

    [(path, message)] = problems_in_text(doubled)

    assert path.startswith("line ")
    assert "duplicate key 'sector_days'" in message


@pytest.mark.parametrize(
    "text", ["[1, 2]", "just words", "", "42"], ids=["list", "text", "empty", "number"]
)
def test_a_document_is_a_mapping(text: str) -> None:
    assert problems_in_text(text) == [("", "a rule document is a mapping (keys and values)")]


# -- dates -----------------------------------------------------------------------------------------


def test_a_date_is_the_same_written_as_a_yaml_date_or_as_a_string() -> None:
    quoted = NETFLIX.replace("effective_from: 2020-04-15", 'effective_from: "2020-04-15"').replace(
        "window: {from: 2019-09-01, to: 2020-02-29}",
        "window: {from: '2019-09-01', to: '2020-02-29'}",
    )
    assert quoted != NETFLIX

    assert load(quoted) == load(NETFLIX)
    assert load(NETFLIX).effective_from == dt.date(2020, 4, 15)


def test_a_date_parameter_written_as_a_yaml_date_is_a_date() -> None:
    text = NETFLIX.replace("  min_days: 12\n", "  min_days: 12\n  opening: 2020-04-15\n")

    assert load(text).parameters["opening"] == dt.date(2020, 4, 15)


@pytest.mark.parametrize(
    ("written", "messages"),
    [
        pytest.param("2020-02-30", ["'2020-02-30' is not a 'date'"], id="no-30-february"),
        pytest.param("2020-13-01", ["'2020-13-01' is not a 'date'"], id="no-month-13"),
        pytest.param(
            "2020-4-15",
            [
                "'2020-4-15' is not a 'date'",
                "'2020-4-15' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'",
            ],
            id="month-without-zero",
        ),
        pytest.param(
            "2020-04-15 10:00:00",
            [
                "'2020-04-15 10:00:00' is not a 'date'",
                "'2020-04-15 10:00:00' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'",
            ],
            id="timestamp",
        ),
        pytest.param(
            "15/04/2020",
            [
                "'15/04/2020' is not a 'date'",
                "'15/04/2020' does not match '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'",
            ],
            id="french-order",
        ),
    ],
)
def test_an_invalid_date_is_refused_at_its_path(written: str, messages: list[str]) -> None:
    text = NETFLIX.replace("effective_from: 2020-04-15", f"effective_from: {written}")

    assert problems_in_text(text) == [("effective_from", message) for message in messages]


def test_an_invalid_window_date_is_refused_at_its_path() -> None:
    text = NETFLIX.replace(
        "window: {from: 2019-09-01, to: 2020-02-29}", "window: {from: 2019-09-01, to: 2020-02-30}"
    )

    assert problems_in_text(text) == [
        (
            "evidence.days_sep_feb.window.to",
            "'2020-02-30' is not a 'date'",
        )
    ]


def test_a_python_date_object_is_refused_where_the_document_expects_text() -> None:
    """A document read by a plain YAML loader (dates become date objects) is not a valid
    document: read it with read_source, which keeps dates as text."""
    data = yaml.safe_load(NETFLIX)

    with pytest.raises(RuleDocumentError) as raised:
        build(data)

    paths = {problem.path for problem in raised.value.problems}
    assert "effective_from" in paths
    assert "evidence.sector_days.window.from" in paths
