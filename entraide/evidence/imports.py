"""Importing one evidence file (FORMATS.md: declarations, rights, benefits, cancellations).

The file (CSV: UTF-8, header, ``,``; or Parquet with the same columns) is read by DuckDB, never
whole into Python: DuckDB holds it (spilling to disk beyond its memory limit) and validates every
row in SQL (:func:`create_checked`; the costly checks once per distinct value). Each bad row is
reported with its line (1 = the header, the first data row = 2; a quoted value spanning lines is
still one line, as DuckDB counts records; in Parquet, row *n* is reported as line *n + 1*, as if
the file were CSV), the column and a stable code with a translated message, in a CSV error
report beside the exports (never a value of the row: a NIR does not leave the file). The valid
rows go to the database: on PostgreSQL, sorted by person, through a pipe into ``COPY`` of the
batch's own partition (:mod:`entraide.evidence.partitions`), with a Parquet copy for whole-fund
work (:mod:`entraide.evidence.columnar`); elsewhere by ``bulk_create`` in chunks.

NIRs: the files carry them in clear; each is checked, then only its blind index
(:func:`entraide.core.crypto.blind_index`, the ``nir_index`` the applications hold) goes on. It
is computed in SQL by a vectorised Python function (``register_nir_index``, shared with the
rules' loaders), once per distinct NIR, so that everything after the checks (the file's
repeated keys, the look-up of keys already stored, ``COPY``, the columnar copy) sees the index
only.

Idempotency: a batch keeps the file's SHA-256, and a file already imported for a kind is refused
(:class:`AlreadyImported`, naming the batch); within and across files, a row whose natural key
(``Spec.key``) is already stored counts as a duplicate and is not stored again. The first row
stays: a later row with the same key but other values (a correction) is a duplicate too.

The NIR and SIRET checks are SQL versions of python-stdnum's ``fr.nir`` and ``fr.siret``
(same normalisation, same key/Luhn rules, La Poste's SIRETs included); ``test_imports`` proves
them equal on random input with hypothesis.
"""

# ruff: noqa: S608  (SQL built from the fixed column specifications below; values are parameters)

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import duckdb
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.audit import services as audit
from entraide.core.copying import BLOCK_BYTES, copy_from, copy_to, psycopg_cursor
from entraide.core.crypto import INDEX_LENGTH
from entraide.core.errors import DomainError, InvalidTransition, PermissionDenied
from entraide.evidence import columnar, partitions
from entraide.evidence.models import (
    BenefitRecord,
    CancellationRecord,
    EmployerDeclaration,
    EvidenceBatch,
    RightsRecord,
)
from entraide.evidence.signals import announce_change
from entraide.rules.loaders import NIR_INDEX_SQL, register_nir_index

CHUNK_ROWS = 5000  # valid rows per round trip to the database (and per look-up of stored keys)
Progress = Callable[[int, int], None]  # told (rows handled so far, rows in the file)

# -- the checks, in SQL ------------------------------------------------------------------------

