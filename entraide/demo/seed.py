"""The demo: a programme, the Netflix × Audiens fund with its published rules, its staff, ~200
applicants with evidence (declarations, rights, benefits, cancellations), each evaluated; the
programme's crew relief (a roster, a run granted, another waiting for its second person) and a UK
partner fund in pounds with its own rules and applicants.

Everything goes through the services, so the demo also exercises the audit chain. Seeding twice
changes nothing: the second run finds the demo fund and stops.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language, override

from entraide.accounts.mfa import enroll_totp
from entraide.accounts.models import User
from entraide.accounts.selectors import requires_mfa, user_by_email
from entraide.accounts.services import create_account
from entraide.applications.models import Application
from entraide.applications.services import submit_application
from entraide.applications.submission import ASKED_IN_OWN_STEPS, SubmissionData
from entraide.core.crypto import blind_index
from entraide.crew import relief
from entraide.crew import selectors as crew_selectors
from entraide.crew.services import import_roster
from entraide.demo.synthetic import (
    CREW_PRODUCTIONS,
    SyntheticPerson,
    make_benefits,
    make_cancellations,
    make_crew_roster,
    make_declarations,
    make_look_alikes,
    make_people,
    make_rights,
    make_uk_people,
    status_report,
)
from entraide.evidence.models import EvidenceBatch
from entraide.evidence.selectors import person_evidence
from entraide.evidence.services import load_evidence_batch
from entraide.funds.models import Fund, FundRole
from entraide.funds.selectors import fund_by_slug
from entraide.funds.services import create_fund, grant_fund_role
from entraide.integrity.services import check_application, request_linkage_run
from entraide.payments import services as payments
from entraide.payments.models import FileFormat, default_csv_columns
from entraide.programmes import rates
from entraide.programmes.models import Programme, ProgrammeRole
from entraide.programmes.services import allocate, create_programme, grant_programme_role
from entraide.reporting.public_statistics import save_public_statistics_settings
from entraide.review.services import approve_application, reject_application
from entraide.rules import aggregates
from entraide.rules.declared import questions
from entraide.rules.document import RuleDocument
from entraide.rules.selectors import document_of
from entraide.rules.services import evaluate_application, publish_version, save_draft

DEMO_FUND_SLUG = "netflix-audiens"
CREW_FUND_SLUG = "netflix-crew-relief"
UK_FUND_SLUG = "uk-film-tv-hardship"
REVIEWER = "reviewer@demo.entraide.invalid"
APPROVER = "approver@demo.entraide.invalid"
FINANCE = "finance@demo.entraide.invalid"
TREASURER = "treasurer@demo.entraide.invalid"
DEMO_PASSWORD = "entraide-demo-2020"  # noqa: S105 (a published demo password, demo data only)
# The key of the authenticator app of the demo's staff who approve or pay (the back office asks
# them for a code): `entraide demo totp EMAIL` prints the current one; it can also be typed
# into an authenticator app. Published, demo data only.
DEMO_TOTP_SECRET = "ENTRAIDEDEMOTOTPSECRETFORTHEDEMO"  # noqa: S105
STAFF = (
    ("operator@demo.entraide.invalid", "Olivia", "Opérateur", None),
    (REVIEWER, "Rémi", "Relecteur", FundRole.Role.REVIEWER),
    (APPROVER, "Agnès", "Approbatrice", FundRole.Role.APPROVER),
    (FINANCE, "Fabien", "Finances", FundRole.Role.FINANCE),
    # A second person of finance releases the batches the first prepares (four eyes).
    (TREASURER, "Thérèse", "Trésorière", FundRole.Role.FINANCE),
    ("auditor@demo.entraide.invalid", "Aude", "Auditrice", FundRole.Role.AUDITOR),
)
APPLICANT_LOGIN = "applicant@demo.entraide.invalid"
# The donor's person: reads the programme's roll-up, no applicant's data.
DONOR_LOGIN = "donor@demo.entraide.invalid"
# The demo's rates per euro, recorded by hand (no ECB file is shipped with the demo).
DEMO_USD_RATE = Decimal("1.0876")
DEMO_GBP_RATE = Decimal("0.87865")
# The programme's share for the crews of suspended productions, in dollars: the crew relief
# fund's allocation, the rest kept for crew relief funds yet to come.
CREW_RELIEF_SHARE = Decimal("85000000.00")
# The most one crew member is paid, in the programme's dollars.
CREW_CAP = Decimal("5000.00")
# The fund's own (synthetic) account: the batches' SEPA files debit it.
DEMO_PAYMENT_SETTINGS = {
    "file_format": FileFormat.PAIN_001_001_09,
    "debtor_name": "Audiens Fonds d'urgence (demo)",
    "debtor_iban": "FR7630006000011234567890189",
    "debtor_bic": "",
    "initiating_party": "Audiens (demo)",
    "initiating_party_id": "",
    "execution_days": 1,
    "remittance_template": "Aide d'urgence Netflix-Audiens {reference}",
    "csv_columns": default_csv_columns(),
    "csv_delimiter": ",",
    "csv_decimal_comma": False,
}
# The crew relief fund's own (synthetic) account.
CREW_PAYMENT_SETTINGS = {
    **DEMO_PAYMENT_SETTINGS,
    "debtor_name": "Netflix crew relief (demo)",
    "debtor_iban": "FR7630004008280001234567841",
    "initiating_party": "Netflix crew relief (demo)",
    "remittance_template": "Crew relief {reference}",
}
REJECTION_REASON = (
    "Votre situation ne remplit pas les critères du fonds (voir le détail de l'évaluation)."
)
UK_REJECTION_REASON = "Your situation does not meet the fund's criteria (see the evaluation)."
DEMO_RULES = settings.BASE_DIR / "rulesets" / "netflix-audiens.yaml"
UK_RULES = settings.BASE_DIR / "rulesets" / "uk-film-tv-hardship.yaml"


@dataclass(frozen=True)
class DemoLogins:
    created: bool
    logins: list[tuple[str, str]]


def logins() -> list[tuple[str, str]]:
    return [(email, role or "operator_admin") for email, _, _, role in STAFF] + [
        (DONOR_LOGIN, "donor"),
        (APPLICANT_LOGIN, "applicant"),
    ]


def seed_demo(
    *,
    applicants: int = 200,
    decided: int = 40,
    uk_applicants: int = 30,
    progress: Callable[[int, int], None] | None = None,
) -> DemoLogins:
    if fund_by_slug(DEMO_FUND_SLUG) is not None:
        # A demo seeded before two-factor authentication: its staff get their app now.
        enroll_demo_authenticators()
        return DemoLogins(created=False, logins=logins())
    rng = random.Random(2020)
    operator_email, first, last, _ = STAFF[0]
    operator = create_account(
        actor=None,
        email=operator_email,
        password=DEMO_PASSWORD,
        first_name=first,
        last_name=last,
        fund_operator=True,
    )
    programme = create_programme(
        actor=operator,
        slug="covid-19-relief-demo",
        name="COVID-19 crew relief (demo)",
        donor="Netflix",
        commitment=Decimal("100000000.00"),
        currency="USD",
    )
    today = timezone.now().date()
    fund = create_fund(
        actor=operator,
        name="Fonds d'urgence Netflix × Audiens (démo)",
        slug=DEMO_FUND_SLUG,
        currency="EUR",
        budget=Decimal("1000000.00"),
        standard_amount=Decimal("500.00"),
        opens_on=today - dt.timedelta(days=7),
        closes_on=today + dt.timedelta(days=60),
        description=(
            "Aide d'urgence pour les artistes et techniciens intermittents de l'audiovisuel et "
            "du cinéma en situation de précarité. 500 €, ou 900 € si vos ressources annuelles "
            "sont au plus de 15 000 €."
        ),
        programme_id=programme.pk,
    )
    document = _publish_rules(operator, fund, DEMO_RULES)
    crew_fund, uk_fund = create_other_funds(operator, programme, today)
    staff: dict[str, User] = {}  # by e-mail address
    for email, first, last, role in STAFF[1:]:
        staff[email] = create_account(
            actor=operator, email=email, password=DEMO_PASSWORD, first_name=first, last_name=last
        )
        for each in (fund, crew_fund, uk_fund):
            grant_fund_role(actor=operator, fund=each, user=staff[email], role=role)
    create_account(actor=operator, email=APPLICANT_LOGIN, password=DEMO_PASSWORD)
    allocate_demo_programme(
        operator,
        programme,
        [
            (fund, "Partner fund in France"),
            (crew_fund, "Crew relief in France"),
            (uk_fund, "Partner fund in the UK"),
        ],
        today,
    )
    payments.save_payment_settings(actor=operator, fund=fund, values=DEMO_PAYMENT_SETTINGS)

    people = make_people(applicants)
    declarations: list[dict[str, object]] = []
    rights: list[dict[str, object]] = []
    benefits: list[dict[str, object]] = []
    cancellations: list[dict[str, object]] = []
    for person in people:
        declarations += make_declarations(rng, person.nir, person.profession)
        rights += make_rights(rng, person.nir, person.profession)
        benefits += make_benefits(rng, person.nir, person.profession)
        cancellations += make_cancellations(rng, person.nir)
    load_evidence_batch(
        actor=operator,
        kind=EvidenceBatch.Kind.DECLARATIONS,
        source="demo: declarations.csv",
        rows=declarations,
    )
    load_evidence_batch(
        actor=operator, kind=EvidenceBatch.Kind.RIGHTS, source="demo: rights.csv", rows=rights
    )
    load_evidence_batch(
        actor=operator,
        kind=EvidenceBatch.Kind.BENEFITS,
        source="demo: benefits.csv",
        rows=benefits,
    )
    load_evidence_batch(
        actor=operator,
        kind=EvidenceBatch.Kind.CANCELLATIONS,
        source="demo: cancellations.csv",
        rows=cancellations,
    )

    applications: list[tuple[Application, bool]] = []
    opened_at = timezone.now() - dt.timedelta(days=7)
    moments = sorted(
        opened_at + dt.timedelta(seconds=rng.randint(0, 7 * 24 * 3600 - 60)) for _ in people
    )
    for index, (person, moment) in enumerate(zip(people, moments, strict=True), start=1):
        application = _submit(rng, operator, fund, document, person, moment)
        # The worker would evaluate it in the background; the demo has it evaluated at once
        # (the worker's evaluation then finds the same inputs and stores nothing more).
        evaluation = evaluate_application(actor=None, application=application)
        applications.append((application, evaluation.eligible))
        if progress is not None:
            progress(index, len(people))
    _decide_some(rng, staff[REVIEWER], applications, decided, REJECTION_REASON)
    pay_first_awards(finance=staff[FINANCE], treasurer=staff[TREASURER], fund=fund)
    # Look-alikes for the integrity queue, as if they came after the decisions: checked at
    # once (the worker finds the same again), and a full check of the fund queued for it.
    for person in make_look_alikes(people):
        look_alike = _submit(rng, operator, fund, document, person, timezone.now())
        evaluate_application(actor=None, application=look_alike)
        check_application(look_alike.pk)
    request_linkage_run(actor=staff[REVIEWER], fund=fund)
    # Its counts and amounts on a public page, each hidden below ten people.
    save_public_statistics_settings(actor=operator, fund=fund, published=True)
    seed_crew_relief(
        operator=operator, approver=staff[APPROVER], programme=programme, fund=crew_fund
    )
    seed_uk_applicants(
        operator=operator,
        reviewer=staff[REVIEWER],
        fund=uk_fund,
        count=uk_applicants,
    )
    enroll_demo_authenticators()
    return DemoLogins(created=True, logins=logins())


def enroll_demo_authenticators() -> list[str]:
    """The demo's staff who may approve or pay get an authenticator app with the published
    :data:`DEMO_TOTP_SECRET`, as the back office requires; their addresses."""
    enrolled = []
    for email, _role in logins():
        user = user_by_email(email)
        if user is not None and requires_mfa(user):
            enroll_totp(user, DEMO_TOTP_SECRET)
            enrolled.append(email)
    return enrolled


def create_other_funds(operator: User, programme: Programme, today: dt.date) -> tuple[Fund, Fund]:
    """The programme's crew relief fund in euros, and its UK partner fund in pounds."""
    crew_fund = create_fund(
        actor=operator,
        name="Netflix crew relief — France (demo)",
        slug=CREW_FUND_SLUG,
        currency="EUR",
        budget=Decimal("250000.00"),
        standard_amount=Decimal("1000.00"),
        opens_on=today - dt.timedelta(days=7),
        closes_on=today + dt.timedelta(days=60),
        description="Two weeks' pay to the crews of the donor's suspended productions in France.",
        programme_id=programme.pk,
        kind=Fund.Kind.CREW_RELIEF,
    )
    uk_fund = create_fund(
        actor=operator,
        name="UK film and TV hardship fund (demo)",
        slug=UK_FUND_SLUG,
        currency="GBP",
        budget=Decimal("500000.00"),
        standard_amount=Decimal("1000.00"),
        # A short window, as the UK fund had.
        opens_on=today - dt.timedelta(days=5),
        closes_on=today + dt.timedelta(days=9),
        time_zone="Europe/London",
        description=(
            "One-off grants of £500 to £2,500, according to need, for UK film and TV "
            "freelancers whose work has stopped."
        ),
        programme_id=programme.pk,
    )
    return crew_fund, uk_fund


