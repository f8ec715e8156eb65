"""The export pages: starting an export from the list (its filters) or the dashboard, following
it, downloading its file (audited); who may, and what the file holds against the list."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.http import FileResponse, HttpResponse
from django.test import Client
from django.urls import resolve, reverse
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.applications.selectors import Queue
from entraide.applications.tasks import send_receipt
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.models import TaskProgress
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.intake.tests.factories import PartnerFactory, PartnerTokenFactory
from entraide.reporting.exports import COLUMNS
from entraide.reporting.tasks import export_applications
from entraide.reporting.tests.helpers import member_of
from entraide.review.tests.factories import AssignmentFactory

Role = FundRole.Role
IDS = [column.id for column in COLUMNS]


@pytest.fixture
def db_tasks(settings: Any) -> None:
    """Tasks wait in the database for the worker, so that pages can read their result."""
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def run_worker(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    return lambda: run_db_worker(inside_test_transaction=True, monkeypatch=monkeypatch)


def start_url(fund: Fund) -> str:
    return reverse("export_start", kwargs={"slug": fund.slug})


def page_url(name: str, fund: Fund, task_id: str) -> str:
    return reverse(name, kwargs={"slug": fund.slug, "task_id": task_id})


def exported(
    client: Client, fund: Fund, run_worker: Callable[[], None], data: dict[str, Any]
) -> FileResponse:
    """Start an export with ``data`` posted, let the worker run it, download its file."""
    started = client.post(start_url(fund), data)
    assert started.status_code == 302, started
    task_id = resolve(started["Location"]).kwargs["task_id"]
    run_worker()
    response = client.get(page_url("export_download", fund, task_id))
    assert isinstance(response, FileResponse), response
    return response


def content_of(response: FileResponse) -> bytes:
    return b"".join(response.streaming_content)


def csv_references(response: FileResponse, delimiter: str = ",") -> list[str]:
    text = content_of(response).decode("utf-8-sig")
    return [row[0] for row in list(csv.reader(io.StringIO(text), delimiter=delimiter))[1:]]


def list_references(client: Client, fund: Fund, data: dict[str, Any]) -> list[str]:
    response: HttpResponse = client.get(reverse("application_list", args=[fund.slug]), data)
    assert response.status_code == 200
    return [application.reference for application in response.context["page"]]


# -- starting and downloading ------------------------------------------------------------------


@pytest.mark.usefixtures("db_tasks")
def test_an_operator_admin_exports_the_applications_and_downloads_the_csv(
    client: Client, transactional_db: None
) -> None:
    fund = FundFactory.create(slug="export-me")
    applications = ApplicationFactory.create_batch(3, fund=fund)
    ApplicationFactory.create()  # another fund's, not exported
    admin = member_of(fund, Role.OPERATOR_ADMIN)
    client.force_login(admin)

    waiting = client.post(start_url(fund), follow=True)

    status_url, _ = waiting.redirect_chain[-1]
    assert waiting.status_code == 200
    assert status_url.startswith(start_url(fund))
    assert "The export is running" in waiting.content.decode()

    run_db_worker()

    ready = client.get(status_url)
    page = ready.content.decode()
    assert "The export is ready." in page
    assert "(3 applications)" in page
    download_url = page_url("export_download", fund, ready.context["task_id"])
    assert download_url in page
    assert "Download the CSV file" in page

    download = client.get(download_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Cache-Control"] == "private, no-store"
    disposition = download["Content-Disposition"]
    assert disposition.startswith('attachment; filename="export-me-applications-')
    assert disposition.endswith('.csv"')
    content = content_of(download).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0][0] == "Reference"
    assert len(rows) == 1 + 3
    assert sorted(row[0] for row in rows[1:]) == sorted(a.reference for a in applications)
    assert all(a.nir not in content and a.iban not in content for a in applications)
    event = AuditEvent.objects.get(action="fund.export_downloaded")
    assert (event.actor_id, event.fund_id) == (admin.pk, fund.pk)
    assert event.changes == {
        "task": ready.context["task_id"],
        "kind": "applications",
        "format": "csv",
    }


@pytest.mark.usefixtures("db_tasks")
def test_an_xlsx_export_downloads_as_a_workbook(
    client: Client, db: None, run_worker: Callable[[], None], tmp_path: Path
) -> None:
    fund = FundFactory.create(slug="tableur")
    ApplicationFactory.create_batch(2, fund=fund)
    client.force_login(member_of(fund, Role.AUDITOR))

    response = exported(client, fund, run_worker, {"file_format": "xlsx"})

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].endswith('.xlsx"')
    (tmp_path / "export.xlsx").write_bytes(content_of(response))
    rows = list(load_workbook(tmp_path / "export.xlsx").worksheets[0].values)
    assert len(rows) == 1 + 2
    assert rows[0][0] == "Reference"


@pytest.mark.usefixtures("db_tasks")
def test_the_headers_are_in_the_language_of_the_person_who_asked(
    client: Client, db: None, run_worker: Callable[[], None]
) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create(fund=fund)
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"

    response = exported(client, fund, run_worker, {})

    header = content_of(response).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Référence;Statut;Déposée le (Europe/Paris);")


@pytest.mark.usefixtures("db_tasks")
def test_the_dashboards_button_exports_the_whole_list_in_csv(
    client: Client, db: None, run_worker: Callable[[], None]
) -> None:
    fund = FundFactory.create()
    applications = ApplicationFactory.create_batch(3, fund=fund)
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))

    dashboard = client.get(reverse("fund_dashboard", args=[fund.slug])).content.decode()
    response = exported(client, fund, run_worker, {})

    assert f'action="{start_url(fund)}"' in dashboard
    assert response["Content-Disposition"].endswith('.csv"')
    assert sorted(csv_references(response)) == sorted(a.reference for a in applications)


@pytest.mark.usefixtures("db_tasks")
def test_a_format_that_is_not_offered_is_refused(client: Client, db: None) -> None:
    fund = FundFactory.create()
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))

    response = client.post(start_url(fund), {"file_format": "ods"})

    assert response.status_code == 400
    assert not DBTaskResult.objects.exists()


@pytest.mark.usefixtures("db_tasks")
def test_anyone_who_may_export_from_the_fund_may_download_its_exports(
    client: Client, db: None, run_worker: Callable[[], None]
) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create(fund=fund)
    admin, auditor = member_of(fund, Role.OPERATOR_ADMIN), member_of(fund, Role.AUDITOR)
    client.force_login(admin)
    task_id = resolve(client.post(start_url(fund))["Location"]).kwargs["task_id"]
    run_worker()

    client.force_login(auditor)
    download = client.get(page_url("export_download", fund, task_id))

    assert download.status_code == 200
    assert AuditEvent.objects.get(action="fund.export_downloaded").actor_id == auditor.pk


@pytest.mark.usefixtures("db_tasks")
def test_an_export_s_id_written_another_way_is_the_same_export(
    client: Client, db: None, run_worker: Callable[[], None]
) -> None:
    # The task's id is a UUID: its address in capitals, or without hyphens, finds the task;
    # its progress, file and audit events go by the id as the task has it.
    fund = FundFactory.create()
    ApplicationFactory.create(fund=fund)
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))
    task_id = resolve(client.post(start_url(fund))["Location"]).kwargs["task_id"]
    run_worker()

    for written in (task_id.upper(), task_id.replace("-", "")):
        status = client.get(page_url("export_status", fund, written)).content.decode()
        download = client.get(page_url("export_download", fund, written))

        assert "(1 application)" in status
        assert page_url("export_download", fund, task_id) in status
        assert download.status_code == 200
    events = AuditEvent.objects.filter(action="fund.export_downloaded")
    assert [event.changes["task"] for event in events] == [task_id, task_id]


@pytest.mark.usefixtures("db_tasks")
def test_a_file_deleted_after_the_days_kept_is_a_404_and_the_page_says_so(
    client: Client, db: None, run_worker: Callable[[], None]
) -> None:
    fund = FundFactory.create()
    client.force_login(member_of(fund, Role.OPERATOR_ADMIN))
    task_id = resolve(client.post(start_url(fund))["Location"]).kwargs["task_id"]
    run_worker()
    Path(TaskProgress.objects.get(task_result_id=task_id).output_path).unlink()

    status = client.get(page_url("export_status", fund, task_id))
    download = client.get(page_url("export_download", fund, task_id))

    assert "The file was deleted: exports are kept 7 days." in status.content.decode()
    assert download.status_code == 404
    assert not AuditEvent.objects.filter(action="fund.export_downloaded").exists()


# -- the list's filters ------------------------------------------------------------------------


def test_the_list_offers_to_export_itself_with_its_filters_to_those_who_may(
    client: Client, db: None
) -> None:
    fund = FundFactory.create()
    client.force_login(member_of(fund, Role.AUDITOR))

    page = client.get(
        reverse("application_list", args=[fund.slug]),
        {"status": "received", "q": "Dupont", "page": "2", "sort": ""},
    ).content.decode()

    assert f'action="{start_url(fund)}"' in page
    assert '<input type="hidden" name="status" value="received">' in page
    assert '<input type="hidden" name="q" value="Dupont">' in page
    assert 'name="page"' not in page.split(start_url(fund))[1].split("</form>")[0]
    assert 'name="file_format" value="xlsx"' in page


def test_the_list_offers_no_export_to_a_reviewer(client: Client, db: None) -> None:
    fund = FundFactory.create()
    client.force_login(member_of(fund, Role.REVIEWER))

    page = client.get(reverse("application_list", args=[fund.slug])).content.decode()

    assert start_url(fund) not in page


@pytest.fixture
def crowded_fund() -> tuple[Fund, User, int]:
    """A fund of applications of various statuses, professions, partners and assignees; its
    operator admin (some assigned to them) and a partner's id."""
    fund: Fund = FundFactory.create()
    admin = member_of(fund, Role.OPERATOR_ADMIN)
    reviewer = member_of(fund, Role.REVIEWER)
    partner = PartnerFactory.create()
    PartnerTokenFactory.create(partner=partner, fund=fund)
    statuses = [Application.Status.RECEIVED, Application.Status.UNDER_REVIEW]
    for index in range(12):
        application = ApplicationFactory.create(
            fund=fund,
            last_name="Dupont" if index % 3 == 0 else f"Martin{index:02d}",
            status=statuses[index % 2],
            profession="artist" if index % 4 == 0 else "technician",
            partner=partner if index % 5 == 0 else None,
        )
        if index % 3 == 1:
            AssignmentFactory.create(application=application, reviewer=admin)
        elif index % 3 == 2:
            AssignmentFactory.create(application=application, reviewer=reviewer)
    return fund, admin, partner.pk


