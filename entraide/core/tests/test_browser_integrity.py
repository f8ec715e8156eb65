"""Deciding possible duplicates in a real browser: the checks that follow two submissions link
two strangers who give one bank account, and a person who applied twice; a reviewer opens the
fund's pairs to review, says the strangers are different people (refused without a note, then
with one), confirms the other pair as one person, finds that person on the application's
page and runs a full check; the operator admin reads the settings. Every page visited is
checked with axe-core."""

from __future__ import annotations

import re
from typing import Any

import pytest

from entraide.accounts.services import create_account
from entraide.core.tests.test_browser_end_to_end import (
    PASSWORD,
    Visit,
    operator_with_open_fund,
    squash,
    status_text,
)
from entraide.funds.services import grant_fund_role
from entraide.integrity import services
from entraide.integrity.models import Link, LinkageRun, PersonRecord
from entraide.integrity.tests.helpers import second_application, stranger
from entraide.review.models import Flag

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_reviewer_dismisses_one_pair_and_confirms_another_in_a_browser(
    lang: str, browser: Any, live_server: Any
) -> None:
    audited: list[str] = []
    operator, fund = operator_with_open_fund("integrity", lang)
    reviewer = create_account(
        actor=operator, email=f"integrity-reviewer-{lang}@example.org", password=PASSWORD
    )
    grant_fund_role(actor=operator, fund=fund, user=reviewer, role="reviewer")
    # Two strangers paid into one account, and one person applying twice: each pair is found
    # by the check that follows the second submission.
    stranger_one = stranger(fund)
    stranger_two = stranger(fund, iban=stranger_one.iban)
    services.check_application(stranger_two.pk)
    first = stranger(fund)
    again = second_application(first)
    services.check_application(again.pk)
    shared = Link.objects.get(left=stranger_one, right=stranger_two)
    duplicate = Link.objects.get(left=first, right=again)
    assert shared.flagged
    assert duplicate.flagged
    base = f"/staff/funds/{fund.slug}/"
    queue = base + "integrity/"

    v = Visit(browser, live_server.url, lang, audited)
    v.open_and_switch_language("/accounts/login/")
    v.log_in(reviewer.email)
    v.page.goto(base)
    v.check(base + "$")
    v.follow(v.t("Possible duplicates"), queue + "$")
    rows = v.page.locator("main table.links tbody tr")
    assert rows.count() == 2

    # 1. The strangers: a note is needed to say they are different people.
    compare = re.compile("^" + re.escape(v.t("Compare")))
    rows.filter(has_text=stranger_two.reference).get_by_role("link", name=compare).click()
    shared_page = f"{queue}links/{shared.pk}/"
    v.check(shared_page + "$")
    assert v.heading() == v.t(
        "Applications %(left)s and %(right)s",
        left=stranger_one.reference,
        right=stranger_two.reference,
    )
    comparison = v.page.locator("main table.comparison")
    assert stranger_one.iban not in comparison.inner_text()
    v.page.get_by_role("radio", name=v.t("Different people")).check()
    v.submit()
    v.check(shared_page + "#decision$")  # shown again at the form
    why = squash(v.t("Say why these are different people."))
    assert why in squash(v.page.get_by_role("alert").inner_text())
    assert squash(v.page.locator("#id_note_error").inner_text()) == why
    assert v.page.get_by_role("radio", name=v.t("Different people")).is_checked()
    v.page.fill("#id_note", "Two people: another name, another date of birth.")
    v.submit()
    # Redirected to the page, which keeps the form's #decision (as browsers keep a fragment).
    v.check(shared_page + "#decision$")
    assert status_text(v) == v.label(Link.Status.DISMISSED)
    recorded = v.t(
        "Recorded: %(left)s and %(right)s are different people.",
        left=stranger_one.reference,
        right=stranger_two.reference,
    )
    assert v.page.get_by_role("status").filter(has_text=recorded).count() == 1
    assert "Two people: another name" in v.page.locator("main").inner_text()
    assert v.page.locator("#id_note").count() == 0  # decided: no form any more

    # 2. The person who applied twice: one person.
    v.follow(v.t("Possible duplicates"), queue + "$")
    assert rows.count() == 1
    rows.filter(has_text=again.reference).get_by_role("link", name=compare).click()
    duplicate_page = f"{queue}links/{duplicate.pk}/"
    v.check(duplicate_page + "$")
    v.page.get_by_role("radio", name=v.t("The same person")).check()
    v.submit()
    v.check(duplicate_page + "#decision$")
    assert status_text(v) == v.label(Link.Status.CONFIRMED)
    one_person = v.t(
        "%(left)s and %(right)s are one person's applications:",
        left=first.reference,
        right=again.reference,
    )
    assert squash(one_person) in squash(v.page.locator("main").inner_text())

    # 3. Nothing left to review; the application's page names the person's other application.
    v.follow(v.t("Possible duplicates"), queue + "$")
    assert squash(v.t("No pair in this list.")) in squash(
        v.page.locator("main table.links").inner_text()
    )
    application_page = f"{base}applications/{first.reference}/"
    v.page.goto(application_page)
    v.check(application_page + "$")
    panel = v.page.locator("#possible-duplicates")
    assert squash(v.t("Confirmed as the same person as:")) in squash(panel.inner_text())
    assert again.reference in panel.inner_text()
    v.page.goto(queue + "report/")
    v.check(queue + "report/$")

    # 4. A full check of the fund (the tests' in-process task backend runs it at once): it
    # finds the same pairs and keeps the decisions.
    v.follow(v.t("Possible duplicates"), queue + "$")
    v.page.get_by_role("button", name=v.t("Run a full duplicate check")).click()
    v.check(queue + r"checks/[0-9]+/$")
    assert status_text(v) == v.label(LinkageRun.Status.DONE)
    v.close()

    # 5. The fund's operator admin reads how the checks flag.
    admin = Visit(browser, live_server.url, lang, audited)
    admin.open_and_switch_language("/accounts/login/")
    admin.log_in(operator.email)
    admin.page.goto(queue + "settings/")
    admin.check(queue + "settings/$")
    assert admin.page.input_value("#id_duplicate_threshold") == "10"
    admin.close()

    shared.refresh_from_db()
    duplicate.refresh_from_db()
    assert (shared.status, shared.decided_by) == (Link.Status.DISMISSED, reviewer)
    assert (duplicate.status, duplicate.decided_by) == (Link.Status.CONFIRMED, reviewer)
    assert PersonRecord.objects.filter(link=duplicate).count() == 2
    assert LinkageRun.objects.get(fund=fund).requested_by == reviewer
    # The strangers' flags are closed; the person is flagged to decide only one application.
    open_flags = set(
        Flag.objects.filter(resolved_at__isnull=True).values_list("application_id", "code")
    )
    assert open_flags == {(first.pk, "same_person"), (again.pk, "same_person")}
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
