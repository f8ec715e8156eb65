"""Verifying a fund's applications against the records in a browser, as its operator admin does
it, with axe-core checking every page: the dashboard's card, the verification page, the run
followed in place until it is over, the applications the records contradict."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from entraide.accounts.services import create_account
from entraide.core.tests.conftest import allow_async_unsafe, browser  # noqa: F401 (fixtures)
from entraide.core.tests.test_browser_end_to_end import PASSWORD, Visit
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.evidence.models import VerificationRun
from entraide.evidence.tests.test_browser_import import screenshot
from entraide.evidence.tests.test_verification import applicant_with_records
from entraide.funds.services import create_fund

pytestmark = pytest.mark.browser


def test_an_operator_admin_verifies_every_application_and_follows_the_run(
    browser: Any,  # noqa: F811
    live_server: Any,
    settings: Any,
) -> None:
    settings.TASKS = DATABASE_TASKS  # the run waits for the worker: its page shows the progress
    audited: list[str] = []
    today = dt.date.today()
    operator = create_account(
        actor=None, email="verify-all@example.org", password=PASSWORD, fund_operator=True
    )
    fund = create_fund(
        actor=operator,
        name="Verified fund",
        slug="verified",
        currency="EUR",
        budget=Decimal("1000.00"),
        standard_amount=Decimal("500.00"),
        opens_on=today - dt.timedelta(days=3),
        closes_on=today + dt.timedelta(days=30),
    )
    application = applicant_with_records(declared_days=14, contracts=3, fund=fund)

    op = Visit(browser, live_server.url, "en", audited)
    op.open_and_switch_language("/accounts/login/")
    op.log_in(operator.email)
    op.page.goto(f"/staff/funds/{fund.slug}/")
    op.check(rf"/staff/funds/{fund.slug}/$")
    op.follow(op.t("See the verification against the records"), r"/verification/$")
    op.page.get_by_role("button", name=op.t("Verify all applications now")).click()
    run = VerificationRun.objects.get()
    op.check(rf"/verification/{run.pk}/$")
    assert op.page.locator("#verification-state progress").count() == 1
    screenshot(op, "verification_running")
    op.page.evaluate("window.stillTheSamePage = true")

    run_db_worker()

    # The run's part of the page is fetched again until the run is over, in place.
    op.page.get_by_text(
        op.t("The applications were verified against the records on"), exact=False
    ).wait_for()
    assert op.page.evaluate("window.stillTheSamePage") is True
    assert op.page.get_attribute("#verification-state", "aria-busy") == "false"
    op.audit()
    screenshot(op, "verification_done")
    op.follow(
        op.t("The applications whose answers the records contradict"),
        r"/applications/\?records=contradicted$",
    )
    rows = op.page.locator("main table tbody tr")
    assert rows.count() == 1
    assert application.reference in rows.first.inner_text()
    assert op.t("Answers contradicted") in rows.first.inner_text()
    op.close()
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
