"""Crew relief in a real browser, in French and in English: a programme's manager imports a
roster with one bad line (the import's page says which and why), reads the production's crew,
sets the weeks and the cap, proposes a run, leaves a payout out (a note is needed: refused
first, the input kept), and cannot approve their own run; a second manager approves it and the
run's grants are made (tasks run at once in the tests). Every page visited is checked with
axe-core."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from entraide.accounts.services import create_account
from entraide.core.money import format_money
from entraide.core.tests.test_browser_end_to_end import PASSWORD, Visit, squash
from entraide.crew.models import Payout, ReliefRun
from entraide.crew.tests.rosters import crew_row, roster_file
from entraide.funds.models import Fund
from entraide.funds.services import create_fund
from entraide.programmes import services as programme_services

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_managers_import_a_roster_and_pay_a_crew_with_four_eyes_in_a_browser(
    lang: str, browser: Any, live_server: Any, mailoutbox: list
) -> None:
    audited: list[str] = []
    today = timezone.localdate()
    operator = create_account(
        actor=None, email=f"crew-operator-{lang}@example.org", password=PASSWORD, fund_operator=True
    )
    programme = programme_services.create_programme(
        actor=operator,
        slug=f"crews-{lang}",
        name=f"Crew relief {lang.upper()}",
        donor="Streaming platform",
        commitment=Decimal("500000.00"),
        currency="EUR",
    )
    create_fund(
        actor=operator,
        name=f"Crew relief — France {lang}",
        slug=f"crew-france-{lang}",
        currency="EUR",
        budget=Decimal("10000.00"),
        standard_amount=Decimal("500.00"),
        opens_on=today - dt.timedelta(days=3),
        closes_on=today + dt.timedelta(days=30),
        programme_id=programme.pk,
        kind=Fund.Kind.CREW_RELIEF,
    )
    managers = []
    for number in (1, 2):
        manager = create_account(
            actor=operator, email=f"crew-manager{number}-{lang}@example.org", password=PASSWORD
        )
        programme_services.grant_programme_role(
            actor=operator, programme=programme, user=manager, role="manager"
        )
        managers.append(manager)
    # Line 4 gives both rates: refused, the three others kept (2,400 capped to 2,000; 150 a
    # day for 5 days a week; 800 a week).
    rows = [
        crew_row(1),
        crew_row(2, weekly_rate="", day_rate="150.00"),
        crew_row(3, day_rate="200.00"),
        crew_row(4, weekly_rate="800.00"),
    ]
    kept, refused = [rows[0], rows[1], rows[3]], rows[2]
    rollup = f"/staff/programmes/{programme.slug}/"
    crew = rollup + "crew/"

    def money(amount: str) -> str:
        return squash(format_money(Decimal(amount), "EUR", locale=lang))

    def name_of(row: dict[str, str]) -> str:
        return f"{row['first_name']} {row['last_name']}"

    # 1. The first manager imports the roster: the bad line is listed with its reason.
    mg = Visit(browser, live_server.url, lang, audited)
    mg.open_and_switch_language("/accounts/login/")
    mg.log_in(managers[0].email)
    mg.follow(mg.t("Back office"), r"/staff/$")
    mg.follow(programme.name, rollup + "$")
    mg.follow(mg.t("Crew relief"), crew + "rosters/$")
    mg.page.set_input_files(
        "#id_file",
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": roster_file(rows)}],
    )
    mg.page.get_by_role("button", name=mg.t("Import"), exact=True).click()
    mg.check(crew + r"rosters/[0-9]+/$")
    imported = mg.t(
        "%(file)s is imported: %(kept)s of %(rows)s lines kept.", file="roster.csv", kept=3, rows=4
    )
    assert mg.page.get_by_role("status").filter(has_text=imported).count() == 1
    refusals = mg.page.locator("main section", has=mg.page.locator("#refused-heading"))
    [line] = refusals.locator("tbody tr").all()
    assert squash(line.inner_text()).split(" ", 2) == [
        "4",
        "day_rate",
        mg.t("Give a weekly rate or a day rate, not both."),
    ]

    # 2. The production's crew: the three people kept, by name; not the refused one.
    mg.follow("PROD-1", crew + r"productions/[0-9]+/$")
    members = squash(mg.page.locator("main table tbody").inner_text())
    for row in kept:
        assert f"{row['last_name']} {row['first_name']}" in members
    assert refused["last_name"] not in members
    assert kept[0]["birth_date"] not in mg.page.locator("main").inner_text()

    # 3. The settings: two weeks of pay, at most 2,000 a person. (Neither the roll-up nor the
    # rosters link to the settings or the runs yet: the address is typed.)
    mg.page.goto(crew + "settings/")
    mg.check(crew + "settings/$")
    mg.page.fill("#id_weeks", "2")
    mg.page.fill("#id_cap", "2000")
    mg.page.get_by_role("button", name=mg.t("Save the settings")).click()
    mg.check(crew + "settings/$")
    saved = mg.t("The crew relief settings are saved.")
    assert mg.page.get_by_role("status").filter(has_text=saved).count() == 1

    # 4. A run for the production: its payouts and totals.
    mg.follow(mg.t("Crew relief runs"), crew + "runs/$")
    mg.page.get_by_label("PROD-1 — Les Nuits de Marseille").check()
    mg.page.get_by_role("button", name=mg.t("Compute and propose the run")).click()
    mg.check(crew + r"runs/[0-9A-Z-]+/$")
    run = ReliefRun.objects.get(programme=programme)
    proposed = mg.t(
        "The run %(reference)s is proposed: another manager approves or rejects it.",
        reference=run.reference,
    )
    assert mg.page.get_by_role("status").filter(has_text=proposed).count() == 1
    # By the roster's line (the header is line 1).
    payouts = {p.crew_member.line: p for p in run.payouts.select_related("crew_member")}
    for line_number, row, amount in zip(
        (2, 3, 5), kept, ("2000.00", "1500.00", "1600.00"), strict=True
    ):
        payout = payouts[line_number]
        text = squash(mg.page.locator(f"#payout-{payout.pk}").inner_text())
        assert name_of(row) in text
        assert money(amount) in text
        assert mg.label(Payout.Status.PROPOSED) in text
    totals = mg.page.locator("main table").first
    proposed_line = squash(totals.locator("tbody tr").inner_text())
    assert proposed_line == squash(f"EUR {mg.label(Payout.Status.PROPOSED)} 3 {money('5100.00')}")

    # 5. One payout left out: without a note first (refused, the input kept), then with one.
    left_out = payouts[5]
    row = mg.page.locator(f"#payout-{left_out.pk}")
    note = row.get_by_label(mg.t("Why it is left out"))
    note.fill("   ")
    row.get_by_role("button", name=mg.t("Leave out")).click()
    mg.check(crew + rf"runs/{run.reference}/payouts/{left_out.pk}/exclude/#payout-{left_out.pk}$")
    row = mg.page.locator(f"#payout-{left_out.pk}")
    note = row.get_by_label(mg.t("Why it is left out"))
    assert note.get_attribute("aria-invalid") == "true"
    assert squash(row.locator(".error").inner_text()) == mg.t("This field is required.")
    assert note.input_value() == "   "
    note.fill("Paid by the producer")
    row.get_by_role("button", name=mg.t("Leave out")).click()
    mg.check(crew + rf"runs/{run.reference}/#payout-{left_out.pk}$")
    left = mg.t("The payout is left out of the run.")
    assert mg.page.get_by_role("status").filter(has_text=left).count() == 1
    text = squash(mg.page.locator(f"#payout-{left_out.pk}").inner_text())
    assert f"{mg.label(Payout.Status.EXCLUDED)}: {mg.label(Payout.Reason.BY_REVIEWER)}" in text
    assert "Paid by the producer" in text
    assert money("3500.00") in squash(totals.inner_text())

    # 6. The proposer cannot approve their own run: no button, and the page says why.
    assert mg.page.get_by_role("button", name=mg.t("Approve the run")).count() == 0
    assert mg.page.get_by_text(
        mg.t("You proposed this run: another manager of the programme approves or rejects it.")
    ).is_visible()
    mg.close()

    # 7. The second manager approves it; the grants are made at once (tasks run immediately).
    second = Visit(browser, live_server.url, lang, audited)
    second.open_and_switch_language("/accounts/login/")
    second.log_in(managers[1].email)
    second.page.goto(crew + "runs/")
    second.check(crew + "runs/$")
    second.follow(run.reference, crew + rf"runs/{run.reference}/$")
    second.page.get_by_role("button", name=second.t("Approve the run")).click()
    second.check(crew + rf"runs/{run.reference}/$")
    approved = second.t(
        "The run %(reference)s is approved: its grants are being made.", reference=run.reference
    )
    assert second.page.get_by_role("status").filter(has_text=approved).count() == 1
    facts = squash(second.page.locator("main dl.facts").inner_text())
    assert second.label(ReliefRun.Status.APPROVED) in facts
    assert managers[1].email in facts
    assert second.t("%(awarded)s of %(live)s", awarded=2, live=2) in facts
    assert second.page.get_by_role("button", name=second.t("Approve the run")).count() == 0
    second.close()
    run.refresh_from_db()
    assert (run.status, run.proposed_by, run.decided_by) == (
        ReliefRun.Status.APPROVED,
        managers[0],
        managers[1],
    )
    assert sorted(run.payouts.values_list("status", flat=True)) == [
        Payout.Status.AWARDED,
        Payout.Status.AWARDED,
        Payout.Status.EXCLUDED,
    ]
    told = sorted(address for message in mailoutbox for address in message.to)
    assert told == [kept[0]["email"], kept[1]["email"]]  # the two granted

    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
