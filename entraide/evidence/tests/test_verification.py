"""What an applicant declared against the records: the answers the records contradict, both
evaluations criterion by criterion with the contract lines counted, and the staff's page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.conftest import allow_async_unsafe, browser  # noqa: F401 (fixtures)
from entraide.core.tests.test_browser_end_to_end import (
    SCREENSHOT_DIR,
    Visit,
    operator_with_open_fund,
)
from entraide.evidence.tests.factories import BenefitRecordFactory, EmployerDeclarationFactory
from entraide.evidence.verification import (
    AggregateComparison,
    Comparison,
    compare,
    counted_lines,
    mismatched_aggregates,
)
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundRoleFactory
from entraide.rules import aggregates
from entraide.rules.declared import clean_answers
from entraide.rules.document import RuleDocument, load
from entraide.rules.records import PersonEvidence
from entraide.rules.tests.builders import (
    benefit,
    cachets,
    day,
    days,
    person,
    ruleset,
)
from entraide.rules.tests.factories import (
    ApplicationEvaluationFactory,
    RuleSetVersionFactory,
    rules_with,
)
from entraide.rules.tests.test_declared import people

NETFLIX = ruleset("netflix-audiens")
AT = dt.date(2020, 4, 15)
# Every kind of question, an aggregate of declarations of each kind, one aggregate not asked.
VERIFIED = load(
    """\
schema: entraide/rules/1
id: verified
name: {fr: Fonds de test, en: Test fund}
effective_from: 2020-01-01
currency: EUR
parameters:
  min_days: 12
  min_hours: 100
  min_pay: 3000
facts:
  - id: annual_resources
    type: money
    label: {fr: Ressources annuelles, en: Annual resources}
evidence:
  days:
    kind: worked_days
    label: {fr: Jours travaillés, en: Days worked}
    window: {from: 2019-09-01, to: 2020-02-29}
    contract_types: [CDD, CDDU]
    naf: ["59.11"]
    ask: {type: count, label: {fr: "Jours ?", en: "Days?"}}
  hours:
    kind: hours
    label: {fr: Heures, en: Hours}
    window: {from: 2019-09-01, to: 2020-02-29}
    ask: {type: number, label: {fr: "Heures ?", en: "Hours?"}}
  pay:
    kind: gross_pay
    label: {fr: Salaire brut, en: Gross pay}
    window: {from: 2019-09-01, to: 2020-02-29}
    ask: {type: money, label: {fr: "Salaire ?", en: "Pay?"}}
  employers:
    kind: employers
    label: {fr: Employeurs, en: Employers}
    window: {from: 2019-09-01, to: 2020-02-29}
  benefits_now:
    kind: benefits
    at: evaluation_date
    ask: {type: boolean, label: {fr: "Allocation ?", en: "Benefits?"}}
criteria:
  - id: worked
    label: {fr: A travaillé 12 jours, en: Worked 12 days}
    test: days >= min_days
  - id: worked_hours
    label: {fr: A travaillé 100 heures, en: Worked 100 hours}
    test: hours >= min_hours and days > 0
  - id: paid
    label: {fr: A gagné 3000 €, en: Earned €3000}
    test: pay >= min_pay
  - id: had_employers
    label: {fr: A eu un employeur, en: Had an employer}
    test: employers > 0 and days > 0
  - id: low_resources
    label: {fr: Ressources modestes, en: Low resources}
    test: annual_resources <= 15000
  - id: receives_benefits
    label: {fr: Perçoit une allocation, en: Receives benefits}
    test: benefits_now > 0
eligibility: {any: [worked, worked_hours]}
exclusions: [receives_benefits]
amount:
  components:
    - {id: grant, flat: 900}