ROW_PROBLEMS: dict[str, Any] = {
    "required": _("A value is required."),
    "invalid_nir": _("Not a social security number (15 characters, 2A/2B allowed)."),
    "nir_key": _("The social security number's key does not match."),
    "invalid_siret": _("Not a SIRET (14 digits)."),
    "siret_checksum": _("The SIRET's check digit does not match."),
    "invalid_naf": _("Not a NAF code (like 59.11A)."),
    "invalid_idcc": _("Not a collective agreement number (4 digits)."),
    "invalid_date": _("Not a date (YYYY-MM-DD)."),
    "invalid_number": _("Not a number (digits, a decimal point, at most 2 decimals)."),
    "invalid_integer": _("Not a whole number."),
    "negative_number": _("The number is negative."),
    "number_too_large": _("The number is too large."),
    "too_long": _("The text is too long."),
    "invalid_choice": _("Not one of the allowed values."),
    "end_before_start": _("The end is before the start."),
    "too_few_values": _("The line has too few values."),
    "too_many_values": _("The line has too many values."),
    "unquoted_value": _("A value with a quote must be quoted."),
    "invalid_encoding": _("The line is not UTF-8 text."),
    "malformed_line": _("The line cannot be read as CSV."),
}
CSV_REJECTS = {
    "MISSING COLUMNS": "too_few_values",
    "TOO MANY COLUMNS": "too_many_values",
    "UNQUOTED VALUE": "unquoted_value",
    "INVALID ENCODING": "invalid_encoding",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def compact_sql(value: str) -> str:
    """stdnum's ``compact``: without spaces and dots, trimmed, upper case (NULL when empty)."""
    return f"nullif(upper(trim(replace(replace({value}, ' ', ''), '.', ''))), '')"


def _luhn_sql(value: str, length: int) -> str:
    """The Luhn sum modulo 10 of the first ``length`` digits (0: valid)."""
    terms = []
    for position in range(1, length + 1):
        digit = f"TRY_CAST(substr({value}, {position}, 1) AS INTEGER)"
        # from the right, every second digit is doubled (and 9 taken off above 9)
        if (length - position) % 2:
            terms.append(f"(2 * {digit} - CASE WHEN {digit} > 4 THEN 9 ELSE 0 END)")
        else:
            terms.append(digit)
    return f"(({' + '.join(terms)}) % 10)"


def nir_problem_sql(value: str) -> str:
    """The problem code of a compacted NIR, or NULL: stdnum.fr.nir's rule, in SQL.

    Format: 15 characters, digits but the department (characters 6-7) which may be 2A or 2B.
    Key: 97 - (the first 13 digits, 2A read as 19 and 2B as 18) mod 97 = the last 2 digits.
    """
    number = (
        f"TRY_CAST(substr({value}, 1, 5) || "
        f"replace(replace(substr({value}, 6, 2), '2A', '19'), '2B', '18') || "
        f"substr({value}, 8, 6) AS BIGINT)"
    )
    return (
        f"CASE WHEN NOT regexp_full_match({value}, '[0-9]{{5}}([0-9]{{2}}|2A|2B)[0-9]{{8}}') "
        f"THEN 'invalid_nir' "
        f"WHEN 97 - ({number} % 97) <> TRY_CAST(substr({value}, 14, 2) AS INTEGER) "
        f"THEN 'nir_key' END"
    )


def siret_problem_sql(value: str) -> str:
    """The problem code of a compacted SIRET, or NULL: stdnum.fr.siret's rule, in SQL.

    Luhn on the SIREN (9 first digits) and on the 14 digits; La Poste's establishments (SIREN
    356000000 but its head office) use a digit sum divisible by 5 instead of the second.
    """
    digit_sum = " + ".join(
        f"TRY_CAST(substr({value}, {position}, 1) AS INTEGER)" for position in range(1, 15)
    )
    return (
        f"CASE WHEN NOT regexp_full_match({value}, '[0-9]{{14}}') THEN 'invalid_siret' "
        f"WHEN {_luhn_sql(value, 9)} <> 0 THEN 'siret_checksum' "
        f"WHEN starts_with({value}, '356000000') AND {value} <> '35600000000048' "
        f"THEN CASE WHEN ({digit_sum}) % 5 <> 0 THEN 'siret_checksum' END "
        f"WHEN {_luhn_sql(value, 14)} <> 0 THEN 'siret_checksum' END"
    )


# -- what each kind of file holds --------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of FORMATS.md and the model field it fills.

    ``check`` is one of nir, siret, naf, idcc, text, choice, date, decimal, integer. A column
    whose value may be empty may also be left out of the file.
    """

    name: str
    check: str
    required: bool = True
    field: str = ""  # the model field, when not the column's name
    choices: tuple[str, ...] = ()
    digits: int = 0  # decimal and integer: most digits before the decimal point
    max_length: int = 0  # text
    default: str | None = None  # SQL for an empty value

    @property
    def field_name(self) -> str:
        return self.field or self.name

    @property
    def copy_name(self) -> str:
        """Its name in the batch's columnar copy: the file's, but for the NIR, of which the copy
        holds the blind index (``nir_index``)."""
        return self.field_name if self.check == "nir" else self.name


@dataclass(frozen=True)
class Spec:
    kind: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # model fields identifying a row
    ordered: tuple[str, str]  # (start column, end column): end ≥ start when both are given
    period: tuple[str, ...]  # model fields whose dates make the batch's period
    fields: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(c.field_name for c in self.columns))


def _nir() -> Column:
    """The NIR in clear in the file; its blind index in the table."""
    return Column("nir", "nir", field="nir_index")


SPECS = {
    spec.kind: spec
    for spec in (
        Spec(
            EvidenceBatch.Kind.DECLARATIONS,
            EmployerDeclaration,
            (
                _nir(),
                Column("siret", "siret"),
                Column("naf", "naf"),
                Column("idcc", "idcc"),
                Column("contract_type", "choice", choices=("CDDU", "CDD", "CDI")),
                Column("start", "date"),
                Column("end", "date"),
                Column("hours", "decimal", required=False, digits=5),
                Column("cachets", "integer", required=False, digits=9),
                Column("gross_pay", "decimal", digits=12),
            ),
            key=("nir_index", "siret", "start", "end", "contract_type"),
            ordered=("start", "end"),
            period=("start", "end"),
        ),
        Spec(
            EvidenceBatch.Kind.RIGHTS,
            RightsRecord,
            (
                _nir(),
                Column("annex", "choice", choices=("8", "10", "general")),
                Column("opened_on", "date"),
                Column("ends_on", "date"),
                Column("status", "choice", choices=("open", "ended", "refused")),
                Column("reason", "text", required=False, max_length=40, default="''"),
            ),
            key=("nir_index", "annex", "opened_on"),
            ordered=("opened_on", "ends_on"),
            period=("opened_on", "ends_on"),
        ),
        Spec(
            EvidenceBatch.Kind.BENEFITS,
            BenefitRecord,
            (
                _nir(),
                Column("scheme", "choice", choices=("annex8", "annex10", "general")),
                Column("from", "date", field="start"),
                Column("to", "date", required=False, field="end"),
            ),
            key=("nir_index", "scheme", "start"),
            ordered=("from", "to"),
            period=("start", "end"),
        ),
        Spec(
            EvidenceBatch.Kind.CANCELLATIONS,
            CancellationRecord,
            (
                _nir(),
                Column("siret", "siret", required=False, default="''"),
                Column("date", "date"),
                Column("cachets", "integer", required=False, digits=9, default="1"),
                Column("signed_on", "date", required=False),
            ),
            key=("nir_index", "siret", "date"),
            ordered=("signed_on", "date"),
            period=("date",),
        ),
    )
}

SQL_TYPES = {"date": "DATE", "decimal": "DECIMAL(18,2)", "integer": "BIGINT"}


def _value_sql(column: Column, raw: str) -> str:
    """The value of a column as the checks read it, from the file's text ``raw``."""
    if column.check in ("nir", "siret"):
        return compact_sql(raw)
    if column.check == "naf":
        return f"nullif(upper(trim({raw})), '')"
    return f"nullif(trim({raw}), '')"


def _problem_sql(column: Column, value: str) -> str:
    """SQL for the problem code of a column's (non-NULL) value, or NULL."""
    match column.check:
        case "nir":
            return nir_problem_sql(value)
        case "siret":
            return siret_problem_sql(value)
        case "naf":
            naf = "'\\d{2}\\.\\d{2}[A-Z]'"
            return f"CASE WHEN NOT regexp_full_match({value}, {naf}) THEN 'invalid_naf' END"
        case "idcc":
            return f"CASE WHEN NOT regexp_full_match({value}, '\\d{{4}}') THEN 'invalid_idcc' END"
        case "choice":
            values = ", ".join(map(_literal, column.choices))
            return f"CASE WHEN {value} NOT IN ({values}) THEN 'invalid_choice' END"
        case "text":
            return f"CASE WHEN length({value}) > {column.max_length} THEN 'too_long' END"
        case "date":
            return (
                f"CASE WHEN NOT regexp_full_match({value}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
                # DuckDB reads year 0 as 1 BC, which neither Python nor PostgreSQL would take
                f"OR COALESCE(TRY_CAST({value} AS DATE) < DATE '0001-01-01', TRUE) "
                f"THEN 'invalid_date' END"
            )
        case "decimal" | "integer":
            fraction = "(\\.[0-9]{1,2})?" if column.check == "decimal" else ""
            code = "invalid_number" if column.check == "decimal" else "invalid_integer"
            return (
                f"CASE WHEN regexp_full_match({value}, '-[0-9]+{fraction}') "
                f"THEN 'negative_number' "
                f"WHEN NOT regexp_full_match({value}, '[0-9]+{fraction}') THEN '{code}' "
                f"WHEN NOT regexp_full_match({value}, '0*[0-9]{{1,{column.digits}}}{fraction}') "
                f"THEN 'number_too_large' END"
            )
    raise ValueError(column.check)


# The costly checks of one value (NIR and SIRET keys, dates) are computed once per distinct
# value, then joined back: a file of ten million contracts names a few hundred thousand people,
# a few thousand employers and dates. Cheap checks, and amounts (nearly all distinct), run on
# each row.
LOOKED_UP = frozenset({"nir", "siret", "date"})


def _missing_sql(column: Column) -> str:
    return "'required'" if column.required else "NULL"


def _code_sql(column: Column, value: str) -> str:
    return (
        f"CASE WHEN {value} IS NULL THEN {_missing_sql(column)} "
        f"ELSE {_problem_sql(column, value)} END"
    )


def _typed_sql(column: Column, value: str) -> str:
    if column.check == "nir":  # a checked NIR is kept as its blind index only
        return f"CASE WHEN {nir_problem_sql(value)} IS NULL THEN {NIR_INDEX_SQL}({value}) END"
    typed = f"TRY_CAST({value} AS {SQL_TYPES.get(column.check, 'VARCHAR')})"
    return typed if column.default is None else f"COALESCE({typed}, {column.default})"


def create_checked(duck: duckdb.DuckDBPyConnection, spec: Spec) -> None:
    """The table ``checked``: each row of ``lines`` (text columns and ``line``) with its line,
    whether it is ``valid``, its typed values (meaningful when valid) and, for each check, the
    problem code or NULL (``problem_<position>``: the columns in order, then end ≥ start).
    The distinct values are read from ``raw``; the NIR's value is its blind index."""
    register_nir_index(duck)
    codes, typed, joins = [], {}, []
    for position, column in enumerate(spec.columns, start=1):
        name = _quote(column.name)
        if column.check in LOOKED_UP:
            table = f"check_{position}"
            duck.execute(
                f"CREATE TEMP TABLE {table} AS SELECT raw, {_code_sql(column, 'v')} AS code, "
                f"{_typed_sql(column, 'v')} AS typed FROM (SELECT raw, "
                f"{_value_sql(column, 'raw')} AS v FROM (SELECT DISTINCT {name} AS raw FROM raw "
                f"WHERE {name} IS NOT NULL))"
            )
            # An equality join (faster than IS NOT DISTINCT FROM): a missing value is NULL.
            joins.append(f"LEFT JOIN {table} ON lines.{name} = {table}.raw")
            code = (
                f"CASE WHEN lines.{name} IS NULL THEN {_missing_sql(column)} ELSE {table}.code END"
            )
            typed[column.name] = (
                f"{table}.typed"
                if column.default is None
                else f"COALESCE({table}.typed, {column.default})"
            )
        else:
            value = _value_sql(column, f"lines.{name}")
            code, typed[column.name] = _code_sql(column, value), _typed_sql(column, value)
        codes.append(code)
    start, end = (typed[name] for name in spec.ordered)
    codes.append(f"CASE WHEN {end} < {start} THEN 'end_before_start' END")
    problems = ", ".join(f"{code} AS problem_{n}" for n, code in enumerate(codes, start=1))
    values = ", ".join(f"{typed[c.name]} AS {_quote(c.field_name)}" for c in spec.columns)
    valid = " AND ".join(f"problem_{n} IS NULL" for n in range(1, len(codes) + 1))
    duck.execute(
        f"CREATE TEMP TABLE checked AS SELECT *, {valid} AS valid FROM "
        f"(SELECT line, {values}, {problems} FROM lines {' '.join(joins)})"
    )


def _problems_sql(spec: Spec) -> str:
    """The problems of the invalid rows of ``checked``: line, position, column, code."""
    columns = [c.name for c in spec.columns] + [spec.ordered[1]]
    problems = ", ".join(
        f"{{'position': {n}, 'column': {_literal(name)}, 'code': problem_{n}}}"
        for n, name in enumerate(columns, start=1)
    )
    return (
        f'SELECT line, p.position, p.column AS "column", p.code FROM '
        f"(SELECT line, unnest([{problems}]) AS p FROM checked WHERE NOT valid) "
        f"WHERE p.code IS NOT NULL"
    )


# -- errors ------------------------------------------------------------------------------------


class ImportFileError(DomainError):
    """The file cannot be imported at all (unreadable, a required column missing)."""

    code = "import_file_invalid"
    default_message = _("This file cannot be imported.")


class AlreadyImported(DomainError):
    code = "already_imported"

    def __init__(self, batch: EvidenceBatch) -> None:
        self.batch = batch
        super().__init__(
            _("This file was already imported as batch %(id)s on %(date)s.")
            % {"id": batch.pk, "date": batch.loaded_at.date().isoformat()}
        )


# -- reading the file --------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (UnicodeDecodeError, csv.Error):
        raise ImportFileError(_("The header is not a UTF-8 CSV line.")) from None


def _check_header(spec: Spec, names: Sequence[str]) -> list[str]:
    """The warnings about the header (extra columns); ImportFileError if a column is missing."""
    missing = [c.name for c in spec.columns if c.required and c.name not in names]
    if missing:
        raise ImportFileError(
            _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)}
        )
    known = {c.name for c in spec.columns}
    extra = [name for name in names if name not in known]
    return [f"ignored column(s): {', '.join(extra)}"] if extra else []


