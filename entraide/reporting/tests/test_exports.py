"""Exports of a fund's applications: what the files hold (columns, labels, clocks, numbers, what
they must never hold), how they are written (CSV dialects, XLSX cells, formulas made inert),
and the task that writes them (filters, progress, retries, clean-up, one query for the rows)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.text import format_lazy
from django_tasks.base import TaskContext, TaskResult, TaskResultStatus
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.applications.selectors import ListFilters, Queue, applications_for_staff
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.core.models import TaskProgress
from entraide.core.progress import report_progress
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.tests.factories import PartnerFactory
from entraide.reporting import exports, tasks
from entraide.reporting.exports import COLUMNS, CsvFile, FileFormat
from entraide.reporting.services import request_applications_export
from entraide.reporting.tasks import export_applications
from entraide.reporting.tests.helpers import approved, member_of, paid
from entraide.review.tests.factories import AssignmentFactory
from entraide.rules.tests.factories import ApplicationEvaluationFactory

pytestmark = pytest.mark.django_db

Role = FundRole.Role
IDS = [column.id for column in COLUMNS]
FORMULAS = ['=HYPERLINK("http://x")', "+33 6 12 34 56 78", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(budget=Decimal("100000.00"), time_zone="Europe/Paris")
    return fund


@pytest.fixture
def admin(fund: Fund) -> User:
    return member_of(fund, Role.OPERATOR_ADMIN)


def export(
    fund: Fund,
    requester: User,
    file_format: str = FileFormat.CSV,
    language: str = "en",
    filters: ListFilters | None = None,
) -> Path:
    """The file of an export run now (the tests' tasks run in-process)."""
    result = export_applications.enqueue(
        fund.pk, requester.pk, _as_dict(filters or ListFilters()), file_format, language
    )
    assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
    return Path(result.return_value)


def _as_dict(filters: ListFilters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in ListFilters.__dataclass_fields__}


def csv_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def by_id(rows: list[list[str]]) -> list[dict[str, str]]:
    """The data rows, each by the columns' machine ids."""
    return [dict(zip(IDS, row, strict=True)) for row in rows[1:]]


def xlsx_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every sheet's rows, each as long as the header (a row's empty end is not stored)."""
    book = load_workbook(path, read_only=True)
    rows = [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    return [row + (None,) * (len(COLUMNS) - len(row)) for row in rows]


def xlsx_text(path: Path) -> str:
    """Every XML part of the workbook, as text."""
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(name).decode() for name in archive.namelist())


# -- the columns -------------------------------------------------------------------------------


def test_the_csv_has_a_header_of_labels_and_a_row_per_application_in_the_lists_order(
    fund: Fund, admin: User
) -> None:
    first = ApplicationFactory(fund=fund, submitted_at=timezone.now() - dt.timedelta(days=2))
    second = ApplicationFactory(fund=fund, submitted_at=timezone.now() - dt.timedelta(days=1))
    ApplicationFactory()  # another fund's

    path = export(fund, admin)

    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    assert b"\r\n" in raw
    rows = csv_rows(path)
    assert rows[0][:4] == ["Reference", "Status", "Submitted (Europe/Paris)", "Last name"]
    assert len(rows[0]) == len(COLUMNS)
    assert [row["reference"] for row in by_id(rows)] == [first.reference, second.reference]


def test_the_columns_hold_what_an_operator_needs(fund: Fund, admin: User) -> None:
    partner = PartnerFactory(name="Syndicat des techniciens")
    reviewer = member_of(fund, Role.REVIEWER)
    reviewer.first_name, reviewer.last_name = "Agnès", "Varda"
    reviewer.save()
    application = approved(
        fund,
        "1234.56",
        last_name="Étienne",
        first_name="Hélène",
        email="helene@example.org",
        phone="06 12 34 56 78",
        postcode="75011",
        city="Paris",
        country="FR",
        profession=Application.Profession.ARTIST,
        applicant=None,
        partner=partner,
    )
    paid(application, sent_at=dt.datetime(2020, 5, 4, 9, 30, tzinfo=dt.UTC))
    AssignmentFactory(application=application, reviewer=reviewer)
    ApplicationEvaluationFactory(application=application, eligible=True, amount=Decimal("900.00"))

    (row,) = by_id(csv_rows(export(fund, admin)))

    assert row == {
        "reference": application.reference,
        "status": "Paid",
        "submitted_at": row["submitted_at"],
        "last_name": "Étienne",
        "first_name": "Hélène",
        "email": "helene@example.org",
        "phone": "06 12 34 56 78",
        "postcode": "75011",
        "city": "Paris",
        "country": "FR",
        "profession": "Artist",
        "submitted_by": "Syndicat des techniciens",
        "rules_result": "Eligible",
        "rules_amount": "900.00",
        "award_amount": "1234.56",
        "award_status": "Paid",
        "paid_on": "2020-05-04",
        "assignee": "Agnès Varda",
    }


def test_an_application_without_award_assignee_nor_evaluation_has_those_cells_empty(
    fund: Fund, admin: User
) -> None:
    ApplicationFactory(fund=fund)

    (row,) = by_id(csv_rows(export(fund, admin)))

    assert row["submitted_by"] == ""
    assert row["rules_result"] == "Not evaluated"
    assert (row["rules_amount"], row["award_amount"], row["award_status"]) == ("", "", "")
    assert (row["paid_on"], row["assignee"]) == ("", "")


def test_an_assignee_without_a_name_is_shown_by_their_e_mail(fund: Fund, admin: User) -> None:
    reviewer = member_of(fund, Role.REVIEWER)
    reviewer.first_name = reviewer.last_name = ""
    reviewer.save()
    AssignmentFactory(application=ApplicationFactory(fund=fund), reviewer=reviewer)

    (row,) = by_id(csv_rows(export(fund, admin)))

    assert row["assignee"] == reviewer.email


@pytest.mark.parametrize("file_format", [FileFormat.CSV, FileFormat.XLSX])
def test_no_nir_nor_iban_ever_leaves_in_an_export(
    fund: Fund, admin: User, file_format: str
) -> None:
    applications = [approved(fund, "500.00") for _ in range(2)]
    paid(applications[0])

    path = export(fund, admin, file_format)

    content = path.read_text("utf-8-sig") if file_format == FileFormat.CSV else xlsx_text(path)
    assert applications[0].reference in content
    for application in applications:
        assert application.nir not in content
        assert application.iban not in content
        assert application.iban[4:] not in content  # not even without its country and key
    assert not {"nir", "iban", "bic"} & set(IDS)


# -- labels, clocks and numbers ----------------------------------------------------------------


def test_a_french_csv_is_what_french_excel_opens_semicolons_decimal_commas(
    fund: Fund, admin: User
) -> None:
    approved(fund, "1234.56")

    rows = csv_rows(export(fund, admin, language="fr"), delimiter=";")

    header = rows[0]
    assert header[:3] == ["Référence", "Statut", "Déposée le (Europe/Paris)"]
    assert "Ville" in header
    assert "Versée le (Europe/Paris)" in header
    assert "Aide accordée (EUR)" in header
    (row,) = by_id(rows)
    assert row["award_amount"] == "1234,56"
    assert (row["status"], row["profession"]) == ("Acceptée", "Technicien·ne")


def test_an_english_csv_uses_commas_and_decimal_points(fund: Fund, admin: User) -> None:
    approved(fund, "1234.56")

    rows = csv_rows(export(fund, admin, language="en"))

    assert "Award (EUR)" in rows[0]
    assert by_id(rows)[0]["award_amount"] == "1234.56"


def test_times_and_days_are_on_the_funds_clock(admin: User, fund: Fund) -> None:
    # 22:30 UTC on 15 April is already the 16th in Paris (UTC+2 in summer).
    late = dt.datetime(2020, 4, 15, 22, 30, tzinfo=dt.UTC)
    application = approved(fund, "500.00", submitted_at=late)
    paid(application, sent_at=dt.datetime(2020, 5, 1, 23, 15, tzinfo=dt.UTC))

    (row,) = by_id(csv_rows(export(fund, admin)))
    (_header, cells) = xlsx_rows(export(fund, admin, FileFormat.XLSX))

    assert row["submitted_at"] == "2020-04-16 00:30:00"
    assert row["paid_on"] == "2020-05-02"
    values = dict(zip(IDS, cells, strict=True))
    assert values["submitted_at"] == dt.datetime(2020, 4, 16, 0, 30)
    assert values["paid_on"] == dt.datetime(2020, 5, 2)  # openpyxl reads a day at midnight


def test_another_funds_clock_gives_other_days(admin: User) -> None:
    fund: Fund = FundFactory(time_zone="America/New_York")
    requester = member_of(fund, Role.AUDITOR)
    ApplicationFactory(fund=fund, submitted_at=dt.datetime(2020, 4, 16, 2, 0, tzinfo=dt.UTC))

    rows = csv_rows(export(fund, requester))

    assert rows[0][2] == "Submitted (America/New_York)"
    assert by_id(rows)[0]["submitted_at"] == "2020-04-15 22:00:00"


def test_xlsx_amounts_and_moments_are_typed_cells_with_a_number_format(
    fund: Fund, admin: User
) -> None:
    approved(fund, "1234.56")

    path = export(fund, admin, FileFormat.XLSX)

    sheet = load_workbook(path).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    amount = sheet.cell(row=2, column=IDS.index("award_amount") + 1)
    moment = sheet.cell(row=2, column=IDS.index("submitted_at") + 1)
    assert header[IDS.index("award_amount")] == "Award (EUR)"
    assert sheet[1][0].font.bold
    assert amount.data_type == "n"
    assert Decimal(str(amount.value)) == Decimal("1234.56")
    assert amount.number_format == "#,##0.00"
    assert moment.is_date
    assert moment.number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet.freeze_panes == "A2"


def test_the_xlsx_opens_and_has_a_row_per_application(fund: Fund, admin: User) -> None:
    applications = ApplicationFactory.create_batch(5, fund=fund)

    rows = xlsx_rows(export(fund, admin, FileFormat.XLSX, language="fr"))

    assert rows[0][0] == "Référence"
    assert len(rows) == 1 + 5
    assert {row[0] for row in rows[1:]} == {a.reference for a in applications}


def test_past_the_last_row_of_a_sheet_the_rows_go_on_in_another(
    fund: Fund, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 3)  # a header and two rows per sheet
    applications = ApplicationFactory.create_batch(5, fund=fund)

    book = load_workbook(export(fund, admin, FileFormat.XLSX), read_only=True)

    assert book.sheetnames == ["Applications", "Applications (2)", "Applications (3)"]
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    assert [len(rows) for rows in sheets] == [3, 3, 2]
    assert all(rows[0][0] == "Reference" for rows in sheets)
    references = [str(row[0]) for rows in sheets for row in rows[1:]]
    assert sorted(references) == sorted(a.reference for a in applications)


# -- formulas ----------------------------------------------------------------------------------


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_made_text_in_csv(
    fund: Fund, admin: User
) -> None:
    for text in FORMULAS:
        ApplicationFactory(fund=fund, last_name=text, city=text)

    rows = by_id(csv_rows(export(fund, admin)))

    assert sorted(row["last_name"] for row in rows) == sorted("'" + text for text in FORMULAS)
    assert all(row["city"] == row["last_name"] for row in rows)
    assert all(row["phone"] == "'+33 6 12 34 56 78" for row in rows)


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_a_quoted_text_cell_in_xlsx(
    fund: Fund, admin: User
) -> None:
    for text in FORMULAS:
        ApplicationFactory(fund=fund, last_name=text)

    path = export(fund, admin, FileFormat.XLSX)

    assert "<f>" not in xlsx_text(path)  # no formula anywhere in the workbook
    sheet = load_workbook(path).worksheets[0]
    column = IDS.index("last_name") + 1
    cells = [sheet.cell(row=row, column=column) for row in range(2, 2 + len(FORMULAS))]
    # The value stays as typed (a telephone's "+33…" too), as text Excel never evaluates.
    assert sorted(str(cell.value) for cell in cells) == sorted(FORMULAS)
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in cells)
    assert not sheet.cell(row=2, column=1).quotePrefix  # a reference needs no guard


def test_headers_and_choices_that_read_as_formulas_are_text_in_both_formats(
    fund: Fund, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Headers and choice labels come from the translators, and a stored id that the choices do
    # not know (an older release's) is written as it is: none of them may run as a formula.
    columns = {column.id: column for column in COLUMNS}
    columns["reference"] = replace(columns["reference"], label="=HEADER()")
    columns["status"] = replace(
        columns["status"],
        choices=[(value, format_lazy("-{}", label)) for value, label in Application.Status.choices],
    )
    monkeypatch.setattr(exports, "COLUMNS", tuple(columns.values()))
    ApplicationFactory(fund=fund, status=Application.Status.RECEIVED, profession="=2+3")

    rows = csv_rows(export(fund, admin))
    path = export(fund, admin, FileFormat.XLSX)

    (row,) = by_id(rows)
    assert rows[0][0] == "'=HEADER()"
    assert (row["status"], row["profession"]) == ("'-Received", "'=2+3")
    assert "<f>" not in xlsx_text(path)
    sheet = load_workbook(path).worksheets[0]
    for cell, value in [
        (sheet.cell(row=1, column=1), "=HEADER()"),
        (sheet.cell(row=2, column=IDS.index("status") + 1), "-Received"),
        (sheet.cell(row=2, column=IDS.index("profession") + 1), "=2+3"),
    ]:
        assert (cell.value, cell.data_type, cell.quotePrefix) == (value, "s", True)
    assert sheet.cell(row=1, column=1).font.bold


def test_characters_xml_cannot_carry_are_dropped_from_an_xlsx(fund: Fund, admin: User) -> None:
    application = ApplicationFactory(fund=fund, city="Saint\x0b-Denis\x01")

    rows = xlsx_rows(export(fund, admin, FileFormat.XLSX))

    assert rows[1][0] == application.reference
    assert rows[1][IDS.index("city")] == "Saint-Denis"


@given(text=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00")))
def test_any_text_reads_back_from_the_csv_as_written_or_guarded(text: str) -> None:
    fund = Fund(time_zone="Europe/Paris", currency="EUR")
    for language, dialect in exports.CSV_DIALECTS.items():
        handle = io.StringIO(newline="")
        CsvFile(handle, fund, language).write([(text,) + (None,) * (len(COLUMNS) - 1)])
        handle.seek(0)
        (_header, row) = list(csv.reader(handle, delimiter=dialect.delimiter))
        guarded = text.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row[0] == ("'" + text if guarded else text)


# -- the task ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        ListFilters(status=Application.Status.RECEIVED),
        ListFilters(profession=Application.Profession.ARTIST, sort="name"),
        ListFilters(queue=Queue.MINE),
        ListFilters(search="Dupont", sort="newest"),
    ],
    ids=["status", "profession-by-name", "mine", "search-newest"],
)
def test_an_export_holds_exactly_what_the_list_shows_with_its_filters(
    fund: Fund, admin: User, filters: ListFilters
) -> None:
    for index in range(6):
        ApplicationFactory(
            fund=fund,
            last_name="Dupont" if index % 2 else f"Martin{index}",
            status=Application.Status.RECEIVED if index % 3 else Application.Status.UNDER_REVIEW,
            profession=Application.Profession.ARTIST if index < 3 else "technician",
            submitted_at=timezone.now() - dt.timedelta(hours=index),
        )
    mine = Application.objects.filter(fund=fund).order_by("pk")[:2]
    for application in mine:
        AssignmentFactory(application=application, reviewer=admin)

    rows = by_id(csv_rows(export(fund, admin, filters=filters)))

    listed = applications_for_staff(admin, fund, filters).values_list("reference", flat=True)
    assert [row["reference"] for row in rows] == list(listed)
    assert 0 < len(rows) < 6


def test_the_rows_are_read_by_one_query_whatever_their_number() -> None:
    def queries_for(count: int) -> int:
        fund: Fund = FundFactory(budget=Decimal("100000.00"))
        admin = member_of(fund, Role.OPERATOR_ADMIN)
        for _ in range(count):
            application = approved(fund, "500.00")
            AssignmentFactory(application=application)
            paid(application)
        with CaptureQueriesContext(connection) as captured:
            export(fund, admin)
        return len(captured.captured_queries)

    assert queries_for(2) == queries_for(7)


def test_progress_shows_the_rows_written_and_the_file(
    fund: Fund, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rows fetched two at a time, progress written between two fetches of the same cursor.
    monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    seen: list[tuple[int, int | None]] = []

    def report(context: TaskContext, *, done: int, total: int | None, **extra: Any) -> None:
        seen.append((done, total))
        report_progress(context, done=done, total=total, **extra)

    monkeypatch.setattr(tasks, "report_progress", report)
    ApplicationFactory.create_batch(5, fund=fund)

    path = export(fund, admin, language="fr")

    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5), (5, 5)]
    progress = TaskProgress.objects.get()
    assert (progress.done, progress.total, progress.output_path) == (5, 5, str(path))
    assert progress.label == "Export des demandes en cours"


@pytest.mark.parametrize("file_format", [FileFormat.CSV, FileFormat.XLSX])
def test_a_retried_task_writes_the_same_file_in_the_same_place(
    fund: Fund, admin: User, file_format: str
) -> None:
    ApplicationFactory.create_batch(3, fund=fund)
    result: TaskResult[str] = export_applications.enqueue(
        fund.pk, admin.pk, _as_dict(ListFilters()), file_format, "fr"
    )
    path = Path(result.return_value)
    first = path.read_bytes() if file_format == FileFormat.CSV else xlsx_rows(path)

    # A worker's second attempt: the same task result, so the same context (the task's type
    # leaves its context out of the arguments).
    again = export_applications.call(
        TaskContext(task_result=result),  # type: ignore[call-arg]
        fund.pk,
        admin.pk,
        {},
        file_format,
        "fr",
    )

    assert again == str(path)
    assert (path.read_bytes() if file_format == FileFormat.CSV else xlsx_rows(path)) == first
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # nothing left beside


def test_the_task_refuses_a_requester_who_may_no_longer_export(fund: Fund) -> None:
    auditor = FundRoleFactory(fund=fund, role=Role.AUDITOR)
    auditor.delete()

    result = export_applications.enqueue(fund.pk, auditor.user_id, {}, FileFormat.CSV, "en")

    assert result.status == TaskResultStatus.FAILED
    assert not exports.exports_dir().exists()


def test_an_export_deletes_the_files_of_exports_older_than_the_days_kept(
    fund: Fund, admin: User
) -> None:
    folder = exports.exports_dir()
    folder.mkdir(parents=True)
    old, recent = folder / "old.csv", folder / "recent.xlsx"
    for path in (old, recent):
        path.write_text("x")
    days_ago = time.time() - (exports.KEEP_DAYS + 1) * 86400
    os.utime(old, (days_ago, days_ago))

    path = export(fund, admin)

    assert not old.exists()
    assert recent.exists()
    assert path.exists()


# -- the service -------------------------------------------------------------------------------


def test_asking_for_an_export_is_audited_with_its_format_and_filters(
    fund: Fund, admin: User
) -> None:
    task_id = request_applications_export(
        actor=admin,
        fund=fund,
        filters=ListFilters(status=Application.Status.RECEIVED),
        file_format=FileFormat.XLSX,
        language="fr",
    )

    event = AuditEvent.objects.get(action="fund.export_requested")
    assert event.fund_id == fund.pk
    assert event.changes == {
        "task": task_id,
        "kind": "applications",
        "format": "xlsx",
        "filters": {"queue": "all", "status": "received"},
    }


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.FINANCE])
def test_only_those_who_may_export_can_ask_for_an_export(fund: Fund, role: str) -> None:
    with pytest.raises(PermissionDenied):
        request_applications_export(
            actor=member_of(fund, role),
            fund=fund,
            filters=ListFilters(),
            file_format=FileFormat.CSV,
            language="en",
        )
    assert not AuditEvent.objects.filter(action="fund.export_requested").exists()


def test_a_format_the_export_does_not_offer_is_refused(fund: Fund, admin: User) -> None:
    with pytest.raises(ValidationFailed):
        request_applications_export(
            actor=admin, fund=fund, filters=ListFilters(), file_format="ods", language="en"
        )
