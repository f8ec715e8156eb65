"""Exports of a fund's applications: their columns, the query that reads them, and the CSV and
XLSX files they are written to.

An export holds exactly what the fund's list shows with the same filters, in the list's order
(``applications.selectors.applications_for_staff`` is the one definition of both). Its rows are
read by one query, every column joined or computed in the database (no query per row), through
a server-side cursor on PostgreSQL (``iterator``), and written straight to a file in
``settings.EXPORTS_DIR``: memory stays the same whatever the number of rows
(``bench/exports.py``).

Columns have stable machine ids (``docs/reporting.md``) and headers in the requester's language.
Never the NIR nor the IBAN. Dates and times are on the fund's clock; amounts are numbers in the
fund's currency, written from their ``Decimal`` (never a float). Text that a spreadsheet would
run as a formula (OWASP's CSV injection) is made inert: in CSV by a leading apostrophe, in XLSX
as a text cell marked "quote prefix" (the value stays as typed, a telephone's "+33…" too).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from entraide.applications.models import Application
from entraide.core.spreadsheets import spreadsheet_cell
from entraide.funds.models import Award, Fund
from entraide.payments import selectors as payment_selectors
from entraide.review import selectors as review_selectors
from entraide.rules import selectors as rules_selectors

# Rows fetched from the database at a time, and written between two reports of progress.
CHUNK_SIZE = 2_000
PROGRESS_EVERY = 10_000
# An export's file is kept this long after it is written, then deleted (by the next export).
KEEP_DAYS = 7
# A worksheet's last row (Excel's limit); beyond, the rows go on in another sheet.
XLSX_MAX_ROWS = 1_048_576


class FileFormat(models.TextChoices):
    CSV = "csv", gettext_lazy("CSV")
    XLSX = "xlsx", pgettext_lazy("file format", "Excel (XLSX)")


CONTENT_TYPES: dict[str, str] = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class CsvDialect:
    """How a spreadsheet set to the language reads a CSV file: French Excel splits on ``;``
    and reads ``1500,00`` as a number; English Excel splits on ``,`` and reads ``1500.00``."""

    delimiter: str
    decimal_comma: bool


CSV_DIALECTS = {"fr": CsvDialect(";", decimal_comma=True), "en": CsvDialect(",", False)}


class Kind(enum.Enum):
    TEXT = "text"
    CHOICE = "choice"  # a stored id, written as its label
    DATETIME = "datetime"  # on the fund's clock
    DATE = "date"  # the day of a moment, on the fund's clock
    AMOUNT = "amount"  # in the fund's currency


@dataclass(frozen=True)
class Column:
    id: str  # stable: scripts and docs name columns by it
    label: Any  # lazy, translated when the header is written
    field: str  # what the query reads (a field, a related field or an annotation)
    kind: Kind = Kind.TEXT
    choices: Sequence[tuple[Any, Any]] = ()


RULES_RESULTS = (
    (True, gettext_lazy("Eligible")),
    (False, gettext_lazy("Not eligible")),
    (None, gettext_lazy("Not evaluated")),
)

COLUMNS = (
    Column("reference", gettext_lazy("Reference"), "reference"),
    Column("status", gettext_lazy("Status"), "status", Kind.CHOICE, Application.Status.choices),
    Column("submitted_at", gettext_lazy("Submitted"), "submitted_at", Kind.DATETIME),
    Column("last_name", gettext_lazy("Last name"), "last_name"),
    Column("first_name", gettext_lazy("First name"), "first_name"),
    Column("email", gettext_lazy("E-mail address"), "email"),
    Column("phone", gettext_lazy("Telephone"), "phone"),
    Column("postcode", gettext_lazy("Postcode"), "postcode"),
    Column("city", gettext_lazy("Town or city"), "city"),
    Column("country", gettext_lazy("country"), "country"),
    Column(
        "profession",
        gettext_lazy("Profession"),
        "profession",
        Kind.CHOICE,
        Application.Profession.choices,
    ),
    Column("submitted_by", gettext_lazy("Submitted by"), "partner__name"),
    Column("rules_result", gettext_lazy("Rules"), "rules_eligible", Kind.CHOICE, RULES_RESULTS),
    Column("rules_amount", gettext_lazy("Amount under the rules"), "rules_amount", Kind.AMOUNT),
    Column("award_amount", gettext_lazy("Award"), "award__amount", Kind.AMOUNT),
    Column(
        "award_status",
        gettext_lazy("Award status"),
        "award__status",
        Kind.CHOICE,
        Award.Status.choices,
    ),
    Column("paid_on", gettext_lazy("paid on"), "paid_at", Kind.DATE),
    Column("assignee", gettext_lazy("Assigned to"), "assignee"),
)


# -- the rows ----------------------------------------------------------------------------------


def _assignee() -> Coalesce:
    """The reviewer's name as the list shows it (``User.__str__``: full name, else e-mail)."""
    reviewer = review_selectors.ASSIGNEE
    full_name = Trim(Concat(F(f"{reviewer}__first_name"), Value(" "), F(f"{reviewer}__last_name")))
    return Coalesce(NullIf(full_name, Value("")), F(f"{reviewer}__email"), output_field=CharField())


