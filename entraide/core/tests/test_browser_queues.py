"""The fund's dashboard and queues in a real browser: the operator reads the dashboard, opens a
queue, ticks the whole page and gives it to a reviewer, then shares another queue among the
reviewers after its summary. Every page visited is checked with axe-core."""

from __future__ import annotations

from typing import Any

import pytest

from entraide.accounts.services import create_account
from entraide.applications.models import Application
from entraide.applications.selectors import Queue
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.test_browser_end_to_end import PASSWORD, Visit, operator_with_open_fund
from entraide.funds.services import grant_fund_role
from entraide.review.models import Assignment

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_dashboard_and_the_queues_in_a_browser(
    lang: str, browser: Any, live_server: Any
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("queues", lang)
    reviewers = []
    for n in range(2):
        person = create_account(
            actor=operator, email=f"reviewer{n}-{lang}@example.org", password=PASSWORD
        )
        grant_fund_role(actor=operator, fund=fund, user=person, role="reviewer")
        reviewers.append(person)
    new = ApplicationFactory.create_batch(3, fund=fund)
    asked = ApplicationFactory.create_batch(2, fund=fund, status=Application.Status.INFO_REQUESTED)
    base = f"/staff/funds/{fund.slug}/"

    op = Visit(browser, live_server.url, lang, audited)
    op.open_and_switch_language("/accounts/login/")
    op.log_in(operator.email)
    op.page.goto(base)
    op.check(base + "$")
    assert op.page.locator("svg[role=img] rect").count() >= 1  # applications per day

    # The new queue: tick the whole page at once, give it to the first reviewer.
    op.page.get_by_role("link", name=op.label(Queue.NEW), exact=True).click()
    op.check(r"/applications/\?queue=new")
    op.page.get_by_label(op.t("Tick every application of this page")).check()
    for application in new:
        assert op.page.get_by_label(application.reference, exact=True).is_checked()
    op.page.select_option("#bulk-reviewer", str(reviewers[0].pk))
    op.page.get_by_role("button", name=op.t("Assign to this reviewer")).click()
    op.check(r"/applications/\?queue=new")
    assert set(
        Assignment.objects.filter(reviewer=reviewers[0]).values_list("application", flat=True)
    ) == {application.pk for application in new}

    # The queue of those asked for information, shared among the reviewers after its summary.
    op.page.get_by_role("link", name=op.label(Queue.INFO_REQUESTED), exact=True).click()
    op.check(r"queue=info_requested")
    op.page.get_by_role("link", name=op.t("Share this whole list among the reviewers")).click()
    op.check(r"/share-out/\?queue=info_requested")
    op.page.locator("main form[method=post] button[type=submit]").click()
    op.check(r"/applications/\?queue=info_requested")
    op.close()
    # The first reviewer has the three new ones already: both go to the second.
    given = Assignment.objects.filter(application__in=asked)
    assert list(given.values_list("reviewer", flat=True)) == [reviewers[1].pk] * 2
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
