"""A donor programme in a real browser, in French and in English: the fund operator records the
day's pound by hand on the exchange rates page; the programme's manager allocates dollars to a
British partner fund (first more than the commitment, refused with the amount kept, then a
part of it) and reads which rates converted them; the donor then reads the roll-up, in pounds
and dollars with the rate, and nothing else. Every page visited is checked with axe-core."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from babel.numbers import format_decimal
from django.utils import timezone, translation

from entraide.accounts.services import create_account
from entraide.core.money import format_money
from entraide.core.tests.test_browser_end_to_end import PASSWORD, Visit, squash
from entraide.funds.services import create_fund
from entraide.programmes import rates, services
from entraide.programmes.models import Allocation, ExchangeRate

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_manager_allocates_in_pounds_and_the_donor_reads_the_rollup_in_a_browser(
    lang: str, browser: Any, live_server: Any
) -> None:
    audited: list[str] = []
    today = timezone.localdate()
    operator = create_account(
        actor=None, email=f"programmes-{lang}@example.org", password=PASSWORD, fund_operator=True
    )
    programme = services.create_programme(
        actor=operator,
        slug=f"streaming-{lang}",
        name=f"Streaming relief {lang.upper()}",
        donor="Streaming platform",
        commitment=Decimal("15000000.00"),
        currency="USD",
    )
    fund = create_fund(
        actor=operator,
        name=f"UK crew fund {lang}",
        slug=f"uk-crew-{lang}",
        currency="GBP",
        budget=Decimal("0.00"),
        standard_amount=Decimal("1000.00"),
        opens_on=today - dt.timedelta(days=3),
        closes_on=today + dt.timedelta(days=30),
        time_zone="Europe/London",
        programme_id=programme.pk,
    )
    ExchangeRate.objects.create(
        day=today,
        currency="USD",
        rate=Decimal("1.0876"),
        source=ExchangeRate.Source.ECB,
        recorded_at=timezone.now(),
    )
    manager = create_account(
        actor=operator, email=f"programme-manager-{lang}@example.org", password=PASSWORD
    )
    donor = create_account(
        actor=operator, email=f"programme-donor-{lang}@example.org", password=PASSWORD
    )
    services.grant_programme_role(actor=operator, programme=programme, user=manager, role="manager")
    services.grant_programme_role(actor=operator, programme=programme, user=donor, role="donor")
    rollup_page = f"/staff/programmes/{programme.slug}/"

    def money(amount: str, currency: str) -> str:
        return squash(format_money(Decimal(amount), currency, locale=lang))

    # 1. The operator records today's pound by hand.
    op = Visit(browser, live_server.url, lang, audited)
    op.open_and_switch_language("/accounts/login/")
    op.log_in(operator.email)
    op.follow(op.t("Back office"), r"/staff/$")
    op.follow(op.t("Exchange rates"), r"/staff/exchange-rates/$")
    assert op.page.input_value("#id_day") == today.isoformat()
    op.page.select_option("#id_currency", "GBP")
    op.page.fill("#id_rate", "0.87865")
    op.page.fill("#id_note", "The bank's rate of the day")
    op.page.get_by_role("button", name=op.t("Record the rate")).click()
    op.check(r"/staff/exchange-rates/#manual$")
    latest = squash(op.page.locator("main table").first.inner_text())
    pound = format_decimal(Decimal("0.87865"), format="#,##0.########", locale=lang)
    assert op.t("1 %(source)s = %(rate)s %(target)s", source="EUR", rate=pound, target="GBP") in (
        latest
    )
    assert op.label(ExchangeRate.Source.MANUAL) in latest
    op.close()

    # 2. The manager allocates: too much first (refused, the input kept), then $2.5M.
    mg = Visit(browser, live_server.url, lang, audited)
    mg.open_and_switch_language("/accounts/login/")
    mg.log_in(manager.email)
    mg.follow(mg.t("Back office"), r"/staff/$")
    mg.follow(programme.name, rollup_page + "$")
    assert mg.heading() == programme.name
    allocate = mg.page.get_by_role("button", name=mg.t("Allocate"), exact=True)
    mg.page.select_option("#id_fund", str(fund.pk))
    mg.page.fill("#id_amount", "20000000")
    mg.page.fill("#id_note", "First tranche")
    allocate.click()
    mg.check(rollup_page + "allocations/#allocate$")
    left = mg.t(
        "Only %(left)s of the commitment is left to allocate.",
        left=format_money(Decimal("15000000.00"), "USD", locale=lang),
    )
    assert squash(left) in squash(mg.page.get_by_role("alert").inner_text())
    assert squash(mg.page.locator("#id_amount_error").inner_text()) == squash(left)
    assert mg.page.input_value("#id_amount") == "20000000"
    assert mg.page.input_value("#id_fund") == str(fund.pk)
    assert mg.page.input_value("#id_note") == "First tranche"
    mg.page.fill("#id_amount", "2500000")
    allocate.click()
    mg.check(rollup_page + "#allocations$")
    allocation = Allocation.objects.get(programme=programme)
    assert (allocation.converted_amount, allocation.rate) == (
        Decimal("2019699.34"),
        Decimal("0.80787974"),
    )
    rate_text = mg.t(
        "1 %(source)s = %(rate)s %(target)s",
        source="USD",
        rate=format_decimal(Decimal("0.80787974"), format="#,##0.########", locale=lang),
        target="GBP",
    )
    told = mg.t(
        "%(amount)s allocated to %(to)s: %(converted)s at %(rate)s.",
        amount=money("2500000.00", "USD"),
        to=fund.name,
        converted=money("2019699.34", "GBP"),
        rate=rate_text,
    )
    assert squash(told) in squash(mg.page.get_by_role("status").inner_text())
    with translation.override(lang):
        read = rates.conversion("USD", "GBP", today).describe()
    row = squash(mg.page.locator("#allocations ~ table tbody tr").first.inner_text())
    assert squash(read) in row
    assert (
        mg.t("EUR/%(currency)s: rate of %(day)s recorded by hand", currency="GBP", day=today)
        in read
    )
    assert manager.email in row
    mg.close()

    # 3. The donor reads the roll-up: the fund's figures in pounds and in dollars, at the rate;
    # no allocation form, nobody's name.
    dn = Visit(browser, live_server.url, lang, audited)
    dn.open_and_switch_language("/accounts/login/")
    dn.log_in(donor.email)
    dn.follow(dn.t("Back office"), r"/staff/$")
    dn.follow(programme.name, rollup_page + "$")
    facts = squash(dn.page.locator("main dl.facts").inner_text())
    assert squash(money("12500000.00", "USD")) in facts  # left to allocate
    fund_row = squash(
        dn.page.locator("main table.rollup tbody tr").filter(has_text=fund.name).inner_text()
    )
    assert squash(money("2500000.00", "USD")) in fund_row
    assert squash(money("2019699.34", "GBP")) in fund_row
    assert squash(rate_text) in fund_row
    assert dn.page.locator("#id_amount").count() == 0
    assert dn.page.locator("#allocations").count() == 0
    main = dn.page.locator("main").inner_text()
    assert manager.email not in main
    assert "First tranche" not in main
    dn.page.goto("/staff/programmes/")
    dn.check(r"/staff/programmes/$")
    assert squash(money("2500000.00", "USD")) in squash(dn.page.locator("main table").inner_text())
    dn.close()

    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
