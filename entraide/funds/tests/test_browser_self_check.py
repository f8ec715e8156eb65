"""The public page and the eligibility self-check in a real browser, in French and in English,
without an account: a mistake shown on its field, then a result that may be eligible, then one
that probably is not. axe-core checks every page on the way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from entraide.core.money import format_money
from entraide.core.tests.conftest import allow_async_unsafe, browser  # noqa: F401 (fixtures)
from entraide.core.tests.test_browser_end_to_end import SCREENSHOT_DIR, Visit, squash
from entraide.funds.tests.factories import FundFactory
from entraide.rules.tests.factories import NETFLIX_AUDIENS, RuleSetVersionFactory

pytestmark = pytest.mark.browser


def screenshot(visit: Visit, name: str) -> None:
    """With ENTRAIDE_SCREENSHOT_DIR=/tmp, e.g. /tmp/self_check_result_fr.png."""
    if SCREENSHOT_DIR:
        path = Path(SCREENSHOT_DIR) / f"self_check_{name}_{visit.lang}.png"
        visit.page.screenshot(path=str(path), full_page=True)


def answer(visit: Visit, **answers: str) -> None:
    page = visit.page
    for name, value in answers.items():
        if value in ("yes", "no", "technician", "artist"):
            page.check(f"input[name={name}][value={value}]")
        else:
            page.fill(f"#id_{name}", value)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_person_checks_their_eligibility_without_an_account(
    lang: str,
    browser: Any,  # noqa: F811
    live_server: Any,
) -> None:
    audited: list[str] = []
    today = dt.date.today()
    fund = FundFactory.create(
        slug=f"netflix-{lang}",
        name=f"Netflix × Audiens {lang.upper()}",
        opens_on=today - dt.timedelta(days=2),
        closes_on=today + dt.timedelta(days=20),
    )
    RuleSetVersionFactory.create(rule_set__fund=fund, source=NETFLIX_AUDIENS)
    with translation.override(lang):
        grant = squash(format_money(Decimal("900.00"), "EUR"))

    visit = Visit(browser, live_server.url, lang, audited)
    visit.open_and_switch_language(f"/funds/{fund.slug}/")
    assert visit.heading() == fund.name
    screenshot(visit, "public_page")
    visit.follow(visit.t("Check if I may be eligible"), rf"/funds/{fund.slug}/check/$")

    # A question left unanswered and a negative amount: shown on their fields, as typed.
    answer(visit, annual_resources="-1", profession="technician")
    visit.submit()
    visit.check(rf"/funds/{fund.slug}/check/$")
    assert visit.page.locator("#id_annual_resources_error").inner_text() == visit.t(
        "Enter a number of at least %(min)s.", min="0"
    )
    assert visit.page.locator("#id_sector_days_error").inner_text() == visit.t(
        "Answer this question."
    )
    assert visit.page.input_value("#id_annual_resources") == "-1"
    assert visit.page.is_checked("input[name=profession][value=technician]")
    screenshot(visit, "errors")

    # Answers that make them eligible through "could not renew their rights".
    answer(
        visit,
        annual_resources="14200",
        sector_days="9",
        rights_ended_2020="yes",
        rights_opened_2020="no",
        rights_opened_2019="yes",
        days_sep_feb="9",
        benefits_now="no",
    )
    visit.submit()
    visit.check(rf"/funds/{fund.slug}/check/$")
    status = squash(visit.page.get_by_role("status").inner_text())
    assert status == squash(visit.t("You may be eligible for %(amount)s, because:", amount=grant))
    reasons = squash(visit.page.locator("section.result ul").inner_text())
    with translation.override(lang):
        assert "9" in reasons
    assert visit.page.locator("section.result a.button").inner_text() == visit.t("Apply")
    screenshot(visit, "eligible")

    # Currently paid unemployment benefits: excluded.
    answer(visit, benefits_now="yes")
    visit.submit()
    visit.check(rf"/funds/{fund.slug}/check/$")
    status = squash(visit.page.get_by_role("status").inner_text())
    assert status == squash(visit.t("You are probably not eligible, because:"))
    assert visit.page.locator("section.result ul li").count() == 1
    screenshot(visit, "not_eligible")
    visit.close()

    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
