"""Paying awards in a real browser, four eyes: one person of finance previews and prepares a
batch, another releases it, its file is generated (the tests' in-process task backend runs the
task at once) and downloaded, and the batch is marked sent; the operator admin reads the
payment settings. Every page visited is checked with axe-core."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import ngettext

from entraide.accounts.services import create_account
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.test_browser_end_to_end import (
    PASSWORD,
    Visit,
    operator_with_open_fund,
    status_text,
)
from entraide.funds import ledger
from entraide.funds.services import grant_fund_role
from entraide.payments import services
from entraide.payments.models import FileFormat, PaymentBatch, PaymentFile

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_two_people_of_finance_prepare_release_and_download_a_batch_in_a_browser(
    lang: str, browser: Any, live_server: Any
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("payments", lang)  # 1,000 in the budget
    services.save_payment_settings(
        actor=operator,
        fund=fund,
        values={
            "file_format": FileFormat.PAIN_001_001_09,
            "debtor_name": fund.name,
            "debtor_iban": "FR7630006000011234567890189",
            "debtor_bic": "",
            "initiating_party": fund.name,
            "initiating_party_id": "",
            "execution_days": 1,
            "remittance_template": "Aide d'urgence {fund} {reference}",
            "csv_columns": [["reference", "end_to_end_id"], ["amount", "amount"]],
            "csv_delimiter": ",",
            "csv_decimal_comma": False,
        },
    )
    finance = []
    for number in (1, 2):
        person = create_account(
            actor=operator, email=f"finance-{number}-{lang}@example.org", password=PASSWORD
        )
        grant_fund_role(actor=operator, fund=fund, user=person, role="finance")
        finance.append(person)
    for _ in range(2):
        application = ApplicationFactory.create(fund=fund, status=Application.Status.APPROVED)
        with transaction.atomic():
            ledger.place_award(
                actor=operator, fund=fund, application=application, amount=Decimal("400.00")
            )
    overview = f"/staff/funds/{fund.slug}/payments/"

    # 1. The first person previews what can be paid, then prepares the batch.
    first = Visit(browser, live_server.url, lang, audited)
    first.open_and_switch_language("/accounts/login/")
    first.log_in(finance[0].email)
    first.page.goto(overview)
    first.check(overview + "$")
    first.page.get_by_role("button", name=first.t("Preview"), exact=True).click()
    first.check(overview + r"\?")
    with translation.override(lang):
        prepare = ngettext(
            "Prepare a batch of this award", "Prepare a batch of these %(count)s awards", 2
        ) % {"count": 2}
    first.page.get_by_role("button", name=prepare).click()
    first.check(r"/payments/batches/P-[0-9A-Z-]+/$")
    batch = PaymentBatch.objects.get(fund=fund)
    assert status_text(first) == first.label(PaymentBatch.Status.PREPARED)
    # Four eyes: the page tells them someone else releases it, and offers no button to do it.
    assert first.page.get_by_role("button", name=first.t("Release the batch")).count() == 0
    assert first.page.get_by_text(
        first.t("You prepared this batch: another person of finance must release it (four eyes).")
    ).is_visible()
    first.close()

    # 2. The second person releases it; the file is generated at once and downloaded.
    second = Visit(browser, live_server.url, lang, audited)
    second.open_and_switch_language("/accounts/login/")
    second.log_in(finance[1].email)
    path = f"/staff/funds/{fund.slug}/payments/batches/{batch.reference}/"
    second.page.goto(path)
    second.check(path + "$")
    second.page.get_by_role("button", name=second.t("Release the batch")).click()
    second.check(path + "$")
    assert status_text(second) == second.label(PaymentBatch.Status.READY)
    stored = PaymentFile.objects.get(batch=batch)
    with second.page.expect_download() as download:
        second.page.get_by_role(
            "link", name=second.t("Download %(name)s", name=stored.name)
        ).click()
    assert download.value.suggested_filename == stored.name
    assert Path(download.value.path()).read_bytes() == bytes(stored.content)

    # 3. Uploaded to the bank: the batch is marked sent.
    second.page.get_by_role("button", name=second.t("Mark as sent to the bank")).click()
    second.check(path + "$")
    assert status_text(second) == second.label(PaymentBatch.Status.SENT)
    for page in ("", "returns/", "reconciliation/"):
        second.page.goto(overview + page)
        second.check(overview + page + "$")
    second.close()

    # 4. The fund's operator admin reads the payment settings they saved.
    admin = Visit(browser, live_server.url, lang, audited)
    admin.open_and_switch_language("/accounts/login/")
    admin.log_in(operator.email)
    admin.page.goto(overview + "settings/")
    admin.check(overview + "settings/$")
    assert admin.page.locator("#id_debtor_iban").input_value() == "FR7630006000011234567890189"
    admin.close()
    batch.refresh_from_db()
    assert (batch.prepared_by, batch.released_by) == (finance[0], finance[1])
    assert ledger.totals(fund).paid == Decimal("800.00")
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
