"""The three versions of the FUSSAT rule document (rulesets/fussat-*.yaml) on hand-built
applicants: the five aids, every window edge and threshold, the cap of aid 5, the amounts of
each version, explanations in French and in English."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from entraide.rules.document import RuleDocument
from entraide.rules.engine import Evaluation
from entraide.rules.tests.builders import (
    Record,
    benefit,
    cachets,
    cancelled,
    check,
    contract,
    criterion,
    hours,
    rights,
    ruleset,
)

SEPTEMBER = ruleset("fussat-2020-09-16")
NOVEMBER = ruleset("fussat-2020-11-20")
YEAR_2021 = ruleset("fussat-2021")
VERSIONS = {"2020-09-16": SEPTEMBER, "2020-11-20": NOVEMBER, "2021-01-01": YEAR_2021}
# An evaluation date inside each version's life.
# (rule documents hold dicts, so they are looked up by version)
AT = {"2020-09-16": "2020-10-01", "2020-11-20": "2020-11-25", "2021-01-01": "2021-02-01"}
ONE_OFF = {"2020-09-16": 1000, "2020-11-20": 1000, "2021-01-01": 1500}
PER_CACHET = {"2020-09-16": 100, "2020-11-20": 100, "2021-01-01": 150}
AID_1_TO_4 = ["building_rights", "rights_ended_dec_feb", "artist", "leave_prevented_reopening"]


def fussat(
    document: RuleDocument = SEPTEMBER,
    *records: Record,
    at: str | None = None,
    language: str = "fr",
    **facts: Any,
) -> Evaluation:
    facts.setdefault("profession", "technician")
    facts.setdefault("residence_country", "FR")
    return check(document, records, at=at or AT[document.version], language=language, **facts)


def passed(evaluation: Evaluation, criterion_id: str) -> bool:
    return criterion(evaluation, criterion_id).passed


def one_off(evaluation: Evaluation) -> Decimal:
    return evaluation.components["one_off"]


def per_cachet(evaluation: Evaluation) -> Decimal:
    return evaluation.components["per_cancelled_cachet"]


# -- the versions ----------------------------------------------------------------------------------


def test_three_versions_of_one_rule_set_with_their_effective_dates() -> None:
    assert {(d.id, d.version, d.effective_from.isoformat()) for d in VERSIONS.values()} == {
        ("fussat", "2020-09-16", "2020-09-16"),
        ("fussat", "2020-11-20", "2020-11-20"),
        ("fussat", "2021-01-01", "2021-01-01"),
    }


def _without_labels(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_labels(v) for k, v in value.items() if k not in ("label", "version")}
    if isinstance(value, list):
        return [_without_labels(item) for item in value]
    return value


@pytest.mark.parametrize(
    ("earlier", "later", "changes"),
    [
        (SEPTEMBER, NOVEMBER, {("parameters", "min_hours"): (361, 250)}),
        (
            NOVEMBER,
            YEAR_2021,
            {
                ("parameters", "one_off_amount"): (1000, 1500),
                ("parameters", "amount_per_cachet"): (100, 150),
                ("amount", "one_off"): (1000, 1500),
                ("amount", "per_cancelled_cachet"): (100, 150),
            },
        ),
    ],
)
def test_versions_differ_only_in_threshold_and_amounts(
    earlier: RuleDocument, later: RuleDocument, changes: dict[tuple[str, str], tuple[int, int]]
) -> None:
    def significant(document: RuleDocument) -> dict[tuple[str, str], Any]:
        source = _without_labels(document.source)
        values = {("parameters", k): v for k, v in source.pop("parameters").items()}
        for component in source["amount"].pop("components"):
            amount = component.get("flat") or component["per_unit"]["rate"]
            values["amount", component["id"]] = amount
        source.pop("effective_from")
        source.pop("description")
        values["rest", ""] = source
        return values

    before, after = significant(earlier), significant(later)
    assert {k: (before[k], after[k]) for k in before if before[k] != after[k]} == changes


@pytest.mark.parametrize("document", VERSIONS.values(), ids=VERSIONS.keys())
def test_amount_parameters_repeat_the_amount_components(document: RuleDocument) -> None:
    """Explanations quote the parameters; the amounts come from the components."""
    components = {c.id: c for c in document.components}

    assert document.parameters["one_off_amount"] == components["one_off"].flat
    assert document.parameters["amount_per_cachet"] == components["per_cancelled_cachet"].rate
    assert document.parameters["capped_cachets"] == components["per_cancelled_cachet"].cap


def test_the_same_applicant_gains_aid_1_when_the_threshold_is_lowered() -> None:
    worked_300_hours = [hours("2019-06-03", 300)]

    september = fussat(SEPTEMBER, *worked_300_hours, at="2020-11-19")
    november = fussat(NOVEMBER, *worked_300_hours, at="2020-11-20")
    in_2021 = fussat(YEAR_2021, *worked_300_hours, at="2021-01-01")

    assert (september.eligible, september.amount) == (False, Decimal(0))
    assert (november.eligible, november.amount) == (True, Decimal(1000))
    assert (in_2021.eligible, in_2021.amount) == (True, Decimal(1500))
    assert (november.version, in_2021.version) == ("2020-11-20", "2021-01-01")


# -- aid 1: building rights ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "worked", "eligible"),
    [
        pytest.param(SEPTEMBER, 361, True, id="september-361h"),
        pytest.param(SEPTEMBER, 360, False, id="september-360h"),
        pytest.param(SEPTEMBER, "360.5", False, id="september-360.5h"),
        pytest.param(SEPTEMBER, 506, True, id="september-506h"),
        pytest.param(SEPTEMBER, "506.99", True, id="september-506.99h"),
        pytest.param(SEPTEMBER, 507, False, id="september-507h-opens-rights"),
        pytest.param(SEPTEMBER, 250, False, id="september-250h"),
        pytest.param(NOVEMBER, 250, True, id="november-250h"),
        pytest.param(NOVEMBER, 249, False, id="november-249h"),
        pytest.param(NOVEMBER, 361, True, id="november-361h"),
        pytest.param(NOVEMBER, 507, False, id="november-507h"),
        pytest.param(YEAR_2021, 250, True, id="2021-250h"),
        pytest.param(YEAR_2021, 249, False, id="2021-249h"),
        pytest.param(YEAR_2021, 506, True, id="2021-506h"),
        pytest.param(YEAR_2021, 507, False, id="2021-507h"),
    ],
)
def test_aid_1_hours_from_the_threshold_to_less_than_507(
    document: RuleDocument, worked: int | str, eligible: bool
) -> None:
    evaluation = fussat(document, hours("2019-06-03", worked))

    assert criterion(evaluation, "building_rights").value == Decimal(str(worked))
    assert passed(evaluation, "building_rights") is eligible
    assert evaluation.eligible is eligible
    assert evaluation.amount == (ONE_OFF[document.version] if eligible else 0)


@pytest.mark.parametrize(
    ("records", "measured"),
    [
        pytest.param([cachets("2019-06-03", 31)], 372, id="31-cachets-are-372h"),
        pytest.param([cachets("2019-06-03", 30)], 360, id="30-cachets-are-360h"),
        pytest.param(
            [cachets("2019-06-03", 25), hours("2019-09-02", 61)], 361, id="cachets-plus-hours"
        ),
        pytest.param(
            [contract("2019-06-03", "2019-06-07", hours=1, cachets=30)],
            361,
            id="hours-and-cachets-on-one-contract",
        ),
        pytest.param([hours("2019-02-28", 400)], 0, id="started-day-before-window"),
        pytest.param([hours("2019-03-01", 400)], 400, id="started-on-1-march-2019"),
        pytest.param([hours("2020-03-01", 400)], 400, id="started-on-1-march-2020"),
        pytest.param([hours("2020-03-02", 400)], 0, id="started-day-after-window"),
        pytest.param(
            [contract("2019-02-15", "2019-03-15", hours=400)],
            0,
            id="contract-started-before-window-not-counted",
        ),
        pytest.param(
            [contract("2020-02-15", "2020-03-15", hours=400)],
            400,
            id="contract-started-in-window-counted-whole",
        ),
        pytest.param([hours("2019-06-03", 400, contract_type="CDD")], 0, id="cdd-not-counted"),
        pytest.param([hours("2019-06-03", 400, contract_type="CDI")], 0, id="cdi-not-counted"),
        pytest.param([hours("2019-06-03", 400, naf="90.01Z")], 400, id="performing-arts-counted"),
        pytest.param([hours("2019-06-03", 400, naf="59.20Z")], 400, id="sound-recording-counted"),
    ],
)
def test_aid_1_counts_cddu_hours_of_contracts_starting_in_the_window(
    records: list[Record], measured: int
) -> None:
    evaluation = fussat(SEPTEMBER, *records)

    assert criterion(evaluation, "building_rights").value == Decimal(measured)
    assert passed(evaluation, "building_rights") is (361 <= measured < 507)


@pytest.mark.parametrize(
    ("paid", "blocks"),
    [
        pytest.param([], False, id="no-benefit"),
        pytest.param([benefit("general", "2020-06-01")], True, id="general-still-paid"),
        pytest.param(
            [benefit("general", "2020-06-01", "2020-10-01")], True, id="general-last-paid-today"
        ),
        pytest.param(
            [benefit("general", "2020-06-01", "2020-09-30")], False, id="general-ended-yesterday"
        ),
        pytest.param([benefit("general", "2020-10-02")], False, id="general-starts-tomorrow"),
        pytest.param([benefit("annex8", "2020-06-01")], False, id="annex-8-does-not-block"),
        pytest.param([benefit("annex10", "2020-06-01")], False, id="annex-10-does-not-block"),
    ],
)
def test_aid_1_is_refused_to_whoever_receives_general_scheme_benefits(
    paid: list[Record], blocks: bool
) -> None:
    evaluation = fussat(SEPTEMBER, hours("2019-06-03", 400), *paid)

    assert passed(evaluation, "no_general_benefits") is not blocks
    assert evaluation.eligible is not blocks


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "Vous avez travaillé 300 heures entre le 01/03/2019 et le 01/03/2020 ; "
            "il en faut au moins 361 et moins de 507.",
        ),
        (
            "en",
            "You worked 300 hours between 1 Mar 2019 and 1 Mar 2020; "
            "at least 361 and fewer than 507 are required.",
        ),
    ],
)
def test_aid_1_explanation_gives_hours_window_and_bounds(language: str, expected: str) -> None:
    evaluation = fussat(SEPTEMBER, hours("2019-06-03", 300), language=language)

    assert criterion(evaluation, "building_rights").explanation == expected


def test_aid_1_explanation_quotes_the_november_threshold() -> None:
    evaluation = fussat(NOVEMBER, hours("2019-06-03", 249))

    assert criterion(evaluation, "building_rights").explanation.endswith(
        "; il en faut au moins 250 et moins de 507."
    )


@pytest.mark.parametrize(
    ("language", "paid", "expected"),
    [
        (
            "fr",
            False,
            "Aucune allocation chômage du régime général ne vous est versée au 01/10/2020.",
        ),
        ("fr", True, "Une allocation chômage du régime général vous est versée au 01/10/2020."),
        ("en", False, "No general-scheme unemployment benefits are paid to you on 1 Oct 2020."),
        ("en", True, "General-scheme unemployment benefits are paid to you on 1 Oct 2020."),
    ],
)
def test_aid_1_benefits_explanation_gives_the_date(
    language: str, paid: bool, expected: str
) -> None:
    records = [benefit("general", "2020-06-01")] if paid else []
    evaluation = fussat(SEPTEMBER, *records, language=language)

    assert criterion(evaluation, "no_general_benefits").explanation == expected


# -- aid 2: rights ended between 1 December 2019 and 29 February 2020 ------------------------------


@pytest.mark.parametrize(
    ("records", "ended", "not_reopened"),
    [
        pytest.param([rights("8", "2018-11-01", "2019-11-30")], False, True, id="ended-30-nov"),
        pytest.param([rights("8", "2018-12-01", "2019-12-01")], True, True, id="ended-1-dec"),
        pytest.param([rights("10", "2019-03-01", "2020-02-29")], True, True, id="ended-29-feb"),
        pytest.param([rights("10", "2019-03-02", "2020-03-01")], False, True, id="ended-1-march"),
        pytest.param([rights("general", "2019-01-15", "2020-01-14")], False, True, id="general"),
        pytest.param(
            [rights("8", "2019-01-15", "2020-01-14", status="open")], False, True, id="status-open"
        ),
        pytest.param(
            [rights("8", "2019-01-15", "2020-01-14", status="refused")],
            False,
            True,
            id="status-refused",
        ),
        pytest.param(
            [
                rights("8", "2019-01-15", "2020-01-14"),
                rights("8", "2020-01-15", "2021-01-14", "open"),
            ],
            True,
            False,
            id="reopened-in-january",
        ),
        pytest.param(
            [
                rights("8", "2019-01-15", "2020-01-14"),
                rights("10", "2020-10-01", "2021-09-30", "open"),
            ],
            True,
            False,
            id="reopened-on-evaluation-date",
        ),
        pytest.param(
            [
                rights("8", "2019-01-15", "2020-01-14"),
                rights("10", "2020-10-02", "2021-10-01", "open"),
            ],
            True,
            True,
            id="reopened-day-after-evaluation-date",
        ),
        pytest.param(
            [
                rights("8", "2019-01-15", "2020-01-14"),
                rights("general", "2020-02-01", "2021-01-31"),
            ],
            True,
            True,
            id="general-opening-is-no-reopening",
        ),
        pytest.param(
            [rights("8", "2018-12-01", "2019-12-01"), rights("8", "2018-11-30", "2019-11-29")],
            True,
            True,
            id="opened-30-nov-is-no-reopening",
        ),
    ],
)
def test_aid_2_annex_rights_ended_between_december_and_february_and_not_reopened(
    records: list[Record], ended: bool, not_reopened: bool
) -> None:
    evaluation = fussat(SEPTEMBER, *records)

    assert passed(evaluation, "rights_ended_dec_feb") is ended
    assert passed(evaluation, "not_reopened_since_dec") is not_reopened
    assert evaluation.eligible is (ended and not_reopened)
    assert evaluation.amount == (1000 if ended and not_reopened else 0)


@pytest.mark.parametrize(
    ("language", "reopened", "expected"),
    [
        (
            "fr",
            False,
            "Vos droits à l'annexe 8 ou 10 ont pris fin entre le 01/12/2019 et le 29/02/2020.",
        ),
        ("en", False, "Your Annex 8 or 10 rights ended between 1 Dec 2019 and 29 Feb 2020."),
        (
            "fr",
            True,
            "Des droits à l'annexe 8 ou 10 se sont ouverts entre le 01/12/2019 et le 01/10/2020.",
        ),
        ("en", True, "Annex 8 or 10 rights opened between 1 Dec 2019 and 1 Oct 2020."),
    ],
)
def test_aid_2_explanations_give_the_windows(language: str, reopened: bool, expected: str) -> None:
    records = [rights("8", "2019-01-15", "2020-01-14")]
    if reopened:
        records.append(rights("8", "2020-06-01", "2021-05-31", status="open"))
    evaluation = fussat(SEPTEMBER, *records, language=language)
    shown = "not_reopened_since_dec" if reopened else "rights_ended_dec_feb"

    assert criterion(evaluation, shown).explanation == expected


# -- aid 3: artists living in France and working mostly abroad -------------------------------------

FIVE_DATES = [cancelled(f"2020-04-0{n}") for n in range(1, 6)]
ARTIST_ABROAD = {"profession": "artist", "residence_country": "FR", "works_mostly_abroad": True}


def artist_abroad(*records: Record, **facts: Any) -> Evaluation:
    return fussat(SEPTEMBER, *records, **{**ARTIST_ABROAD, **facts})


def test_aid_3_artist_in_france_working_abroad_with_five_cancelled_dates() -> None:
    evaluation = artist_abroad(*FIVE_DATES)

    assert [c.id for c in evaluation.criteria if c.passed] == [
        "no_general_benefits",
        "not_reopened_since_dec",
        "artist",
        "resides_in_france",
        "mostly_abroad",
        "five_dates_cancelled",
        "no_unemployment_insurance",
        "not_reopened_since_march",
    ]
    assert evaluation.eligible
    # the cancelled contracts carry no signature date: aid 5 pays nothing for them
    assert evaluation.components == {"one_off": 1000, "per_cancelled_cachet": 0}


@pytest.mark.parametrize(
    ("records", "dates", "enough"),
    [
        pytest.param(FIVE_DATES, 5, True, id="exactly-5-dates"),
        pytest.param(FIVE_DATES[:4], 4, False, id="4-dates"),
        pytest.param(
            [*FIVE_DATES[:4], cancelled("2020-04-04", siret="48815556200036")],
            4,
            False,
            id="two-cancellations-on-one-date-count-once",
        ),
        pytest.param(
            [*FIVE_DATES[:4], cancelled("2020-02-29")], 4, False, id="date-day-before-window"
        ),
        pytest.param([*FIVE_DATES[:4], cancelled("2020-03-01")], 5, True, id="first-day"),
        pytest.param([*FIVE_DATES[:4], cancelled("2020-08-31")], 5, True, id="last-day"),
        pytest.param([*FIVE_DATES[:4], cancelled("2020-09-01")], 4, False, id="day-after-window"),
        pytest.param(
            [*FIVE_DATES[:4], cancelled("2020-05-12", count=3)],
            5,
            True,
            id="dates-not-cachets-are-counted",
        ),
    ],
)
def test_aid_3_needs_five_distinct_cancelled_dates_from_march_to_august(
    records: list[Record], dates: int, enough: bool
) -> None:
    evaluation = artist_abroad(*records)

    assert criterion(evaluation, "five_dates_cancelled").value == dates
    assert passed(evaluation, "five_dates_cancelled") is enough
    assert evaluation.components["one_off"] == (1000 if enough else 0)


@pytest.mark.parametrize(
    ("facts", "failing"),
    [
        pytest.param({"profession": "technician"}, "artist", id="technician"),
        pytest.param({"residence_country": "BE"}, "resides_in_france", id="lives-in-belgium"),
        pytest.param({"residence_country": None}, "resides_in_france", id="residence-unknown"),
        pytest.param({"works_mostly_abroad": False}, "mostly_abroad", id="works-in-france"),
        pytest.param({"works_mostly_abroad": None}, "mostly_abroad", id="abroad-not-answered"),
    ],
)
def test_aid_3_is_for_artists_living_in_france_and_working_mostly_abroad(
    facts: dict[str, Any], failing: str
) -> None:
    evaluation = artist_abroad(*FIVE_DATES, **facts)

    assert not passed(evaluation, failing)
    assert not evaluation.eligible


@pytest.mark.parametrize(
    ("record", "insured"),
    [
        pytest.param(rights("10", "2020-03-01", "2021-02-28", "open"), True, id="open-annex-10"),
        pytest.param(
            rights("general", "2020-03-01", "2021-02-28", "open"), True, id="open-general-rights"
        ),
        pytest.param(rights("10", "2018-03-01", "2019-02-28"), False, id="ended-rights"),
        pytest.param(benefit("general", "2020-06-01"), True, id="general-benefit-paid"),
        pytest.param(benefit("annex10", "2020-06-01", "2020-10-01"), True, id="paid-until-today"),
        pytest.param(benefit("annex10", "2020-06-01", "2020-09-30"), False, id="ended-yesterday"),
    ],
)
def test_aid_3_is_for_artists_without_unemployment_insurance(record: Record, insured: bool) -> None:
    evaluation = artist_abroad(*FIVE_DATES, record)

    assert passed(evaluation, "no_unemployment_insurance") is not insured
    assert evaluation.eligible is not insured


@pytest.mark.parametrize(
    ("language", "criterion_id", "facts", "expected"),
    [
        (
            "fr",
            "five_dates_cancelled",
            {},
            "4 dates ont été annulées entre le 01/03/2020 et le 31/08/2020 ; 5 sont requises.",
        ),
        (
            "en",
            "five_dates_cancelled",
            {},
            "4 dates were cancelled between 1 Mar 2020 and 31 Aug 2020; 5 are required.",
        ),
        (
            "fr",
            "resides_in_france",
            {"residence_country": "BE"},
            "Vous avez déclaré résider hors de France (BE).",
        ),
        (
            "en",
            "resides_in_france",
            {"residence_country": "BE"},
            "You declared that you live outside France (BE).",
        ),
        (
            "fr",
            "artist",
            {"profession": "technician"},
            "Cette aide est réservée aux artistes ; vous avez déclaré : Technicien·ne.",
        ),
        (
            "en",
            "artist",
            {"profession": "technician"},
            "This aid is for artists; you declared: Technician.",
        ),
        (
            "fr",
            "mostly_abroad",
            {"works_mostly_abroad": None},
            "Vous n'avez pas déclaré travailler principalement à l'étranger.",
        ),
        (
            "fr",
            "no_unemployment_insurance",
            {},
            "Vous n'avez ni droits ouverts à l'assurance chômage ni allocation versée au "
            "01/10/2020.",
        ),
    ],
)
def test_aid_3_explanations_give_what_was_measured_or_declared(
    language: str, criterion_id: str, facts: dict[str, Any], expected: str
) -> None:
    evaluation = artist_abroad(*FIVE_DATES[:4], language=language, **facts)

    assert criterion(evaluation, criterion_id).explanation == expected


def test_aid_3_insurance_explanation_shows_rights_and_benefits() -> None:
    evaluation = artist_abroad(
        rights("10", "2020-03-01", "2021-02-28", "open"), benefit("annex10", "2020-03-01")
    )

    assert criterion(evaluation, "no_unemployment_insurance").explanation == (
        "Au 01/10/2020, vous avez des droits ouverts à l'assurance chômage (1) "
        "ou une allocation versée (1)."
    )


# -- aid 4: rights not reopened because of maternity, adoption or long illness ---------------------


@pytest.mark.parametrize(
    ("records", "leave", "not_reopened"),
    [
        pytest.param(
            [rights("10", "2019-05-01", "2020-05-15", reason="maternity")],
            True,
            True,
            id="maternity",
        ),
        pytest.param(
            [rights("8", "2019-05-01", "2020-05-15", reason="adoption")], True, True, id="adoption"
        ),
        pytest.param(
            [rights("8", "2019-05-01", "2020-05-15", reason="illness")], True, True, id="illness"
        ),
        pytest.param([rights("8", "2019-05-01", "2020-05-15")], False, True, id="no-reason"),
        pytest.param(
            [rights("8", "2019-05-01", "2020-05-15", reason="training")],
            False,
            True,
            id="other-reason",
        ),
        pytest.param(
            [rights("8", "2019-05-01", "2020-05-15", "refused", "maternity")],
            True,
            True,
            id="refused",
        ),
        pytest.param(
            [rights("8", "2019-05-01", "2020-05-15", "open", "maternity")],
            False,
            True,
            id="still-open",
        ),
        pytest.param(
            [rights("general", "2019-05-01", "2020-05-15", reason="illness")],
            False,
            True,
            id="general",
        ),
        pytest.param(
            # refused, so that aid 2 (ended from December to February) stays out of the way
            [rights("8", "2019-03-01", "2020-02-29", "refused", "illness")],
            False,
            True,
            id="ended-29-feb",
        ),
        pytest.param(
            [rights("8", "2019-03-02", "2020-03-01", reason="illness")],
            True,
            True,
            id="ended-1-march",
        ),
        pytest.param(
            [rights("8", "2019-09-01", "2020-08-31", reason="illness")],
            True,
            True,
            id="ended-31-aug",
        ),
        pytest.param(
            [rights("8", "2019-09-02", "2020-09-01", reason="illness")],
            False,
            True,
            id="ended-1-sep",
        ),
        pytest.param(
            [
                rights("8", "2019-05-01", "2020-05-15", reason="maternity"),
                rights("8", "2020-09-15", "2021-09-14", "open"),
            ],
            True,
            False,
            id="reopened-in-september",
        ),
        pytest.param(
            [
                rights("8", "2019-05-01", "2020-05-15", reason="maternity"),
                rights("8", "2020-10-02", "2021-10-01", "open"),
            ],
            True,
            True,
            id="reopened-after-evaluation-date",
        ),
        pytest.param(
            [
                rights("8", "2019-05-01", "2020-05-15", reason="maternity"),
                rights("10", "2020-02-29", "2021-02-28", "open"),
            ],
            True,
            True,
            id="opened-29-feb-is-no-reopening",
        ),
    ],
)
def test_aid_4_rights_not_reopened_because_of_leave_from_march_to_august(
    records: list[Record], leave: bool, not_reopened: bool
) -> None:
    evaluation = fussat(SEPTEMBER, *records)

    assert passed(evaluation, "leave_prevented_reopening") is leave
    assert passed(evaluation, "not_reopened_since_march") is not_reopened
    assert evaluation.components["one_off"] == (1000 if leave and not_reopened else 0)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "Vos droits à l'annexe 8 ou 10 n'ont pu être rouverts entre le 01/03/2020 et le "
            "31/08/2020 en raison d'une maternité, d'une adoption ou d'une maladie longue.",
        ),
        (
            "en",
            "Your Annex 8 or 10 rights could not be reopened between 1 Mar 2020 and 31 Aug 2020 "
            "because of maternity, adoption or long illness.",
        ),
    ],
)
def test_aid_4_explanation_gives_the_window(language: str, expected: str) -> None:
    evaluation = fussat(
        SEPTEMBER, rights("10", "2019-05-01", "2020-05-15", reason="adoption"), language=language
    )

    assert criterion(evaluation, "leave_prevented_reopening").explanation == expected


# -- aid 5: per cancelled cachet -------------------------------------------------------------------


def cancelled_cachets(count: int, date: str = "2020-04-10", signed: str = "2020-03-05") -> Record:
    return cancelled(date, count=count, signed=signed)


UNDER_CONTRACT = contract("2020-09-15", "2020-10-15", hours=100, contract_type="CDD")
OPEN_RIGHTS = rights("8", "2020-06-01", "2021-05-31", status="open")


@pytest.mark.parametrize(
    ("records", "counted"),
    [
        pytest.param([cancelled_cachets(3)], 3, id="3-cachets-on-one-date"),
        pytest.param([cancelled_cachets(1), cancelled_cachets(1, "2020-04-11")], 2, id="two-dates"),
        pytest.param([cancelled_cachets(2, date="2020-02-29")], 0, id="cancelled-day-before"),
        pytest.param([cancelled_cachets(2, date="2020-03-01")], 2, id="cancelled-1-march"),
        pytest.param([cancelled_cachets(2, date="2020-08-31")], 2, id="cancelled-31-august"),
        pytest.param([cancelled_cachets(2, date="2020-09-01")], 0, id="cancelled-day-after"),
        pytest.param([cancelled_cachets(2, signed="2020-02-29")], 0, id="signed-day-before"),
        pytest.param([cancelled_cachets(2, signed="2020-03-01")], 2, id="signed-1-march"),
        pytest.param(
            [cancelled_cachets(2, date="2020-08-31", signed="2020-08-31")], 2, id="signed-31-aug"
        ),
        pytest.param(
            [cancelled_cachets(2, date="2020-08-31", signed="2020-09-01")], 0, id="signed-after"
        ),
        pytest.param([cancelled("2020-04-10", count=2)], 0, id="no-signature-date"),
    ],
)
def test_aid_5_counts_cachets_cancelled_and_signed_from_march_to_august(
    records: list[Record], counted: int
) -> None:
    evaluation = fussat(SEPTEMBER, *records)

    assert criterion(evaluation, "cachets_cancelled").value == counted
    assert evaluation.eligible is (counted > 0)
    assert evaluation.components == {"one_off": 0, "per_cancelled_cachet": 100 * counted}


@pytest.mark.parametrize(
    ("document", "count", "situation", "paid_cachets"),
    [
        pytest.param(SEPTEMBER, 8, [], 8, id="no-contract-no-rights-uncapped"),
        pytest.param(SEPTEMBER, 20, [], 20, id="20-uncapped"),
        pytest.param(SEPTEMBER, 8, [UNDER_CONTRACT], 5, id="under-contract-capped"),
        pytest.param(SEPTEMBER, 8, [OPEN_RIGHTS], 5, id="open-rights-capped"),
        pytest.param(SEPTEMBER, 8, [UNDER_CONTRACT, OPEN_RIGHTS], 5, id="both-capped"),
        pytest.param(SEPTEMBER, 5, [UNDER_CONTRACT], 5, id="exactly-5-capped"),
        pytest.param(SEPTEMBER, 6, [UNDER_CONTRACT], 5, id="6-capped-to-5"),
        pytest.param(SEPTEMBER, 4, [OPEN_RIGHTS], 4, id="4-under-cap"),
        pytest.param(
            SEPTEMBER,
            8,
            [contract("2020-09-01", "2020-09-30", hours=100)],
            8,
            id="contract-ended-yesterday-uncapped",
        ),
        pytest.param(
            SEPTEMBER,
            8,
            [contract("2020-09-01", "2020-10-01", cachets=3)],
            5,
            id="contract-ending-today-capped",
        ),
        pytest.param(
            SEPTEMBER,
            8,
            [contract("2020-10-02", "2020-10-30", hours=100)],
            8,
            id="contract-starting-tomorrow-uncapped",
        ),
        pytest.param(
            SEPTEMBER,
            8,
            [contract("2020-01-01", "2020-12-31", hours=1200, contract_type="CDI")],
            5,
            id="permanent-contract-capped",
        ),
        pytest.param(
            SEPTEMBER, 8, [rights("8", "2019-06-01", "2020-05-31")], 8, id="ended-rights-uncapped"
        ),
        pytest.param(
            SEPTEMBER,
            8,
            [rights("general", "2020-06-01", "2021-05-31", "open")],
            5,
            id="open-general-rights-capped",
        ),
        pytest.param(YEAR_2021, 8, [], 8, id="2021-uncapped"),
        pytest.param(
            YEAR_2021, 8, [contract("2021-01-15", "2021-02-15", hours=90)], 5, id="2021-capped"
        ),
    ],
)
def test_aid_5_caps_at_5_cachets_under_contract_or_with_open_rights(
    document: RuleDocument, count: int, situation: list[Record], paid_cachets: int
) -> None:
    evaluation = fussat(document, cancelled_cachets(count), *situation)

    assert per_cachet(evaluation) == PER_CACHET[document.version] * paid_cachets
    assert evaluation.amount == PER_CACHET[document.version] * paid_cachets


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "3 cachets annulés entre le 01/03/2020 et le 31/08/2020, pour des contrats signés "
            "dans la même période ; 100 € par cachet.",
        ),
        (
            "en",
            "3 cachets cancelled between 1 Mar 2020 and 31 Aug 2020, on contracts signed in the "
            "same period; €100 per cachet.",
        ),
    ],
)
def test_aid_5_explanation_gives_cachets_window_and_rate(language: str, expected: str) -> None:
    evaluation = fussat(SEPTEMBER, cancelled_cachets(3), language=language)

    assert criterion(evaluation, "cachets_cancelled").explanation == expected


def test_aid_5_explanation_quotes_the_2021_rate() -> None:
    evaluation = fussat(YEAR_2021, cancelled_cachets(3), language="en")

    assert criterion(evaluation, "cachets_cancelled").explanation.endswith("; €150 per cachet.")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            "Vous êtes sous contrat au 01/10/2020 (1 employeur(s)) ; au plus 5 cachets annulés "
            "sont indemnisés.",
        ),
        (
            "en",
            "You are under contract on 1 Oct 2020 (1 employer(s)); at most 5 cancelled cachets "
            "are paid.",
        ),
    ],
)
def test_cap_explanation_says_why_and_how_many(language: str, expected: str) -> None:
    evaluation = fussat(SEPTEMBER, cancelled_cachets(8), UNDER_CONTRACT, language=language)

    assert criterion(evaluation, "under_contract").explanation == expected


# -- how the aids combine --------------------------------------------------------------------------

AID_1 = hours("2019-06-03", 400)
AID_2 = rights("8", "2019-01-15", "2020-01-14")
AID_4 = rights("10", "2019-05-01", "2020-05-15", reason="illness")


@pytest.mark.parametrize(
    ("document", "records", "facts", "one_off_paid", "cachets_paid"),
    [
        pytest.param(SEPTEMBER, [AID_1], {}, True, 0, id="aid-1"),
        pytest.param(SEPTEMBER, [AID_1, AID_2], {}, True, 0, id="aids-1-and-2-one-grant"),
        pytest.param(
            SEPTEMBER, [AID_1, AID_2, AID_4, *FIVE_DATES], ARTIST_ABROAD, True, 0, id="aids-1-to-4"
        ),
        pytest.param(SEPTEMBER, [AID_1, cancelled_cachets(3)], {}, True, 3, id="aid-1-plus-aid-5"),
        pytest.param(SEPTEMBER, [AID_4, cancelled_cachets(9)], {}, True, 9, id="aid-4-plus-aid-5"),
        pytest.param(SEPTEMBER, [cancelled_cachets(2)], {}, False, 2, id="aid-5-alone"),
        pytest.param(YEAR_2021, [AID_1, cancelled_cachets(3)], {}, True, 3, id="2021-amounts"),
        pytest.param(NOVEMBER, [hours("2019-06-03", 249)], {}, False, 0, id="no-aid"),
    ],
)
def test_aids_1_to_4_give_one_grant_and_aid_5_adds_to_it(
    document: RuleDocument,
    records: list[Record],
    facts: dict[str, Any],
    one_off_paid: bool,
    cachets_paid: int,
) -> None:
    evaluation = fussat(document, *records, **facts)
    expected = (
        ONE_OFF[document.version] * one_off_paid + PER_CACHET[document.version] * cachets_paid
    )

    assert evaluation.eligible is (expected > 0)
    assert one_off(evaluation) == ONE_OFF[document.version] * one_off_paid
    assert per_cachet(evaluation) == PER_CACHET[document.version] * cachets_paid
    assert evaluation.amount == expected


def test_aids_1_to_4_together_are_all_shown_as_met() -> None:
    evaluation = fussat(SEPTEMBER, AID_1, AID_2, AID_4, *FIVE_DATES, **ARTIST_ABROAD)

    assert all(passed(evaluation, criterion_id) for criterion_id in AID_1_TO_4)
    assert evaluation.amount == 1000


@pytest.mark.parametrize("document", VERSIONS.values(), ids=VERSIONS.keys())
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_criterion_explains_itself_in_both_languages(
    document: RuleDocument, language: str
) -> None:
    for records, facts in (
        ([], {}),
        ([AID_1, AID_2, AID_4, UNDER_CONTRACT, OPEN_RIGHTS, cancelled_cachets(7)], ARTIST_ABROAD),
    ):
        evaluation = fussat(document, *records, language=language, **facts)
        for result in evaluation.criteria:
            assert result.explanation, result.id
            assert "{" not in result.explanation, result.id
            assert result.explanation != result.label, result.id
