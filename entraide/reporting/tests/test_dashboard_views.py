"""The dashboards' pages: who reads them, charts as images with a sentence and a table of the
same figures, French and English, the period, the donor's small counts and no person, query
bounds."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.tests.factories import PartnerFactory
from entraide.reporting.tests.figures import (
    ProgrammeExample,
    example_fund,
    example_programme,
    grant,
)
from entraide.reporting.tests.helpers import member_of

pytestmark = pytest.mark.django_db


def fund_url(fund: Fund, **query: str) -> str:
    url = reverse("fund_reports", kwargs={"slug": fund.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def programme_url(world: ProgrammeExample) -> str:
    return reverse("programme_reports", kwargs={"slug": world.programme.slug})


def page_text(response: Any) -> str:
    """The page's text, tags gone and every run of spaces (no-break ones too) one space."""
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def reader(fund: Fund, role: str = FundRole.Role.REVIEWER) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(member_of(fund, role))
    return client


# -- who reads them ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(FundRole.Role))
def test_every_role_of_the_fund_reads_its_reports(role: str) -> None:
    fund: Fund = FundFactory()

    assert reader(fund, role).get(fund_url(fund)).status_code == 200


def test_staff_of_another_fund_are_told_it_does_not_exist(client: Client) -> None:
    fund: Fund = FundFactory()
    other: Fund = FundFactory()
    client.force_login(FundRoleFactory(fund=other).user)

    assert client.get(fund_url(fund)).status_code == 404


def test_an_applicant_is_refused_and_a_stranger_sent_to_log_in(client: Client) -> None:
    fund: Fund = FundFactory()
    assert client.get(fund_url(fund)).status_code == 302
    client.force_login(ApplicationFactory(fund=fund).applicant)

    assert client.get(fund_url(fund)).status_code == 403


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("operator", 200), ("manager", 200), ("donor", 200), ("fund_reviewer", 404)],
)
def test_those_who_read_the_programme_read_its_reports(actor: str, expected: int) -> None:
    world = example_programme()
    people = {
        "operator": world.operator,
        "manager": world.manager,
        "donor": world.donor,
        "fund_reviewer": FundRoleFactory(fund=world.uk).user,
    }
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people[actor])

    assert client.get(programme_url(world)).status_code == expected


def test_an_applicant_may_not_read_a_programme(client: Client) -> None:
    world = example_programme()
    client.force_login(UserFactory())

    assert client.get(programme_url(world)).status_code == 403


def test_only_reading_is_allowed(client: Client) -> None:
    fund: Fund = FundFactory()
    client.force_login(member_of(fund, FundRole.Role.OPERATOR_ADMIN))

    assert client.post(fund_url(fund)).status_code == 405


# -- what they show ----------------------------------------------------------------------------


def test_each_chart_is_an_image_with_a_sentence_and_a_table_of_its_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = example_fund(monkeypatch)

    response = reader(example.fund).get(fund_url(example.fund))

    html = response.content.decode()
    assert response.status_code == 200
    images = re.findall(r'<img src="data:image/svg\+xml;base64,[\w+/=]+" alt="([^"]+)"', html)
    assert len(images) == 8  # per day, decisions, money per day, running, burn-down, 3 breakdowns
    assert images[0].startswith(
        "Applications per day, from March 27, 2026 to April 2, 2026, in all: Applications: 6."
    )
    assert "The busiest day, March 30, 2026, had 2." in images[0]
    assert html.count("<caption>") == 8
    assert '<th scope="col">Approved</th>' in html
    assert '<th scope="row">March 30, 2026</th><td>2</td>' in html
    # Nothing a strict Content-Security-Policy refuses: no inline script, SVG or style.
    assert "<script" not in html
    assert "<svg" not in html
    assert "style=" not in html
    text = page_text(response)
    assert "Corse 2 1 0 €500.00 €0.00" in text
    assert "Île-de-France 1 1 1 €500.00 €500.00" in text
    assert "Syndicat des techniciens 2 0 0 €0.00 €0.00" in text
    assert "This fund does not collect applicants' gender" in text


def test_in_french_the_labels_and_figures_are_french(monkeypatch: pytest.MonkeyPatch) -> None:
    example = example_fund(monkeypatch)
    client = reader(example.fund)

    text = page_text(client.get(fund_url(example.fund), HTTP_ACCEPT_LANGUAGE="fr"))

    assert "Demandes par jour" in text
    assert "Acceptée Refusée" in text  # the decisions' columns
    assert "Total 6" in text
    assert "30 mars 2026 2" in text
    assert "Île-de-France 1 1 1 500,00 € 500,00 €" in text
    assert "Belgique 1 0 0" in text
    assert "Disponible" in text  # what is left, in the burn-down's table
    assert "11 000,00 €" in text


