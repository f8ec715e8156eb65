"""The rule document's ``identifier``: which personal identifier the fund's applicants give.
Optional (the French NIR, as every document asked before the key existed); an unknown one is a
problem on its path, as every mistake of a document is."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules import services as rules
from entraide.rules.document import (
    DEFAULT_IDENTIFIER,
    RuleDocumentError,
    build,
    load,
    read_source,
)
from entraide.rules.editor import starter_source
from entraide.rules.services import RuleDocumentInvalid
from entraide.rules.tests.builders import RULESETS, ruleset
from entraide.rules.tests.factories import SIMPLE_RULES, rules_with

IDENTIFIERS = ["fr-nir", "it-codice-fiscale", "es-dni-nie", "gb-nino"]


def with_identifier(value: Any) -> dict[str, Any]:
    data = copy.deepcopy(read_source(SIMPLE_RULES))
    data["identifier"] = value
    return data


def problems_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(RuleDocumentError) as raised:
        build(data)
    return [(problem.path, problem.message) for problem in raised.value.problems]


def test_a_document_without_identifier_asks_for_the_nir() -> None:
    assert "identifier" not in read_source(SIMPLE_RULES)

    assert load(SIMPLE_RULES).identifier == DEFAULT_IDENTIFIER == "fr-nir"


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_a_document_names_its_identifier(identifier: str) -> None:
    assert build(with_identifier(identifier)).identifier == identifier


def test_the_french_reference_documents_ask_for_the_nir() -> None:
    for name in ("netflix-audiens", "fussat-2020-09-16", "fussat-2020-11-20", "fussat-2021"):
        assert ruleset(name).identifier == "fr-nir", name


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("us-ssn", f"'us-ssn' is not one of {IDENTIFIERS}"),
        ("GB-NINO", f"'GB-NINO' is not one of {IDENTIFIERS}"),
        ("", f"'' is not one of {IDENTIFIERS}"),
        (44, f"44 is not one of {IDENTIFIERS}"),
    ],
)
def test_an_unknown_identifier_is_a_problem_on_its_path(value: Any, message: str) -> None:
    assert problems_of(with_identifier(value)) == [("identifier", message)]


@pytest.mark.django_db
def test_an_operator_saving_rules_with_an_unknown_identifier_is_told_where() -> None:
    fund = FundFactory(currency="EUR")
    operator = FundRoleFactory(fund=fund, role="operator_admin").user

    with pytest.raises(RuleDocumentInvalid) as refused:
        rules.save_draft(
            actor=operator,
            fund=fund,
            source=rules_with(**{"currency: EUR": "currency: EUR\nidentifier: nir"}),
        )

    assert [problem.path for problem in refused.value.problems] == ["identifier"]
    draft = rules.save_draft(
        actor=operator,
        fund=fund,
        source=rules_with(**{"currency: EUR": "currency: EUR\nidentifier: it-codice-fiscale"}),
    )
    assert rules.validate_source(draft.source, fund=fund).identifier == "it-codice-fiscale"


@pytest.mark.django_db
def test_the_starting_document_shows_the_key_with_the_nir() -> None:
    fund: Fund = FundFactory(currency="GBP")

    source = starter_source(fund)

    assert "\nidentifier: fr-nir\n" in source
    assert load(source).identifier == "fr-nir"


def test_every_reference_document_names_a_known_identifier() -> None:
    for path in sorted(RULESETS.glob("*.yaml")):
        assert load(path.read_text(encoding="utf-8")).identifier in IDENTIFIERS, path.name
