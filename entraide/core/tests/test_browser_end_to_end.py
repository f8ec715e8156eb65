"""The thin end-to-end path, in a real browser, in French and in English.

An operator creates a fund, a reviewer is given a role on it, an applicant signs up (verifying
their e-mail address), applies step by step and gets a receipt; the reviewer approves, and the
applicant sees the approval. Each person chooses the page language with the switcher in the
header (their browser asks for the other language, so the switch is what makes the difference),
and every page visited is checked with axe-core.

Expected texts are read through Django's translation machinery, so the test holds whatever state
the French catalog is in, while ``<html lang>`` proves which language each page was served in.
Set ``ENTRAIDE_SCREENSHOT_DIR`` to keep a screenshot of each receipt page.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import translation
from django.utils.translation import gettext

from entraide.accounts.services import create_account
from entraide.accounts.tests.factories import ready_for_second_step, second_step_code
from entraide.applications.models import Application
from entraide.core.money import format_money
from entraide.demo.synthetic import make_iban, make_nir
from entraide.funds.models import Fund
from entraide.funds.services import create_fund, grant_fund_role
from entraide.review.models import Decision

pytestmark = pytest.mark.browser

PASSWORD = "Correct-horse-battery-7"
REFERENCE = re.compile(r"\bA-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
BROWSER_LOCALE = {"fr": "fr-FR", "en": "en-GB"}
TIMEOUT_MS = 15_000
AXE = Axe()
SCREENSHOT_DIR = os.environ.get("ENTRAIDE_SCREENSHOT_DIR", "")


class Visit:
    """What one person does in their own browser context (their own cookies and language)."""

    def __init__(self, browser: Any, base_url: str, lang: str, audited: list[str]) -> None:
        other = "en" if lang == "fr" else "fr"
        # The browser asks for the *other* language, so only the switcher can give us ``lang``.
        self.context = browser.new_context(base_url=base_url, locale=BROWSER_LOCALE[other])
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        # A missing stylesheet would leave axe-core checking an unstyled page: fail on it.
        self.failed: list[str] = []
        self.page.on("response", self._record_failure)
        self.lang = lang
        self.other = other
        self.audited = audited

    def _record_failure(self, response: Any) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.failed.append(f"{response.status} {response.url}")

    def t(self, message: str, **values: Any) -> str:
        """``message`` as the site shows it in the chosen language."""
        with translation.override(self.lang):
            text = gettext(message)
            return text % values if values else text

    def label(self, choice: Any) -> str:
        """A model choice's label (a status, an outcome) as the site shows it."""
        with translation.override(self.lang):
            return str(choice.label)

    def html_lang(self) -> str:
        return str(self.page.locator("html").get_attribute("lang"))

    def check(self, path_pattern: str) -> None:
        """Wait for the page, then check its language and its accessibility."""
        self.page.wait_for_url(re.compile(path_pattern))
        self.page.wait_for_load_state("load")
        assert self.html_lang() == self.lang, self.page.url
        self.audit()

    def audit(self) -> None:
        assert not self.failed, self.failed
        assert self.page.evaluate(
            "[...document.styleSheets].some(sheet => sheet.href && sheet.cssRules.length)"
        ), f"the stylesheet did not load on {self.page.url}"
        results = AXE.run(self.page)
        self.audited.append(f"[{self.html_lang()}] {self.page.url}")
        assert results.violations_count == 0, (
            f"axe-core on {self.page.url}:\n{results.generate_report()}"
        )

    def open_and_switch_language(self, path: str) -> None:
        """Open ``path`` (served in the browser's language), then switch like a person would."""
        self.page.goto(path)
        assert self.html_lang() == self.other
        self.audit()
        switcher = self.page.locator("form.language-switcher")
        switcher.locator("select[name=language]").select_option(self.lang)
        switcher.locator("button[type=submit]").click()
        self.page.wait_for_function(f"document.documentElement.lang === {self.lang!r}")
        self.check(re.escape(path) + "$")

    def heading(self) -> str:
        return " ".join(self.page.locator("h1").inner_text().split())

    def submit(self) -> None:
        """The submit button of the form in the page's main content."""
        self.page.locator("main form[method=post] button[type=submit]").click()

    def log_in(self, email: str) -> None:
        assert self.heading() == self.t("Sign In")  # allauth's catalog: "Connexion" in French
        asks_code = ready_for_second_step(email)
        self.page.fill("input[name=login]", email)
        self.page.fill("input[name=password]", PASSWORD)
        self.submit()
        if asks_code:
            self.second_step(email)
        self.check(r"/$")  # LOGIN_REDIRECT_URL: the home page
        self.page.get_by_role("button", name=self.t("Log out")).wait_for()

    def second_step(self, email: str) -> None:
        """The code of the person's authenticator app: whoever may approve or pay has one."""
        self.page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/$"))
        self.page.fill("input[name=code]", second_step_code(email))
        self.page.get_by_role("button", name=self.t("Sign In"), exact=True).click()

    def save_and_continue(self, path_pattern: str) -> None:
        """The main button of an application step, which leads to the next step."""
        self.page.get_by_role("button", name=self.t("Save and continue")).click()
        self.check(path_pattern)

    def follow(self, name: str, path_pattern: str, role: str = "link") -> None:
        self.page.get_by_role(role, name=name, exact=True).first.click()
        self.check(path_pattern)

    def close(self) -> None:
        self.context.close()