def test_a_period_narrows_the_figures_and_a_wrong_one_is_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = example_fund(monkeypatch)
    client = reader(example.fund)

    narrowed = client.get(fund_url(example.fund, start="2026-03-30", end="2026-03-31"))
    wrong = client.get(fund_url(example.fund, start="2026-03-31", end="2026-03-30"))

    assert "from March 30, 2026 to March 31, 2026, in all: Applications: 3." in (
        narrowed.content.decode()
    )
    assert 'value="2026-03-30"' in narrowed.content.decode()
    assert "The last day comes before the first." in page_text(wrong)
    assert "in all: Applications: 6." in wrong.content.decode()


def test_the_fund_dashboard_links_to_the_reports() -> None:
    fund: Fund = FundFactory()

    page = reader(fund).get(reverse("fund_dashboard", kwargs={"slug": fund.slug}))

    assert f'href="{fund_url(fund)}"' in page.content.decode()


# -- the programme -----------------------------------------------------------------------------


def test_the_donor_reads_small_counts_hidden_and_the_manager_every_figure() -> None:
    world = example_programme()
    grant(world.uk, 3, "1615.76")
    grant(world.france, 12, "500.00")
    ApplicationFactory.create_batch(30, fund=world.france)

    donor, manager = Client(HTTP_ACCEPT_LANGUAGE="en"), Client(HTTP_ACCEPT_LANGUAGE="en")
    donor.force_login(world.donor)
    manager.force_login(world.manager)
    for_donor = page_text(donor.get(programme_url(world)))
    for_manager = page_text(manager.get(programme_url(world)))

    # The UK's 3 applications, 3 grants and their money hidden; the French fund's 42
    # applications and 12 grants withheld with them (else the totals would give the 3 away).
    assert "UK crew fund fewer than 10 fewer than 10 0 not shown £0.00 not shown $0.00" in (
        for_donor
    )
    assert "French crew fund not shown not shown 0 not shown €0.00 not shown $0.00" in for_donor
    assert "Total 45 15 0 — — $" in for_donor
    assert "Figures resting on fewer than 10 people are not shown" in for_donor
    assert "UK crew fund 3 3 0 £4,847.28 £0.00" in for_manager
    assert "French crew fund 42 12 0 €6,000.00 €0.00" in for_manager
    assert "not shown" not in for_manager


def test_the_donor_reads_no_persons_data(client: Client) -> None:
    world = example_programme()
    applications = grant(
        world.france,
        12,
        first_name="Zéphyrine",
        last_name="Quintavalle-Brisebois",
        email="zephyrine.quintavalle@example.org",
        phone="+33 6 98 76 54 32",
    )
    client.force_login(world.donor)

    html = client.get(programme_url(world)).content.decode()

    squashed = "".join(html.split())
    for application in applications:
        for value in (
            "Zéphyrine",
            "Quintavalle",
            "zephyrine.quintavalle@example.org",
            "98765432",
            application.reference,
            application.nir,
            application.iban,
            application.applicant.email,
        ):
            assert value not in html
            assert "".join(value.split()) not in squashed


def test_the_rollup_links_to_the_reports(client: Client) -> None:
    world = example_programme()
    client.force_login(world.donor)

    page = client.get(reverse("programme_rollup", kwargs={"slug": world.programme.slug}))

    assert f'href="{programme_url(world)}"' in page.content.decode()


# -- query bounds ------------------------------------------------------------------------------


def _fund_with(count: int) -> tuple[Fund, User]:
    fund: Fund = FundFactory(budget=Decimal("1000000.00"))
    partner = PartnerFactory()
    ApplicationFactory.create_batch(
        count - count // 5,
        fund=fund,
        declared={"gender": "woman"},
        postcode="75011",
    )
    ApplicationFactory.create_batch(
        count // 5, fund=fund, applicant=None, partner=partner, postcode="13001"
    )
    grant(fund, count // 10)
    return fund, member_of(fund, FundRole.Role.REVIEWER)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_funds_reports_cost_the_same_queries_for_10_or_200_applications(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    small, small_reader = _fund_with(10)
    large, large_reader = _fund_with(200)
    client.force_login(small_reader)
    at_ten = _queries(client, fund_url(small))
    client.force_login(large_reader)

    with django_assert_max_num_queries(at_ten):
        client.get(fund_url(large))
    assert at_ten <= 20


def test_a_programmes_reports_cost_the_same_queries_for_10_or_200_applications(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    world = example_programme()
    client.force_login(world.donor)
    ApplicationFactory.create_batch(10, fund=world.france)
    at_ten = _queries(client, programme_url(world))
    ApplicationFactory.create_batch(100, fund=world.france)
    ApplicationFactory.create_batch(90, fund=world.uk, status=Application.Status.RECEIVED)

    with django_assert_max_num_queries(at_ten):
        client.get(programme_url(world))
    assert at_ten <= 25
