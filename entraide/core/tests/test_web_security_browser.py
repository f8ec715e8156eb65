"""The Content-Security-Policy in a real browser: the pages with scripts (the back office's
select-all boxes, a task's page that refreshes itself, the API's documentation) and charts
work, and Chromium reports no violation of the policy."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from entraide.accounts.tests.factories import UserFactory, with_authenticator_app
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory

pytestmark = pytest.mark.browser

# Every violation the page sees, reported by the browser as an event (set before any script of
# the page runs: Playwright's init scripts are not the page's and the policy does not bind them).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


def logged_in_context(browser: Any, base_url: str, user: Any) -> Any:
    """A browser context with ``user``'s session cookie."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=base_url, locale="en-GB")
    context.set_default_timeout(30_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base_url,
            }
        ]
    )
    context.add_init_script(WATCH_VIOLATIONS)
    return context


def violations_on(page: Any, console: list[str]) -> list[str]:
    page.wait_for_load_state("load")
    found: list[str] = page.evaluate("window.__violations")
    return found + [message for message in console if "Content Security Policy" in message]


def test_pages_with_scripts_work_under_the_policy_and_violate_nothing(
    browser: Any, live_server: Any
) -> None:
    fund = FundFactory.create(slug="csp-fund")
    ApplicationFactory.create_batch(2, fund=fund)
    admin = with_authenticator_app(
        FundRoleFactory.create(fund=fund, role=FundRole.Role.OPERATOR_ADMIN).user
    )
    context = logged_in_context(browser, live_server.url, admin)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    found: dict[str, list[str]] = {}

    # The list's "select all" box is hidden without JavaScript, shown and working with it.
    page.goto(f"/staff/funds/{fund.slug}/applications/")
    select_all = page.locator("input[data-select-all]")
    select_all.check()  # hidden until select-all.js shows it
    boxes = page.locator(
        f'input[type="checkbox"][name="{select_all.get_attribute("data-select-all")}"]'
    )
    assert boxes.count() == 2
    assert all(boxes.nth(index).is_checked() for index in range(boxes.count()))
    found["application list"] = violations_on(page, console)

    for path in ("/", f"/funds/{fund.slug}/", f"/funds/{fund.slug}/check/", "/accounts/login/"):
        console.clear()
        page.goto(path)
        found[path] = violations_on(page, console)

    # The API's documentation: Swagger UI from our static files, its settings as data.
    console.clear()
    page.goto("/api/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    found["/api/docs"] = violations_on(page, console)
    context.close()

    assert {where: seen for where, seen in found.items() if seen} == {}


def test_an_anonymous_visitor_sees_no_violation_on_the_public_pages(
    browser: Any, live_server: Any
) -> None:
    fund = FundFactory.create(slug="public-fund")
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(30_000)
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    found: dict[str, list[str]] = {}
    for path in (
        "/",
        f"/funds/{fund.slug}/",
        f"/funds/{fund.slug}/check/",
        "/accounts/signup/",
        "/attestations/verify/",
    ):
        console.clear()
        page.goto(path)
        found[path] = violations_on(page, console)
    context.close()

    assert {where: seen for where, seen in found.items() if seen} == {}


def test_an_inline_script_would_be_refused(browser: Any, live_server: Any) -> None:
    """The watch above sees violations: a script put into a page is reported, not run."""
    UserFactory.create()
    context = browser.new_context(base_url=live_server.url)
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.goto("/")
    page.evaluate(
        """() => { const s = document.createElement("script");
        s.textContent = "window.__ran = true"; document.body.append(s); }"""
    )
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert "script-src" in page.evaluate("window.__violations")[0]
    context.close()