@dataclass
class Reader:
    """The file loaded in DuckDB as ``lines`` (text columns and ``line``), and the lines it
    could not read (structural CSV errors) as ``unread``."""

    connection: duckdb.DuckDBPyConnection
    warnings: list[str]
    unread: int  # lines that could not be read, in ``unread`` (line, code)
    rows: int  # readable rows in ``lines``


def _read(spec: Spec, path: Path, connection: duckdb.DuckDBPyConnection) -> Reader:
    """Load the file's columns as text into ``raw``; ``lines`` is ``raw`` with each row's
    line."""
    path_sql = _literal(str(path))
    if _is_parquet(path):
        names = [
            row[0]
            for row in connection.execute(
                f"SELECT name FROM parquet_schema({path_sql}) WHERE num_children IS NULL"
            ).fetchall()
        ]
        warnings = _check_header(spec, names)
        present = [c.name for c in spec.columns if c.name in names]
        columns = [f"CAST({_quote(n)} AS VARCHAR) AS {_quote(n)}" for n in present]
        connection.execute(
            f"CREATE TEMP TABLE raw AS SELECT file_row_number + 2 AS line, {', '.join(columns)} "
            f"FROM read_parquet({path_sql}, file_row_number = true)"
        )
        connection.execute("CREATE TEMP TABLE unread (line BIGINT, code VARCHAR)")
        connection.execute("CREATE TEMP VIEW lines AS SELECT * FROM raw")
    else:
        header = _header(path)
        warnings = _check_header(spec, header)
        present = [c.name for c in spec.columns if c.name in header]
        types = ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in header)
        selected = ", ".join(_quote(n) for n in present)
        connection.execute(
            f"CREATE TEMP TABLE raw AS SELECT {selected} FROM read_csv({path_sql}, "
            f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
            f"columns = {{{types}}}, store_rejects = true, rejects_table = 'rejects', "
            f"rejects_scan = 'reject_scans')"
        )
        # A line DuckDB cannot read is reported as a whole (no column).
        codes = " ".join(
            f"WHEN {_literal(kind)} THEN {_literal(code)}" for kind, code in CSV_REJECTS.items()
        )
        connection.execute(
            f"CREATE TEMP TABLE unread AS SELECT line, CASE min(CAST(error_type AS VARCHAR)) "
            f"{codes} ELSE 'malformed_line' END AS code FROM rejects GROUP BY line"
        )
        # DuckDB leaves rejected lines out: the k-th row read (rowid k - 1) is on line
        # k + 1 + the number of rejected lines before it, i.e. of rejected lines r_i (the i-th)
        # with r_i - i - 1 < k (r_i - i - 1 rows were read before r_i).
        connection.execute(
            "CREATE TEMP TABLE shifts AS SELECT r - i - 1 AS before, max(i) AS shift FROM "
            "(SELECT line AS r, row_number() OVER (ORDER BY line) AS i "
            " FROM (SELECT DISTINCT line FROM rejects)) GROUP BY before"
        )
        unread_lines = connection.execute("SELECT count(*) FROM shifts").fetchall()[0][0]
        connection.execute(
            "CREATE TEMP VIEW lines AS SELECT k + 1 + COALESCE(shift, 0) AS line, r.* "
            "EXCLUDE (k) FROM (SELECT rowid + 1 AS k, * FROM raw) AS r "
            "ASOF LEFT JOIN shifts ON r.k > shifts.before"
            if unread_lines
            else "CREATE TEMP VIEW lines AS SELECT rowid + 2 AS line, * FROM raw"
        )
    for column in spec.columns:
        if column.name not in present:
            connection.execute(f"ALTER TABLE raw ADD COLUMN {_quote(column.name)} VARCHAR")
    rows = connection.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    unread = connection.execute("SELECT count(*) FROM unread").fetchall()[0][0]
    return Reader(connection, warnings, int(unread), int(rows))


