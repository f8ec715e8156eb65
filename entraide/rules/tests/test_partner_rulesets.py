"""The example rule documents of partner funds (issue 10), in their own currencies:
rulesets/uk-film-tv-hardship.yaml (need-based, £500–£2,500), italia-fondo-emergenza.yaml (a
flat €800, first come, first served) and espana-fondo-ayuda.yaml (income ceiling, minimum of
days worked). Every threshold on both sides, the amounts, explanations in French and in
English, the same decisions from the batch engine, and the fund settings the documents rely
on (the reviewer's range, the waiting list)."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds import ledger
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import services as review
from entraide.rules import batch, declared, engine, loaders
from entraide.rules import services as rules
from entraide.rules.document import RuleDocument, load_file, schema
from entraide.rules.engine import Evaluation
from entraide.rules.records import PersonEvidence
from entraide.rules.tests.builders import RULESETS, check, criterion, plain, ruleset

UK = ruleset("uk-film-tv-hardship")
ITALY = ruleset("italia-fondo-emergenza")
SPAIN = ruleset("espana-fondo-ayuda")
PARTNERS = {"uk-film-tv-hardship": UK, "italia-fondo-emergenza": ITALY, "espana-fondo-ayuda": SPAIN}
# An evaluation date in each fund's window.
AT = {
    "uk-film-tv-hardship": "2020-04-21",
    "italia-fondo-emergenza": "2020-05-05",
    "espana-fondo-ayuda": "2020-05-12",
}
# One eligible applicant per fund; each test changes what it is about.
ELIGIBLE: dict[str, dict[str, Any]] = {
    "uk-film-tv-hardship": {
        "residence_country": "GB",
        "engagement": "freelance",
        "screen_months": 8,
        "work_stopped": True,
        "monthly_income": "900",
        "essential_outgoings": "1500",
        "savings": "1200",
    },
    "italia-fondo-emergenza": {
        "residence_country": "IT",
        "fpls_member": True,
        "contribution_days_2019": 45,
        "has_pension": False,
        "permanent_contract": False,
    },
    "espana-fondo-ayuda": {
        "residence_country": "ES",
        "days_worked": 35,
        "annual_income": "14000",
        "receives_unemployment_benefit": False,
        "dependants": 0,
    },
}


def evaluate(document: RuleDocument, language: str = "fr", **changes: Any) -> Evaluation:
    """The fund's eligible applicant with ``changes`` (``None``: the question not answered)."""
    facts = {**ELIGIBLE[document.id], **changes}
    known = {name: value for name, value in facts.items() if value is not None}
    return check(document, at=AT[document.id], language=language, **known)


def uk(language: str = "fr", **changes: Any) -> Evaluation:
    return evaluate(UK, language, **changes)


def italy(language: str = "fr", **changes: Any) -> Evaluation:
    return evaluate(ITALY, language, **changes)


def spain(language: str = "fr", **changes: Any) -> Evaluation:
    return evaluate(SPAIN, language, **changes)


def explained(evaluation: Evaluation, criterion_id: str) -> str:
    return plain(criterion(evaluation, criterion_id).explanation)


# -- the documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PARTNERS)
def test_each_partner_document_is_valid(name: str) -> None:
    path = RULESETS / f"{name}.yaml"
    out = io.StringIO()

    call_command("rules", "validate", str(path), stdout=out)

    assert out.getvalue().strip() == "valid"
    document = load_file(path)
    assert document.id == name
    assert jsonschema.Draft202012Validator(schema()).is_valid(document.source)


@pytest.mark.parametrize(
    ("document", "currency"), [(UK, "GBP"), (ITALY, "EUR"), (SPAIN, "EUR")], ids=list(PARTNERS)
)
def test_each_partner_fund_pays_in_its_own_currency(document: RuleDocument, currency: str) -> None:
    source = (RULESETS / f"{document.id}.yaml").read_text(encoding="utf-8")

    assert evaluate(document).currency == currency
    assert evaluate(document).as_json("A-000001")["currency"] == currency
    assert rules.validate_source(source, fund=Fund(currency=currency)).id == document.id
    with pytest.raises(rules.RuleDocumentInvalid) as refused:
        rules.validate_source(source, fund=Fund(currency="USD"))
    assert [problem.path for problem in refused.value.problems] == ["currency"]


