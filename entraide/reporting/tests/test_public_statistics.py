"""A fund's public statistics: its choice to publish them (audited, refused to a crew relief
fund), the page anyone reads then and only then, its figures suppressed with no person in them,
kept in the cache, and who may change the choice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.reporting import public_statistics, statistics
from entraide.reporting.models import PublicStatistics
from entraide.reporting.statistics import Hidden
from entraide.reporting.tests.figures import grant
from entraide.reporting.tests.helpers import member_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Figures cached by another test (the same fund id, rolled back) must not be read here."""
    cache.clear()
    yield
    cache.clear()


def page_url(fund: Fund) -> str:
    return reverse("fund_statistics_public", kwargs={"slug": fund.slug})


def settings_url(fund: Fund) -> str:
    return reverse("public_statistics_settings", kwargs={"slug": fund.slug})


def page_text(response: Any) -> str:
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def published(fund: Fund) -> Fund:
    PublicStatistics.objects.create(fund=fund, published=True)
    return fund


def manager_of(fund: Fund) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(member_of(fund, FundRole.Role.OPERATOR_ADMIN))
    return client


@pytest.fixture
def fund() -> Fund:
    """3 artists granted £1,615.76 each (hidden), 12 technicians granted €500 among 40 (withheld
    with them: the total would give the artists' away)."""
    fund: Fund = FundFactory(slug="plateaux", name="Fonds Plateaux", budget=Decimal("100000"))
    grant(fund, 3, "1615.76", profession=Application.Profession.ARTIST)
    grant(fund, 12, "500.00", profession=Application.Profession.TECHNICIAN)
    ApplicationFactory.create_batch(28, fund=fund, profession=Application.Profession.TECHNICIAN)
    return fund


# -- the figures -------------------------------------------------------------------------------


def test_every_table_of_a_fund_is_suppressed_for_outside_readers(fund: Fund) -> None:
    exact = statistics.fund_statistics(fund)

    figures = exact.for_outside_readers()

    assert figures.suppressed
    assert not exact.suppressed
    artist, technician = (
        dict(zip([column.key for column in figures.by_profession.columns], row.values, strict=True))
        for row in sorted(figures.by_profession.rows, key=lambda row: row.key)
    )
    assert artist["granted"] is Hidden.FEW
    assert artist["committed"] is Hidden.FEW
    assert technician["granted"] is Hidden.WITHHELD
    assert technician["committed"] is Hidden.WITHHELD
    # Money that adds up no count of its table is withheld whole.
    for table in (figures.money.per_day, figures.money.cumulative, figures.money.burndown):
        assert {value for row in table.rows for value in row.values} <= {Hidden.WITHHELD}
    assert figures.per_day.total == exact.per_day.total


# -- the public page ---------------------------------------------------------------------------


def test_anyone_reads_the_statistics_of_a_fund_that_publishes_them(
    client: Client, fund: Fund
) -> None:
    published(fund)

    response = client.get(page_url(fund))

    assert response.status_code == 200
    assert response["Cache-Control"] == f"public, max-age={public_statistics.CACHE_SECONDS}"
    text = page_text(response)
    assert "Statistics" in text
    assert "Figures as of" in text
    # (The grants were placed on the ledger without a review's decision.)
    assert (
        "In all Applications 43 Approved 0 Rejected 0 Waitlisted 0 Granted 15 Paid 0 "
        "Committed €10,847.28 Paid out €0.00"
    ) in text
    assert "Applications per day" in text
    assert "Decisions per day" in text
    # By profession: the artists' 3 grants hidden, the technicians' withheld with them (else
    # the total would give the artists' away).
    assert "Artist fewer than 10 fewer than 10 0 not shown €0.00" in text
    assert "Technician not shown not shown 0 not shown €0.00" in text
    assert "Total 43 15 0 €10,847.28 €0.00" in text
    assert "How the figures are made" in text
    html = response.content.decode()
    assert html.count('<img src="data:image/svg+xml;base64,') == 4
    assert html.count("<caption>") == 4


def test_no_amount_of_fewer_than_10_grants_is_shown(client: Client, fund: Fund) -> None:
    published(fund)

    text = page_text(client.get(page_url(fund)))

    for amount in ("1,615.76", "4,847.28", "6,000.00"):
        assert amount not in text


def test_in_french_the_page_is_french(fund: Fund) -> None:
    published(fund)

    text = page_text(Client(HTTP_ACCEPT_LANGUAGE="fr").get(page_url(fund)))

    assert "Demandes par jour" in text
    assert "moins de 10" in text


def test_a_fund_that_does_not_publish_them_has_no_such_page(client: Client, fund: Fund) -> None:
    assert client.get(page_url(fund)).status_code == 404
    PublicStatistics.objects.create(fund=fund, published=False)

    assert client.get(page_url(fund)).status_code == 404


def test_a_crew_relief_fund_has_no_such_page_whatever_its_row_says(client: Client) -> None:
    crew = published(FundFactory(kind=Fund.Kind.CREW_RELIEF))

    assert client.get(page_url(crew)).status_code == 404


def test_a_missing_fund_is_not_found(client: Client) -> None:
    assert client.get("/funds/no-such-fund/statistics/").status_code == 404


def test_only_reading_is_allowed(client: Client, fund: Fund) -> None:
    published(fund)

    assert client.post(page_url(fund)).status_code == 405