def _publish_rules(operator: User, fund: Fund, path: Path) -> RuleDocument:
    version = publish_version(
        actor=operator,
        version=save_draft(actor=operator, fund=fund, source=path.read_text(encoding="utf-8")),
    )
    return document_of(version)


def allocate_demo_programme(
    operator: User, programme: Programme, funds: Sequence[tuple[Fund, str]], today: dt.date
) -> None:
    """Each fund's budget as the programme's allocation (with a note): the dollars it is worth
    at the demo's rates, which convert back to the budget to the cent; the rest of the crew
    relief share kept for crew relief; and the donor's login."""
    for currency, rate in (("USD", DEMO_USD_RATE), ("GBP", DEMO_GBP_RATE)):
        rates.record_rate(
            actor=operator,
            currency=currency,
            day=today,
            rate=rate,
            note="Demo rate (not the ECB's)",
        )
    kept_for_crews = CREW_RELIEF_SHARE
    for fund, note in funds:
        allocation = allocate(
            actor=operator,
            programme=programme,
            fund=fund,
            amount=rates.convert(
                fund.budget, rates.conversion(fund.currency, programme.currency, today)
            ),
            day=today,
            note=note,
        )
        if fund.kind == Fund.Kind.CREW_RELIEF:
            kept_for_crews -= allocation.amount
    allocate(
        actor=operator,
        programme=programme,
        fund=None,
        amount=kept_for_crews,
        day=today,
        note="Two weeks' pay to the crews of suspended productions",
    )
    donor = create_account(actor=operator, email=DONOR_LOGIN, password=DEMO_PASSWORD)
    grant_programme_role(
        actor=operator, programme=programme, user=donor, role=ProgrammeRole.Role.DONOR
    )


