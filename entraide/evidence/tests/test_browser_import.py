"""Importing a file of records in a browser, as a fund operator does it, with axe-core checking
every page: the form, the import's progress, its result, the batch, rolling it back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from entraide.accounts.services import create_account
from entraide.core.tests.conftest import allow_async_unsafe, browser  # noqa: F401 (fixtures)
from entraide.core.tests.test_browser_end_to_end import PASSWORD, SCREENSHOT_DIR, Visit
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.evidence.models import EvidenceBatch
from entraide.evidence.tests.helpers import declarations_csv

pytestmark = pytest.mark.browser


def screenshot(visit: Visit, name: str) -> None:
    """With ENTRAIDE_SCREENSHOT_DIR=/tmp, e.g. /tmp/evidence_import_done_fr.png."""
    if SCREENSHOT_DIR:
        path = Path(SCREENSHOT_DIR) / f"evidence_{name}_{visit.lang}.png"
        visit.page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_operator_imports_a_file_follows_it_and_rolls_the_batch_back(
    lang: str,
    browser: Any,  # noqa: F811
    live_server: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.TASKS = DATABASE_TASKS  # the progress page reads the task's result
    audited: list[str] = []
    operator = create_account(
        actor=None, email=f"evidence-{lang}@example.org", password=PASSWORD, fund_operator=True
    )
    file = tmp_path / "declarations-2024-01.csv"
    file.write_bytes(declarations_csv())

    op = Visit(browser, live_server.url, lang, audited)
    op.open_and_switch_language("/accounts/login/")
    op.log_in(operator.email)
    op.page.goto("/staff/")
    op.check(r"/staff/$")
    op.follow(
        op.t("Evidence imports: employer declarations, rights, benefits, cancellations"),
        r"/staff/evidence/$",
    )
    op.follow(op.t("Import a file"), r"/staff/evidence/imports/new/$")
    op.page.select_option("#id_kind", "declarations")
    op.page.set_input_files("#id_uploaded_file", str(file))
    op.page.fill("#id_source", "Audiens, January 2024")
    op.submit()
    op.check(r"/staff/evidence/imports/[0-9a-f-]+/$")
    assert op.page.locator("progress").count() == 1
    screenshot(op, "import_running")
    op.page.evaluate("window.stillTheSamePage = true")

    run_db_worker()

    # The progress is fetched again until the import is over, in place: no reload of the page.
    op.page.get_by_text(op.t("The file was imported.")).wait_for()
    assert op.page.evaluate("window.stillTheSamePage") is True
    assert op.page.get_attribute("#import-state", "aria-busy") == "false"
    op.audit()
    screenshot(op, "import_done")
    batch = EvidenceBatch.objects.get()
    op.follow(op.t("See batch %(id)s", id=batch.pk), rf"/staff/evidence/batches/{batch.pk}/$")
    facts = " ".join(op.page.locator("main").inner_text().split())
    assert re.search(rf"{re.escape(op.t('Rejected'))} 1\b", facts), facts
    screenshot(op, "batch")

    op.follow(op.t("Roll back this batch"), rf"/batches/{batch.pk}/rollback/$")
    op.page.get_by_role("button", name=op.t("Roll back the batch")).click()
    op.check(rf"/staff/evidence/batches/{batch.pk}/$")
    batch.refresh_from_db()
    assert batch.status == EvidenceBatch.Status.ROLLED_BACK
    op.close()
    print(f"\naxe-core found no violation on {len(audited)} pages:\n" + "\n".join(audited))