# -- writing rows ------------------------------------------------------------------------------


def _column_names(spec: Spec, names: Sequence[str]) -> list[str]:
    meta = spec.model._meta
    fields = [meta.get_field(name) for name in names]
    return [_quote(f.column) for f in fields if isinstance(f, models.Field)]


def _columns(spec: Spec, names: Sequence[str]) -> str:
    return ", ".join(_column_names(spec, names))


@contextmanager
def _piped(duck: duckdb.DuckDBPyConnection, query: str, directory: Path) -> Iterator[IO[bytes]]:
    """The rows of ``query`` as CSV, read from a pipe while DuckDB writes them (so that
    PostgreSQL takes them in as DuckDB sorts and writes the rest)."""
    pipe = directory / "rows.pipe"
    os.mkfifo(pipe)
    failure: list[BaseException] = []

    def export() -> None:
        try:
            duck.execute(f"COPY ({query}) TO {_literal(str(pipe))} (FORMAT csv, HEADER false)")
        except BaseException as error:  # re-raised by the reader
            failure.append(error)
            with pipe.open("wb"):  # the reader sees the end even if DuckDB never opened it
                pass

    writer = threading.Thread(target=export, name="evidence-export", daemon=True)
    writer.start()
    with pipe.open("rb") as handle:
        try:
            yield handle
        finally:
            while handle.read(BLOCK_BYTES):  # a reader that stopped early: let DuckDB end
                pass
            writer.join()
    if failure:
        raise failure[0]