def rows_of(listed: QuerySet[Application]) -> QuerySet[Application, tuple[Any, ...]]:
    """The export's rows of the applications a list shows (``applications_for_staff``), in its
    order: one tuple of ``COLUMNS``' values each, read by one query."""
    return listed.annotate(
        **rules_selectors.current_outcome_columns(),
        paid_at=payment_selectors.sent_at_of("award"),
        assignee=_assignee(),
    ).values_list(*(column.field for column in COLUMNS))


# -- the files ---------------------------------------------------------------------------------


def exports_dir() -> Path:
    return Path(settings.EXPORTS_DIR) / "applications"


def path_of(task_id: str, file_format: str) -> Path:
    """The file of an export task: the same for every attempt of the task."""
    return exports_dir() / f"{task_id}.{file_format}"


def headers(fund: Fund) -> list[str]:
    """The columns' labels in the active language, with the fund's clock and currency."""
    labels = []
    for column in COLUMNS:
        label = capfirst(str(column.label))
        if column.kind in (Kind.DATETIME, Kind.DATE):
            label = f"{label} ({fund.time_zone})"
        elif column.kind == Kind.AMOUNT:
            label = f"{label} ({fund.currency})"
        labels.append(label)
    return labels


Cell = Callable[[Any], Any]


def _label_of(column: Column) -> Cell:
    """A choice column's value as its label in the active language; an id the choices do not
    know (an older release's) as it is stored."""
    labels = {value: str(label) for value, label in column.choices}
    return lambda value: labels.get(value, "" if value is None else str(value))


class CsvFile:
    """A CSV file in UTF-8 with a byte order mark (without it Excel reads UTF-8 as the
    system's code page: "Hélène" shows as "HÃ©lÃ¨ne"), in the dialect of the language."""

    def __init__(self, handle: Any, fund: Fund, language: str) -> None:
        dialect = CSV_DIALECTS[language]
        zone = ZoneInfo(fund.time_zone)
        self._writer = csv.writer(handle, delimiter=dialect.delimiter, lineterminator="\r\n")
        self._cells = [self._cell(column, zone, dialect) for column in COLUMNS]
        self._writer.writerow([spreadsheet_cell(label) for label in headers(fund)])

    @staticmethod
    def _cell(column: Column, zone: ZoneInfo, dialect: CsvDialect) -> Cell:
        match column.kind:
            case Kind.CHOICE:
                label = _label_of(column)
                return lambda value: spreadsheet_cell(label(value))
            case Kind.DATETIME:
                return lambda value: (
                    value.astimezone(zone).replace(tzinfo=None).isoformat(" ", "seconds")
                    if value
                    else ""
                )
            case Kind.DATE:
                return lambda value: value.astimezone(zone).date().isoformat() if value else ""
            case Kind.AMOUNT:
                # Two decimals whatever the database gives back (SQLite may drop them).
                if dialect.decimal_comma:
                    return lambda value: "" if value is None else f"{value:.2f}".replace(".", ",")
                return lambda value: "" if value is None else f"{value:.2f}"
        return lambda value: spreadsheet_cell(value) if value else ""

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        cells = self._cells
        self._writer.writerows(
            [cell(value) for cell, value in zip(cells, row, strict=True)] for row in rows
        )


