"""What the verification against the records shows in the back office: the application list's
filter and column, the line on the application page, the card of the dashboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.evidence.models import VerificationRun
from entraide.evidence.tests.factories import (
    ApplicationVerificationFactory,
    VerificationRunFactory,
)
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundRoleFactory
from entraide.review.tests.test_views import LIST_PAGE_MAX_QUERIES, detail_url, staff

Role = FundRole.Role


def page_text(response: Any) -> str:
    """The page's text, without its tags and with single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def list_url(run: VerificationRun) -> str:
    return reverse("application_list", kwargs={"slug": run.fund.slug})


def listed(response: Any) -> list[Application]:
    return list(response.context["page"])


def test_the_list_filters_on_what_the_last_verification_found_and_says_it_on_each_row(
    client: Client, db: None
) -> None:
    run = VerificationRunFactory.create()
    contradicted = ApplicationVerificationFactory.create(run=run, has_mismatch=True).application
    changed = ApplicationVerificationFactory.create(run=run, changed=True).application
    ApplicationVerificationFactory.create(run=run)
    ApplicationFactory.create(fund=run.fund)  # not verified yet
    client.force_login(staff(run.fund, Role.REVIEWER))

    everything = client.get(list_url(run))
    by_contradiction = client.get(list_url(run), {"records": "contradicted"})
    by_change = client.get(list_url(run), {"records": "changed"})

    assert len(listed(everything)) == 4
    rows = page_text(everything).split("Records", 2)[2]  # after the filter and the heading
    for badge in ("Answers contradicted", "Outcome changed", "No contradiction", "Not verified"):
        assert rows.count(badge) == 1, badge
    assert listed(by_contradiction) == [contradicted]
    assert listed(by_change) == [changed]
    assert 'value="contradicted" selected' in by_contradiction.content.decode()


def test_an_unknown_records_filter_lists_every_application(client: Client, db: None) -> None:
    run = VerificationRunFactory.create()
    ApplicationVerificationFactory.create_batch(2, run=run)
    client.force_login(staff(run.fund, Role.FINANCE))

    response = client.get(list_url(run), {"records": "anything"})

    assert response.status_code == 200
    assert len(listed(response)) == 2


@pytest.mark.parametrize("n_applications", [5, 60])
def test_the_list_with_its_verification_column_keeps_its_query_bound(
    client: Client, db: None, django_assert_max_num_queries: Any, n_applications: int
) -> None:
    run = VerificationRunFactory.create()
    ApplicationVerificationFactory.create_batch(n_applications, run=run, has_mismatch=True)
    client.force_login(staff(run.fund, Role.REVIEWER))

    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        first = client.get(list_url(run))
    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        filtered = client.get(list_url(run), {"records": "contradicted", "page": "2"})

    assert first.context["page"].count == n_applications
    assert filtered.context["page"].count == n_applications


def test_the_application_page_says_what_the_last_verification_found(
    client: Client, db: None
) -> None:
    verified = ApplicationVerificationFactory.create(eligible=True, changed=True)
    unverified = ApplicationFactory.create(fund=verified.run.fund)
    client.force_login(staff(verified.run.fund, Role.REVIEWER))

    page = client.get(detail_url(verified.application))
    other = client.get(detail_url(unverified))

    text = page_text(page)
    assert "Verified against the records on" in text
    assert f"(run {verified.run_id}): eligible, €500.00; outcome changed" in text
    run_url = reverse(
        "fund_verification_run", kwargs={"slug": verified.run.fund.slug, "run_id": verified.run_id}
    )
    assert run_url in page.content.decode()
    assert "Verified against the records on" not in page_text(other)


def test_the_dashboard_shows_the_latest_finished_run_and_links_to_the_verification(
    client: Client, db: None
) -> None:
    earlier = VerificationRunFactory.create(applications=10)
    latest = VerificationRunFactory.create(fund=earlier.fund, applications=12, mismatched=3)
    VerificationRunFactory.create(fund=earlier.fund, status=VerificationRun.Status.RUNNING)
    client.force_login(FundRoleFactory.create(fund=earlier.fund, role=Role.APPROVER).user)

    response = client.get(reverse("fund_dashboard", kwargs={"slug": earlier.fund.slug}))

    text = page_text(response)
    assert f"Latest run: {latest.pk}," in text
    assert "Applications verified 12" in text
    assert "Answers contradicted by the records 3" in text
    assert reverse("fund_verification", kwargs={"slug": earlier.fund.slug}) in (
        response.content.decode()
    )