def operator_with_open_fund(
    prefix: str, lang: str, standard_amount: Decimal = Decimal("500.00")
) -> tuple[Any, Fund]:
    """A fund operator (password PASSWORD) and the fund they opened three days ago."""
    today = dt.date.today()
    operator = create_account(
        actor=None, email=f"{prefix}-{lang}@example.org", password=PASSWORD, fund_operator=True
    )
    fund = create_fund(
        actor=operator,
        name=f"{prefix.capitalize()} fund {lang}",
        slug=f"{prefix}-{lang}",
        currency="EUR",
        budget=Decimal("1000.00"),
        standard_amount=standard_amount,
        opens_on=today - dt.timedelta(days=3),
        closes_on=today + dt.timedelta(days=30),
    )
    return operator, fund


def status_text(visit: Visit) -> str:
    return " ".join(visit.page.locator("main .status").first.inner_text().split())


def squash(text: str) -> str:
    """Whitespace-insensitive text (money formats use non-breaking spaces)."""
    return " ".join(text.split())


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_thin_path_in_a_browser(
    lang: str, browser: Any, live_server: Any, mailoutbox: list
) -> None:
    audited: list[str] = []
    today = dt.date.today()
    slug = f"relief-{lang}"
    fund_name = f"Intermittents relief {lang.upper()}"

    # 1. The operator logs in and creates a fund through the form; they land on its dashboard.
    operator = create_account(
        actor=None, email=f"operator-{lang}@example.org", password=PASSWORD, fund_operator=True
    )
    op = Visit(browser, live_server.url, lang, audited)
    op.open_and_switch_language("/accounts/login/")
    op.log_in(operator.email)
    op.follow(op.t("Back office"), r"/staff/$")
    op.follow(op.t("Create a fund"), r"/staff/funds/new/$")
    assert op.heading() == op.t("Create a fund")
    page = op.page
    page.fill("#id_name", fund_name)
    page.fill("#id_slug", slug)
    page.select_option("#id_currency", "EUR")
    page.fill("#id_budget", "10000")
    page.fill("#id_standard_amount", "500")
    page.fill("#id_opens_on", (today - dt.timedelta(days=1)).isoformat())
    page.fill("#id_closes_on", (today + dt.timedelta(days=30)).isoformat())
    page.select_option("#id_time_zone", "Europe/Paris")
    op.submit()
    op.check(rf"/staff/funds/{slug}/$")
    assert op.heading() == fund_name
    op.close()
    fund = Fund.objects.get(slug=slug)
    assert (fund.budget, fund.standard_amount, fund.currency) == (
        Decimal("10000.00"),
        Decimal("500.00"),
        "EUR",
    )

    # 2. The operator gets a reviewer colleague (no staff-management screen yet).
    reviewer = create_account(
        actor=operator, email=f"reviewer-{lang}@example.org", password=PASSWORD
    )
    grant_fund_role(actor=operator, fund=fund, user=reviewer, role="reviewer")

    # 3. An applicant signs up, confirms their e-mail address, logs in and applies.
    applicant_email = f"applicant-{lang}@example.org"
    ap = Visit(browser, live_server.url, lang, audited)
    ap.open_and_switch_language("/")
    ap.follow(ap.t("Create an account"), r"/accounts/signup/$")
    ap.page.fill("input[name=email]", applicant_email)
    ap.page.fill("input[name=password1]", PASSWORD)
    ap.page.fill("input[name=password2]", PASSWORD)
    ap.submit()
    ap.check(r"/accounts/confirm-email/$")
    [confirmation] = [m for m in mailoutbox if applicant_email in m.to]
    link = re.search(r"https?://\S+?(/accounts/confirm-email/[^/\s]+/)", confirmation.body)
    assert link, confirmation.body
    ap.page.goto(link.group(1))
    ap.check(r"/accounts/confirm-email/[^/]+/$")
    ap.submit()
    ap.check(r"/accounts/login/$")  # confirming does not log in (allauth's default)
    ap.log_in(applicant_email)

    ap.follow(fund_name, rf"/funds/{slug}/$")
    assert ap.heading() == fund_name
    ap.follow(ap.t("Apply"), rf"/funds/{slug}/apply/identity/$")
    birth_date = dt.date(1988, 4, 17)
    page = ap.page
    page.fill("#id_nir", make_nir(random.Random(1), birth_date, 1))
    page.fill("#id_first_name", "Camille")
    page.fill("#id_last_name", "Martin")
    page.fill("#id_birth_date", birth_date.isoformat())
    ap.save_and_continue(rf"/funds/{slug}/apply/contact/$")
    assert page.input_value("#id_email") == applicant_email  # the account's address
    page.fill("#id_address_line", "12 rue des Studios")
    page.fill("#id_postcode", "93200")
    page.fill("#id_city", "Saint-Denis")
    ap.save_and_continue(rf"/funds/{slug}/apply/situation/$")
    page.check("input[name=profession][value=technician]")
    ap.save_and_continue(rf"/funds/{slug}/apply/bank/$")
    page.fill("#id_iban", make_iban(random.Random(1)))
    assert page.input_value("#id_account_holder") == "Camille Martin"
    ap.save_and_continue(rf"/funds/{slug}/apply/documents/$")
    ap.save_and_continue(rf"/funds/{slug}/apply/review/$")
    page.check("#id_consent")
    ap.page.get_by_role("button", name=ap.t("Send my application")).click()
    ap.check(r"/me/applications/A-[0-9A-Z]{4}-[0-9A-Z]{4}/$")
    reference_match = REFERENCE.search(ap.heading())
    assert reference_match, ap.heading()
    reference = reference_match.group(0)
    assert ap.heading() == ap.t("Application %(reference)s", reference=reference)
    assert status_text(ap) == ap.label(Application.Status.RECEIVED)
    assert page.get_by_role("status").filter(has_text=reference).count() == 1  # the receipt
    if SCREENSHOT_DIR:  # e.g. ENTRAIDE_SCREENSHOT_DIR=/tmp gives /tmp/receipt_fr.png
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / f"receipt_{lang}.png"), full_page=True)
    status_url = page.url
    application = Application.objects.get(reference=reference)
    assert (application.fund_id, application.language) == (fund.pk, lang)
    assert any(reference in m.subject for m in mailoutbox if applicant_email in m.to)

    # 4. The reviewer finds the application, approves it and sees the decision.
    rv = Visit(browser, live_server.url, lang, audited)
    rv.open_and_switch_language("/accounts/login/")
    rv.log_in(reviewer.email)
    rv.follow(rv.t("Back office"), r"/staff/$")
    rv.follow(fund_name, rf"/staff/funds/{slug}/$")
    rv.follow(rv.t("Applications"), rf"/staff/funds/{slug}/applications/$")
    rv.follow(reference, rf"/staff/funds/{slug}/applications/{reference}/$")
    assert status_text(rv) == rv.label(Application.Status.RECEIVED)
    rv.page.check("input[name=outcome][value=approve]")
    rv.page.get_by_role("button", name=rv.t("Record the decision")).click()
    rv.check(rf"/staff/funds/{slug}/applications/{reference}/#decision$")
    assert status_text(rv) == rv.label(Application.Status.APPROVED)
    decision = squash(
        rv.page.locator("main h2", has_text=rv.t("Decision"))
        .locator("xpath=following-sibling::dl[1]")
        .inner_text()
    )
    assert rv.label(Decision.Outcome.APPROVED) in decision
    with translation.override(lang):
        granted = squash(format_money(Decimal("500.00"), "EUR"))
    assert granted in decision
    assert reviewer.email in decision
    rv.close()

    # ... and the applicant sees the approval on their status page.
    ap.page.goto(status_url)
    ap.check(r"/me/applications/A-[0-9A-Z]{4}-[0-9A-Z]{4}/$")
    assert status_text(ap) == ap.label(Application.Status.APPROVED)
    assert ap.t("A grant of %(granted)s was approved.", granted=granted) in squash(
        ap.page.locator("main").inner_text()
    )
    ap.follow(ap.t("My applications"), r"/me/applications/$")
    assert reference in ap.page.locator("main table").inner_text()
    ap.close()

    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
