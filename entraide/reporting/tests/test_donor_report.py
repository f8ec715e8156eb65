"""The donor's report (PDF): read by text extraction in English and in French, its figures
suppressed for every reader (the programme's managers too), no person in it, who may download
it, and each download audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.money import format_money
from entraide.funds.tests.factories import FundRoleFactory
from entraide.programmes import services as programme_services
from entraide.programmes.models import ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.reporting.tests.figures import ProgrammeExample, example_programme, grant
from entraide.reporting.tests.helpers import pdf_text

pytestmark = pytest.mark.django_db

Role = ProgrammeRole.Role


def report_url(world: ProgrammeExample, language: str = "") -> str:
    url = reverse("programme_donor_report", kwargs={"slug": world.programme.slug})
    return f"{url}?language={language}" if language else url


def download(world: ProgrammeExample, person: User, language: str = "", **headers: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=headers.get("accept", "en"))
    client.force_login(person)
    response = client.get(report_url(world, language))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return pdf_text(response.content)


def en(amount: str, currency: str) -> str:
    return format_money(Decimal(amount), currency, locale="en")


@pytest.fixture
def world() -> ProgrammeExample:
    """The UK's 3 grants of £1,615.76 (fewer than 10: hidden), France's 12 of €500 among 42
    applications (withheld with them: the totals would give the UK's away)."""
    world = example_programme()
    grant(world.uk, 3, "1615.76")
    grant(world.france, 12, "500.00")
    ApplicationFactory.create_batch(30, fund=world.france)
    return world


# -- what it says ------------------------------------------------------------------------------


def test_in_english_the_report_has_its_summary_each_fund_and_how_the_figures_are_made(
    world: ProgrammeExample,
) -> None:
    text = download(world, world.donor, "en")

    assert "Report to the donor" in text
    assert f"{world.programme.name} Donor {world.programme.donor}" in text
    assert "Figures as of" in text
    assert "(UTC)" in text
    assert f"Commitment {en('15000000.00', 'USD')}" in text
    assert f"Allocated to partner funds {en('3043800.00', 'USD')}" in text
    assert f"Left to allocate {en('11956200.00', 'USD')}" in text
    assert "Applications to the partner funds 45 Grants made by the partner funds 15" in text
    # Each fund: its currency, what it was allocated, then its figures, suppressed.
    assert (
        f"UK crew fund GBP {en('2500000.00', 'USD')} fewer than 10 fewer than 10 0 not shown "
        f"{en('0.00', 'GBP')} not shown {en('0.00', 'USD')}"
    ) in text
    assert (
        f"French crew fund EUR {en('543800.00', 'USD')} not shown not shown 0 not shown "
        f"{en('0.00', 'EUR')} not shown {en('0.00', 'USD')}"
    ) in text
    assert f"Crew relief in dollars USD 0 0 {en('0.00', 'USD')}" in text
    assert "Applications per day" in text
    assert "Applications by profession" in text
    assert "Applications by région (France) or country" in text
    assert "None of the programme's funds collects applicants' gender." in text
    # How the figures are made: the rates, where and when they were read.
    assert "How the figures are made" in text
    assert "UK crew fund GBP 1 USD = 0.80787974 GBP" in text
    assert "Crew relief in dollars USD USD to USD: no conversion." in text
    assert (
        f"UK crew fund {en('2500000.00', 'USD')} {en('2019699.34', 'GBP')} "
        "1 USD = 0.80787974 GBP, ECB reference rates of 2020-04-01"
    ) in text
    assert 'A count from 1 to 9 is written "fewer than 10"' in text
    assert "secondary suppression" in text
    assert "UK crew fund London time (Europe/London)" in text
    assert "Annex: day by day" in text


def test_in_french_the_figures_and_the_rates_are_french(world: ProgrammeExample) -> None:
    text = download(world, world.donor, "fr")

    assert "Engagement 15 000 000,00 $US" in text
    assert "Reste à allouer 11 956 200,00 $US" in text
    assert "Fonds partenaires" in text
    assert "UK crew fund GBP 2 500 000,00 $US moins de 10 moins de 10 0" in text
    assert "Demandes par jour" in text
    assert "1 USD = 0,80787974 GBP, taux de référence de la BCE du 2020-04-01" in text
    assert "UK crew fund heure de Londres (Europe/London)" in text


def test_the_report_is_in_the_pages_language_unless_another_is_asked(
    world: ProgrammeExample,
) -> None:
    assert "Engagement" in download(world, world.donor, accept="fr")
    assert "Commitment" in download(world, world.donor, "en", accept="fr")
    assert "Engagement" in download(world, world.donor, "de", accept="fr")


def test_the_managers_report_is_suppressed_too_as_it_is_made_to_be_passed_on(
    world: ProgrammeExample,
) -> None:
    text = download(world, world.manager, "en")

    assert "fewer than 10" in text
    assert "not shown" in text
    # The UK's grants, the French fund's 12 and what they committed are nowhere.
    for amount in ("1615.76", "4847.28", "6000.00", "6525.60"):
        assert en(amount, "GBP") not in text
        assert en(amount, "EUR") not in text
        assert en(amount, "USD") not in text


def test_the_report_names_no_person(world: ProgrammeExample) -> None:
    applications = grant(
        world.france,
        12,
        first_name="Zéphyrine",
        last_name="Quintavalle-Brisebois",
        email="zephyrine.quintavalle@example.org",
        phone="+33 6 98 76 54 32",
    )
    # Who allocated and the note of an allocation (a manager's words) stay on the platform.
    programme_services.allocate(
        actor=world.operator,
        programme=world.programme,
        fund=world.uk,
        amount=Decimal("1000.00"),
        day=dt.date(2020, 4, 1),
        note="Virement validé par Bartholomée Ravenscroft",
    )

    text = download(world, world.donor, "en")

    squashed = "".join(text.split())
    planted = ["Zéphyrine", "Quintavalle", "98765432", "Bartholomée", "operator@example.org"]
    for application in applications:
        planted += [
            application.email,
            application.reference,
            application.nir,
            application.iban,
            application.applicant.email,
        ]
    for value in planted:
        assert value not in text
        assert "".join(value.split()) not in squashed


# -- who may download it -----------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["operator", "manager", "donor"])
def test_those_who_read_the_programme_download_it_and_each_download_is_audited(
    world: ProgrammeExample, actor: str
) -> None:
    person = getattr(world, actor)
    client = Client()
    client.force_login(person)

    response = client.get(report_url(world, "fr"))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="streaming-relief-donor-report-fr.pdf"'
    )
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get(action="programme.report_downloaded")
    assert event.actor_id == person.pk
    assert event.object_id == str(world.programme.pk)
    assert event.changes["language"] == "fr"
    assert event.changes["figures_as_of"]


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("fund_reviewer", 404), ("other_manager", 404), ("applicant", 403), ("anonymous", 302)],
)
def test_others_are_refused_and_nothing_is_audited(
    world: ProgrammeExample, actor: str, expected: int
) -> None:
    client = Client()
    if actor == "fund_reviewer":
        client.force_login(FundRoleFactory(fund=world.uk).user)
    elif actor == "other_manager":
        manager: User = UserFactory()
        programme_services.grant_programme_role(
            actor=world.operator, programme=ProgrammeFactory(), user=manager, role=Role.MANAGER
        )
        client.force_login(manager)
    elif actor == "applicant":
        client.force_login(UserFactory())

    response = client.get(report_url(world))

    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("account_login"))
    assert not AuditEvent.objects.filter(action="programme.report_downloaded").exists()


def test_only_reading_is_allowed(world: ProgrammeExample) -> None:
    client = Client()
    client.force_login(world.donor)

    assert client.post(report_url(world)).status_code == 405


def test_the_programmes_reports_link_to_the_report_in_each_language(
    world: ProgrammeExample,
) -> None:
    client = Client()
    client.force_login(world.donor)

    html = client.get(
        reverse("programme_reports", kwargs={"slug": world.programme.slug})
    ).content.decode()

    assert f'href="{report_url(world, "fr")}"' in html
    assert f'href="{report_url(world, "en")}"' in html