def seed_crew_relief(*, operator: User, approver: User, programme: Programme, fund: Fund) -> None:
    """The crews of the programme's suspended productions (``CREW_PRODUCTIONS``), paid by
    the crew relief ``fund``: two weeks of pay up to the cap, once a person; the roster
    imported (one line refused); the first two productions' run proposed by the operator,
    approved by a second manager and granted; the last production's run waiting for its second
    person (four eyes), the person already paid on the first production left out."""
    payments.save_payment_settings(actor=operator, fund=fund, values=CREW_PAYMENT_SETTINGS)
    relief.save_settings(
        actor=operator,
        programme=programme,
        weeks=2,
        days_per_week=5,
        cap=CREW_CAP,
        several_productions=False,
    )
    # The approver manages the programme too: the second person a run needs.
    grant_programme_role(
        actor=operator, programme=programme, user=approver, role=ProgrammeRole.Role.MANAGER
    )
    import_roster(
        actor=operator, programme=programme, file_name="demo-roster.csv", content=make_crew_roster()
    )
    codes = [code for code, *_rest in CREW_PRODUCTIONS]
    productions = crew_selectors.productions_by_code(programme, codes)
    run = relief.approve_run(
        actor=approver,
        run=relief.propose_run(
            actor=operator,
            programme=programme,
            productions=[productions[code] for code in codes[:-1]],
        ),
    )
    # The worker would grant them (crew.tasks.award_run, queued by the approval); the demo
    # grants them at once, as the task does, so that it shows them with or without a worker
    # (the task then finds nothing left to grant).
    for fund_id, payout_ids in relief.payouts_to_award(run):
        relief.award_payouts(run=run, fund_id=fund_id, payout_ids=payout_ids)
    relief.finish_awards(run)
    relief.propose_run(actor=operator, programme=programme, productions=[productions[codes[-1]]])


