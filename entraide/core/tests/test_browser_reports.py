"""The reporting dashboards in a real browser, in French and in English: a fund's staff read its
reports (each chart an image with a sentence, each with its table); the programme's donor reads
the programme's, where small counts say "fewer than 10" and no person's data appears, and
downloads the donor's report. Every page visited is checked with axe-core."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from entraide.accounts.services import create_account
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.test_browser_end_to_end import PASSWORD, Visit
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundRoleFactory
from entraide.programmes import services as programme_services
from entraide.reporting.tests.figures import example_programme, grant

pytestmark = pytest.mark.browser

# What is planted on the donor's funds' applications, and must never reach the donor.
PERSON = {
    "first_name": "Zéphyrine",
    "last_name": "Quintavalle-Brisebois",
    "email": "zephyrine.quintavalle@example.org",
    "phone": "+33 6 98 76 54 32",
}


def check_panels(visit: Visit) -> int:
    """Each chart of the page is an image with a sentence, and has a table with a caption."""
    panels = visit.page.locator("main section.report-panel", has=visit.page.locator("figure"))
    for panel in panels.all():
        [image] = panel.locator("img").all()
        assert (image.get_attribute("alt") or "").strip(), panel.inner_text()
        [caption] = panel.locator("table caption").all()
        assert caption.text_content().strip() == panel.locator("h2").inner_text().strip()
    assert visit.page.locator("main img").count() == panels.count()
    return panels.count()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_staff_and_the_donor_read_the_reports_in_a_browser(
    lang: str, browser: Any, live_server: Any
) -> None:
    audited: list[str] = []
    world = example_programme()
    # The French fund: 30 applications over three days, 12 of them granted (to one planted
    # person's name); the UK fund: 3 grants, fewer than the donor may see.
    # (The ledger writes in its caller's transaction: there is no test transaction here.)
    now = timezone.now()
    with transaction.atomic():
        applications = grant(world.france, 12, submitted_at=now - dt.timedelta(days=2), **PERSON)
        applications += grant(world.uk, 3, "1615.76", **PERSON)
    ApplicationFactory.create_batch(10, fund=world.france, submitted_at=now - dt.timedelta(days=1))
    ApplicationFactory.create_batch(8, fund=world.france, submitted_at=now)
    reviewer = create_account(
        actor=world.operator, email=f"reports-reviewer-{lang}@example.org", password=PASSWORD
    )
    FundRoleFactory.create(fund=world.france, user=reviewer, role=FundRole.Role.REVIEWER)
    donor = create_account(
        actor=world.operator, email=f"reports-donor-{lang}@example.org", password=PASSWORD
    )
    programme_services.grant_programme_role(
        actor=world.operator, programme=world.programme, user=donor, role="donor"
    )

    # 1. A reviewer of the French fund reads its reports: every figure, exact.
    rv = Visit(browser, live_server.url, lang, audited)
    rv.open_and_switch_language("/accounts/login/")
    rv.log_in(reviewer.email)
    rv.follow(rv.t("Back office"), r"/staff/$")
    rv.follow(world.france.name, rf"/staff/funds/{world.france.slug}/$")
    rv.follow(rv.t("Reports"), rf"/staff/funds/{world.france.slug}/reports/$")
    assert rv.heading() == rv.t("Reports")
    assert check_panels(rv) >= 5
    per_day = rv.page.locator("main section.report-panel").first.locator("table")
    total = per_day.locator("tfoot").locator("th, td").all_text_contents()
    assert total == [rv.t("Total"), "30"]
    # One row a day from the fund's opening: the three days of applications among them.
    counts = per_day.locator("tbody td").all_text_contents()
    assert [count for count in counts if count != "0"] == ["12", "10", "8"]
    rv.close()

    # 2. The donor reads the programme's reports: the UK fund's 3 grants are "fewer than 10",
    # and nobody's name, address, account or reference is on the page.
    dn = Visit(browser, live_server.url, lang, audited)
    dn.open_and_switch_language("/accounts/login/")
    dn.log_in(donor.email)
    dn.follow(dn.t("Back office"), r"/staff/$")
    dn.follow(world.programme.name, rf"/staff/programmes/{world.programme.slug}/$")
    reports = rf"/staff/programmes/{world.programme.slug}/reports/$"
    dn.follow(dn.t("Reports: charts and tables"), reports)
    assert check_panels(dn) >= 4
    few = dn.t("fewer than 10")
    uk_row = dn.page.locator("main table tbody tr").filter(has_text=world.uk.name).first
    assert uk_row.locator("td").all_inner_texts()[:2] == [few, few]
    html = dn.page.content()
    squashed = "".join(html.split())
    planted = [*PERSON.values(), world.manager.email]
    for application in applications:
        planted += [application.reference, application.nir, application.iban]
        planted += [application.applicant.email] if application.applicant else []
    for value in planted:
        assert value not in html
        assert "".join(value.split()) not in squashed

    # 3. The donor's report, in the page's language, is a PDF.
    link = dn.page.locator(f"main a[href*='donor-report.pdf'][hreflang={lang}]")
    response = dn.context.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    dn.close()

    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