def _copy_new_rows(
    spec: Spec,
    batch: EvidenceBatch,
    duck: duckdb.DuckDBPyConnection,
    workdir: Path,
    progress: Progress | None,
) -> int:
    """PostgreSQL: read back the keys already stored for the file's people and leave those rows
    out, as the file's repeated keys, then ``COPY`` the others, sorted by person (the blind
    index of the NIR: its index is built in one pass), into the batch's partition
    (:mod:`entraide.evidence.partitions`). Returns the number of rows written."""
    table = _quote(spec.model._meta.db_table)
    with psycopg_cursor() as cursor:
        # One import of a kind writes at a time: the stored keys read here stay true until it
        # commits.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"evidence.{spec.kind}"])
        people = workdir / "people.csv"
        duck.execute(
            f"COPY (SELECT DISTINCT nir_index FROM checked WHERE valid) "
            f"TO {_literal(str(people))} (FORMAT csv, HEADER false)"
        )
        cursor.execute(
            f"CREATE TEMP TABLE evidence_people (nir_index varchar({INDEX_LENGTH})) ON COMMIT DROP"
        )
        with people.open("rb") as indexes:
            copy_from(cursor, "COPY evidence_people FROM STDIN (FORMAT csv)", indexes)
        stored = workdir / "stored.csv"
        copy_to(
            cursor,
            f"COPY (SELECT {_columns(spec, spec.key)} FROM {table} WHERE nir_index IN "
            f"(SELECT nir_index FROM evidence_people)) TO STDOUT (FORMAT csv)",
            stored,
        )
        cursor.execute("DROP TABLE evidence_people")
        if stored.stat().st_size:
            checks = {c.field_name: c.check for c in spec.columns}
            types = ", ".join(
                f"{_literal(name)}: {_literal(SQL_TYPES.get(checks[name], 'VARCHAR'))}"
                for name in spec.key
            )
            duck.execute(
                # PostgreSQL writes an empty text as "" and NULL as nothing: "" stays ''.
                f"CREATE TEMP TABLE stored AS SELECT * FROM read_csv({_literal(str(stored))}, "
                f"header = false, auto_detect = false, allow_quoted_nulls = false, "
                f"columns = {{{types}}})"
            )
            duck.execute(
                f"INSERT INTO skipped SELECT line FROM checked JOIN stored USING ({_keys(spec)}) "
                f"WHERE valid"
            )
        (valid, skipped) = duck.execute(
            "SELECT (SELECT count(*) FROM checked WHERE valid), "
            "(SELECT count(DISTINCT line) FROM skipped)"
        ).fetchall()[0]
        rows = valid - skipped
        partition = partitions.create_detached(spec.model, batch.pk)
        columns = _columns(spec, ("batch", *spec.fields))
        sent = 0

        def tell(block: bytes) -> None:
            nonlocal sent
            if progress is not None:
                sent += block.count(b"\n")
                progress(min(sent, rows), rows)

        fresh_sorted = f"SELECT {batch.pk}, * FROM ({_fresh_sql(spec)}) ORDER BY nir_index"
        with _piped(duck, fresh_sorted, workdir) as handle:
            copy_from(cursor, f"COPY {partition} ({columns}) FROM STDIN (FORMAT csv)", handle, tell)
        # DuckDB writes the columnar copy while PostgreSQL builds the indexes.
        names = ", ".join(f"{_quote(c.field_name)} AS {_quote(c.copy_name)}" for c in spec.columns)
        copy_query = f"SELECT {names} FROM ({_fresh_sql(spec)})"
        with ThreadPoolExecutor(max_workers=1) as pool:
            copied = pool.submit(columnar.write, duck, spec.kind, batch.pk, copy_query)
            partitions.attach(spec.model, batch.pk)
            copied.result()
        columnar.keep_on_commit(spec.kind, batch.pk)
    return int(rows)


