"""Paying awards in a real browser, four eyes: one person of finance previews and prepares a
batch, another releases it, its file is generated (the tests' in-process task backend runs the
task at once) and downloaded, and the batch is marked sent; the operator admin reads the
payment settings. Then a transfer the bank returns: finance imports the bank's report, the
applicant gives new bank details in the portal, and another person of finance verifies them.
Every page visited is checked with axe-core."""

from __future__ import annotations

import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import ngettext

from entraide.accounts.models import User
from entraide.accounts.services import create_account
from entraide.applications.models import Application
from entraide.applications.templatetags.portal import masked
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.test_browser_end_to_end import (
    PASSWORD,
    Visit,
    operator_with_open_fund,
    squash,
    status_text,
)
from entraide.demo.synthetic import make_iban
from entraide.funds import ledger
from entraide.funds.models import Fund
from entraide.funds.services import grant_fund_role
from entraide.payments import reasons, services
from entraide.payments.models import FileFormat, Payment, PaymentBatch, PaymentFile
from entraide.payments.tests.helpers import DEBTOR_IBAN, sent_batch, status_report

pytestmark = pytest.mark.browser


def set_up_payments(operator: User, fund: Fund) -> None:
    """The fund's payment settings: pain.001.001.09 files from its account."""
    services.save_payment_settings(
        actor=operator,
        fund=fund,
        values={
            "file_format": FileFormat.PAIN_001_001_09,
            "debtor_name": fund.name,
            "debtor_iban": DEBTOR_IBAN,
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


def people_of_finance(operator: User, fund: Fund, lang: str) -> list[User]:
    """Two people of the fund's finance (password PASSWORD): one prepares, the other releases."""
    finance = []
    for number in (1, 2):
        person = create_account(
            actor=operator, email=f"finance-{number}-{lang}@example.org", password=PASSWORD
        )
        grant_fund_role(actor=operator, fund=fund, user=person, role="finance")
        finance.append(person)
    return finance


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_two_people_of_finance_prepare_release_and_download_a_batch_in_a_browser(
    lang: str, browser: Any, live_server: Any
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("payments", lang)  # 1,000 in the budget
    set_up_payments(operator, fund)
    finance = people_of_finance(operator, fund, lang)
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
    assert admin.page.locator("#id_debtor_iban").input_value() == DEBTOR_IBAN
    admin.close()
    batch.refresh_from_db()
    assert (batch.prepared_by, batch.released_by) == (finance[0], finance[1])
    assert ledger.totals(fund).paid == Decimal("800.00")
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_applicant_gives_new_bank_details_after_the_bank_returned_the_transfer_in_a_browser(
    lang: str,
    browser: Any,
    live_server: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("returned", lang)
    set_up_payments(operator, fund)
    finance = people_of_finance(operator, fund, lang)
    applicant = create_account(actor=None, email=f"applicant-{lang}@example.org", password=PASSWORD)
    application: Application = ApplicationFactory.create(
        fund=fund,
        applicant=applicant,
        status=Application.Status.APPROVED,
        first_name="Camille",
        last_name="Martin",
        language=lang,
    )
    with transaction.atomic():
        award = ledger.place_award(
            actor=operator, fund=fund, application=application, amount=Decimal("400.00")
        )
    # Outside a test transaction the file is generated at the release's real commit; the
    # capture the helper asks for then finds nothing left to run.
    batch = sent_batch(fund, finance[0], finance[1], django_capture_on_commit_callbacks)
    payment = Payment.objects.get(award=award)
    reference = application.reference
    returns = f"/staff/funds/{fund.slug}/payments/returns/"

    # 1. Finance imports the bank's report: the account is closed (AC04).
    fi = Visit(browser, live_server.url, lang, audited)
    fi.open_and_switch_language("/accounts/login/")
    fi.log_in(finance[0].email)
    fi.page.goto(returns)
    fi.check(returns + "$")
    fi.page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "status-report.xml",
                "mimeType": "application/xml",
                "buffer": status_report(batch.reference, [(payment.end_to_end_id, "RJCT", "AC04")]),
            }
        ],
    )
    fi.page.get_by_role("button", name=fi.t("Import"), exact=True).click()
    fi.check(returns + r"[0-9]+/$")
    imported = fi.t(
        "Imported: %(confirmed)s confirmed, %(failed)s failed, %(unchanged)s already known, "
        "%(problems)s problems.",
        confirmed=0,
        failed=1,
        unchanged=0,
        problems=0,
    )
    assert fi.page.get_by_role("status").filter(has_text=imported).count() == 1
    with translation.override(lang):
        closed = str(reasons.explain("AC04"))
    assert squash(f"AC04 — {closed}") in squash(fi.page.locator("main table").last.inner_text())
    fi.follow(fi.t("All bank returns"), returns + "$")
    fi.follow(fi.t("Reconciliation"), rf"/staff/funds/{fund.slug}/payments/reconciliation/$")
    fi.close()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert not services.payable_awards(fund).exists()  # until new details are verified
    [asked] = [m for m in mailoutbox if applicant.email in m.to]
    assert f"/me/applications/{reference}/bank-details/" in asked.body

    # 2. The applicant reads on their status page that the transfer came back, and follows
    # the link to give new details: a mistyped IBAN first, then the right one.
    ap = Visit(browser, live_server.url, lang, audited)
    ap.open_and_switch_language("/accounts/login/")
    ap.log_in(applicant.email)
    status_page = f"/me/applications/{reference}/"
    ap.page.goto(status_page)
    ap.check(status_page + "$")
    notice = ap.page.locator("#bank-details-requested")
    returned = squash(ap.t("Your bank returned the transfer: give us new bank details."))
    assert returned in squash(notice.inner_text())
    notice.get_by_role("link", name=ap.t("Give new bank details"), exact=True).click()
    bank_page = status_page + "bank-details/"
    ap.check(bank_page + "$")
    assert returned in squash(ap.page.locator("main").inner_text())
    assert ap.page.input_value("#id_account_holder") == "Camille Martin"
    new_iban = make_iban(random.Random(f"new-{lang}"))
    # The last digit mistyped: one wrong digit always breaks the IBAN's mod-97 key.
    wrong_digit = "1" if new_iban[-1] == "0" else "0"
    typed = " ".join(re.findall(".{1,4}", new_iban[:-1] + wrong_digit))
    ap.page.fill("#id_iban", typed)
    ap.submit()
    ap.check(bank_page + "$")
    not_valid = squash(
        ap.t("This IBAN is not valid: check the country code, the length and the key.")
    )
    assert not_valid in squash(ap.page.get_by_role("alert").inner_text())
    assert squash(ap.page.locator("#id_iban_error").inner_text()) == not_valid
    assert ap.page.input_value("#id_iban") == typed
    assert ap.page.input_value("#id_account_holder") == "Camille Martin"
    ap.page.fill("#id_iban", new_iban)
    ap.submit()
    ap.check(status_page + "$")
    sent = ap.t(
        "Your new bank details were sent to the fund. It will check them, then pay your grant "
        "into this account."
    )
    assert ap.page.get_by_role("status").filter(has_text=sent).count() == 1
    assert notice.count() == 0
    ap.page.goto(bank_page)
    ap.check(bank_page + "$")
    waiting = ap.t(
        "Your new bank details (IBAN %(iban)s) are waiting for the fund's verification. Your "
        "grant will be paid into that account once they are verified.",
        iban=masked(new_iban),
    )
    assert squash(waiting) in squash(ap.page.locator("main").inner_text())
    assert ap.page.locator("#id_iban").count() == 0  # nothing more to give until verified
    ap.close()
    assert not services.payable_awards(fund).exists()

    # 3. Another person of finance verifies the new details: the award is payable again.
    fv = Visit(browser, live_server.url, lang, audited)
    fv.open_and_switch_language("/accounts/login/")
    fv.log_in(finance[1].email)
    overview = f"/staff/funds/{fund.slug}/payments/"
    fv.page.goto(overview)
    fv.check(overview + "$")
    changes = overview + "bank-details/"
    fv.follow(fv.t("Changes of bank details"), changes + "$")
    row = fv.page.locator("main table tbody tr").filter(has_text=reference)
    assert masked(new_iban) in row.inner_text()
    assert "AC04" in row.inner_text()
    row.get_by_role(
        "button", name=fv.t("Verify the details of %(reference)s", reference=reference)
    ).click()
    fv.check(changes + "$")
    verified = fv.t(
        "The new bank details of %(reference)s are verified: its grant can be paid.",
        reference=reference,
    )
    assert fv.page.get_by_role("status").filter(has_text=verified).count() == 1
    nothing_left = squash(fv.t("No new bank details are waiting for verification."))
    assert nothing_left in squash(fv.page.locator("main table").first.inner_text())
    fv.close()
    assert list(services.payable_awards(fund)) == [award]
    application.refresh_from_db()
    assert application.iban == new_iban
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