@pytest.mark.parametrize(
    ("document", "identifier"),
    [(UK, "gb-nino"), (ITALY, "it-codice-fiscale"), (SPAIN, "es-dni-nie")],
    ids=list(PARTNERS),
)
def test_each_partner_fund_asks_for_its_country_s_identifier(
    document: RuleDocument, identifier: str
) -> None:
    """Not a French NIR: the portal and the partners' API ask for this one (applications.
    identity), so that a freelancer of the country can apply."""
    assert document.identifier == identifier
    assert document.source["identifier"] == identifier


@pytest.mark.parametrize("document", PARTNERS.values(), ids=list(PARTNERS))
def test_partner_documents_read_declared_facts_only(document: RuleDocument) -> None:
    """No records of FORMATS.md exist for these countries: every question is a fact."""
    assert document.evidence == ()
    assert [q.id for q in declared.questions(document)] == [f.id for f in document.facts]
    assert all(
        q.label.fr and q.label.en and q.label.fr != q.label.en for q in declared.questions(document)
    )


# -- UK: need-based grants from £500 to £2,500 -----------------------------------------------------


@pytest.mark.parametrize(
    ("income", "outgoings", "eligible", "band", "proposed", "bounds"),
    [
        pytest.param(
            "900", "1500", True, "standard_need_grant", 1000, (500, 1500), id="shortfall-600"
        ),
        pytest.param("1500", "1500", False, None, 0, None, id="outgoings-equal-income"),
        pytest.param(
            "1499.99",
            "1500",
            True,
            "standard_need_grant",
            1000,
            (500, 1500),
            id="shortfall-one-penny",
        ),
        pytest.param(
            "500.01", "1500", True, "standard_need_grant", 1000, (500, 1500), id="shortfall-999.99"
        ),
        pytest.param(
            "500",
            "1500",
            True,
            "higher_need_grant",
            2000,
            (1500, 2500),
            id="shortfall-exactly-1000",
        ),
        pytest.param("0", "2400", True, "higher_need_grant", 2000, (1500, 2500), id="no-income"),
        pytest.param("2000", "1500", False, None, 0, None, id="income-above-outgoings"),
        pytest.param(None, "1500", False, None, 0, None, id="income-not-answered"),
    ],
)
def test_uk_need_decides_the_band_a_reviewer_chooses_the_amount_in(
    income: str | None,
    outgoings: str,
    eligible: bool,
    band: str | None,
    proposed: int,
    bounds: tuple[int, int] | None,
) -> None:
    evaluation = uk(monthly_income=income, essential_outgoings=outgoings)

    assert evaluation.eligible is eligible
    assert (evaluation.amount, evaluation.currency) == (Decimal(proposed), "GBP")
    assert {name for name, amount in evaluation.components.items() if amount} == (
        {band} if band else set()
    )
    if bounds is None:
        assert evaluation.amount_range is None
        assert "amount_range" not in evaluation.as_json("A-000001")
    else:
        assert evaluation.amount_range == (Decimal(bounds[0]), Decimal(bounds[1]))
        assert evaluation.as_json("A-000001")["amount_range"] == [str(b) for b in bounds]


def test_uk_bands_cover_500_to_2500_and_propose_a_default_inside() -> None:
    ranges = sorted((c.range_min, c.range_default, c.range_max) for c in UK.components)

    assert [c.kind for c in UK.components] == ["range", "range"]
    assert ranges == [
        (Decimal(500), Decimal(1000), Decimal(1500)),
        (Decimal(1500), Decimal(2000), Decimal(2500)),
    ]


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        pytest.param({"savings": "5000"}, None, id="savings-exactly-5000"),
        pytest.param({"savings": "5000.01"}, "limited_savings", id="savings-one-penny-above"),
        pytest.param({"savings": None}, "limited_savings", id="savings-not-answered"),
        pytest.param({"screen_months": 6}, None, id="exactly-6-months"),
        pytest.param({"screen_months": 5}, "screen_worker", id="5-months"),
        pytest.param({"engagement": "fixed_term"}, None, id="short-term-contracts"),
        pytest.param({"engagement": "employee"}, "freelance", id="permanent-employee"),
        pytest.param({"residence_country": "IE"}, "lives_in_uk", id="lives-in-ireland"),
        pytest.param({"work_stopped": False}, "work_stopped_by_covid", id="work-not-stopped"),
        pytest.param({"work_stopped": None}, "work_stopped_by_covid", id="not-answered"),
    ],
)
def test_uk_eligibility(changes: dict[str, Any], failing: str | None) -> None:
    evaluation = uk(**changes)

    assert [c.id for c in evaluation.criteria if not c.passed and c.id != "higher_need"] == (
        [failing] if failing else []
    )
    assert evaluation.eligible is (failing is None)
    assert evaluation.amount == (Decimal(0) if failing else Decimal(1000))