@pytest.mark.usefixtures("db_tasks")
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"status": "under_review"},
        {"queue": Queue.MINE},
        {"queue": Queue.NEW, "profession": "technician", "sort": "name"},
        {"assignee": "none", "sort": "newest"},
        {"q": "dupont"},
        {"partner": "PARTNER"},
        {"status": "not-a-status", "sort": "reference"},  # left out, as the list does
    ],
    ids=[
        "all",
        "status",
        "mine",
        "new-technicians-by-name",
        "unassigned",
        "search",
        "partner",
        "invalid-status",
    ],
)
def test_the_export_holds_exactly_what_the_list_shows(
    client: Client,
    db: None,
    settings: Any,
    run_worker: Callable[[], None],
    crowded_fund: tuple[Fund, User, int],
    filters: dict[str, str],
) -> None:
    settings.BACKOFFICE_PAGE_SIZE = 100  # the whole list on one page
    fund, admin, partner_id = crowded_fund
    filters = {
        key: str(partner_id) if value == "PARTNER" else value for key, value in filters.items()
    }
    client.force_login(admin)

    listed = list_references(client, fund, filters)
    response = exported(client, fund, run_worker, {**filters, "file_format": "csv"})

    assert csv_references(response) == listed
    assert listed  # every combination keeps some


