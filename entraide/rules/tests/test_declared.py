"""The declared answers of a rule document: its questions (facts, then asked aggregates), the one
check of the answers, the form fields built from them, and evaluating on answers instead of
records — which must agree with evaluating on the records when the answers say what they say."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils import translation
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from entraide.core.forms import AccessibleForm
from entraide.rules import aggregates
from entraide.rules.declared import (
    COUNTRY_CODES,
    AnswersInvalid,
    answer_fields,
    clean_answers,
    clean_form_answers,
    country_choices,
    evaluate_answers,
    questions,
)
from entraide.rules.document import PLACEHOLDER, RuleDocument, RuleDocumentError, build, load
from entraide.rules.engine import deciding_criteria, evaluate, facts_from
from entraide.rules.expressions import names_in
from entraide.rules.records import Benefit, Cancellation, Declaration, PersonEvidence, Rights
from entraide.rules.tests.builders import day, ruleset

NETFLIX = ruleset("netflix-audiens")
REFERENCE = ["netflix-audiens", "fussat-2020-09-16", "fussat-2020-11-20", "fussat-2021"]
PORTAL_SKIP = frozenset({"profession", "birth_date"})
AT = dt.date(2020, 4, 15)

# A small document with one question of every type, and one aggregate asked of each kind.
EVERY_TYPE = """\
schema: entraide/rules/1
id: every-type
name: {fr: Fonds de test, en: Test fund}
effective_from: 2020-01-01
currency: EUR
parameters:
  min_days: 12
