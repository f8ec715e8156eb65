"""The personal identifier a fund's rules ask for (applications.identity): each kind checked,
stored compact and tied to the date of birth it encodes; the portal asking a UK fund's
applicants for their National Insurance number instead of a NIR; one application and one award
per identifier; a fund outside France evaluated and verified without French records."""

from __future__ import annotations

import datetime as dt
import html
import random
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.forms import IdentityForm
from entraide.applications.identity import (
    IDENTIFIERS,
    MAX_TYPED_LENGTH,
    NINO,
    PersonalIdentifier,
    identifier_of,
    identifier_of_value,
)
from entraide.applications.models import Application
from entraide.applications.services import (
    AlreadyApplied,
    AlreadyAppliedInProgramme,
    Submitted,
    submit_application,
)
from entraide.applications.submission import SubmissionData, SubmissionInvalid
from entraide.applications.tests.factories import ApplicationFactory, submission_data
from entraide.applications.tests.identifier_data import (
    CODICE_FISCALE,
    CODICE_FISCALE_BIRTH,
    GB_IBAN,
    IT_IBAN,
    ITALY_DECLARED,
    ITALY_RULES,
    NINO_STORED,
    RULESETS,
    SPAIN_RULES,
    UK_ANSWERS,
    UK_RULES,
    codice_fiscale,
    faker,
    fund_with_rules,
)
from entraide.applications.tests.identifier_data import NINO as TYPED_NINO
from entraide.core.crypto import blind_index
from entraide.core.errors import ValidationFailed
from entraide.demo.synthetic import make_nir
from entraide.evidence import fund_verification
from entraide.funds import ledger
from entraide.funds.models import Award, Fund
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.rules import selectors as rules_selectors
from entraide.rules import services as rules
from entraide.rules.document import load_file, schema

NIR_BIRTH = dt.date(1988, 11, 23)
NIR = make_nir(random.Random(5), NIR_BIRTH, 2)
UK_DECLARED = {
    "residence_country": "GB",
    "engagement": "freelance",
    "screen_months": 8,
    "work_stopped": True,
    "monthly_income": "900",
    "essential_outgoings": "1500",
    "savings": "1200",
}
# Application.nir (its blind index keeps one award per identifier per fund or programme)
FIELD_LENGTH = 20

# (kind, as typed, as stored)
VALID = [
    (
        "fr-nir",
        " ".join([NIR[:1], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]]),
        NIR,
    ),
    ("it-codice-fiscale", "rccmnl 83s18 d969h", CODICE_FISCALE),
    ("es-dni-nie", "12.345.678-z", "12345678Z"),
    ("es-dni-nie", "x-1234567-l", "X1234567L"),
    ("gb-nino", "ab 12 34 56 c", "AB123456C"),
    ("gb-nino", "JG-10-29-66-A", "JG102966A"),
]
INVALID = [
    ("fr-nir", "185047511604299"),  # wrong key
    ("fr-nir", TYPED_NINO),
    ("it-codice-fiscale", "RCCMNL83S18D969A"),  # wrong control character
    ("it-codice-fiscale", "00743110157"),  # a company's number, valid for python-stdnum
    ("it-codice-fiscale", "RCCMNL83S18D969"),
    ("it-codice-fiscale", NIR),
    ("es-dni-nie", "12345678A"),  # wrong letter
    ("es-dni-nie", "X1234567A"),
    ("es-dni-nie", "1234567Z"),
    ("es-dni-nie", ""),
    ("gb-nino", "QQ 12 34 56 C"),  # Q is never a prefix letter: HMRC's own example
    ("gb-nino", "AO123456C"),  # O is never the second letter
    ("gb-nino", "DA123456A"),
    ("gb-nino", "GB123456A"),  # prefixes never allocated
    ("gb-nino", "ZZ123456A"),
    ("gb-nino", "TN123456A"),
    ("gb-nino", "AB123456E"),  # the suffix is A to D
    ("gb-nino", "AB12345C"),
    ("gb-nino", "AB1234567C"),
    ("gb-nino", NIR),
]