@pytest.mark.parametrize(
    ("language", "income", "criterion_id", "expected"),
    [
        (
            "fr",
            "900",
            "monthly_shortfall",
            "Vos dépenses essentielles (1 500,00 £GB par mois) dépassent vos revenus "
            "(900,00 £GB par mois).",
        ),
        (
            "en",
            "900",
            "monthly_shortfall",
            "Your essential outgoings (£1,500.00 a month) are above your income (£900.00 a month).",
        ),
        (
            "fr",
            "500",
            "higher_need",
            "Vos dépenses essentielles dépassent vos revenus d'au moins 1 000 £ par mois ; "
            "l'aide est de 1 500 £ à 2 500 £ (2 000 £ proposées).",
        ),
        (
            "en",
            "500",
            "higher_need",
            "Your essential outgoings are above your income by at least £1,000 a month; "
            "the grant is £1,500 to £2,500 (£2,000 proposed).",
        ),
        (
            "en",
            "900",
            "higher_need",
            "Your essential outgoings are not above your income by £1,000 a month or more; "
            "the grant is £500 to £1,500 (£1,000 proposed).",
        ),
        (
            "en",
            "900",
            "screen_worker",
            "You worked in film or TV in 8 months between 1 Mar 2019 and 29 Feb 2020; "
            "6 are required.",
        ),
        (
            "fr",
            "900",
            "freelance",
            "Vous avez déclaré travailler ainsi : Indépendant·e.",
        ),
    ],
)
def test_uk_explanations(language: str, income: str, criterion_id: str, expected: str) -> None:
    assert explained(uk(language, monthly_income=income), criterion_id) == expected


# -- Italy: a flat €800 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        pytest.param({}, None, id="eligible"),
        pytest.param({"contribution_days_2019": 30}, None, id="exactly-30-days"),
        pytest.param({"contribution_days_2019": 29}, "contributions_2019", id="one-day-short"),
        pytest.param({"contribution_days_2019": 0}, "contributions_2019", id="no-contribution"),
        pytest.param({"fpls_member": False}, "entertainment_worker", id="not-registered"),
        pytest.param({"has_pension": True}, "no_pension", id="pensioner"),
        pytest.param({"has_pension": None}, "no_pension", id="pension-not-answered"),
        pytest.param({"permanent_contract": True}, "no_permanent_contract", id="permanent-job"),
        pytest.param({"permanent_contract": None}, "no_permanent_contract", id="not-answered"),
        pytest.param({"residence_country": "FR"}, "lives_in_italy", id="lives-in-france"),
    ],
)
def test_italy_pays_800_to_every_eligible_applicant(
    changes: dict[str, Any], failing: str | None
) -> None:
    evaluation = italy(**changes)

    assert [c.id for c in evaluation.criteria if not c.passed] == ([failing] if failing else [])
    assert evaluation.eligible is (failing is None)
    assert (evaluation.amount, evaluation.currency) == (
        Decimal(0) if failing else Decimal(800),
        "EUR",
    )
    assert evaluation.amount_range is None


def test_italy_amount_is_flat_whatever_the_contributions() -> None:
    assert {italy(contribution_days_2019=days).amount for days in (30, 120, 365)} == {Decimal(800)}


@pytest.mark.parametrize(
    ("language", "changes", "criterion_id", "expected"),
    [
        (
            "fr",
            {"contribution_days_2019": 29},
            "contributions_2019",
            "29 cotisations journalières ont été versées pour vous en 2019 ; 30 sont requises.",
        ),
        (
            "en",
            {"contribution_days_2019": 29},
            "contributions_2019",
            "29 daily contributions were paid for you in 2019; 30 are required.",
        ),
        (
            "fr",
            {"has_pension": True},
            "no_pension",
            "Ce fonds est réservé aux personnes sans pension ; pension déclarée : oui.",
        ),
        (
            "en",
            {"has_pension": None},
            "no_pension",
            "This fund is for people without a pension; pension declared: unknown.",
        ),
    ],
)
def test_italy_explanations(
    language: str, changes: dict[str, Any], criterion_id: str, expected: str
) -> None:
    assert explained(italy(language, **changes), criterion_id) == expected