facts:
  - id: annual_resources
    type: money
    label: {fr: Ressources annuelles, en: Annual resources}
    help: {fr: Avant allocations., en: Before benefits.}
    min: 0
    max: 1000000
  - id: share
    type: number
    required: false
    label: {fr: Part, en: Share}
  - id: children
    type: count
    required: false
    label: {fr: Enfants, en: Children}
  - id: birth_date
    type: date
    label: {fr: Date de naissance, en: Date of birth}
  - id: abroad
    type: boolean
    required: false
    label: {fr: À l'étranger, en: Abroad}
  - id: profession
    type: choice
    label: {fr: Profession, en: Profession}
    choices:
      - {value: technician, label: {fr: Technicien·ne, en: Technician}}
      - {value: artist, label: {fr: Artiste, en: Artist}}
  - id: residence_country
    type: country
    label: {fr: Pays de résidence, en: Country of residence}
  - id: note
    type: text
    required: false
    label: {fr: Remarque, en: Note}
evidence:
  days:
    kind: worked_days
    window: {from: 2019-09-01, to: 2020-02-29}
    ask:
      type: count
      label: {fr: "Jours travaillés ?", en: "Days worked?"}
      help: {fr: De septembre à février., en: September to February.}
  benefits_now:
    kind: benefits
    at: evaluation_date
    ask:
      type: boolean
      label: {fr: "Allocation ?", en: "Benefits?"}
  employers:
    kind: employers
    window: {from: 2019-09-01, to: 2020-02-29}
criteria:
  - id: worked
    label: {fr: A travaillé 12 jours, en: Worked 12 days}
    test: days >= min_days
  - id: receives_benefits
    label: {fr: Perçoit une allocation, en: Receives benefits}
    test: benefits_now > 0
  - id: had_employers
    label: {fr: A eu un employeur, en: Had an employer}
    test: employers > 0
eligibility: {any: [worked, had_employers]}
exclusions: [receives_benefits]
amount:
  components:
    - {id: grant, flat: 900}
"""
DOCUMENT = load(EVERY_TYPE)
VALID = {
    "annual_resources": "14200",
    "birth_date": "1988-04-17",
    "profession": "technician",
    "residence_country": "FR",
    "days": "14",
    "benefits_now": "no",
}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are read in English unless a test says otherwise."""
    with translation.override("en"):
        yield


def problems(document: RuleDocument, raw: dict[str, Any], **options: Any) -> dict[str, str]:
    with pytest.raises(AnswersInvalid) as invalid:
        clean_answers(document, raw, **options)
    return dict(invalid.value.problems)


# -- the document's `ask` ------------------------------------------------------------------------


def test_an_ask_is_read_into_the_aggregate() -> None:
    ask = DOCUMENT.aggregate("days").ask
    assert ask is not None
    assert (ask.type, ask.label.en, ask.help and ask.help.fr) == (
        "count",
        "Days worked?",
        "De septembre à février.",
    )
    assert DOCUMENT.aggregate("benefits_now").ask.help is None


def test_an_ask_of_an_unknown_type_is_refused_with_its_path() -> None:
    with pytest.raises(RuleDocumentError) as refused:
        load(EVERY_TYPE.replace("      type: count\n", "      type: days\n"))
    assert [p.path for p in refused.value.problems] == ["evidence.days.ask.type"]


@pytest.mark.parametrize("name", REFERENCE)
def test_the_reference_rule_sets_ask_every_aggregate_in_both_languages(name: str) -> None:
    document = ruleset(name)
    for aggregate in document.evidence:
        assert aggregate.ask is not None, aggregate.id
        # French typography: a (narrow) no-break space before a question mark
        assert aggregate.ask.label.fr.endswith("\u202f?"), aggregate.id
        assert aggregate.ask.label.en.endswith("?"), aggregate.id


# -- questions ---------------------------------------------------------------------------------


def test_questions_are_the_facts_in_order_then_the_asked_aggregates() -> None:
    asked = questions(NETFLIX)

    assert [(q.id, q.type, q.aggregate) for q in asked] == [
        ("annual_resources", "money", False),
        ("profession", "choice", False),
        ("sector_days", "count", True),
        ("rights_ended_2020", "boolean", True),
        ("rights_opened_2020", "boolean", True),
        ("rights_opened_2019", "boolean", True),
        ("days_sep_feb", "count", True),
        ("benefits_now", "boolean", True),
    ]
    days = asked[2]
    assert (days.required, days.min, days.max) == (True, Decimal(0), None)
    assert days.label.en.startswith("How many days")
    assert asked[3].min is None  # yes or no


@pytest.mark.parametrize("name", REFERENCE)
def test_a_stored_document_asks_in_the_same_order(name: str) -> None:
    # JSON columns do not keep the order of a mapping's keys (`evidence`); criteria are a list.
    document = ruleset(name)
    stored = build(json.loads(json.dumps(document.source, sort_keys=True)))
    assert [q.id for q in questions(stored)] == [q.id for q in questions(document)]


def test_questions_leave_out_what_the_page_asks_itself_and_unasked_aggregates() -> None:
    assert "employers" not in [q.id for q in questions(DOCUMENT)]
    assert [q.id for q in questions(NETFLIX, skip=PORTAL_SKIP)][:2] == [
        "annual_resources",
        "sector_days",
    ]


# -- clean_answers ----------------------------------------------------------------------------


def test_clean_answers_returns_json_ready_values_of_each_type() -> None:
    answers = clean_answers(
        DOCUMENT,
        {
            **VALID,
            "share": Decimal("0.5"),
            "children": "2",
            "birth_date": dt.date(1988, 4, 17),
            "abroad": "oui",
            "residence_country": "be",
            "note": "  merci  ",
            "days": 14.0,
            "benefits_now": True,
        },
    )

    assert answers == {
        "annual_resources": "14200.00",
        "share": "0.5",
        "children": 2,
        "birth_date": "1988-04-17",
        "abroad": True,
        "profession": "technician",
        "residence_country": "BE",
        "note": "merci",
        "days": 14,
        "benefits_now": True,
    }


def test_clean_answers_reports_every_problem_at_once_with_its_question() -> None:
    found = problems(
        DOCUMENT,
        {
            "annual_resources": "-1",
            "share": "1e999",
            "children": "2.5",
            "birth_date": "17/04/1988",
            "abroad": "maybe",
            "profession": "director",
            "residence_country": "XX",
            "note": "x" * 1001,
            "days": True,
            "nir": "188047512345678",
        },
    )

    assert found == {
        "annual_resources": "Enter a number of at least 0.",
        "share": "Enter a number with at most 14 digits before the decimal point and 4 after.",
        "children": "Enter a whole number.",
        "birth_date": "Enter a date as YYYY-MM-DD.",
        "abroad": "Answer yes or no.",
        "profession": "Choose one of the answers offered.",
        "residence_country": "Choose a country from the list.",
        "note": "Write at most 1000 characters.",
        "days": "Enter a number.",
        "benefits_now": "Answer this question.",
        "nir": "This question is not asked by the fund.",
    }


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("annual_resources", "1000000.01", "Enter a number of at most 1,000,000."),
        ("annual_resources", "10.005", "Enter an amount with at most 2 decimal places."),
        ("annual_resources", "abc", "Enter a number."),
        ("days", "-1", "Enter a number of at least 0."),
        ("birth_date", "2020-02-30", "Enter a date as YYYY-MM-DD."),
        ("birth_date", "20200215", "Enter a date as YYYY-MM-DD."),
        ("profession", 1, "Enter a text."),
        # beyond what decimal arithmetic can hold: refused, never an overflow
        (
            "annual_resources",
            "1e999999999",
            "Enter a number with at most 14 digits before the decimal point and 4 after.",
        ),
    ],
)
def test_clean_answers_refuses(question: str, value: Any, message: str) -> None:
    assert problems(DOCUMENT, {**VALID, question: value}) == {question: message}