def submit(fund: Fund, data: SubmissionData) -> Submitted:
    return submit_application(
        actor=UserFactory(), fund=fund, idempotency_key=str(uuid.uuid4()), data=data
    )


# -- the registry --------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "typed", "stored"), VALID)
def test_each_kind_takes_its_numbers_as_typed_and_stores_them_compact(
    kind: str, typed: str, stored: str
) -> None:
    identifier = IDENTIFIERS[kind]

    assert identifier.normalise(typed) == stored
    assert len(typed) <= identifier.max_length
    assert len(stored) <= FIELD_LENGTH
    assert identifier_of_value(stored) is identifier


@pytest.mark.parametrize(("kind", "typed"), INVALID)
def test_each_kind_refuses_what_is_not_one_of_its_numbers_on_the_identifier_s_field(
    kind: str, typed: str
) -> None:
    identifier = IDENTIFIERS[kind]
    with pytest.raises(ValidationFailed) as refused:
        identifier.normalise(typed)

    assert refused.value.field == "nir"
    assert refused.value.message == identifier.invalid


def test_the_nino_s_message_says_what_one_looks_like() -> None:
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        IDENTIFIERS["gb-nino"].normalise(NIR)

    assert str(refused.value.message) == (
        "This National Insurance number is not valid: it has 2 letters, 6 digits and a final "
        "letter from A to D."
    )


def test_faker_s_italian_and_spanish_numbers_are_valid_and_its_british_ones_are_not() -> None:
    for seed in range(40):
        code, _birth = codice_fiscale(seed)
        spanish = faker("es_ES", seed)
        assert identifier_of_value(IDENTIFIERS["it-codice-fiscale"].normalise(code)).id == (
            "it-codice-fiscale"
        )
        for number in (spanish.nif(), spanish.nie()):
            assert IDENTIFIERS["es-dni-nie"].normalise(number) == number
        # Faker writes reserved numbers (ZZ ... T) so that none is a real person's.
        with pytest.raises(ValidationFailed):
            IDENTIFIERS["gb-nino"].normalise(faker("en_GB", seed).ssn())


@given(number=st.from_regex(NINO, fullmatch=True), separator=st.sampled_from(["", " ", "-"]))
def test_every_number_of_hmrc_s_format_is_a_nino_and_only_a_nino(
    number: str, separator: str
) -> None:
    typed = separator.join([number[:2], number[2:4], number[4:6], number[6:8], number[8:]])

    assert IDENTIFIERS["gb-nino"].normalise(typed.lower()) == number
    assert identifier_of_value(number).id == "gb-nino"
    assert accepting(number) == ["gb-nino"]


def accepting(number: str) -> list[str]:
    """The kinds that take ``number``."""
    accepted = []
    for identifier in IDENTIFIERS.values():
        try:
            identifier.normalise(number)
        except ValidationFailed:
            pass
        else:
            accepted.append(identifier.id)
    return accepted


def test_the_kinds_never_take_each_other_s_numbers() -> None:
    """So a stored identifier is named by its form alone (identifier_of_value)."""
    samples = {kind: [stored] for kind, _typed, stored in VALID}
    samples["it-codice-fiscale"] += [codice_fiscale(seed)[0] for seed in range(20)]
    samples["es-dni-nie"] += [faker("es_ES", seed).nif() for seed in range(20)]
    samples["es-dni-nie"] += [faker("es_ES", seed).nie() for seed in range(20)]
    samples["fr-nir"] += [make_nir(random.Random(seed), NIR_BIRTH, 1) for seed in range(20)]
    for kind, numbers in samples.items():
        for number in numbers:
            assert accepting(number) == [kind], number


def test_a_value_of_no_known_form_is_shown_as_a_nir() -> None:
    assert identifier_of_value("").id == "fr-nir"
    assert identifier_of_value("NOT-A-NUMBER").id == "fr-nir"