# -- who may -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("db_tasks")
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.FINANCE])
def test_someone_without_the_export_capability_gets_404_on_every_export_page(
    client: Client, db: None, role: str
) -> None:
    fund = FundFactory.create()
    admin = member_of(fund, Role.OPERATOR_ADMIN)
    task_id = str(export_applications.enqueue(fund.pk, admin.pk, {}, "csv", "en").id)
    client.force_login(member_of(fund, role))

    assert client.post(start_url(fund)).status_code == 404
    assert DBTaskResult.objects.count() == 1
    for name in ("export_status", "export_download"):
        assert client.get(page_url(name, fund, task_id)).status_code == 404, name


@pytest.mark.usefixtures("db_tasks")
def test_an_auditor_of_another_fund_gets_404_on_this_funds_export(client: Client, db: None) -> None:
    fund, other_fund = FundFactory.create(), FundFactory.create()
    admin = member_of(fund, Role.OPERATOR_ADMIN)
    task_id = str(export_applications.enqueue(fund.pk, admin.pk, {}, "csv", "en").id)
    client.force_login(member_of(other_fund, Role.AUDITOR))

    # Under this fund's address, and under their own fund's address with this fund's task.
    for slug_fund in (fund, other_fund):
        for name in ("export_status", "export_download"):
            url = page_url(name, slug_fund, task_id)
            assert client.get(url).status_code == 404, url


@pytest.mark.usefixtures("db_tasks")
@pytest.mark.parametrize("task_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_export_id_is_a_404(client: Client, db: None, task_id: str) -> None:
    fund = FundFactory.create()
    client.force_login(member_of(fund, Role.AUDITOR))

    response = client.get(page_url("export_status", fund, task_id))

    assert response.status_code == 404


@pytest.mark.usefixtures("db_tasks")
def test_the_id_of_another_kind_of_task_is_a_404_on_the_export_pages(
    client: Client, db: None
) -> None:
    application = ApplicationFactory.create()
    receipt_id = str(send_receipt.enqueue(application.pk).id)
    client.force_login(member_of(application.fund, Role.OPERATOR_ADMIN))

    for name in ("export_status", "export_download"):
        url = page_url(name, application.fund, receipt_id)
        assert client.get(url).status_code == 404, url


@pytest.mark.usefixtures("db_tasks")
def test_an_export_not_finished_yet_cannot_be_downloaded(client: Client, db: None) -> None:
    fund = FundFactory.create()
    admin = member_of(fund, Role.OPERATOR_ADMIN)
    task_id = str(export_applications.enqueue(fund.pk, admin.pk, {}, "csv", "en").id)
    client.force_login(member_of(fund, Role.AUDITOR))

    status = client.get(page_url("export_status", fund, task_id))
    download = client.get(page_url("export_download", fund, task_id))

    assert status.status_code == 200
    assert '<meta http-equiv="refresh"' in status.content.decode()
    assert download.status_code == 404