def test_money_bounds_and_the_maximum_are_accepted() -> None:
    answers = clean_answers(DOCUMENT, {**VALID, "annual_resources": "1000000", "days": 0})
    assert (answers["annual_resources"], answers["days"]) == ("1000000.00", 0)


def test_required_questions_may_wait_in_a_partial_answer_but_not_a_wrong_one() -> None:
    assert clean_answers(DOCUMENT, {"days": "3", "share": ""}, partial=True) == {"days": 3}
    assert problems(DOCUMENT, {"days": "three"}, partial=True) == {"days": "Enter a number."}
    assert set(problems(DOCUMENT, {})) == {
        "annual_resources",
        "birth_date",
        "profession",
        "residence_country",
        "days",
        "benefits_now",
    }


def test_skipped_questions_are_not_asked() -> None:
    skip = frozenset({"birth_date", "profession"})
    answers = {k: v for k, v in VALID.items() if k not in skip}
    assert "birth_date" not in clean_answers(DOCUMENT, answers, skip=skip)
    assert problems(DOCUMENT, VALID, skip=skip) == {
        "birth_date": "This question is not asked by the fund.",
        "profession": "This question is not asked by the fund.",
    }


def test_messages_and_their_numbers_are_in_the_active_language() -> None:
    with translation.override("fr"):
        found = problems(DOCUMENT, {**VALID, "annual_resources": "1000001", "days": ""})
        expected_required = translation.gettext("Answer this question.")
        # French writes 1 000 000 with narrow no-break spaces
        expected_maximum = translation.gettext("Enter a number of at most %(max)s.") % {
            "max": "1\u202f000\u202f000"
        }
    assert found == {"annual_resources": expected_maximum, "days": expected_required}


def test_countries_are_iso_codes_named_in_each_language_and_sorted_by_name() -> None:
    assert {"FR", "BE", "XK", "GB"} <= COUNTRY_CODES
    assert not {"EU", "UN", "ZZ", "001"} & COUNTRY_CODES
    french = dict(country_choices("fr"))
    assert (french["DE"], dict(country_choices("en"))["DE"]) == ("Allemagne", "Germany")
    names = [name for _, name in country_choices("fr")]
    # "Égypte" sorts among the E, not after "Zimbabwe"
    assert names.index("Égypte") < names.index("Espagne") < names.index("Zimbabwe")


# -- form fields ---------------------------------------------------------------------------------


class AnswersForm(AccessibleForm):
    def __init__(self, data: Any = None, *, language: str = "en", **options: Any) -> None:
        forms.Form.__init__(self, data)
        self.options = options
        self.fields.update(answer_fields(DOCUMENT, language, **options))
        self.answers: dict[str, Any] | None = None
        self.describe_fields()

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        self.answers = clean_form_answers(self, DOCUMENT, **self.options)
        return cleaned


