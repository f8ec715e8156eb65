"""Four eyes and the budget in a real browser: a reviewer proposes an approval against the
rules, an approver confirms it, the operator credits the budget and funds the waiting list.
Every page visited is checked with axe-core."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation
from django.utils.translation import ngettext

from entraide.accounts.services import create_account
from entraide.applications.models import Application
from entraide.core.tests.test_browser_end_to_end import (
    PASSWORD,
    Visit,
    operator_with_open_fund,
    status_text,
)
from entraide.funds import ledger
from entraide.funds.services import grant_fund_role
from entraide.review.models import SecondApproval
from entraide.rules.tests.factories import ApplicationEvaluationFactory

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_four_eyes_and_the_waiting_list_in_a_browser(
    lang: str, browser: Any, live_server: Any
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("budget", lang)  # 1,000 in the budget
    staff = {}
    for role in ("reviewer", "approver"):
        staff[role] = create_account(
            actor=operator, email=f"{role}-{lang}@example.org", password=PASSWORD
        )
        grant_fund_role(actor=operator, fund=fund, user=staff[role], role=role)
    override = ApplicationEvaluationFactory(
        application__fund=fund, eligible=False, amount=Decimal("0.00")
    ).application
    later = ApplicationEvaluationFactory(
        application__fund=fund, amount=Decimal("900.00")
    ).application

    def open_application(visit: Visit, application: Application) -> None:
        path = f"/staff/funds/{fund.slug}/applications/{application.reference}/"
        visit.page.goto(path)
        visit.check(path + "$")

    # 1. The reviewer approves against the rules: it waits for a second approver.
    rv = Visit(browser, live_server.url, lang, audited)
    rv.open_and_switch_language("/accounts/login/")
    rv.log_in(staff["reviewer"].email)
    open_application(rv, override)
    rv.page.check("input[name=outcome][value=approve]")
    rv.page.fill("#id_note", "Hardship: production cancelled.")
    rv.page.get_by_role("button", name=rv.t("Record the decision")).click()
    rv.check(rf"/applications/{override.reference}/")
    assert rv.page.get_by_text(rv.t("The approval waits for a second approver.")).count() == 1
    # ... and cannot confirm it themselves: there is no such button for them.
    assert rv.page.get_by_role("button", name=rv.t("Confirm the approval")).count() == 0
    rv.close()

    # 2. The approver confirms it: the grant is reserved (500 of the 1,000).
    ap = Visit(browser, live_server.url, lang, audited)
    ap.open_and_switch_language("/accounts/login/")
    ap.log_in(staff["approver"].email)
    open_application(ap, override)
    ap.page.get_by_role("button", name=ap.t("Confirm the approval")).click()
    ap.check(rf"/applications/{override.reference}/")
    assert status_text(ap) == ap.label(Application.Status.APPROVED)
    assert SecondApproval.objects.get().status == SecondApproval.Status.CONFIRMED
    # The next approval (900) does not fit in the 500 left: it waits for budget.
    open_application(ap, later)
    ap.page.check("input[name=outcome][value=approve]")
    ap.page.get_by_role("button", name=ap.t("Record the decision")).click()
    ap.check(rf"/applications/{later.reference}/")
    assert status_text(ap) == ap.label(Application.Status.WAITLISTED)
    ap.close()

    # 3. The operator credits the budget and funds the waiting list from the budget page.
    op = Visit(browser, live_server.url, lang, audited)
    op.open_and_switch_language("/accounts/login/")
    op.log_in(operator.email)
    op.page.goto(f"/staff/funds/{fund.slug}/budget/")
    op.check(r"/budget/$")
    op.page.fill("#id_amount", "400")
    op.page.get_by_role("button", name=op.t("Credit"), exact=True).click()
    op.check(r"/budget/$")
    with translation.override(lang):
        fund_them = ngettext(
            "Approve the first waiting application",
            "Approve the first %(count)s waiting applications",
            1,
        )
    op.page.get_by_role("button", name=fund_them).click()
    op.check(r"/budget/$")
    op.close()
    later.refresh_from_db()
    assert later.status == Application.Status.APPROVED
    assert ledger.totals(fund).left == Decimal("0.00")
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