def test_stored_identifiers_fit_both_columns_and_typed_ones_the_api() -> None:
    assert Application._meta.get_field("nir").max_length == FIELD_LENGTH
    assert max(i.max_length for i in IDENTIFIERS.values()) == MAX_TYPED_LENGTH
    # the longest compact form of each kind: 15, 16, 9 and 9 characters
    assert max(len(stored) for _kind, _typed, stored in VALID) <= FIELD_LENGTH


def test_the_nir_and_the_codice_fiscale_are_checked_against_the_date_of_birth() -> None:
    nir, codice = IDENTIFIERS["fr-nir"], IDENTIFIERS["it-codice-fiscale"]
    nir.check_birth_date(NIR, NIR_BIRTH)
    nir.check_birth_date(NIR, NIR_BIRTH.replace(day=2))  # the NIR holds no day
    codice.check_birth_date(CODICE_FISCALE, CODICE_FISCALE_BIRTH)
    # two digits of the year: a century apart is the same code
    codice.check_birth_date(CODICE_FISCALE, CODICE_FISCALE_BIRTH.replace(year=2083))
    for code, birth in (codice_fiscale(seed) for seed in range(10)):  # women: day + 40
        codice.check_birth_date(code, birth)

    for identifier, value, wrong in (
        (nir, NIR, NIR_BIRTH.replace(month=10)),
        (nir, NIR, NIR_BIRTH.replace(year=1989)),
        (codice, CODICE_FISCALE, CODICE_FISCALE_BIRTH.replace(day=19)),
        (codice, CODICE_FISCALE, CODICE_FISCALE_BIRTH.replace(month=12)),
        (codice, CODICE_FISCALE, CODICE_FISCALE_BIRTH.replace(year=1984)),
    ):
        with pytest.raises(ValidationFailed) as refused:
            identifier.check_birth_date(value, wrong)
        assert refused.value.field == "birth_date"


def test_dni_nie_and_nino_encode_no_date_of_birth() -> None:
    for kind, stored in (("es-dni-nie", "12345678Z"), ("gb-nino", NINO_STORED)):
        identifier = IDENTIFIERS[kind]
        assert identifier.birth_date_check is None
        identifier.check_birth_date(stored, dt.date(1950, 1, 1))


def test_the_rules_name_the_identifier_and_a_fund_without_rules_asks_for_the_nir() -> None:
    assert identifier_of(None).id == "fr-nir"
    assert identifier_of(load_file(RULESETS / "netflix-audiens.yaml")).id == "fr-nir"
    for ruleset, kind in (
        (UK_RULES, "gb-nino"),
        (ITALY_RULES, "it-codice-fiscale"),
        (SPAIN_RULES, "es-dni-nie"),
    ):
        assert identifier_of(load_file(RULESETS / f"{ruleset}.yaml")).id == kind


def test_the_rule_language_offers_exactly_the_registry_s_identifiers() -> None:
    offered = schema()["properties"]["identifier"]
    assert offered["enum"] == list(IDENTIFIERS)
    assert offered["default"] == "fr-nir"


def test_every_kind_is_labelled_explained_and_refused_in_both_languages() -> None:
    for identifier in IDENTIFIERS.values():
        for text in (
            identifier.label,
            identifier.help_text,
            identifier.purpose,
            identifier.invalid,
        ):
            with translation.override("en"):
                assert str(text)
            with translation.override("fr"):
                assert str(text)
    with translation.override("fr"):
        assert str(IDENTIFIERS["fr-nir"].label) == "Numéro de sécurité sociale"


# -- the identity step -----------------------------------------------------------------------------


def identity(identifier: PersonalIdentifier, **typed: Any) -> IdentityForm:
    data = {"first_name": "Sam", "last_name": "Taylor", "birth_date": "1983-11-18", **typed}
    return IdentityForm(data, identifier=identifier)


def test_the_identity_form_asks_for_the_fund_s_identifier_first() -> None:
    form = identity(IDENTIFIERS["gb-nino"], nir=TYPED_NINO)

    assert list(form.fields) == ["nir", "first_name", "last_name", "birth_date"]
    with translation.override("en"):
        assert str(form.fields["nir"].label) == "National Insurance number"
        assert "QQ 12 34 56 C" in str(form.fields["nir"].help_text)
    assert form.fields["nir"].widget.attrs["maxlength"] == "13"
    assert form.fields["nir"].widget.attrs["aria-describedby"] == "id_nir_helptext"
    assert form.is_valid(), form.errors
    assert form.cleaned_data["nir"] == NINO_STORED