"""
)
EMPLOYER_A, EMPLOYER_B, EMPLOYER_C = "11111111111111", "22222222222222", "33333333333333"
# Against the window 2019-09-01 – 2020-02-29:
STRADDLING = days("2019-08-25", 10, siret=EMPLOYER_A)  # 25 Aug – 3 Sep: 3 days inside
OVERLAPPING = days("2019-09-02", 5, siret=EMPLOYER_A)  # 2 – 6 Sep: 2 days already counted
CACHETS = cachets("2019-10-10", 2, siret=EMPLOYER_B)
CACHETS_BEFORE = cachets("2019-08-30", 3, end="2019-09-05", siret=EMPLOYER_B)  # starts before
OTHER_SECTOR = days("2019-10-01", 5, naf="90.01Z", siret=EMPLOYER_C)
PERMANENT = days("2019-11-01", 5, contract_type="CDI", siret=EMPLOYER_C)
AFTER = days("2020-03-01", 3, siret=EMPLOYER_C)
RECORDS = person(
    STRADDLING,
    OVERLAPPING,
    CACHETS,
    CACHETS_BEFORE,
    OTHER_SECTOR,
    PERMANENT,
    AFTER,
    benefit("annex8", "2020-03-01"),
    benefit("general", "2020-04-01"),
)
# What RECORDS give on AT: days 3 + 3 + 2 cachets; hours 35 + 24 + 35 + 35; pay 4 × 1000;
# employers A, B, C; benefits 2.
RECORDED = {
    "days": Decimal(8),
    "hours": Decimal(129),
    "pay": Decimal("4000.00"),
    "employers": Decimal(3),
    "benefits_now": Decimal(2),
}
TRUTHFUL = {
    "annual_resources": "14200.00",
    "days": 8,
    "hours": "129",
    "pay": "4000.00",
    "benefits_now": True,
}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def compared(document: RuleDocument = VERIFIED, **declared: Any) -> Comparison:
    return compare(document, {"declared": {**TRUTHFUL, **declared}}, RECORDS, at=AT, language="en")


def test_the_records_give_the_values_the_tests_expect() -> None:
    assert {a.id: aggregates.compute(a, RECORDS, AT) for a in VERIFIED.evidence} == RECORDED


# -- answers the records contradict ------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "mismatched"),
    [
        ({}, []),
        ({"days": 14}, ["days"]),  # count
        ({"days": 7}, ["days"]),
        ({"hours": "129.00"}, []),  # number: the same value whatever its writing
        ({"hours": "128.5"}, ["hours"]),
        ({"pay": "4000"}, []),  # money
        ({"pay": "3999.99"}, ["pay"]),
        ({"days": 14, "pay": "10.00"}, ["days", "pay"]),  # in document order
    ],
)
def test_a_number_answer_disagrees_when_it_differs_from_the_records(
    answers: dict[str, Any], mismatched: list[str]
) -> None:
    assert mismatched_aggregates(VERIFIED, {**TRUTHFUL, **answers}, RECORDED) == mismatched


@pytest.mark.parametrize(
    ("answer", "recorded", "disagrees"),
    [
        (True, "2", False),  # yes stands for "at least one record"
        (True, "1", False),
        (True, "0", True),
        (False, "0", False),
        (False, "2", True),
    ],
)
def test_a_yes_disagrees_with_no_record_and_a_no_with_any(
    answer: bool, recorded: str, disagrees: bool
) -> None:
    values = {**RECORDED, "benefits_now": Decimal(recorded)}
    assert mismatched_aggregates(VERIFIED, {**TRUTHFUL, "benefits_now": answer}, values) == (
        ["benefits_now"] if disagrees else []
    )


def test_unanswered_and_unasked_aggregates_never_disagree_and_need_no_recorded_value() -> None:
    declared = {"annual_resources": "14200.00", "days": None, "employers": 99}

    # only the answered aggregates are looked up: a batch may compute those alone
    assert mismatched_aggregates(VERIFIED, declared, {}) == []
    assert mismatched_aggregates(VERIFIED, {"days": 8, "employers": 99}, {"days": Decimal(8)}) == []


# -- both evaluations, criterion by criterion ---------------------------------------------------


def test_each_aggregate_shows_the_answer_and_the_records_in_the_readers_words() -> None:
    comparison = compared(days=14, benefits_now=False)

    shown = {a.id: (a.declared_text, a.recorded_text, a.mismatch) for a in comparison.aggregates}
    assert shown == {
        "days": ("14", "8", True),
        "hours": ("129", "129", False),
        "pay": ("€4,000.00", "€4,000.00", False),
        "employers": ("not asked", "3", False),
        "benefits_now": ("no", "yes (2 records)", True),
    }
    assert comparison.mismatched == ("days", "benefits_now")
    assert comparison.disagrees


def test_a_criterion_reading_an_unasked_or_unanswered_aggregate_is_not_asked_not_failed() -> None:
    comparison = compared(hours=None)

    rows = {row.id: row for row in comparison.criteria}
    assert rows["had_employers"].as_declared is None  # employers: not asked
    assert rows["worked_hours"].as_declared is None  # hours: not answered
    assert [a.id for a in rows["had_employers"].aggregates] == ["days", "employers"]
    assert [a.declared_text for a in rows["worked_hours"].aggregates] == ["8", "not answered"]
    assert not rows["had_employers"].mismatch
    assert rows["had_employers"].on_records.passed
    assert not comparison.disagrees


def test_criteria_known_on_both_sides_differ_when_their_outcomes_do() -> None:
    comparison = compared(days=14)

    outcomes = {
        row.id: (
            row.as_declared.passed if row.as_declared else None,
            row.on_records.passed,
            row.mismatch,
        )
        for row in comparison.criteria
    }
    assert outcomes == {
        "worked": (True, False, True),  # declared 14 days; the declarations show 8
        "worked_hours": (True, True, False),
        "paid": (True, True, False),
        "had_employers": (None, True, False),
        "low_resources": (True, True, False),  # a fact: the same on both sides
        "receives_benefits": (True, True, False),
    }
    worked = next(row for row in comparison.criteria if row.id == "worked")
    assert worked.label == "Worked 12 days"
    assert worked.on_records.explanation == "Worked 12 days: not met (days = 8, min_days = 12)"
    assert not comparison.eligibility_differs  # both excluded: benefits are paid
    assert not comparison.amount_differs


def test_the_overall_outcome_is_compared_too() -> None:
    comparison = compared(days=14, benefits_now=False)

    assert (comparison.as_declared.eligible, comparison.on_records.eligible) == (True, False)
    assert (comparison.as_declared.amount, comparison.on_records.amount) == (
        Decimal("900.00"),
        Decimal("0.00"),
    )
    assert comparison.eligibility_differs
    assert comparison.amount_differs


def test_facts_at_the_top_of_the_record_are_read_on_both_sides() -> None:
    answers = {
        "annual_resources": "14200",
        "sector_days": 18,  # from 1 March 2019: all of STRADDLING, and CACHETS_BEFORE
        "days_sep_feb": 8,
        "rights_ended_2020": False,
        "rights_opened_2020": False,
        "rights_opened_2019": False,
        "benefits_now": True,
    }
    # the portal asks the profession in a step of its own: it is a field of the application
    applicant = {"profession": "artist", "declared": answers}

    comparison = compare(NETFLIX, applicant, RECORDS, at=AT, language="fr")

    assert comparison.as_declared.values["profession"] == "artist"
    assert comparison.on_records.values["profession"] == "artist"
    assert not comparison.disagrees
    assert all(row.as_declared is not None for row in comparison.criteria)
    assert not any(row.mismatch for row in comparison.criteria)


# -- the contract lines counted -----------------------------------------------------------------


def lines_of(aggregate_id: str) -> list[tuple[Any, Decimal | None]]:
    aggregate = VERIFIED.aggregate(aggregate_id)
    assert aggregate is not None
    return [(line.declaration, line.counted) for line in counted_lines(aggregate, RECORDS, AT)]


def test_worked_days_count_the_days_inside_the_window_once_and_cachets_that_start_in_it() -> None:
    assert lines_of("days") == [
        (STRADDLING, Decimal(3)),  # only its days inside the window
        (OVERLAPPING, Decimal(3)),  # its 2 days already covered count once, for the first
        (CACHETS, Decimal(2)),
    ]  # not counted: cachets starting before, another sector, a CDI, after the window


def test_hours_count_the_contracts_that_start_in_the_window_with_12_hours_per_cachet() -> None:
    assert lines_of("hours") == [
        (OVERLAPPING, Decimal(35)),
        (OTHER_SECTOR, Decimal(35)),  # this aggregate filters neither sector nor contract
        (CACHETS, Decimal(24)),
        (PERMANENT, Decimal(35)),
    ]
    assert [counted for _line, counted in lines_of("pay")] == [Decimal("1000.00")] * 4


def test_employers_are_the_contracts_overlapping_the_window_without_a_share() -> None:
    lines = lines_of("employers")

    assert [line for line, _counted in lines] == [
        STRADDLING,
        CACHETS_BEFORE,
        OVERLAPPING,
        OTHER_SECTOR,
        CACHETS,
        PERMANENT,
    ]
    assert {counted for _line, counted in lines} == {None}
    comparison = compared()
    employers = next(a for a in comparison.aggregates if a.id == "employers")
    assert (employers.employers, employers.counted_heading) == (3, "")


def test_other_kinds_count_no_contract_line() -> None:
    benefits = VERIFIED.aggregate("benefits_now")
    assert benefits is not None
    assert counted_lines(benefits, RECORDS, AT) == ()


def test_a_comparison_shows_each_lines_share_in_the_readers_words() -> None:
    comparison = compared()
    pay = next(a for a in comparison.aggregates if a.id == "pay")
    days_worked = next(a for a in comparison.aggregates if a.id == "days")

    assert [line.counted_text for line in pay.lines] == ["€1,000.00"] * 4
    assert [line.counted_text for line in days_worked.lines] == ["3", "3", "2"]
    assert (days_worked.counted_heading, days_worked.employers) == ("Days counted", 2)
    assert days_worked.window == (day("2019-09-01"), day("2020-02-29"))


# -- properties ---------------------------------------------------------------------------------

DECLARATION_KINDS = {"worked_days", "hours", "cachets", "gross_pay", "employers"}
# SIMPLE_RULES with an aggregate of each kind of declarations, one of them not asked
EVERY_KIND = load(
    rules_with(
        **{
            "  benefits_now:\n": """\
  paid_hours:
    kind: hours
    window: {from: 2019-09-01, to: 2020-02-29}
    ask: {type: number, label: {fr: "Heures ?", en: "Hours?"}}
  cachets_count:
    kind: cachets
    window: {from: 2019-09-01, to: 2020-02-29}
    naf: ["59.11A"]
    ask: {type: count, label: {fr: "Cachets ?", en: "Cachets?"}}
  pay:
    kind: gross_pay
    window: {from: 2019-06-01, to: 2019-12-31}
    contract_types: [CDDU]
    ask: {type: money, label: {fr: "Salaire ?", en: "Pay?"}}
  employers:
    kind: employers
    window: {from: 2019-09-01, to: 2020-02-29}
  benefits_now:
""",
            "    test: benefits_now > 0\n": """\
    test: benefits_now > 0
  - id: busy
    label: {fr: Occupé, en: Busy}
    test: paid_hours >= 100 or cachets_count > 2
  - id: paid
    label: {fr: Payé, en: Paid}
    test: pay >= 2000
  - id: employed
    label: {fr: Employé, en: Employed}
    test: employers > 1 and days > 0
""",
        }
    )
)


def _truthful(document: RuleDocument, evidence: PersonEvidence, at: dt.date) -> dict[str, Any]:
    """Answers saying what the records say (yes: at least one record), as the portal keeps
    them, with the facts the document asks."""
    raw: dict[str, Any] = {
        fact: value
        for fact, value in (("annual_resources", "14200"), ("profession", "technician"))
        if document.fact(fact) is not None
    }
    for aggregate in document.evidence:
        if aggregate.ask is not None:
            value = aggregates.compute(aggregate, evidence, at)
            raw[aggregate.id] = value > 0 if aggregate.ask.type == "boolean" else str(value)
    return clean_answers(document, raw)


@pytest.mark.parametrize("document", [NETFLIX, EVERY_KIND, VERIFIED], ids=lambda d: d.id)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence=people, shift=st.integers(0, 120))
def test_answers_that_say_what_the_records_say_never_disagree(
    document: RuleDocument, evidence: PersonEvidence, shift: int
) -> None:
    at = document.effective_from + dt.timedelta(days=shift)
    answers = _truthful(document, evidence, at)

    comparison = compare(document, {"declared": answers}, evidence, at=at, language="fr")

    assert comparison.mismatched == ()
    assert not comparison.disagrees
    assert not any(a.mismatch for a in comparison.aggregates)
    for row in comparison.criteria:
        asked = all(a.declared is not None for a in row.aggregates)
        assert (row.as_declared is not None) == asked
        assert not row.mismatch
        if asked:
            assert row.as_declared is not None
            assert row.as_declared.passed == row.on_records.passed


@pytest.mark.parametrize("document", [EVERY_KIND, VERIFIED], ids=lambda d: d.id)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence=people, shift=st.integers(0, 120))
def test_the_lines_shares_add_up_to_the_aggregate(
    document: RuleDocument, evidence: PersonEvidence, shift: int
) -> None:
    at = document.effective_from + dt.timedelta(days=shift)
    for aggregate in document.evidence:
        lines = counted_lines(aggregate, evidence, at)
        value = aggregates.compute(aggregate, evidence, at)
        if aggregate.kind not in DECLARATION_KINDS:
            assert lines == ()
        elif aggregate.kind == "employers":
            assert len({line.declaration.siret for line in lines}) == value
        else:
            assert sum((line.counted or Decimal(0) for line in lines), Decimal(0)) == value
            assert all(line.counted is not None and line.counted >= 0 for line in lines)


# -- the staff's application page ---------------------------------------------------------------

Role = FundRole.Role
# the page's 30 before this section (with the award, four eyes and the review desk), the 2 of
# the possible duplicates, then the version in force and the person's 4 kinds of records
PAGE_MAX_QUERIES = 37


def page_url(application: Application) -> str:
    return reverse(
        "staff_application",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


def applicant_with_records(
    declared_days: int, contracts: int = 1, fund: Fund | None = None
) -> Application:
    """An applicant of a fund with SIMPLE_RULES published, declaring ``declared_days`` days,
    with ``contracts`` declarations of 3 days each in the window, with as many employers."""
    application = ApplicationFactory.create(
        declared={"annual_resources": "14200.00", "days": declared_days},
        **({"fund": fund} if fund else {}),
    )
    RuleSetVersionFactory.create(rule_set__fund=application.fund)
    for number in range(contracts):
        start = dt.date(2019, 10, 1) + dt.timedelta(days=7 * number)
        EmployerDeclarationFactory.create(
            nir=application.nir, start=start, end=start + dt.timedelta(days=2)
        )
    return application


def worked_days(comparison: Comparison) -> AggregateComparison:
    return next(a for a in comparison.aggregates if a.id == "days")


def reviewer_of(application: Application) -> Any:
    return FundRoleFactory.create(fund=application.fund, role=Role.REVIEWER).user


@pytest.mark.django_db
def test_the_page_shows_the_disagreement_the_criteria_side_by_side_and_the_contract_lines(
    client: Client,
) -> None:
    application = applicant_with_records(declared_days=14, contracts=3)
    client.force_login(reviewer_of(application))

    response = client.get(page_url(application))

    html = response.content.decode()
    verification = response.context["verification"]
    assert verification.version.number == 1
    assert verification.comparison.mismatched == ("days",)
    assert html.count("Declaration and records disagree") == 2  # at the top, and in the section
    assert 'href="#declared-vs-records"' in html
    assert "Declared vs records" in html
    worked = next(row for row in verification.comparison.criteria if row.id == "worked")
    assert (worked.as_declared.passed, worked.on_records.passed) == (True, False)
    assert "≠ Differs" in html
    assert (
        "Days worked: declared 14; the declarations show 9 (contract lines: 3, employers: 3)"
        in html
    )
    assert "<details>" in html
    for line in worked_days(verification.comparison).lines:
        assert line.declaration.siret in html


@pytest.mark.django_db
def test_the_page_says_when_declaration_and_records_agree(client: Client) -> None:
    application = applicant_with_records(declared_days=3)
    client.force_login(reviewer_of(application))

    html = client.get(page_url(application)).content.decode()

    assert "Declaration and records disagree" not in html
    assert "Declaration and records agree" in html


@pytest.mark.django_db
def test_the_page_compares_under_the_version_of_the_current_evaluation(client: Client) -> None:
    evaluation = ApplicationEvaluationFactory.create(
        application__declared={"annual_resources": "14200.00", "days": 0}
    )
    application = evaluation.application
    # published after it, in force today, but not the one the application was evaluated under
    RuleSetVersionFactory.create(rule_set__fund=application.fund)
    client.force_login(reviewer_of(application))

    verification = client.get(page_url(application)).context["verification"]

    assert verification.version == evaluation.version
    assert verification.comparison.at == evaluation.evaluated_on


@pytest.mark.django_db
def test_without_rules_or_with_unreadable_facts_the_section_says_why(client: Client) -> None:
    application = ApplicationFactory.create()
    client.force_login(reviewer_of(application))

    no_rules = client.get(page_url(application)).content.decode()

    assert "No published version of the fund&#x27;s rules applies to this application" in no_rules
    RuleSetVersionFactory.create(rule_set__fund=application.fund)
    Application.objects.filter(pk=application.pk).update(declared={"annual_resources": "lots"})
    unreadable = client.get(page_url(application))
    assert unreadable.status_code == 200
    assert "What the applicant declared cannot be read by the rules." in (
        unreadable.content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("contracts", [1, 12])
def test_the_page_keeps_its_query_bound_whatever_the_number_of_contracts(
    client: Client, django_assert_max_num_queries: Any, contracts: int
) -> None:
    application = applicant_with_records(declared_days=14, contracts=contracts)
    BenefitRecordFactory.create(nir=application.nir)
    client.force_login(reviewer_of(application))

    with django_assert_max_num_queries(PAGE_MAX_QUERIES):
        response = client.get(page_url(application))

    assert len(worked_days(response.context["verification"].comparison).lines) == contracts


# -- in a browser, with axe-core -----------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_reviewer_goes_from_the_badge_to_the_contract_lines_and_the_page_is_accessible(
    lang: str,
    browser: Any,  # noqa: F811
    live_server: Any,
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("verified", lang)
    application = applicant_with_records(declared_days=14, contracts=3, fund=fund)

    visit = Visit(browser, live_server.url, lang, audited)
    visit.open_and_switch_language("/accounts/login/")
    visit.log_in(operator.email)
    visit.page.goto(page_url(application))
    visit.check(rf"/applications/{application.reference}/$")
    visit.follow(
        visit.t("Declaration and records disagree"),
        rf"/applications/{application.reference}/#declared-vs-records$",
    )
    lines = visit.page.locator("#declared-vs-records ~ table details").first
    lines.locator("summary").click()
    assert lines.locator("tbody tr").count() == 3
    visit.audit()  # the contract lines too, now shown
    if SCREENSHOT_DIR:
        path = Path(SCREENSHOT_DIR) / f"declared_vs_records_{lang}.png"
        visit.page.screenshot(path=str(path), full_page=True)
    visit.close()
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