# -- Spain: an income ceiling and a minimum of days worked -----------------------------------------


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        pytest.param({"days_worked": 20}, None, id="exactly-20-days"),
        pytest.param({"days_worked": 19}, "worked_min_days", id="one-day-short"),
        pytest.param({"days_worked": None}, "worked_min_days", id="days-not-answered"),
        pytest.param({"annual_income": "20000"}, None, id="income-exactly-at-the-ceiling"),
        pytest.param({"annual_income": "20000.01"}, "income_under_ceiling", id="one-cent-above"),
        pytest.param({"annual_income": "0"}, None, id="no-income"),
        pytest.param({"annual_income": None}, "income_under_ceiling", id="income-not-answered"),
        pytest.param(
            {"receives_unemployment_benefit": True}, "no_unemployment_benefit", id="on-benefit"
        ),
        pytest.param(
            {"receives_unemployment_benefit": None}, "no_unemployment_benefit", id="not-answered"
        ),
        pytest.param({"residence_country": "PT"}, "lives_in_spain", id="lives-in-portugal"),
    ],
)
def test_spain_eligibility(changes: dict[str, Any], failing: str | None) -> None:
    evaluation = spain(**changes)

    assert [c.id for c in evaluation.criteria if not c.passed and c.id != "has_dependants"] == (
        [failing] if failing else []
    )
    assert evaluation.eligible is (failing is None)
    assert evaluation.amount == (Decimal(0) if failing else Decimal(1000))


@pytest.mark.parametrize(
    ("children", "supplement"),
    [
        pytest.param(0, 0, id="none"),
        pytest.param(1, 200, id="one"),
        pytest.param(3, 600, id="three-the-cap"),
        pytest.param(4, 600, id="four-capped-at-three"),
        pytest.param(None, 0, id="not-answered"),
    ],
)
def test_spain_adds_200_per_dependent_child_up_to_three(
    children: int | None, supplement: int
) -> None:
    evaluation = spain(dependants=children)

    assert evaluation.components == {
        "base_grant": Decimal(1000),
        "per_child": Decimal(supplement),
    }
    assert (evaluation.amount, evaluation.currency) == (Decimal(1000 + supplement), "EUR")


def test_spain_pays_nothing_to_whoever_is_not_eligible_children_or_not() -> None:
    evaluation = spain(days_worked=19, dependants=3)

    assert not evaluation.eligible
    assert evaluation.components == {"base_grant": Decimal(0), "per_child": Decimal(0)}


def test_spain_parameters_repeat_the_supplement_for_explanations() -> None:
    (per_child,) = [c for c in SPAIN.components if c.id == "per_child"]

    assert SPAIN.parameters["per_dependant"] == per_child.rate
    assert SPAIN.parameters["max_dependants"] == per_child.cap


@pytest.mark.parametrize(
    ("language", "changes", "criterion_id", "expected"),
    [
        (
            "fr",
            {"days_worked": 19},
            "worked_min_days",
            "Vous avez travaillé 19 jours entre le 14/03/2019 et le 13/03/2020 ; 20 sont requis.",
        ),
        (
            "en",
            {"days_worked": 19},
            "worked_min_days",
            "You worked 19 days between 14 Mar 2019 and 13 Mar 2020; 20 are required.",
        ),
        (
            "fr",
            {"annual_income": "20000"},
            "income_under_ceiling",
            "Vos revenus de 2019 (20 000,00 €) ne dépassent pas 20 000 €.",
        ),
        (
            "en",
            {"annual_income": "20000.01"},
            "income_under_ceiling",
            "Your 2019 income (€20,000.01) is above €20,000.",
        ),
        (
            "en",
            {"dependants": 4},
            "has_dependants",
            "You declared 4 dependent child(ren); €200 per child is added to the grant, "
            "for at most 3 children.",
        ),
        (
            "fr",
            {"dependants": 0},
            "has_dependants",
            "Enfants à charge déclarés : 0 ; l'aide n'est pas majorée.",
        ),
    ],
)
def test_spain_explanations(
    language: str, changes: dict[str, Any], criterion_id: str, expected: str
) -> None:
    assert explained(spain(language, **changes), criterion_id) == expected


# -- every document: explanations, the self-check --------------------------------------------------


# For each fund: every criterion's question left unanswered, or answered so that it fails.
FAILING: dict[str, dict[str, Any]] = {
    "uk-film-tv-hardship": {
        "residence_country": "FR",
        "engagement": "employee",
        "screen_months": 0,
        "work_stopped": False,
        "monthly_income": "3000",
        "savings": "9000",
    },
    "italia-fondo-emergenza": {
        "residence_country": "ES",
        "fpls_member": False,
        "contribution_days_2019": 2,
        "has_pension": True,
        "permanent_contract": True,
    },
    "espana-fondo-ayuda": {
        "residence_country": "FR",
        "days_worked": 3,
        "annual_income": "40000",
        "receives_unemployment_benefit": True,
    },
}


