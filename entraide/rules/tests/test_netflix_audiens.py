"""The Netflix × Audiens rule document (rulesets/netflix-audiens.yaml) on hand-built applicants:
every criterion, every window edge and threshold, in French and in English."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from entraide.rules.tests.builders import (
    Record,
    benefit,
    cachets,
    check,
    contract,
    criterion,
    days,
    plain,
    rights,
    ruleset,
)

AT = "2020-04-15"  # applications opened on 15 April 2020
DOCUMENT = ruleset("netflix-audiens")
# A sector worker (3 days in May 2019), outside September–February: each test adds the one
# path to eligibility it is about.
SECTOR_ONLY = days("2019-05-06", 3)
RIGHTS_OPENED_2019 = rights("8", "2019-06-01", "2020-05-31", status="open")


def netflix(*records: Record, language: str = "fr", **facts: Any) -> Any:
    facts.setdefault("annual_resources", "14000")
    facts.setdefault("profession", "technician")
    return check(DOCUMENT, records, at=AT, language=language, **facts)


# -- at least 12 days or cachets between September 2019 and February 2020 --------------------------


@pytest.mark.parametrize(
    ("records", "measured", "passed"),
    [
        pytest.param([days("2019-10-01", 12)], 12, True, id="exactly-12-days-pass"),
        pytest.param([days("2019-10-01", 11)], 11, False, id="11-days-fail"),
        pytest.param([days("2019-10-01", 13)], 13, True, id="13-days-pass"),
        pytest.param([days("2019-08-31", 1)], 0, False, id="day-before-window-not-counted"),
        pytest.param([days("2019-09-01", 1)], 1, False, id="first-day-of-window-counted"),
        pytest.param([days("2020-02-29", 1)], 1, False, id="last-day-of-window-counted"),
        pytest.param([days("2020-03-01", 1)], 0, False, id="day-after-window-not-counted"),
        pytest.param(
            [contract("2019-08-25", "2019-09-05", hours=70)], 5, False, id="clipped-at-window-start"
        ),
        pytest.param(
            [contract("2020-02-20", "2020-03-10", hours=70)], 10, False, id="clipped-at-window-end"
        ),
        pytest.param(
            [contract("2019-08-01", "2020-03-31", hours=900)], 182, True, id="covers-whole-window"
        ),
        pytest.param(
            [days("2019-10-01", 10), days("2019-10-05", 10)],
            14,
            True,
            id="overlapping-contracts-counted-once",
        ),
        pytest.param(
            [days("2019-10-01", 12), days("2019-10-01", 12)],
            12,
            True,
            id="same-days-two-employers-counted-once",
        ),
        pytest.param(
            [days("2019-10-01", 6), days("2019-10-07", 6)], 12, True, id="adjacent-contracts-add-up"
        ),
        pytest.param(
            [contract("2019-10-01", hours=200)], 1, False, id="many-hours-one-day-is-one-day"
        ),
        pytest.param([cachets("2019-10-01", 12)], 12, True, id="12-cachets-are-12-days"),
        pytest.param([cachets("2019-10-01", 11)], 11, False, id="11-cachets-fail"),
        pytest.param(
            [cachets("2019-10-01", 12, end="2019-10-03")],
            12,
            True,
            id="cachets-count-not-the-days-the-contract-covers",
        ),
        pytest.param(
            [cachets("2019-08-31", 12, end="2019-09-10")],
            0,
            False,
            id="cachets-of-contract-started-before-window-not-counted",
        ),
        pytest.param(
            [cachets("2020-02-29", 12, end="2020-03-05")],
            12,
            True,
            id="cachets-of-contract-started-on-last-day-counted",
        ),
        pytest.param(
            [days("2019-10-01", 6), cachets("2019-11-04", 6)], 12, True, id="days-plus-cachets"
        ),
        pytest.param(
            [days("2019-10-01", 12, naf="59.11B")], 12, True, id="naf-59-11B-institutional-films"
        ),
        pytest.param(
            [days("2019-10-01", 12, naf="59.11C")], 12, True, id="naf-59-11C-cinema-films"
        ),
        pytest.param(
            [days("2019-10-01", 12, naf="59.12Z")],
            0,
            False,
            id="naf-59-12Z-post-production-excluded",
        ),
        pytest.param(
            [days("2019-10-01", 12, naf="90.01Z")],
            0,
            False,
            id="naf-90-01Z-performing-arts-excluded",
        ),
        pytest.param([days("2019-10-01", 12, contract_type="CDD")], 12, True, id="cdd-counts"),
        pytest.param([days("2019-10-01", 12, contract_type="CDI")], 0, False, id="cdi-excluded"),
        pytest.param(
            [days("2019-10-01", 12, idcc="3097")], 12, True, id="any-collective-agreement"
        ),
    ],
)
def test_days_worked_between_september_and_february(
    records: list[Record], measured: int, passed: bool
) -> None:
    result = criterion(netflix(*records), "worked_12_days")

    assert (result.value, result.passed) == (Decimal(measured), passed)


@pytest.mark.parametrize(
    ("language", "worked", "expected"),
    [
        (
            "fr",
            9,
            "Vous avez travaillé 9 jours entre le 01/09/2019 et le 29/02/2020 ; 12 sont requis.",
        ),
        (
            "fr",
            12,
            "Vous avez travaillé 12 jours entre le 01/09/2019 et le 29/02/2020 ; 12 sont requis.",
        ),
        ("en", 9, "You worked 9 days between 1 Sept 2019 and 29 Feb 2020; 12 are required."),
        ("en", 12, "You worked 12 days between 1 Sept 2019 and 29 Feb 2020; 12 are required."),
    ],
)
def test_days_explanation_gives_the_days_worked_the_window_and_the_threshold(
    language: str, worked: int, expected: str
) -> None:
    evaluation = netflix(days("2019-10-01", worked), language=language)

    assert criterion(evaluation, "worked_12_days").explanation == expected


def test_twelve_days_alone_make_an_applicant_eligible() -> None:
    evaluation = netflix(days("2019-10-01", 12), RIGHTS_OPENED_2019)

    assert [c.id for c in evaluation.criteria if c.passed] == [
        "sector_worker",
        "worked_12_days",
        "low_resources",
    ]
    assert evaluation.eligible


def test_eleven_days_without_another_path_are_not_enough() -> None:
    evaluation = netflix(days("2019-10-01", 11), RIGHTS_OPENED_2019)

    assert not evaluation.eligible
    assert evaluation.amount == Decimal("0.00")


# -- intermittent of audiovisual or cinema (any work in the sector, March 2019 – February 2020) ----


@pytest.mark.parametrize(
    ("record", "passed"),
    [
        pytest.param(days("2019-02-28", 1), False, id="day-before-window"),
        pytest.param(days("2019-03-01", 1), True, id="first-day-of-window"),
        pytest.param(days("2020-02-29", 1), True, id="last-day-of-window"),
        pytest.param(days("2020-03-01", 1), False, id="day-after-window"),
        pytest.param(cachets("2019-03-01", 1), True, id="one-cachet"),
        pytest.param(days("2019-06-03", 5, naf="59.12Z"), False, id="post-production-only"),
        pytest.param(
            days("2019-06-03", 5, contract_type="CDI"), False, id="permanent-contract-only"
        ),
    ],
)
def test_sector_worker_needs_a_fixed_term_contract_in_production(
    record: Record, passed: bool
) -> None:
    assert criterion(netflix(record), "sector_worker").passed is passed


def test_no_sector_work_means_not_eligible_whatever_the_other_paths() -> None:
    evaluation = netflix(
        days("2019-10-01", 20, naf="90.01Z"), rights("10", "2018-11-01", "2020-02-15")
    )

    assert criterion(evaluation, "could_not_renew").passed
    assert criterion(evaluation, "no_opening_2019").passed
    assert not criterion(evaluation, "sector_worker").passed
    assert not evaluation.eligible


def test_sector_explanation_names_the_window() -> None:
    fr = netflix(SECTOR_ONLY)
    en = netflix(SECTOR_ONLY, language="en")

    assert criterion(fr, "sector_worker").explanation == (
        "Vous avez travaillé 3 jours dans l'audiovisuel ou le cinéma "
        "entre le 01/03/2019 et le 29/02/2020."
    )
    assert criterion(en, "sector_worker").explanation == (
        "You worked 3 days in audiovisual or cinema between 1 Mar 2019 and 29 Feb 2020."
    )
    assert criterion(netflix(), "sector_worker").explanation == (
        "Aucun contrat dans l'audiovisuel ou le cinéma entre le 01/03/2019 et le 29/02/2020."
    )


# -- rights not renewed since 1 January 2020 -------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "passed"),
    [
        pytest.param([rights("8", "2018-11-01", "2019-12-31")], False, id="ended-day-before-2020"),
        pytest.param([rights("8", "2018-11-01", "2020-01-01")], True, id="ended-1-january-2020"),
        pytest.param([rights("10", "2018-11-01", "2020-02-15")], True, id="annex-10"),
        pytest.param([rights("general", "2018-11-01", "2020-02-15")], False, id="general-scheme"),
        pytest.param([rights("8", "2019-04-16", AT)], True, id="ends-on-evaluation-date"),
        pytest.param(
            [rights("8", "2019-04-17", "2020-04-16", status="open")],
            False,
            id="ends-day-after-evaluation-date",
        ),
        pytest.param(
            [rights("8", "2018-11-01", "2020-01-10"), rights("8", "2020-02-01", "2021-01-31")],
            False,
            id="renewed-in-2020",
        ),
        pytest.param(
            [rights("8", "2018-11-01", "2020-01-10"), rights("8", AT, "2021-04-14")],
            False,
            id="renewed-on-evaluation-date",
        ),
        pytest.param(
            [rights("8", "2018-11-01", "2020-01-10"), rights("8", "2020-04-16", "2021-04-15")],
            True,
            id="renewed-day-after-evaluation-date",
        ),
        pytest.param(
            [
                rights("8", "2018-11-01", "2020-01-10"),
                rights("general", "2020-02-01", "2021-01-31"),
            ],
            True,
            id="general-opening-is-no-renewal",
        ),
        pytest.param([], False, id="no-rights"),
    ],
)
def test_could_not_renew_annex_8_or_10_rights_since_january_2020(
    records: list[Record], passed: bool
) -> None:
    assert criterion(netflix(*records), "could_not_renew").passed is passed


def test_rights_ended_in_2020_alone_make_an_applicant_eligible() -> None:
    evaluation = netflix(SECTOR_ONLY, rights("8", "2019-02-01", "2020-02-01"))

    assert not criterion(evaluation, "no_opening_2019").passed
    assert not criterion(evaluation, "worked_12_days").passed
    assert criterion(evaluation, "could_not_renew").passed
    assert evaluation.eligible


# -- no opening of rights during 2019 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "passed"),
    [
        pytest.param([rights("8", "2018-12-31", "2019-12-30")], True, id="opened-day-before-2019"),
        pytest.param([rights("8", "2019-01-01", "2019-12-31")], False, id="opened-1-january-2019"),
        pytest.param([rights("10", "2019-12-31", "2020-12-30", "open")], False, id="opened-31-dec"),
        pytest.param([rights("8", "2020-01-01", "2020-12-31", "open")], True, id="opened-in-2020"),
        pytest.param([rights("general", "2019-06-01", "2020-05-31", "open")], True, id="general"),
        pytest.param([], True, id="no-rights-at-all"),
    ],
)
def test_no_annex_8_or_10_opening_during_2019(records: list[Record], passed: bool) -> None:
    assert criterion(netflix(*records), "no_opening_2019").passed is passed


def test_no_opening_in_2019_alone_makes_a_sector_worker_eligible() -> None:
    evaluation = netflix(SECTOR_ONLY)

    assert [c.id for c in evaluation.criteria if c.passed] == [
        "sector_worker",
        "no_opening_2019",
        "low_resources",
    ]
    assert evaluation.eligible


def test_no_path_means_not_eligible() -> None:
    evaluation = netflix(SECTOR_ONLY, RIGHTS_OPENED_2019)

    assert not evaluation.eligible
    assert evaluation.amount == Decimal("0.00")
    assert evaluation.components == {"grant": Decimal(0)}


# -- currently receiving unemployment benefits (exclusion) -----------------------------------------


@pytest.mark.parametrize(
    ("paid", "excluded"),
    [
        pytest.param(benefit("annex8", "2020-01-01"), True, id="annex-8-still-paid"),
        pytest.param(benefit("annex10", "2020-01-01"), True, id="annex-10-still-paid"),
        pytest.param(benefit("general", "2020-01-01"), True, id="general-still-paid"),
        pytest.param(benefit("annex8", "2020-01-01", AT), True, id="last-paid-on-evaluation-date"),
        pytest.param(benefit("annex8", "2020-01-01", "2020-04-14"), False, id="ended-day-before"),
        pytest.param(benefit("annex10", AT), True, id="starts-on-evaluation-date"),
        pytest.param(benefit("annex10", "2020-04-16"), False, id="starts-day-after"),
    ],
)
def test_benefits_paid_on_the_evaluation_date_exclude(paid: Record, excluded: bool) -> None:
    evaluation = netflix(days("2019-10-01", 12), paid)

    assert criterion(evaluation, "receives_benefits").passed is excluded
    assert evaluation.eligible is not excluded
    assert evaluation.amount == (Decimal(0) if excluded else Decimal(900))


@pytest.mark.parametrize(
    ("language", "paid", "expected"),
    [
        ("fr", False, "Aucune allocation chômage ne vous est versée au 15/04/2020."),
        ("fr", True, "Une allocation chômage vous est versée au 15/04/2020."),
        ("en", False, "No unemployment benefits are paid to you on 15 Apr 2020."),
        ("en", True, "Unemployment benefits are paid to you on 15 Apr 2020."),
    ],
)
def test_benefits_explanation_gives_the_evaluation_date(
    language: str, paid: bool, expected: str
) -> None:
    records = [benefit("general", "2020-01-01")] if paid else []
    evaluation = netflix(*records, language=language)

    assert criterion(evaluation, "receives_benefits").explanation == expected


# -- amount: €900 up to €15,000 of annual resources, €500 above ------------------------------------


@pytest.mark.parametrize(
    ("resources", "low", "amount"),
    [
        pytest.param("0", True, 900, id="no-resources"),
        pytest.param("14999.99", True, 900, id="just-below"),
        pytest.param("15000", True, 900, id="exactly-15000"),
        pytest.param("15000.01", False, 500, id="one-cent-above"),
        pytest.param("42000", False, 500, id="well-above"),
        pytest.param(None, False, 500, id="unknown-resources"),
    ],
)
def test_amount_depends_on_annual_resources(resources: str | None, low: bool, amount: int) -> None:
    evaluation = netflix(days("2019-10-01", 12), annual_resources=resources)

    assert criterion(evaluation, "low_resources").passed is low
    assert evaluation.eligible, "resources decide the amount, not the eligibility"
    assert evaluation.amount == Decimal(amount)
    assert evaluation.components == {"grant": Decimal(amount)}


@pytest.mark.parametrize(
    ("language", "resources", "expected"),
    [
        (
            "fr",
            "15000",
            "Vos ressources annuelles (15 000,00 €) ne dépassent pas 15 000 € ; "
            "l'aide est de 900 €.",
        ),
        (
            "fr",
            "15000.01",
            "Vos ressources annuelles (15 000,01 €) dépassent 15 000 € ; l'aide est de 500 €.",
        ),
        (
            "en",
            "15000",
            "Your annual resources (€15,000.00) are at most €15,000; the grant is €900.",
        ),
        (
            "en",
            "15000.01",
            "Your annual resources (€15,000.01) are above €15,000; the grant is €500.",
        ),
    ],
)
def test_resources_explanation_gives_the_declared_resources_and_the_ceiling(
    language: str, resources: str, expected: str
) -> None:
    evaluation = netflix(annual_resources=resources, language=language)

    assert plain(criterion(evaluation, "low_resources").explanation) == expected


# -- the decision as written to decisions.jsonl ----------------------------------------------------


def test_decision_line_names_the_rule_set_version_and_every_criterion() -> None:
    evaluation = netflix(days("2019-10-01", 9), rights("8", "2018-11-01", "2020-01-15"))

    line = evaluation.as_json("A-000001")

    assert line["ref"] == "A-000001"
    assert (line["eligible"], line["amount"], line["currency"]) == (True, "900.00", "EUR")
    assert line["rule_set"] == {"name": "netflix-audiens", "version": "2020-04-15"}
    assert [c["id"] for c in line["criteria"]] == [
        "sector_worker",
        "could_not_renew",
        "no_opening_2019",
        "worked_12_days",
        "receives_benefits",
        "low_resources",
    ]
    worked = line["criteria"][3]
    assert worked == {
        "id": "worked_12_days",
        "passed": False,
        "value": 9,
        "explanation": (
            "Vous avez travaillé 9 jours entre le 01/09/2019 et le 29/02/2020 ; 12 sont requis."
        ),
    }
    assert line["criteria"][1]["value"] == {"rights_ended_2020": 1, "rights_opened_2020": 0}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_explanation_is_filled_in(language: str) -> None:
    for records in ([], [days("2019-10-01", 12), benefit("general", "2020-01-01")]):
        evaluation = netflix(*records, language=language)
        for result in evaluation.criteria:
            assert result.explanation
            assert "{" not in result.explanation, result.id