def test_answer_fields_are_typed_labelled_and_bounded_for_the_browser() -> None:
    fields = answer_fields(DOCUMENT, "fr")

    assert list(fields) == [q.id for q in questions(DOCUMENT)]
    money = fields["annual_resources"]
    assert isinstance(money, forms.DecimalField)
    assert (money.label, money.help_text) == ("Ressources annuelles", "Avant allocations.")
    assert money.widget.attrs == {"min": "0", "max": "1000000", "step": "0.01", "required": True}
    assert isinstance(fields["children"], forms.IntegerField)
    assert fields["days"].widget.attrs == {"min": "0", "step": "1", "required": True}
    assert isinstance(fields["birth_date"].widget, forms.DateInput)
    assert fields["birth_date"].widget.input_type == "date"
    assert isinstance(fields["abroad"].widget, forms.RadioSelect)
    assert isinstance(fields["profession"].widget, forms.RadioSelect)
    assert list(fields["profession"].choices) == [
        ("technician", "Technicien·ne"),
        ("artist", "Artiste"),
    ]
    assert fields["residence_country"].choices[1:3] == [
        ("AF", "Afghanistan"),
        ("ZA", "Afrique du Sud"),
    ]
    with translation.override("fr"):
        optional = translation.gettext("%(label)s (optional)") % {"label": "Part"}
    assert fields["share"].label == optional
    assert "required" not in fields["share"].widget.attrs
    # one validation path: the fields themselves require nothing and bound nothing
    assert not any(field.required for field in fields.values())
    assert not [
        validator
        for field in fields.values()
        for validator in field.validators
        if isinstance(validator, MinValueValidator | MaxValueValidator | MaxLengthValidator)
    ]


def test_yes_and_no_are_in_the_page_language() -> None:
    with translation.override("fr"):
        yes, no = translation.gettext("Yes"), translation.gettext("No")
    assert [label for _, label in answer_fields(DOCUMENT, "fr")["abroad"].choices] == [
        yes,
        no,
    ]
    assert [label for _, label in answer_fields(DOCUMENT, "en")["abroad"].choices] == [
        "Yes",
        "No",
    ]


def test_partial_fields_are_not_marked_required() -> None:
    fields = answer_fields(DOCUMENT, "en", partial=True)
    assert not any("required" in field.widget.attrs for field in fields.values())


def test_a_form_with_answer_fields_gives_the_clean_answers() -> None:
    form = AnswersForm({**VALID, "abroad": "yes", "children": ""})

    assert form.is_valid(), form.errors
    assert form.answers == {
        "annual_resources": "14200.00",
        "birth_date": "1988-04-17",
        "abroad": True,
        "profession": "technician",
        "residence_country": "FR",
        "days": 14,
        "benefits_now": False,
    }


def test_a_form_shows_each_problem_on_its_field_once() -> None:
    form = AnswersForm({**VALID, "annual_resources": "-5", "days": "many", "profession": ""})

    assert not form.is_valid()
    assert form.answers is None
    assert form.errors == {
        "annual_resources": ["Enter a number of at least 0."],
        "days": ["Enter a whole number."],  # the field's own parsing, not "Answer this question."
        "profession": ["Answer this question."],
    }
    assert form.fields["annual_resources"].widget.attrs["aria-invalid"] == "true"
    html = str(form["annual_resources"])
    assert 'aria-describedby="id_annual_resources_helptext id_annual_resources_error"' in html
    assert 'value="-5"' in html  # what was typed stays


def test_a_form_shows_saved_answers_again() -> None:
    form = AnswersForm()
    form.initial = clean_answers(DOCUMENT, {**VALID, "abroad": False})

    assert form["abroad"].value() == "no"
    assert 'value="no" required checked' not in str(form["abroad"])  # optional: not required
    assert re.search(r'value="no"[^>]* checked', str(form["abroad"]))
    assert 'value="14200.00"' in str(form["annual_resources"])


# -- evaluating answers --------------------------------------------------------------------------


def test_asked_aggregates_are_read_from_the_answers_and_yes_counts_as_one() -> None:
    answers = clean_answers(
        NETFLIX,
        {
            "annual_resources": "14200",
            "profession": "technician",
            "sector_days": "9",
            "days_sep_feb": "9",
            "rights_ended_2020": "yes",
            "rights_opened_2020": "no",
            "rights_opened_2019": "no",
            "benefits_now": "no",
        },
    )

    evaluation = evaluate_answers(NETFLIX, answers, at=AT, language="en")

    assert (evaluation.eligible, evaluation.amount) == (True, Decimal("900.00"))
    assert evaluation.values["rights_ended_2020"] == Decimal(1)
    worked = next(c for c in evaluation.criteria if c.id == "worked_12_days")
    assert (worked.passed, worked.explanation) == (
        False,
        "You worked 9 days between 1 Sept 2019 and 29 Feb 2020; 12 are required.",
    )