class XlsxFile:
    """An Excel workbook written by openpyxl in write-only mode (rows go to a temporary file as
    they are appended): dates and amounts are typed cells with a number format, the header
    stays in view; past Excel's last row, the rows go on in another sheet under the same
    header."""

    DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
    DATE_FORMAT = "yyyy-mm-dd"
    AMOUNT_FORMAT = "#,##0.00"
    WIDTHS = {Kind.DATETIME: 20, Kind.DATE: 12, Kind.AMOUNT: 14}

    def __init__(self, fund: Fund) -> None:
        self._book = Workbook(write_only=True)
        self._zone = ZoneInfo(fund.time_zone)
        self._headers = headers(fund)
        self._title = _("Applications")
        self._sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self._sheets += 1
        title = self._title if self._sheets == 1 else f"{self._title} ({self._sheets})"
        sheet = self._book.create_sheet(title)
        sheet.freeze_panes = "A2"
        for number, column in enumerate(COLUMNS, start=1):
            width = self.WIDTHS.get(column.kind, 18)
            sheet.column_dimensions[get_column_letter(number)].width = width
        self._sheet = sheet
        self._cells = [self._cell(column) for column in COLUMNS]
        header = []
        for label in self._headers:
            cell = self._text_cell(label)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        self._rows = 1

    def _typed(self, number_format: str, convert: Cell) -> Cell:
        # One cell object per column, given each row's value: the sheet writes a row as soon as
        # it is appended, so the next row may reuse it (no new styled cell per value).
        cell = WriteOnlyCell(self._sheet)
        cell.number_format = number_format

        def typed(value: Any) -> Any:
            if value is None:
                return None
            cell.value = convert(value)
            return cell

        return typed

    def _cell(self, column: Column) -> Cell:
        zone = self._zone
        match column.kind:
            case Kind.CHOICE:
                # Labels are translations and an unknown id is stored text: guarded alike.
                label, text = _label_of(column), self._text()
                return lambda value: text(label(value))
            case Kind.DATETIME:
                return self._typed(
                    self.DATETIME_FORMAT,
                    lambda value: value.astimezone(zone).replace(tzinfo=None),
                )
            case Kind.DATE:
                return self._typed(self.DATE_FORMAT, lambda value: value.astimezone(zone).date())
            case Kind.AMOUNT:
                return self._typed(self.AMOUNT_FORMAT, lambda value: value)
        return self._text()

    def _text_cell(self, value: str) -> SheetCell:
        """A text cell that a spreadsheet shows as typed and never runs as a formula."""
        cell = WriteOnlyCell(self._sheet, value=value)
        cell.data_type = "s"  # openpyxl takes "=…" for a formula
        cell.quotePrefix = True
        return cell

    def _text(self) -> Cell:
        guarded = self._text_cell("")  # reused, as the typed cells are

        def text(value: Any) -> Any:
            if not value:
                return None
            # Characters XML cannot carry (control characters a form let through) are dropped.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if spreadsheet_cell(value) == value:
                return value
            guarded.value = value
            guarded.data_type = "s"  # openpyxl takes "=…" for a formula
            return guarded

        return text

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        for row in rows:
            if self._rows == XLSX_MAX_ROWS:
                self._new_sheet()
            self._sheet.append([cell(value) for cell, value in zip(self._cells, row, strict=True)])
            self._rows += 1

    def save(self, path: Path) -> None:
        self._book.save(path)


def write_export(
    path: Path,
    file_format: str,
    rows: Iterable[tuple[Any, ...]],
    *,
    fund: Fund,
    language: str,
    progress: Callable[[int], None],
) -> int:
    """Write ``rows`` to ``path`` in ``file_format``, telling ``progress`` the rows written
    every ``PROGRESS_EVERY``; the number of rows. Written beside it first, then moved into
    place: the file is never seen half written, and a second attempt replaces the first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.part")
    done = 0
    chunks = _chunks(iter(rows))
    if file_format == FileFormat.XLSX:
        workbook = XlsxFile(fund)
        for chunk in chunks:
            workbook.write(chunk)
            done += len(chunk)
            progress(done)
        workbook.save(partial)
    else:
        with partial.open("w", encoding="utf-8-sig", newline="") as handle:
            table = CsvFile(handle, fund, language)
            for chunk in chunks:
                table.write(chunk)
                done += len(chunk)
                progress(done)
    os.replace(partial, path)
    return done


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    while chunk := list(islice(rows, PROGRESS_EVERY)):
        yield chunk


def delete_old_exports() -> int:
    """Delete the export files written more than ``KEEP_DAYS`` ago (and those an interrupted
    export left half written); how many."""
    limit = time.time() - dt.timedelta(days=KEEP_DAYS).total_seconds()
    deleted = 0
    folder = exports_dir()
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # another worker's export deleted it first
            continue
    return deleted
