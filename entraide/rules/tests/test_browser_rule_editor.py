"""The rule editor in a browser, as an operator admin walks through it, with axe-core checking
every page: first rules from the starter, a mistake shown on its field, the preview, publishing,
re-evaluating; then a reviewer reads the evaluation on an application."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from entraide.accounts.services import create_account
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.conftest import allow_async_unsafe, browser  # noqa: F401 (fixtures)
from entraide.core.tests.test_browser_end_to_end import (
    PASSWORD,
    SCREENSHOT_DIR,
    Visit,
    operator_with_open_fund,
)
from entraide.evidence.tests.factories import EmployerDeclarationFactory
from entraide.funds.services import grant_fund_role
from entraide.rules.models import ApplicationEvaluation, RuleSetVersion

pytestmark = pytest.mark.browser


def screenshot(visit: Visit, name: str) -> None:
    """With ENTRAIDE_SCREENSHOT_DIR=/tmp, e.g. /tmp/rules_edit_error_fr.png."""
    if SCREENSHOT_DIR:
        path = Path(SCREENSHOT_DIR) / f"rules_{name}_{visit.lang}.png"
        visit.page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_operator_writes_previews_and_publishes_rules(
    lang: str,
    browser: Any,  # noqa: F811
    live_server: Any,
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("rules", lang, Decimal("600.00"))
    today = dt.date.today()
    worked, idle = ApplicationFactory.create_batch(2, fund=fund)
    EmployerDeclarationFactory.create(
        nir=worked.nir,
        start=today - dt.timedelta(days=200),
        end=today - dt.timedelta(days=170),
        contract_type="CDDU",
    )
    EmployerDeclarationFactory.create(nir=idle.nir, contract_type="CDDU")  # 2019: too long ago

    op = Visit(browser, live_server.url, lang, audited)
    op.open_and_switch_language("/accounts/login/")
    op.log_in(operator.email)
    op.page.goto(f"/staff/funds/{fund.slug}/")
    op.check(rf"/staff/funds/{fund.slug}/$")
    op.follow(op.t("Rules"), rf"/staff/funds/{fund.slug}/rules/$")
    op.page.get_by_role("button", name=op.t("Write the fund's first rules")).click()
    op.check(r"/rules/1/edit/$")

    # A test with a typo: refused, shown next to its field with its path, as typed.
    op.page.fill("#id_criteria__0__test", "days_workd >= min_days")
    op.page.get_by_role("button", name=op.t("Check and save the draft")).click()
    op.check(r"/rules/1/edit/$")
    error = op.page.locator("#id_criteria__0__test_error").inner_text()
    assert "criteria[0].test" in error
    assert op.page.input_value("#id_criteria__0__test") == "days_workd >= min_days"
    screenshot(op, "edit_error")
    op.page.fill("#id_criteria__0__test", "days_worked >= min_days")
    op.page.fill("#id_parameters__min_days", "10")
    op.page.get_by_role("button", name=op.t("Check and save the draft")).click()
    op.check(r"/rules/1/edit/$")
    assert RuleSetVersion.objects.get().document["parameters"]["min_days"] == 10

    op.follow(op.t("Preview the saved draft on the pending applications"), r"/rules/1/preview/$")
    figures = " ".join(op.page.locator("main .figures").inner_text().split())
    assert figures.startswith("1 ")
    screenshot(op, "preview")
    op.page.get_by_role("button", name=op.t("Publish version %(number)s", number=1)).click()
    op.check(r"/rules/1/reevaluate/$")
    op.page.locator("main form[method=post] button[type=submit]").click()
    op.check(rf"/staff/funds/{fund.slug}/rules/$")
    assert ApplicationEvaluation.objects.filter(is_current=True, eligible=True).count() == 1
    op.close()

    reviewer = create_account(actor=operator, email=f"rv-{lang}@example.org", password=PASSWORD)
    grant_fund_role(actor=operator, fund=fund, user=reviewer, role="reviewer")
    rv = Visit(browser, live_server.url, lang, audited)
    rv.open_and_switch_language("/accounts/login/")
    rv.log_in(reviewer.email)
    rv.page.goto(f"/staff/funds/{fund.slug}/applications/{worked.reference}/")
    rv.check(rf"/applications/{worked.reference}/$")
    table = rv.page.locator("main table.criteria").inner_text()
    assert re.search(r"\b31\b", table), table  # the days worked, criterion by criterion
    screenshot(rv, "application")
    rv.page.get_by_role("button", name=rv.t("Evaluate again")).click()
    rv.check(rf"/applications/{worked.reference}/$")
    rv.close()
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