def _keys(spec: Spec) -> str:
    return ", ".join(_quote(name) for name in spec.key)


def _create_new_rows(
    spec: Spec,
    batch: EvidenceBatch,
    query: duckdb.DuckDBPyConnection,
    rows: int,
    progress: Progress | None,
) -> int:
    """Other databases: ``bulk_create`` the rows whose natural key is not stored yet, chunk by
    chunk (one look-up of the chunk's people per chunk)."""
    positions = [spec.fields.index(name) for name in spec.key]
    person = spec.fields.index("nir_index")
    inserted = handled = 0
    while chunk := query.fetchmany(CHUNK_ROWS):
        people = {row[person] for row in chunk}
        stored = set(
            spec.model._default_manager.filter(nir_index__in=people)
            .values_list(*spec.key)
            .iterator()
        )
        fresh = [row for row in chunk if tuple(row[p] for p in positions) not in stored]
        spec.model._default_manager.bulk_create(
            [spec.model(batch=batch, **dict(zip(spec.fields, row, strict=True))) for row in fresh],
            batch_size=500,
        )
        inserted += len(fresh)
        handled += len(chunk)
        if progress is not None:
            progress(handled, rows)
    return inserted


def _error_report_path(batch: EvidenceBatch) -> Path:
    return Path(settings.EXPORTS_DIR) / "evidence" / f"batch-{batch.pk}-errors.csv"