@pytest.mark.parametrize("document", PARTNERS.values(), ids=list(PARTNERS))
def test_every_criterion_explains_itself_in_french_and_in_english(document: RuleDocument) -> None:
    unanswered = dict.fromkeys(ELIGIBLE[document.id])
    for changes in ({}, FAILING[document.id], unanswered):
        french = evaluate(document, "fr", **changes)
        english = evaluate(document, "en", **changes)
        for fr, en in zip(french.criteria, english.criteria, strict=True):
            for result in (fr, en):
                assert result.explanation, result.id
                assert "{" not in result.explanation, result.id
                assert result.explanation != result.label, result.id
            assert fr.explanation != en.explanation, fr.id
    assert not evaluate(document, **FAILING[document.id]).eligible
    assert not evaluate(document, **unanswered).eligible


@pytest.mark.parametrize("document", PARTNERS.values(), ids=list(PARTNERS))
def test_the_self_check_on_answers_gives_the_same_decision(document: RuleDocument) -> None:
    for facts in (ELIGIBLE[document.id], {**ELIGIBLE[document.id], **FAILING[document.id]}):
        answers = declared.clean_answers(document, facts)
        on_answers = declared.evaluate_answers(
            document, answers, at=dt.date.fromisoformat(AT[document.id]), language="en"
        )

        assert on_answers.as_json("A-1") == evaluate(document, "en", **facts).as_json("A-1")


# -- the batch engine agrees with the per-applicant engine -----------------------------------------


# Values near every threshold, unanswered one time out of twelve.
SAMPLES: dict[str, dict[str, list[Any]]] = {
    "uk-film-tv-hardship": {
        "residence_country": ["GB", "GB", "GB", "IE"],
        "engagement": ["freelance", "fixed_term", "employee"],
        "screen_months": [5, 6, 7, 12],
        "work_stopped": [True, True, True, False],
        "monthly_income": ["0", "500", "500.01", "900", "1499.99", "1500", "2400.5"],
        "essential_outgoings": ["1500", "1500", "1800.25", "2500"],
        "savings": ["0", "1200", "4999.99", "5000", "5000.01"],
    },
    "italia-fondo-emergenza": {
        "residence_country": ["IT", "IT", "IT", "SM"],
        "fpls_member": [True, True, True, False],
        "contribution_days_2019": [0, 29, 30, 31, 180, 365],
        "has_pension": [False, False, False, True],
        "permanent_contract": [False, False, False, True],
    },
    "espana-fondo-ayuda": {
        "residence_country": ["ES", "ES", "ES", "AD"],
        "days_worked": [0, 19, 20, 21, 120, 366],
        "annual_income": ["0", "12000", "19999.99", "20000", "20000.01", "35000"],
        "receives_unemployment_benefit": [False, False, False, True],
        "dependants": [0, 0, 1, 2, 3, 4, 7],
    },
}


def synthetic_applicants(document: RuleDocument, count: int) -> list[loaders.Applicant]:
    """``count`` lines of applicants.jsonl, read as the command reads them."""
    rng = random.Random(f"partner-{document.id}")
    applicants = []
    for index in range(count):
        facts = {
            name: rng.choice(values)
            for name, values in SAMPLES[document.id].items()
            if rng.randrange(12)
        }
        line = json.dumps({"ref": f"P-{index:03d}", "declared": facts})
        applicants.append(loaders.parse_applicant(document, index + 1, line))
    return applicants


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("document", PARTNERS.values(), ids=list(PARTNERS))
def test_batch_and_per_applicant_evaluation_agree(document: RuleDocument, language: str) -> None:
    applicants = synthetic_applicants(document, 48)
    at = dt.date.fromisoformat(AT[document.id])
    connection = loaders.connect()
    for table in loaders.TABLES:  # the fund has no records: empty tables
        loaders.create_empty(connection, table)
    loaders.create_applicants(connection, document, applicants)

    in_batch = list(batch.evaluate_all(connection, document, at=at, language=language))
    lines = list(batch.decision_lines(connection, document, at=at, language=language))

    assert [ref for ref, _ in in_batch] == [a.ref for a in applicants]
    for applicant, (_, together), line in zip(applicants, in_batch, lines, strict=True):
        alone = engine.evaluate(
            document, facts=applicant.facts, evidence=PersonEvidence(), at=at, language=language
        )
        assert together.components == alone.components, applicant
        assert together.as_json(applicant.ref) == alone.as_json(applicant.ref), applicant
        assert line == json.dumps(alone.as_json(applicant.ref), ensure_ascii=False)
    eligible = [evaluation for _, evaluation in in_batch if evaluation.eligible]
    assert 0 < len(eligible) < len(in_batch)
    assert all(evaluation.currency == document.currency for _, evaluation in in_batch)
    # every amount the rules can give, eligible applicants getting more than one of them
    allowed = {
        "uk-film-tv-hardship": {Decimal(1000), Decimal(2000)},
        "italia-fondo-emergenza": {Decimal(800)},
        "espana-fondo-ayuda": {Decimal(1000), Decimal(1200), Decimal(1400), Decimal(1600)},
    }[document.id]
    amounts = {evaluation.amount for evaluation in eligible}
    assert amounts <= allowed
    assert len(amounts) >= min(2, len(allowed))