def test_a_nir_typed_into_the_uk_form_is_refused_with_the_nino_s_message() -> None:
    with translation.override("en"):
        form = identity(IDENTIFIERS["gb-nino"], nir=NIR)
        assert not form.is_valid()
        assert form.errors["nir"] == [str(IDENTIFIERS["gb-nino"].invalid)]


def test_the_date_of_birth_is_checked_only_where_the_identifier_encodes_it() -> None:
    codice = IDENTIFIERS["it-codice-fiscale"]
    assert identity(codice, nir=CODICE_FISCALE).is_valid()
    mismatch = identity(codice, nir=CODICE_FISCALE, birth_date="1983-11-19")
    assert not mismatch.is_valid()
    assert list(mismatch.errors) == ["birth_date"]
    assert identity(IDENTIFIERS["es-dni-nie"], nir="12345678Z", birth_date="1950-01-01").is_valid()


# -- applying to a UK fund through the portal ------------------------------------------------------


@pytest.fixture
def uk_fund(db: None) -> Fund:
    return fund_with_rules(UK_RULES, slug="uk-hardship", name="UK hardship fund")


@pytest.fixture
def applicant(client: Client, db: None) -> Any:
    user = UserFactory.create(email="sam@example.org")
    client.force_login(user)
    return user


def step_url(fund: Fund, step: str) -> str:
    return reverse("apply_step", kwargs={"slug": fund.slug, "step": step})


def page_text(response: Any) -> str:
    # Unescaped: a French text's apostrophe is "&#x27;" in the page.
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


UK_STEPS = {
    "identity": {
        "nir": TYPED_NINO,
        "first_name": "Sam",
        "last_name": "Taylor",
        "birth_date": "1984-06-02",
    },
    "contact": {
        "email": "sam@example.org",
        "phone": "+44 20 7946 0000",
        "address_line": "1 Studio Way",
        "postcode": "W12 7RJ",
        "city": "London",
    },
    "situation": UK_ANSWERS,
    "bank": {"iban": GB_IBAN, "bic": "", "account_holder": "Sam Taylor"},
}


def test_a_uk_freelancer_applies_end_to_end_with_a_national_insurance_number(
    client: Client,
    uk_fund: Fund,
    applicant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.get(reverse("apply", kwargs={"slug": uk_fund.slug}))
    page = client.get(step_url(uk_fund, "identity"))
    assert "National Insurance number" in page_text(page)
    assert "Social security number" not in page_text(page)
    assert "Carte Vitale" not in page_text(page)
    for step, values in UK_STEPS.items():
        response = client.post(step_url(uk_fund, step), values)
        assert response.status_code == 302, (step, response.context["form"].errors)
    assert client.post(step_url(uk_fund, "documents"), {}).status_code == 302
    review = client.get(step_url(uk_fund, "review"))
    assert "National Insurance number" in page_text(review)

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            step_url(uk_fund, "review"),
            {
                "idempotency_key": str(review.context["form"].initial["idempotency_key"]),
                "consent": "on",
            },
        )

    application = Application.objects.get()
    assert sent["Location"] == reverse(
        "application_status", kwargs={"reference": application.reference}
    )
    assert (application.nir, application.iban) == (NINO_STORED, GB_IBAN.replace(" ", ""))
    assert application.declared["residence_country"] == "GB"
    evaluation = rules_selectors.current_evaluation(application.pk)
    assert evaluation is not None
    assert (evaluation.eligible, evaluation.currency) == (True, "GBP")
    [receipt] = mail.outbox
    assert "National Insurance number: •••• 456C" in receipt.body
    assert NINO_STORED not in receipt.body
    status = client.get(sent["Location"])
    assert "National Insurance number •••• 456C" in page_text(status)
    assert "Social security number" not in page_text(status)