def seed_uk_applicants(*, operator: User, reviewer: User, fund: Fund, count: int) -> None:
    """The UK fund's rules published, and ``count`` applicants identified by their National
    Insurance number, each evaluated, half of them decided."""
    document = _publish_rules(operator, fund, UK_RULES)
    rng = random.Random(2021)
    opened_at = timezone.now() - dt.timedelta(days=5)
    applications: list[tuple[Application, bool]] = []
    for person in make_uk_people(count):
        moment = opened_at + dt.timedelta(seconds=rng.randint(0, 5 * 24 * 3600 - 60))
        application = _submit(rng, operator, fund, document, person, moment)
        evaluation = evaluate_application(actor=None, application=application)
        applications.append((application, evaluation.eligible))
    _decide_some(rng, reviewer, applications, count // 2, UK_REJECTION_REASON)


def _decide_some(
    rng: random.Random,
    reviewer: User,
    applications: list[tuple[Application, bool]],
    decided: int,
    reason: str,
) -> None:
    """Most decisions approve eligible applications (the amount of their evaluation); the
    others reject applications that the rules found not eligible, for ``reason``."""
    eligible = [application for application, ok in applications if ok]
    not_eligible = [application for application, ok in applications if not ok]
    rejections = min(decided // 4, len(not_eligible))
    approvals = min(decided - rejections, len(eligible))
    for application in rng.sample(eligible, approvals):
        approve_application(actor=reviewer, application=application)
    for application in rng.sample(not_eligible, rejections):
        reject_application(actor=reviewer, application=application, reason=reason)


def _submit(
    rng: random.Random,
    operator: User,
    fund: Fund,
    document: RuleDocument,
    person: SyntheticPerson,
    moment: dt.datetime,
) -> Application:
    user = create_account(
        actor=operator,
        email=person.email,
        password=None,
        first_name=person.first_name,
        last_name=person.last_name,
    )
    # Most applicants in France write in French; those of the other funds in English.
    language = rng.choice(("fr", "fr", "fr", "en")) if person.country == "FR" else "en"
    with override(language):
        return submit_application(
            actor=user,
            fund=fund,
            idempotency_key=str(uuid.uuid4()),
            data=SubmissionData(
                nir=person.nir,
                first_name=person.first_name,
                last_name=person.last_name,
                birth_date=person.birth_date,
                email=person.email,
                phone=person.phone,
                address_line=person.address_line,
                postcode=person.postcode,
                city=person.city,
                country=person.country,
                profession=person.profession,
                declared=declared_answers(rng, document, person, moment),
                iban=person.iban,
                account_holder=f"{person.first_name} {person.last_name}",
                consent=True,
                language=get_language() or "fr",
            ),
            now=moment,
        ).application


def pay_first_awards(*, finance: User, treasurer: User, fund: Fund) -> None:
    """Half of the approved awards paid in a batch sent to the bank, whose (synthetic) status
    report confirms all but one transfer, returned as the account is closed (AC04): its
    applicant is asked for new bank details; the other half waits for the next batch."""
    payable = payments.payable_awards(fund).count()
    if payable < 2:
        return
    batch = payments.prepare_payment_batch(
        actor=finance, fund=fund, selection=payments.Selection(limit=payable // 2)
    )
    payments.release_payment_batch(actor=treasurer, batch=batch)
    payments.generate_payment_file(batch.pk)  # the worker would; the demo shows it at once
    batch.refresh_from_db()
    payments.file_for_download(actor=finance, batch=batch)
    payments.mark_batch_sent(actor=finance, batch=batch)
    transfers = list(batch.payments.order_by("pk").values_list("end_to_end_id", flat=True))
    report = status_report(
        batch.reference,
        [(transfers[0], "RJCT", "AC04")] + [(e2e, "ACSC", "") for e2e in transfers[1:]],
        message_id=f"DEMO-{batch.reference}",
    )
    payments.import_bank_return(
        actor=finance, fund=fund, file_name="demo-pain.002.xml", content=report
    )


def declared_answers(
    rng: random.Random, document: RuleDocument, person: SyntheticPerson, moment: dt.datetime
) -> dict[str, object]:
    """What the person answers to the fund's questions: their facts, and for the questions that
    stand in for records, what their records show, misremembered now and then (so that the
    demo has declarations that disagree with the evidence)."""
    evidence = person_evidence(blind_index("nir", person.nir))
    answers: dict[str, object] = {}
    for question in questions(document, skip=ASKED_IN_OWN_STEPS):
        if not question.aggregate:
            if hasattr(person, question.id):
                answers[question.id] = str(getattr(person, question.id))
            continue
        aggregate = document.aggregate(question.id)
        assert aggregate is not None
        value = aggregates.compute(aggregate, evidence, moment.date()) or 0
        if question.type == "boolean":
            answers[question.id] = value > 0
        else:
            answers[question.id] = str(value + (rng.randint(1, 5) if rng.random() < 0.1 else 0))
    return answers