def test_the_page_names_no_person(client: Client) -> None:
    fund = published(FundFactory())
    applications = grant(
        fund,
        12,
        first_name="Zéphyrine",
        last_name="Quintavalle-Brisebois",
        email="zephyrine.quintavalle@example.org",
        phone="+33 6 98 76 54 32",
    )

    html = client.get(page_url(fund)).content.decode()

    squashed = "".join(html.split())
    for application in applications:
        for value in (
            "Zéphyrine",
            "Quintavalle",
            "98765432",
            application.email,
            application.reference,
            application.nir,
            application.iban,
            application.applicant.email,
        ):
            assert value not in html
            assert "".join(value.split()) not in squashed


def test_the_funds_public_page_links_to_them_only_when_published(client: Client) -> None:
    fund: Fund = FundFactory()
    public_page = reverse("fund_page", kwargs={"slug": fund.slug})

    before = client.get(public_page).content.decode()
    published(fund)
    after = client.get(public_page).content.decode()

    assert page_url(fund) not in before
    assert f'href="{page_url(fund)}"' in after


# -- the cache and the queries -----------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_for_10_or_200_applications_and_few_once_cached(
    client: Client, django_assert_max_num_queries: Any
) -> None:
    small = published(FundFactory())
    ApplicationFactory.create_batch(10, fund=small, postcode="75011")
    large = published(FundFactory())
    ApplicationFactory.create_batch(180, fund=large, postcode="13001")
    grant(large, 20)
    at_ten = _queries(client, page_url(small))

    with django_assert_max_num_queries(at_ten):
        client.get(page_url(large))
    # Read again: the fund and its choice, the figures from the cache.
    with django_assert_max_num_queries(2):
        client.get(page_url(large))
    assert at_ten <= 15


def test_the_figures_are_kept_a_few_minutes_but_withdrawing_the_page_is_at_once(
    client: Client,
) -> None:
    fund = published(FundFactory())
    ApplicationFactory.create_batch(12, fund=fund)
    first = page_text(client.get(page_url(fund)))
    ApplicationFactory.create_batch(5, fund=fund)

    again = page_text(client.get(page_url(fund)))
    cache.delete(public_statistics.cache_key(fund, "en"))
    later = page_text(client.get(page_url(fund)))
    PublicStatistics.objects.filter(fund=fund).update(published=False)

    assert "Applications 12" in first
    assert "Applications 12" in again
    assert "Applications 17" in later
    assert client.get(page_url(fund)).status_code == 404


# -- the fund's choice -------------------------------------------------------------------------


def test_the_manager_publishes_them_and_it_is_audited(fund: Fund) -> None:
    client = manager_of(fund)

    form = client.get(settings_url(fund))
    response = client.post(settings_url(fund), {"published": "on"})

    assert form.status_code == 200
    assert 'name="published"' in form.content.decode()
    assert f'href="{settings_url(fund)}?preview"' in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == settings_url(fund)
    assert PublicStatistics.objects.get(fund=fund).published is True
    event = AuditEvent.objects.get(action="fund.public_statistics_changed")
    assert event.fund_id == fund.pk
    assert event.changes == {"published": {"before": False, "after": True}}
    assert "The statistics are published." in page_text(client.get(response["Location"]))
    assert Client().get(page_url(fund)).status_code == 200


def test_the_manager_withdraws_them_and_the_page_is_gone(fund: Fund) -> None:
    published(fund)
    client = manager_of(fund)

    client.post(settings_url(fund), {})

    assert PublicStatistics.objects.get(fund=fund).published is False
    event = AuditEvent.objects.get(action="fund.public_statistics_changed")
    assert event.changes == {"published": {"before": True, "after": False}}
    assert Client().get(page_url(fund)).status_code == 404


def test_a_crew_relief_fund_may_not_publish_them(client: Client) -> None:
    crew: Fund = FundFactory(kind=Fund.Kind.CREW_RELIEF)

    response = manager_of(crew).post(settings_url(crew), {"published": "on"})

    assert response.status_code == 200
    assert "A crew relief fund takes no application" in page_text(response)
    assert not PublicStatistics.objects.exists()
    assert not AuditEvent.objects.filter(action="fund.public_statistics_changed").exists()


def test_the_manager_previews_the_page_before_publishing(fund: Fund) -> None:
    response = manager_of(fund).get(settings_url(fund) + "?preview")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    text = page_text(response)
    assert "Preview" in text
    assert "Artist fewer than 10 fewer than 10 0 not shown" in text
    assert not PublicStatistics.objects.exists()


@pytest.mark.parametrize("role", [r for r in FundRole.Role if r != FundRole.Role.OPERATOR_ADMIN])
def test_other_roles_of_the_fund_are_told_the_settings_do_not_exist(fund: Fund, role: str) -> None:
    client = Client()
    client.force_login(member_of(fund, role))

    assert client.get(settings_url(fund)).status_code == 404
    assert client.post(settings_url(fund), {"published": "on"}).status_code == 404
    assert client.get(settings_url(fund) + "?preview").status_code == 404
    assert not PublicStatistics.objects.exists()


def test_staff_of_another_fund_get_404_an_applicant_403_a_stranger_the_login(
    client: Client, fund: Fund
) -> None:
    assert client.get(settings_url(fund))["Location"].startswith(reverse("account_login"))
    client.force_login(UserFactory())
    assert client.get(settings_url(fund)).status_code == 403
    client.force_login(FundRoleFactory(fund=FundFactory()).user)
    assert client.get(settings_url(fund)).status_code == 404


def test_the_fund_dashboard_links_to_the_settings_for_its_managers(fund: Fund) -> None:
    dashboard = reverse("fund_dashboard", kwargs={"slug": fund.slug})
    reviewer = Client()
    reviewer.force_login(member_of(fund, FundRole.Role.REVIEWER))

    assert f'href="{settings_url(fund)}"' in manager_of(fund).get(dashboard).content.decode()
    assert settings_url(fund) not in reviewer.get(dashboard).content.decode()