def test_the_contact_step_asks_the_country_in_that_of_the_fund_s_identifier_first(
    client: Client,
    uk_fund: Fund,
    applicant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.get(reverse("apply", kwargs={"slug": uk_fund.slug}))

    contact = client.get(step_url(uk_fund, "contact"))

    assert '<option value="GB" selected>United Kingdom</option>' in contact.content.decode()
    # A UK postcode has letters: no numeric keypad on a telephone.
    assert 'inputmode="numeric"' not in contact.content.decode()
    for step, values in UK_STEPS.items():
        if step == "contact":
            values = {**values, "country": "IE", "postcode": "D02 X285", "city": "Dublin"}
        assert client.post(step_url(uk_fund, step), values).status_code == 302, step
    client.post(step_url(uk_fund, "documents"), {})
    review = client.get(step_url(uk_fund, "review"))
    assert "Ireland" in page_text(review)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            step_url(uk_fund, "review"),
            {
                "idempotency_key": str(review.context["form"].initial["idempotency_key"]),
                "consent": "on",
            },
        )

    assert Application.objects.get().country == "IE"


@pytest.mark.django_db
def test_a_submission_naming_no_country_is_in_that_of_the_fund_s_identifier(
    uk_fund: Fund,
) -> None:
    uk = submission_data(nir=TYPED_NINO, iban=GB_IBAN, declared=UK_DECLARED)
    assert uk.country == ""  # as the partners' API leaves it when the body names none

    applications = [
        submit(uk_fund, uk).application,
        submit(fund_with_rules(ITALY_RULES), italian()).application,
        submit(FundFactory(), submission_data()).application,  # no rules: the NIR's France
    ]

    assert [application.country for application in applications] == ["GB", "IT", "FR"]


def test_the_identity_step_names_the_uk_identifier_in_french(
    client: Client, uk_fund: Fund, applicant: Any
) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    client.get(reverse("apply", kwargs={"slug": uk_fund.slug}))

    page = page_text(client.get(step_url(uk_fund, "identity")))

    with translation.override("fr"):
        assert str(IDENTIFIERS["gb-nino"].label) in page
        assert str(IDENTIFIERS["gb-nino"].purpose) in page
    assert "Numéro de sécurité sociale" not in page


def test_a_french_nir_typed_into_the_uk_portal_is_refused_with_the_nino_s_message(
    client: Client, uk_fund: Fund, applicant: Any
) -> None:
    client.get(reverse("apply", kwargs={"slug": uk_fund.slug}))

    response = client.post(step_url(uk_fund, "identity"), {**UK_STEPS["identity"], "nir": NIR})

    assert response.status_code == 200
    with translation.override("en"):
        assert response.context["form"].errors["nir"] == [str(IDENTIFIERS["gb-nino"].invalid)]
    assert "This social security number is not valid" not in page_text(response)


def test_a_french_fund_still_asks_for_the_nir(client: Client, applicant: Any) -> None:
    french = fund_with_rules("netflix-audiens")
    client.get(reverse("apply", kwargs={"slug": french.slug}))

    page = page_text(client.get(step_url(french, "identity")))

    assert "Social security number" in page
    assert "Carte Vitale" in page
    assert "National Insurance number" not in page


# -- one per person --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_application_per_national_insurance_number_however_it_is_typed(
    uk_fund: Fund,
) -> None:
    person = submission_data(nir=TYPED_NINO, iban=GB_IBAN, declared=UK_DECLARED)
    assert submit(uk_fund, person).application.nir == NINO_STORED

    with pytest.raises(AlreadyApplied):
        submit(uk_fund, submission_data(nir="ab123456c", iban=GB_IBAN, declared=UK_DECLARED))
    # another person's number is another application
    assert submit(
        uk_fund, submission_data(nir="JG 10 29 66 A", iban=GB_IBAN, declared=UK_DECLARED)
    ).created


def italian(code: str = CODICE_FISCALE, birth: dt.date = CODICE_FISCALE_BIRTH) -> SubmissionData:
    return submission_data(nir=code, birth_date=birth, iban=IT_IBAN, declared=ITALY_DECLARED)