def test_unasked_and_unanswered_aggregates_are_unknown() -> None:
    answers = clean_answers(DOCUMENT, {**VALID, "days": "3"})
    evaluation = evaluate_answers(DOCUMENT, answers, at=AT, language="en")
    assert evaluation.values["employers"] is None  # not asked: no answer can stand for it
    assert not evaluation.eligible
    unknown = next(c for c in evaluation.criteria if c.id == "had_employers")
    assert unknown.explanation == "Had an employer: not met (employers = unknown)"

    partial = evaluate_answers(NETFLIX, {"sector_days": 3}, at=AT, language="en")
    assert partial.values["days_sep_feb"] is None
    assert not partial.eligible


def test_deciding_criteria_explain_the_outcome() -> None:
    def answered(**changes: Any) -> list[str]:
        raw = {
            "annual_resources": "14200",
            "profession": "technician",
            "sector_days": "9",
            "days_sep_feb": "9",
            "rights_ended_2020": "yes",
            "rights_opened_2020": "no",
            "rights_opened_2019": "yes",
            "benefits_now": "no",
            **changes,
        }
        evaluation = evaluate_answers(NETFLIX, clean_answers(NETFLIX, raw), at=AT, language="en")
        return [c.id for c in deciding_criteria(NETFLIX, evaluation)]

    # eligible: the branch that holds, the exclusion escaped, what sets the amount
    assert answered() == ["sector_worker", "could_not_renew", "receives_benefits", "low_resources"]
    # excluded: only the exclusion met
    assert answered(benefits_now="yes") == ["receives_benefits"]
    # not eligible: every failing branch, and the exclusion if met too
    assert answered(rights_ended_2020="no") == [
        "could_not_renew",
        "no_opening_2019",
        "worked_12_days",
    ]
    assert answered(sector_days="0", benefits_now="yes") == ["sector_worker", "receives_benefits"]


# -- properties ----------------------------------------------------------------------------------

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**16), 10**16),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", " ", "yes", "non", "1", "0", "FR", "fr", "artist", "12", "-0", "1e3"]),
    st.dates().map(dt.date.isoformat),
    st.dates(),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.fixed_dictionaries({}, optional={q.id: ANY_VALUE for q in questions(DOCUMENT)}))
def test_whatever_clean_answers_accepts_the_engine_reads_as_the_same_facts(
    raw: dict[str, Any],
) -> None:
    try:
        answers = clean_answers(DOCUMENT, raw, partial=True)
    except AnswersInvalid as invalid:
        refused = {question for question, _ in invalid.problems}
        assert refused <= set(raw)  # a partial answer is refused only for what it says
        return
    facts = facts_from(DOCUMENT, {"declared": answers})  # never a FactError
    for fact in DOCUMENT.facts:
        value = answers.get(fact.id)
        if value is None:
            assert facts[fact.id] is None
        elif fact.type in ("number", "money", "count"):
            assert facts[fact.id] == Decimal(str(value))
        elif fact.type == "date":
            assert facts[fact.id] == dt.date.fromisoformat(value)
        else:
            assert facts[fact.id] == value
    # and what it returns is accepted again, unchanged
    assert clean_answers(DOCUMENT, answers, partial=True) == answers