def _write_error_report(duck: duckdb.DuckDBPyConnection, spec: Spec, batch: EvidenceBatch) -> str:
    """The CSV of bad rows (line, column, code, message in the active language), in line order
    and, within a line, in column order; written by DuckDB."""
    path = _error_report_path(batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    duck.execute("CREATE TEMP TABLE messages (code VARCHAR, message VARCHAR)")
    duck.executemany(
        "INSERT INTO messages VALUES (?, ?)", [(c, str(m)) for c, m in ROW_PROBLEMS.items()]
    )
    duck.execute(
        f'COPY (SELECT line, "column", code, message FROM ('
        f"{_problems_sql(spec)} UNION ALL SELECT line, 0, '', code FROM unread"
        f") JOIN messages USING (code) ORDER BY line, position) "
        f"TO {_literal(str(path))} (FORMAT csv, HEADER)"
    )
    return str(path)


# -- the service -------------------------------------------------------------------------------


def import_evidence_file(
    *,
    actor: Any,
    kind: str,
    path: Path,
    source: str = "",
    progress: Progress | None = None,
    memory_limit: str | None = None,
) -> EvidenceBatch:
    """Validate and import one file as one batch; the batch says what happened.

    Refuses a file already imported for this kind (:class:`AlreadyImported`) and a file that
    cannot be read or lacks a required column (:class:`ImportFileError`, before any batch is
    created). Rows go in in one transaction: a failure leaves none and marks the batch failed.
    """
    spec = SPECS[kind]
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(_("No such file: %(name)s.") % {"name": path.name})
    if actor is not None and not actor.has_perm("evidence.add_evidencebatch"):
        raise PermissionDenied()
    digest = file_sha256(path)
    earlier = _imported(spec.kind, digest)
    if earlier is not None:  # before reading the file; checked again when the batch starts
        raise AlreadyImported(earlier)
    with tempfile.TemporaryDirectory(prefix="entraide-import-") as spill:
        duck = duckdb.connect(config={"temp_directory": spill})
        try:
            limit = memory_limit or settings.EVIDENCE_IMPORT_MEMORY_LIMIT
            duck.execute(f"SET memory_limit = {_literal(limit)}")
            try:
                reader = _read(spec, path, duck)
            except duckdb.Error as error:
                raise ImportFileError(
                    _("The file cannot be read as CSV or Parquet (%(error)s).")
                    % {"error": str(error).splitlines()[0]}
                ) from None
            batch = _start_batch(actor, spec, path, source or path.name, digest, reader)
            try:
                _import_rows(actor, spec, batch, reader, Path(spill), progress)
            except BaseException as error:
                _fail_batch(batch, error)
                raise
        finally:
            duck.close()
    return batch


def _start_batch(
    actor: Any, spec: Spec, path: Path, source: str, digest: str, reader: Reader
) -> EvidenceBatch:
    try:
        with transaction.atomic(durable=True):
            if actor is not None and not actor.has_perm("evidence.add_evidencebatch"):
                raise PermissionDenied()
            earlier = _imported(spec.kind, digest)
            if earlier is not None:
                raise AlreadyImported(earlier)
            return EvidenceBatch.objects.create(
                kind=spec.kind,
                source=source[:200],
                file_name=path.name[:255],
                sha256=digest,
                status=EvidenceBatch.Status.RUNNING,
                loaded_by=actor,
                warnings=reader.warnings,
            )
    except IntegrityError:  # the same file, started at the same moment by someone else
        earlier = _imported(spec.kind, digest)
        if earlier is None:
            raise
        raise AlreadyImported(earlier) from None


def _imported(kind: str, digest: str) -> EvidenceBatch | None:
    """The batch that imported (or is importing) this file for this kind, if any."""
    return EvidenceBatch.objects.filter(
        kind=kind,
        sha256=digest,
        status__in=[EvidenceBatch.Status.RUNNING, EvidenceBatch.Status.DONE],
    ).first()


def _find_repeated_keys(duck: duckdb.DuckDBPyConnection, spec: Spec) -> None:
    """The table ``skipped``: the lines of valid rows whose natural key an earlier line of the
    file has (the first one stays); the caller adds the rows whose key is stored already."""
    keys = _keys(spec)
    # Grouping one hash of the key first is much cheaper than grouping the key's columns;
    # only the rows whose hash repeats are grouped by their key (hashes may collide).
    duck.execute(
        f"CREATE TEMP TABLE skipped AS WITH repeated_hashes AS ("
        f"SELECT hash({keys}) AS h FROM checked WHERE valid GROUP BY h HAVING count(*) > 1), "
        f"repeated AS (SELECT {keys}, min(line) AS first FROM checked WHERE valid "
        f"AND hash({keys}) IN (SELECT h FROM repeated_hashes) GROUP BY {keys} "
        f"HAVING count(*) > 1) "
        f"SELECT line FROM checked JOIN repeated USING ({keys}) WHERE valid AND line <> first"
    )


def _fresh_sql(spec: Spec) -> str:
    """The valid rows not ``skipped``, with the model's fields."""
    return (
        f"SELECT {', '.join(_quote(name) for name in spec.fields)} FROM checked "
        f"ANTI JOIN skipped USING (line) WHERE valid"
    )


def _period(spec: Spec, duck: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    days = " UNION ALL ".join(
        f"SELECT {_quote(name)} AS day FROM checked WHERE valid" for name in spec.period
    )
    first, last = duck.execute(f"SELECT min(day), max(day) FROM ({days})").fetchall()[0]
    return first, last


def _import_rows(
    actor: Any,
    spec: Spec,
    batch: EvidenceBatch,
    reader: Reader,
    workdir: Path,
    progress: Progress | None,
) -> None:
    duck = reader.connection
    create_checked(duck, spec)
    duck.execute("DROP VIEW lines")
    duck.execute("DROP TABLE raw")
    (valid,) = duck.execute("SELECT count(*) FROM checked WHERE valid").fetchall()[0]
    rejected = reader.rows - valid + reader.unread
    report = _write_error_report(duck, spec, batch) if rejected else ""
    _find_repeated_keys(duck, spec)
    if progress is not None:
        progress(0, valid)
    with transaction.atomic(durable=True):
        if connection.vendor == "postgresql":
            imported = _copy_new_rows(spec, batch, duck, workdir, progress)
        else:
            query = duck.execute(_fresh_sql(spec))
            imported = _create_new_rows(spec, batch, query, valid, progress)
        duplicates = valid - imported
        batch.status = EvidenceBatch.Status.DONE
        batch.rows_read = reader.rows + reader.unread
        batch.rows = imported
        batch.rows_rejected = rejected
        batch.rows_duplicate = duplicates
        batch.period_start, batch.period_end = _period(spec, duck)
        batch.error_report = report
        batch.finished_at = timezone.now()
        batch.save()
        audit.record(
            actor=actor,
            action="evidence.batch_imported",
            obj=batch,
            changes={
                "kind": spec.kind,
                "file": batch.file_name,
                "sha256": batch.sha256,
                "read": batch.rows_read,
                "imported": imported,
                "rejected": rejected,
                "duplicates": duplicates,
            },
        )
        if imported:
            transaction.on_commit(lambda: announce_change(batch.pk, spec.kind, "imported"))


def _fail_batch(batch: EvidenceBatch, error: BaseException) -> None:
    columnar.discard(batch.kind, batch.pk)
    _error_report_path(batch).unlink(missing_ok=True)
    with transaction.atomic(durable=True):
        batch.status = EvidenceBatch.Status.FAILED
        batch.finished_at = timezone.now()
        batch.error_report = ""
        batch.save(update_fields=["status", "finished_at", "error_report"])
        audit.record(
            actor=batch.loaded_by,
            action="evidence.batch_failed",
            obj=batch,
            changes={"error": type(error).__name__},
        )


def rollback_batch(*, actor: Any, batch: EvidenceBatch) -> EvidenceBatch:
    """Delete every row of an imported batch, in one transaction; the batch stays, rolled back."""
    with transaction.atomic(durable=True):
        if actor is not None and not actor.has_perm("evidence.delete_evidencebatch"):
            raise PermissionDenied()
        batch = EvidenceBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != EvidenceBatch.Status.DONE:
            raise InvalidTransition(_("Only an imported batch can be rolled back."))
        model = SPECS[batch.kind].model
        if partitions.partitioned():
            deleted = partitions.drop(model, batch.pk)
            rolled = (batch.kind, batch.pk)
            transaction.on_commit(lambda: columnar.discard(*rolled), robust=True)
        else:
            deleted, _counts = model._default_manager.filter(batch=batch).delete()
        batch.status = EvidenceBatch.Status.ROLLED_BACK
        batch.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="evidence.batch_rolled_back",
            obj=batch,
            changes={"kind": batch.kind, "deleted": deleted},
        )
        if deleted:
            rolled_back = (batch.pk, batch.kind)
            transaction.on_commit(lambda: announce_change(*rolled_back, "rolled_back"))
    return batch