@pytest.mark.django_db
def test_a_codice_fiscale_is_stored_whole_and_checked_against_the_date_of_birth() -> None:
    fund = fund_with_rules(ITALY_RULES)

    with pytest.raises(SubmissionInvalid) as refused:
        submit(fund, italian(birth=CODICE_FISCALE_BIRTH.replace(day=1)))
    assert [problem.path for problem in refused.value.problems] == ["applicant.birth_date"]

    application = submit(fund, italian("rccmnl83s18d969h")).application
    application.refresh_from_db()
    assert application.nir == CODICE_FISCALE


def programme_of_italian_funds() -> tuple[Fund, Fund]:
    """Two Italian funds of one programme whose rules allow one grant per person in it."""
    programme = ProgrammeFactory()
    source = (RULESETS / f"{ITALY_RULES}.yaml").read_text(encoding="utf-8")
    funds = []
    for _ in range(2):
        fund = fund_with_rules(ITALY_RULES, programme=programme)
        version = fund.rule_set.versions.get()
        version.source = source.replace("one_per_person: fund", "one_per_person: programme")
        version.document = {**version.document, "one_per_person": "programme"}
        version.save()
        funds.append(fund)
    rules_selectors.forget_documents_in_force()
    return funds[0], funds[1]


@pytest.mark.django_db
def test_one_application_per_codice_fiscale_in_a_programme_that_says_so() -> None:
    first, second = programme_of_italian_funds()
    submit(first, italian())

    with pytest.raises(AlreadyAppliedInProgramme):
        submit(second, italian(CODICE_FISCALE.lower()))


@pytest.mark.django_db
def test_one_live_award_per_codice_fiscale_in_a_programme() -> None:
    first, second = programme_of_italian_funds()
    # applications that reached two funds anyway (before the rules said so, say)
    applications = [ApplicationFactory(fund=fund, nir=CODICE_FISCALE) for fund in (first, second)]
    reviewer = UserFactory()

    with transaction.atomic():
        award = ledger.place_award(
            actor=reviewer,
            fund=first,
            application=applications[0],
            amount=Decimal("800.00"),
            one_per_programme=True,
        )
    assert (award.nir_index, award.status) == (
        blind_index("nir", CODICE_FISCALE),
        Award.Status.RESERVED,
    )
    with pytest.raises(ledger.AlreadyAwarded), transaction.atomic():
        ledger.place_award(
            actor=reviewer,
            fund=second,
            application=applications[1],
            amount=Decimal("800.00"),
            one_per_programme=True,
        )


# -- French records: none to match -----------------------------------------------------------------


def test_a_fund_outside_france_is_evaluated_and_verified_without_french_records(
    client: Client, uk_fund: Fund
) -> None:
    application = ApplicationFactory(fund=uk_fund, nir=NINO_STORED, declared=UK_DECLARED)
    admin = FundRoleFactory(fund=uk_fund, role="operator_admin").user

    rules.evaluate_application(actor=None, application=application)
    evaluation = rules_selectors.current_evaluation(application.pk)
    assert evaluation is not None
    assert evaluation.eligible
    version = uk_fund.rule_set.versions.get()
    preview = rules.preview_version(actor=admin, fund=uk_fund, version=version)
    assert (preview.pending, preview.eligible, preview.unreadable) == (1, 1, [])
    run = fund_verification.verify_fund(
        run=fund_verification.start_verification(actor=admin, fund=uk_fund)
    )
    assert run.status == run.Status.DONE

    client.force_login(admin)
    for name in ("staff_application", "staff_application_records"):
        page = client.get(
            reverse(name, kwargs={"slug": uk_fund.slug, "reference": application.reference})
        )
        assert page.status_code == 200, name
    records = page_text(page)
    assert "National Insurance number •••• 456C" in records
    assert NINO_STORED not in records
    verification = client.get(reverse("fund_verification", kwargs={"slug": uk_fund.slug}))
    assert verification.status_code == 200