# -- what the fund's settings do with these documents ----------------------------------------------


def partner_fund(document: RuleDocument, **settings: Any) -> Fund:
    """A fund in the document's currency whose published rules are the document."""
    fund: Fund = FundFactory(currency=document.currency, **settings)
    operator = FundRoleFactory(fund=fund, role="operator_admin").user
    source = (RULESETS / f"{document.id}.yaml").read_text(encoding="utf-8")
    draft = rules.save_draft(actor=operator, fund=fund, source=source)
    rules.publish_version(actor=operator, version=draft)
    return fund


def evaluated(
    fund: Fund, document: RuleDocument, submitted: dt.datetime, **facts: Any
) -> Application:
    application: Application = ApplicationFactory(
        fund=fund, submitted_at=submitted, declared={**ELIGIBLE[document.id], **facts}
    )
    rules.evaluate_application(actor=None, application=application)
    return application


@pytest.mark.django_db
def test_uk_reviewer_chooses_within_the_band_and_beyond_it_needs_a_second_approver() -> None:
    fund = partner_fund(UK, budget=Decimal("50000.00"), standard_amount=Decimal("1000.00"))
    reviewer = FundRoleFactory(fund=fund, role="reviewer").user
    submitted = dt.datetime(2020, 4, 21, 10, tzinfo=dt.UTC)
    standard = evaluated(fund, UK, submitted)
    higher = evaluated(fund, UK, submitted, monthly_income="200")

    within = review.approve_application(
        actor=reviewer, application=standard, amount=Decimal("1500.00")
    )
    proposed = review.approve_application(actor=reviewer, application=higher)
    beyond_the_band = review.approve_application(
        actor=reviewer,
        application=evaluated(fund, UK, submitted),
        amount=Decimal("2500.00"),
    )

    assert within.award is not None
    assert (within.award.amount, within.award.currency) == (Decimal("1500.00"), "GBP")
    assert proposed.award is not None
    assert proposed.award.amount == Decimal("2000.00")
    assert beyond_the_band.second_approval is not None
    assert beyond_the_band.second_approval.grounds == ["amount_changed"]


@pytest.mark.django_db
def test_italy_pays_800_first_come_first_served_until_the_budget_runs_out() -> None:
    fund = partner_fund(
        ITALY,
        budget=Decimal("1600.00"),
        standard_amount=Decimal("800.00"),
        award_order=Fund.AwardOrder.SUBMISSION,
    )
    reviewer = FundRoleFactory(fund=fund, role="reviewer").user
    start = dt.datetime(2020, 5, 5, 9, tzinfo=dt.UTC)
    first, second, third, fourth = (
        evaluated(fund, ITALY, start + dt.timedelta(minutes=minutes)) for minutes in (0, 4, 9, 12)
    )

    for application in (first, second, fourth, third):  # the last two reviewed out of order
        review.approve_application(actor=reviewer, application=application)

    funded = [ledger.award_of(application) for application in (first, second)]
    assert [(award.status, award.amount) for award in funded if award] == [
        ("reserved", Decimal("800.00")),
        ("reserved", Decimal("800.00")),
    ]
    assert ledger.totals(fund).committed == Decimal("1600.00")
    # the budget has run out: the others wait, in the order they were submitted
    assert list(ledger.waiting(fund).values_list("application", flat=True)) == [
        third.pk,
        fourth.pk,
    ]
    fourth.refresh_from_db()
    assert fourth.status == Application.Status.WAITLISTED