KEY_DATES = [
    day(text) + dt.timedelta(days=shift)
    for text in (
        "2019-03-01",
        "2019-09-01",
        "2019-12-01",
        "2020-01-01",
        "2020-02-29",
        "2020-03-01",
        "2020-08-31",
    )
    for shift in (-1, 0, 1)
]
dates = st.one_of(
    st.sampled_from(KEY_DATES), st.dates(min_value=day("2018-12-01"), max_value=day("2021-03-01"))
)
declarations = st.builds(
    lambda start, length, contract_type, naf, siret, paid, hours, cachets: Declaration(
        siret=siret,
        naf=naf,
        idcc="2642",
        contract_type=contract_type,
        start=start,
        end=start + dt.timedelta(days=length),
        hours=Decimal(hours) if paid == "hours" else None,
        cachets=cachets if paid == "cachets" else None,
        gross_pay=Decimal("1000.00"),
    ),
    dates,
    st.integers(0, 90),
    st.sampled_from(["CDDU", "CDD", "CDI"]),
    st.sampled_from(["59.11A", "59.11C", "59.12Z", "90.01Z"]),
    st.sampled_from(["11111111111111", "22222222222222"]),
    st.sampled_from(["hours", "cachets"]),
    st.integers(1, 400),
    st.integers(0, 12),
)
rights_records = st.builds(
    lambda annex, opened, length, status, reason: Rights(
        annex=annex,
        opened_on=opened,
        ends_on=opened + dt.timedelta(days=length),
        status=status,
        reason=reason,
    ),
    st.sampled_from(["8", "10", "general"]),
    dates,
    st.integers(0, 400),
    st.sampled_from(["open", "ended", "refused"]),
    st.sampled_from(["", "maternity", "illness"]),
)
benefits = st.builds(
    lambda scheme, start, length: Benefit(
        scheme=scheme,
        start=start,
        end=None if length is None else start + dt.timedelta(days=length),
    ),
    st.sampled_from(["annex8", "annex10", "general"]),
    dates,
    st.one_of(st.none(), st.integers(0, 200)),
)
cancellations = st.builds(
    lambda date, cachets, signed: Cancellation(
        siret="80295478500028", date=date, cachets=cachets, signed_on=signed
    ),
    dates,
    st.integers(1, 4),
    st.one_of(st.none(), dates),
)
people = st.builds(
    lambda d, r, b, c: PersonEvidence(
        declarations=tuple(d), rights=tuple(r), benefits=tuple(b), cancellations=tuple(c)
    ),
    st.lists(declarations, max_size=6),
    st.lists(rights_records, max_size=3),
    st.lists(benefits, max_size=2),
    st.lists(cancellations, max_size=8),
)
declared_facts = st.fixed_dictionaries(
    {
        "annual_resources": st.sampled_from(["0", "14999.99", "15000", "15000.01", "40000"]),
        "profession": st.sampled_from(["technician", "artist"]),
        "residence_country": st.sampled_from(["FR", "BE"]),
    },
    optional={"works_mostly_abroad": st.booleans()},
)


def _boolean_asked(document: RuleDocument) -> set[str]:
    return {a.id for a in document.evidence if a.ask is not None and a.ask.type == "boolean"}


def _names_read(document: RuleDocument, criterion_id: str) -> set[str]:
    criterion = document.criterion(criterion_id)
    names = set(names_in(criterion.test))
    for text in (criterion.explain_pass, criterion.explain_fail):
        if text is not None:
            for template in (text.fr, text.en):
                names |= {match.group(1) for match in PLACEHOLDER.finditer(template)}
    return names


@pytest.mark.parametrize("name", REFERENCE)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(person=people, facts=declared_facts, shift=st.integers(0, 120))
def test_answers_that_say_what_the_records_say_give_the_same_evaluation(
    name: str, person: PersonEvidence, facts: dict[str, Any], shift: int
) -> None:
    document = ruleset(name)
    at = document.effective_from + dt.timedelta(days=shift)
    raw: dict[str, Any] = {k: v for k, v in facts.items() if document.fact(k) is not None}
    for aggregate in document.evidence:
        assert aggregate.ask is not None
        value = aggregates.compute(aggregate, person, at)
        # a yes/no question stands for "at least one record", which is all the tests ask
        raw[aggregate.id] = value > 0 if aggregate.ask.type == "boolean" else str(value)
    answers = clean_answers(document, raw)

    from_answers = evaluate_answers(document, answers, at=at, language="fr")
    from_records = evaluate(
        document,
        facts=facts_from(document, {"declared": answers}),
        evidence=person,
        at=at,
        language="fr",
    )

    event(f"eligible: {from_records.eligible}")
    assert from_answers.eligible == from_records.eligible
    assert from_answers.amount == from_records.amount
    assert from_answers.components == from_records.components
    assert [(c.id, c.passed) for c in from_answers.criteria] == [
        (c.id, c.passed) for c in from_records.criteria
    ]
    counted = _boolean_asked(document)
    for answered, recorded in zip(from_answers.criteria, from_records.criteria, strict=True):
        if not _names_read(document, answered.id) & counted:  # a count shows as itself
            assert answered.explanation == recorded.explanation
