"""The applicant portal in a real browser, in French and in English, every page checked with
axe-core: the eligibility self-check, the application step by step (with the self-check's
answers already filled in), leaving and resuming it, sending it, the receipt; then a reviewer
asks for a document and the applicant answers with it in the portal."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

import pytest

from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import ready_for_second_step
from entraide.applications.models import Application
from entraide.applications.tests.portal_factories import PDF, FundDocumentRequirementFactory
from entraide.core.tests.test_browser_end_to_end import (
    PASSWORD,
    REFERENCE,
    SCREENSHOT_DIR,
    Visit,
    status_text,
)
from entraide.demo.synthetic import make_iban, make_nir
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules.tests.factories import RuleSetVersionFactory

pytestmark = pytest.mark.browser

STATUS_PAGE = r"/me/applications/A-[0-9A-Z]{4}-[0-9A-Z]{4}/$"
PHONE = {"width": 375, "height": 740}


def log_in(visit: Visit, email: str, then: str) -> None:
    asks_code = ready_for_second_step(email)
    visit.page.fill("input[name=login]", email)
    visit.page.fill("input[name=password]", PASSWORD)
    visit.submit()
    if asks_code:
        visit.second_step(email)
    visit.check(then)


def fits_the_screen(visit: Visit, name: str) -> None:
    """Nothing wider than the window (no sideways scrolling on a phone)."""
    assert visit.page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ), visit.page.url
    if SCREENSHOT_DIR:  # e.g. ENTRAIDE_SCREENSHOT_DIR=/tmp gives /tmp/portal_review_fr.png
        path = Path(SCREENSHOT_DIR) / f"portal_{name}_{visit.lang}.png"
        visit.page.screenshot(path=str(path), full_page=True)


def upload(visit: Visit, selector: str, name: str) -> None:
    visit.page.set_input_files(
        selector, files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}]
    )


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_applying_in_a_browser(lang: str, browser: Any, live_server: Any, mailoutbox: list) -> None:
    audited: list[str] = []
    fund = FundFactory.create(slug=f"portal-{lang}", name=f"Fonds intermittents {lang.upper()}")
    # Asks the annual resources and the days worked from September to February.
    RuleSetVersionFactory.create(rule_set__fund=fund)
    FundDocumentRequirementFactory.create(
        fund=fund, code="payslip", label_fr="Dernier bulletin de paie", label_en="Last payslip"
    )
    applicant_email = f"applicant-{lang}@example.org"
    applicant = create_account(actor=None, email=applicant_email, password=PASSWORD)
    reviewer = create_account(actor=None, email=f"reviewer-{lang}@example.org", password=PASSWORD)
    FundRoleFactory.create(fund=fund, user=reviewer, role=FundRole.Role.REVIEWER)
    base = f"/funds/{fund.slug}"

    # 1. Without an account, the applicant checks whether they may be eligible, then applies.
    ap = Visit(browser, live_server.url, lang, audited)
    if lang == "fr":  # the French applicant uses a phone
        ap.page.set_viewport_size(PHONE)
    ap.open_and_switch_language(f"{base}/")
    ap.follow(ap.t("Check if I may be eligible"), rf"{base}/check/$")
    ap.page.fill("#id_annual_resources", "12000")
    ap.page.fill("#id_days", "20")
    ap.page.get_by_role("button", name=ap.t("Check")).click()
    ap.check(rf"{base}/check/$")
    ap.page.get_by_role("status").wait_for()
    ap.follow(ap.t("Apply"), r"/accounts/login/")
    log_in(ap, applicant_email, rf"{base}/apply/identity/$")

    # 2. Step by step; the situation starts from the self-check's answers.
    page = ap.page
    steps = page.get_by_role("navigation", name=ap.t("Steps of your application"))
    assert steps.locator("[aria-current=step]").inner_text().strip().endswith(ap.t("Identity"))
    birth_date = dt.date(1986, 6, 9)
    nir = make_nir(random.Random(5), birth_date, 2)
    page.fill("#id_nir", nir)
    page.fill("#id_first_name", "Camille")
    page.fill("#id_last_name", "Martin")
    page.fill("#id_birth_date", "1987-06-09")  # not the year the number says
    page.get_by_role("button", name=ap.t("Save and continue")).click()
    ap.check(rf"{base}/apply/identity/$")
    summary = page.locator(".error-summary")
    assert ap.t("The date of birth does not match the social security number.") in (
        summary.inner_text()
    )
    summary.get_by_role("link").first.click()  # the summary leads to the field
    assert page.evaluate("document.activeElement.id") == "id_birth_date"
    assert page.input_value("#id_first_name") == "Camille"  # what was typed is kept
    page.fill("#id_birth_date", birth_date.isoformat())
    ap.save_and_continue(rf"{base}/apply/contact/$")
    fits_the_screen(ap, "contact")
    page.fill("#id_address_line", "4 passage des Récollets")
    page.fill("#id_postcode", "75010")
    page.fill("#id_city", "Paris")
    ap.save_and_continue(rf"{base}/apply/situation/$")
    assert page.input_value("#id_annual_resources") == "12000.00"
    assert page.input_value("#id_days") == "20"
    fits_the_screen(ap, "situation")
    page.get_by_label(ap.label(Application.Profession.ARTIST), exact=True).check()
    ap.save_and_continue(rf"{base}/apply/bank/$")
    assert page.input_value("#id_account_holder") == "Camille Martin"
    page.fill("#id_iban", make_iban(random.Random(5)))

    # 3. They leave, and come back later from their list of applications.
    page.get_by_role("button", name=ap.t("Save and finish later")).click()
    ap.check(r"/me/applications/$")
    page.get_by_role("button", name=ap.t("Log out")).click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/accounts/login/")
    log_in(ap, applicant_email, r"/$")
    ap.follow(ap.t("My applications"), r"/me/applications/$")
    page.get_by_role("link", name=ap.t("Continue")).first.click()
    ap.check(rf"{base}/apply/documents/$")
    fits_the_screen(ap, "documents")
    upload(ap, "#id_document_payslip", "bulletin.pdf")
    ap.save_and_continue(rf"{base}/apply/review/$")
    assert "bulletin.pdf" in page.locator("main").inner_text()
    fits_the_screen(ap, "review")

    # 4. They send it, twice by mistake (a double click): one application, one receipt page.
    page.check("#id_consent")
    page.get_by_role("button", name=ap.t("Send my application")).dblclick()
    ap.check(STATUS_PAGE)
    reference_match = REFERENCE.search(page.locator("main .reference").inner_text())
    assert reference_match
    reference = reference_match.group(0)
    assert status_text(ap) == ap.label(Application.Status.RECEIVED)
    application = Application.objects.get(applicant=applicant)
    assert application.reference == reference
    assert (application.language, application.profession) == (lang, "artist")
    assert application.declared == {"annual_resources": "12000.00", "days": 20}
    assert application.iban not in page.locator("main").inner_text()
    fits_the_screen(ap, "receipt")
    status_url = page.url

    # 5. A reviewer asks for a document, in their own language.
    rv = Visit(browser, live_server.url, lang, audited)
    rv.open_and_switch_language("/accounts/login/")
    log_in(rv, reviewer.email, r"/$")
    rv.page.goto(f"/staff/funds/{fund.slug}/applications/{reference}/")
    rv.check(rf"/applications/{reference}/$")
    form = rv.page.locator("form", has=rv.page.locator("#id_body"))
    form.locator("#id_body").fill("Merci d'envoyer votre bulletin de mars.")
    form.get_by_label(
        rv.t("Ask for information (the application waits for the applicant's answer)")
    ).check()
    form.get_by_label("Dernier bulletin de paie" if lang == "fr" else "Last payslip").check()
    form.get_by_role("button", name=rv.t("Send the message")).click()
    rv.check(rf"/applications/{reference}/#write$")  # back beside the thread and the form
    assert status_text(rv) == rv.label(Application.Status.INFO_REQUESTED)
    rv.close()
    subject = ap.t(
        "%(fund)s: a message about your application %(reference)s",
        fund=fund.name,
        reference=reference,
    )
    [notice] = [m for m in mailoutbox if m.subject == subject]
    assert notice.to == [applicant_email]
    assert "bulletin de mars" not in notice.body  # read in the portal, after logging in

    # 6. The applicant reads the request and answers with the document.
    page.goto(status_url)
    ap.check(STATUS_PAGE)
    assert status_text(ap) == ap.label(Application.Status.INFO_REQUESTED)
    assert "Merci d'envoyer votre bulletin de mars." in page.locator("main").inner_text()
    page.fill("#id_body", "Voici le bulletin demandé.")
    upload(ap, "#id_document_payslip", "mars.pdf")
    page.get_by_role("button", name=ap.t("Send my answer")).click()
    ap.check(STATUS_PAGE)
    assert status_text(ap) == ap.label(Application.Status.UNDER_REVIEW)
    assert "mars.pdf" in page.locator("main ol.thread").inner_text()
    ap.close()
    assert Application.objects.count() == 1

    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
