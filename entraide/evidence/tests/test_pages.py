"""The back office's evidence imports: sending a file, following its import, the batches, their
error reports and rolling one back; who may do what."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.core.models import TaskProgress
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.evidence.models import EmployerDeclaration, EvidenceBatch
from entraide.evidence.tests.factories import EmployerDeclarationFactory, EvidenceBatchFactory
from entraide.evidence.tests.helpers import declarations_csv, fund_operator, with_permissions
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundRoleFactory

LIST_PAGE_MAX_QUERIES = 10


@pytest.fixture
def db_tasks(settings: Any) -> None:
    """Tasks wait in the database for the worker, so that the pages can read their result."""
    settings.TASKS = DATABASE_TASKS


def upload(client: Client, content: bytes, *, name: str = "declarations-2024-01.csv", **data: Any):
    form = {"kind": "declarations", "source": "", **data}
    return client.post(
        reverse("evidence_import_new"),
        {**form, "uploaded_file": SimpleUploadedFile(name, content, "text/csv")},
    )


def inbox_files() -> list[Path]:
    inbox = Path(settings.EVIDENCE_INBOX_DIR)
    return [path for path in inbox.rglob("*") if path.is_file()] if inbox.exists() else []


def page_text(response: Any) -> str:
    return " ".join(response.content.decode().split())


def write_error_report(batch: EvidenceBatch) -> None:
    path = Path(settings.EXPORTS_DIR) / "evidence" / f"batch-{batch.pk}-errors.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("line,column,code,message\n4,naf,invalid_naf,Not a NAF code.\n")
    EvidenceBatch.objects.filter(pk=batch.pk).update(error_report=str(path))


# --------------------------------------------------------------------------------------------
# Sending a file and following its import
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("db_tasks")
def test_an_operator_uploads_a_file_follows_its_import_and_reads_the_batch(
    client: Client, transactional_db: None
) -> None:
    operator = fund_operator()
    client.force_login(operator)
    assert client.get(reverse("evidence_import_new")).status_code == 200

    sent = upload(client, declarations_csv(), source="Audiens, January 2024")

    assert sent.status_code == 302
    status_url = sent["Location"]
    assert [path.name for path in inbox_files()] == ["declarations-2024-01.csv"]
    waiting = client.get(status_url)
    assert "The import is running" in page_text(waiting)
    assert "data-refresh-seconds" in waiting.content.decode()

    run_db_worker()

    done = client.get(status_url)
    batch = EvidenceBatch.objects.get()
    text = page_text(done)
    assert "The file was imported." in text
    assert reverse("evidence_batch", kwargs={"batch_id": batch.pk}) in done.content.decode()
    assert "data-refresh-seconds" not in done.content.decode()
    assert (batch.status, batch.rows_read, batch.rows, batch.rows_rejected) == ("done", 3, 2, 1)
    assert (batch.file_name, batch.source) == ("declarations-2024-01.csv", "Audiens, January 2024")
    assert batch.loaded_by == operator
    assert inbox_files() == []  # the records hold the data; the batch keeps the hash
    progress = TaskProgress.objects.get()
    assert progress.total
    assert progress.done == progress.total
    requested = AuditEvent.objects.get(action="evidence.import_requested")
    assert requested.actor == operator
    assert requested.changes["sha256"] == batch.sha256
    assert requested.changes["file"] == "declarations-2024-01.csv"


@pytest.mark.usefixtures("db_tasks")
def test_a_file_already_imported_is_refused_and_names_the_batch_that_has_it(
    client: Client, transactional_db: None
) -> None:
    client.force_login(fund_operator())
    upload(client, declarations_csv())
    run_db_worker()
    first = EvidenceBatch.objects.get()

    again = upload(client, declarations_csv(), name="the-same-again.csv")
    run_db_worker()

    text = page_text(client.get(again["Location"]))
    assert "The file was not imported." in text
    assert f"already imported as batch {first.pk}" in text
    assert reverse("evidence_batch", kwargs={"batch_id": first.pk}) in text
    assert EvidenceBatch.objects.count() == 1
    assert inbox_files() == []


@pytest.mark.usefixtures("db_tasks")
def test_a_file_that_cannot_be_imported_is_refused_with_the_reason(
    client: Client, transactional_db: None
) -> None:
    client.force_login(fund_operator())
    sent = upload(client, b"nir,siret\n1,2\n")
    run_db_worker()

    text = page_text(client.get(sent["Location"]))
    assert "The file was not imported." in text
    assert "Missing column(s): naf, idcc" in text
    assert not EvidenceBatch.objects.exists()


def test_a_broken_form_keeps_what_was_typed(client: Client, db: None) -> None:
    client.force_login(fund_operator())

    response = client.post(
        reverse("evidence_import_new"), {"kind": "rights", "source": "Pôle emploi, March"}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["uploaded_file"]
    html = response.content.decode()
    assert 'value="Pôle emploi, March"' in html
    assert '<option value="rights" selected>' in html
    assert not inbox_files()


def test_an_empty_file_is_refused_on_the_form(client: Client, db: None) -> None:
    client.force_login(fund_operator())

    response = upload(client, b"")

    assert response.status_code == 200
    assert "uploaded_file" in response.context["form"].errors
    assert not inbox_files()


def test_an_unknown_import_is_a_404(client: Client, db: None, settings: Any) -> None:
    settings.TASKS = DATABASE_TASKS
    client.force_login(fund_operator())
    for task_id in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        url = reverse("evidence_import_status", kwargs={"task_id": task_id})
        assert client.get(url).status_code == 404


# --------------------------------------------------------------------------------------------
# Batches: the list, a batch, its error report, rolling it back
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_batches", [1, 30])
def test_the_list_of_batches_takes_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n_batches: int
) -> None:
    operator = fund_operator()
    EvidenceBatchFactory.create_batch(n_batches, loaded_by=operator, file_name="d.csv")
    client.force_login(operator)
    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        response = client.get(reverse("evidence_batches"))
    assert response.status_code == 200
    assert len(response.context["page"]) == n_batches


def test_the_list_shows_the_newest_batch_first_with_its_counts(client: Client, db: None) -> None:
    operator = fund_operator()
    older = EvidenceBatchFactory.create(source="january.csv")
    newer = EvidenceBatchFactory.create(
        source="february.csv",
        kind="rights",
        rows_read=10,
        rows=7,
        rows_rejected=2,
        rows_duplicate=1,
        loaded_by=operator,
    )
    client.force_login(operator)

    response = client.get(reverse("evidence_batches"))

    assert list(response.context["page"]) == [newer, older]
    assert "Unemployment rights" in page_text(response)
    assert str(operator) in page_text(response)
    assert "the platform" in page_text(response)  # the older one, loaded by a command


def test_a_batch_page_shows_its_counts_period_and_warnings(client: Client, db: None) -> None:
    batch = EvidenceBatchFactory.create(
        file_name="declarations.csv",
        rows_read=5,
        rows=3,
        rows_rejected=1,
        rows_duplicate=1,
        warnings=["ignored column(s): comment"],
    )
    write_error_report(batch)
    client.force_login(fund_operator())

    response = client.get(reverse("evidence_batch", kwargs={"batch_id": batch.pk}))

    text = page_text(response)
    assert "ignored column(s): comment" in text
    assert reverse("evidence_batch_errors", kwargs={"batch_id": batch.pk}) in text
    assert reverse("evidence_batch_rollback", kwargs={"batch_id": batch.pk}) in text


def test_the_error_report_is_downloaded_by_those_who_see_the_batches(
    client: Client, db: None
) -> None:
    batch = EvidenceBatchFactory.create()
    write_error_report(batch)
    url = reverse("evidence_batch_errors", kwargs={"batch_id": batch.pk})
    client.force_login(with_permissions("view_evidencebatch"))

    response = client.get(url)

    assert response.status_code == 200
    assert f'filename="evidence-batch-{batch.pk}-errors.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["line", "column", "code", "message"],
        ["4", "naf", "invalid_naf", "Not a NAF code."],
    ]


def test_the_error_report_is_refused_to_staff_without_the_permission(
    client: Client, db: None
) -> None:
    batch = EvidenceBatchFactory.create()
    write_error_report(batch)
    client.force_login(FundRoleFactory.create(role=FundRole.Role.OPERATOR_ADMIN).user)

    response = client.get(reverse("evidence_batch_errors", kwargs={"batch_id": batch.pk}))

    assert response.status_code == 403


@pytest.mark.parametrize(
    "error_report",
    ["", "/etc/passwd", "{exports}/evidence/batch-0-errors.csv"],
    ids=["none", "outside-the-reports", "missing"],
)
def test_only_an_existing_report_among_the_reports_is_served(
    client: Client, db: None, error_report: str
) -> None:
    batch = EvidenceBatchFactory.create(
        error_report=error_report.format(exports=settings.EXPORTS_DIR)
    )
    client.force_login(fund_operator())

    response = client.get(reverse("evidence_batch_errors", kwargs={"batch_id": batch.pk}))

    assert response.status_code == 404


def test_an_operator_rolls_a_batch_back_from_its_page(client: Client, db: None) -> None:
    declaration = EmployerDeclarationFactory.create(batch__status="done", batch__rows=1)
    batch = declaration.batch
    operator = fund_operator()
    client.force_login(operator)
    url = reverse("evidence_batch_rollback", kwargs={"batch_id": batch.pk})

    confirmation = client.get(url)
    assert "cannot be undone" in page_text(confirmation)
    assert not AuditEvent.objects.filter(action="evidence.batch_rolled_back").exists()

    response = client.post(url, follow=True)

    batch.refresh_from_db()
    assert batch.status == EvidenceBatch.Status.ROLLED_BACK
    assert not EmployerDeclaration.objects.exists()
    assert AuditEvent.objects.get(action="evidence.batch_rolled_back").actor == operator
    text = page_text(response)
    assert f"Batch {batch.pk} was rolled back" in text
    assert url not in text  # nothing more to roll back
    again = client.post(url, follow=True)
    assert "Only an imported batch can be rolled back." in page_text(again)


# --------------------------------------------------------------------------------------------
# Who may do what
# --------------------------------------------------------------------------------------------

PAGES = [
    ("get", "evidence_batches"),
    ("get", "evidence_import_new"),
    ("post", "evidence_import_new"),
    ("get", "evidence_import_status"),
    ("get", "evidence_batch"),
    ("get", "evidence_batch_errors"),
    ("get", "evidence_batch_rollback"),
    ("post", "evidence_batch_rollback"),
]


def _url(name: str, batch: EvidenceBatch, task_id: str) -> str:
    if name.startswith("evidence_batch_") or name == "evidence_batch":
        return reverse(name, kwargs={"batch_id": batch.pk})
    if name == "evidence_import_status":
        return reverse(name, kwargs={"task_id": task_id})
    return reverse(name)


@pytest.fixture
def pages(db: None, settings: Any) -> tuple[EvidenceBatch, str]:
    """A batch with an error report, and an import waiting for the worker."""
    from entraide.evidence.tasks import import_uploaded_evidence

    settings.TASKS = DATABASE_TASKS
    batch = EvidenceBatchFactory.create(status="done")
    write_error_report(batch)
    waiting = import_uploaded_evidence.enqueue("rights", "0/rights.csv", "", None, "en")
    return batch, str(waiting.id)


# What a person who may only see the batches gets: the pages that read, not those that act.
VIEWER = {
    "evidence_batches": 200,
    "evidence_import_status": 200,
    "evidence_batch": 200,
    "evidence_batch_errors": 200,
}


@pytest.mark.parametrize(("method", "name"), PAGES)
def test_anonymous_people_are_sent_to_log_in(
    client: Client, pages: tuple[EvidenceBatch, str], method: str, name: str
) -> None:
    response = getattr(client, method)(_url(name, *pages))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(("method", "name"), PAGES)
@pytest.mark.parametrize("who", ["applicant", "staff_of_a_fund", "viewer"])
def test_each_page_needs_its_permission(
    client: Client, pages: tuple[EvidenceBatch, str], method: str, name: str, who: str
) -> None:
    people: dict[str, Callable[[], Any]] = {
        "applicant": UserFactory.create,
        "staff_of_a_fund": lambda: FundRoleFactory.create(role=FundRole.Role.OPERATOR_ADMIN).user,
        "viewer": lambda: with_permissions("view_evidencebatch"),
    }
    user = people[who]()
    client.force_login(user)

    response = getattr(client, method)(_url(name, *pages))

    expected = VIEWER.get(name, 403) if who == "viewer" and method == "get" else 403
    assert response.status_code == expected
    assert EvidenceBatch.objects.get(pk=pages[0].pk).status == EvidenceBatch.Status.DONE
    response.close()  # the error report's file (closing ends the request: no query after)


def test_the_staff_home_links_to_the_imports_for_those_who_see_them(
    client: Client, db: None
) -> None:
    viewer = with_permissions("view_evidencebatch")
    client.force_login(viewer)
    home = client.get(reverse("staff_home"))
    assert home.status_code == 200
    assert reverse("evidence_batches") in home.content.decode()

    client.force_login(FundRoleFactory.create(role=FundRole.Role.REVIEWER).user)
    assert reverse("evidence_batches") not in client.get(reverse("staff_home")).content.decode()
