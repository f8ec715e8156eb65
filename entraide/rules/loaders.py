"""Reading the files of FORMATS.md into DuckDB for evaluation (``entraide rules evaluate``).

Evidence (``declarations``, ``rights``, ``benefits``, ``cancellations``) comes as CSV with a
header or as Parquet with the same columns; a missing file is an empty table. A bad row is
reported with its line number (CSV) or row number (Parquet) and the others load. Applicants come
from ``applicants.jsonl``: a bad line is reported with its line number and reason and skipped.

The tables hold what :mod:`entraide.rules.batch` expects: text never NULL (empty instead), each
NIR replaced by its blind index (:func:`entraide.core.crypto.blind_index`, what the evidence
tables and the applications hold, so that a dry run joins people as the fund's data does; no
NIR in clear stays in DuckDB's tables), required dates present, contracts that end on or after
they start, 2 decimal places for hours and pay.
"""

# ruff: noqa: S608  (SQL built from the fixed column lists below; file paths go through literals)

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from duckdb.func import FunctionNullHandling, PythonUDFType

from entraide.core.crypto import blind_index
from entraide.rules.batch import FACT_SQL_TYPES, canonical_number, fact_column, quote
from entraide.rules.document import RuleDocument
from entraide.rules.engine import FactError, facts_from
from entraide.rules.expressions import number_problem, sql_literal
from entraide.rules.records import Benefit, Cancellation, Declaration, PersonEvidence, Rights

Report = Callable[[str], None]
MAX_REPORTED = 100  # bad rows reported one by one per file; beyond, a count


class LoadError(ValueError):
    """A file that cannot be read at all (missing columns, not CSV/Parquet)."""


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    required: bool = False  # a row without a value is bad
    in_header: bool = True  # the header must name it
    default: str | None = None  # SQL for an empty value (text: '')


def _text(name: str, required: bool = False, in_header: bool = True) -> Column:
    return Column(name, "VARCHAR", required=required, in_header=in_header, default="''")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    # SQL condition a row must meet besides its required values, and why a row fails it
    check: tuple[str, str] | None = None
    # the same check on the text of a CSV row, to find the line numbers of the rows it drops
    check_row: Callable[[dict[str, str]], bool] | None = None


def _ends_before_start(row: dict[str, str]) -> bool:
    start, end = (row.get("start") or "").strip(), (row.get("end") or "").strip()
    return bool(start and end and end < start)  # ISO dates sort as text


TABLES = (
    Table(
        "declarations",
        (
            _text("nir", required=True),
            _text("siret"),
            _text("naf"),
            _text("idcc"),
            _text("contract_type"),
            Column("start", "DATE", required=True),
            Column("end", "DATE", required=True),
            Column("hours", "DECIMAL(18,2)", in_header=False),
            Column("cachets", "INTEGER", in_header=False),
            Column("gross_pay", "DECIMAL(18,2)", in_header=False, default="0"),
        ),
        check=('"end" >= start', "the contract ends before it starts"),
        check_row=_ends_before_start,
    ),
    Table(
        "rights",
        (
            _text("nir", required=True),
            _text("annex"),
            Column("opened_on", "DATE"),
            Column("ends_on", "DATE"),
            _text("status"),
            _text("reason", in_header=False),
        ),
    ),
    Table(
        "benefits",
        (
            _text("nir", required=True),
            _text("scheme"),
            Column("from", "DATE", required=True),
            Column("to", "DATE", in_header=False),
        ),
    ),
    Table(
        "cancellations",
        (
            _text("nir", required=True),
            _text("siret", in_header=False),
            Column("date", "DATE", required=True),
            Column("cachets", "INTEGER", in_header=False, default="1"),
            Column("signed_on", "DATE", in_header=False),
        ),
    ),
)
_names = count(1)

# -- NIRs in clear become their blind index ----------------------------------------------------

NIR_INDEX_SQL = "entraide_nir_index"  # the SQL function: a NIR (as written) -> its blind index


def _nir_indexes(nirs: pa.Array) -> pa.Array:
    """:func:`entraide.core.crypto.blind_index` of each NIR of an Arrow vector (NULL stays
    NULL): the function DuckDB calls once per vector rather than once per value."""
    return pa.array(
        [None if nir is None else blind_index("nir", nir) for nir in nirs.to_pylist()],
        pa.string(),
    )


def register_nir_index(connection: duckdb.DuckDBPyConnection) -> str:
    """Make ``entraide_nir_index(text)`` callable in ``connection``; returns its name. Hashing
    is the costly part of reading a file: callers apply it to each distinct NIR, not each row."""
    (known,) = connection.execute(
        "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", [NIR_INDEX_SQL]
    ).fetchall()[0]
    if not known:
        connection.create_function(
            NIR_INDEX_SQL,
            _nir_indexes,
            ["VARCHAR"],
            "VARCHAR",
            type=PythonUDFType.ARROW,
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
    return NIR_INDEX_SQL


def _clear_nir_sql(value: str) -> str:
    return f"upper(replace(CAST({value} AS VARCHAR), ' ', ''))"


def _index_people(connection: duckdb.DuckDBPyConnection, source: str) -> str:
    """A temporary table mapping each distinct NIR of ``source`` (spaces and case aside) to its
    blind index (``clear_nir``, ``nir_index``); its name."""
    name = f"people_{next(_names)}"
    function = register_nir_index(connection)
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT clear_nir, {function}(clear_nir) AS "
        f"nir_index FROM (SELECT DISTINCT {_clear_nir_sql('nir')} AS clear_nir FROM {source} "
        f"WHERE nir IS NOT NULL)"
    )
    return name


def _normalised(
    table: Table, source: str, keep: tuple[str, ...] = (), people: str | None = None
) -> str:
    """The table's columns read from ``source`` (typed columns), with defaults (and the columns
    ``keep`` as they are). With ``people`` (:func:`_index_people` of ``source``) each NIR
    becomes its blind index; without, ``nir`` is taken as it is: an index already."""
    columns = [f"src.{quote(name)} AS {quote(name)}" for name in keep]
    joins = ""
    for column in table.columns:
        value = f"src.{quote(column.name)}"
        if column.name == "nir":
            if people is not None:
                value = f"{people}.nir_index"
                joins = f" LEFT JOIN {people} ON {_clear_nir_sql('src.nir')} = {people}.clear_nir"
        elif column.default is not None:
            value = f"COALESCE({value}, {column.default})"
        columns.append(f"CAST({value} AS {column.sql_type}) AS {quote(column.name)}")
    return f"SELECT {', '.join(columns)} FROM {source} AS src{joins}"


def create_from(
    connection: duckdb.DuckDBPyConnection, table: Table, source: str, name: str | None = None
) -> None:
    """The table (named ``name``, else as ``table``) made of the usable rows of ``source`` (its
    columns, as text or typed; ``nir`` holding blind indexes already, as the evidence tables
    do), normalised as the files' rows are."""
    connection.execute(
        f"CREATE OR REPLACE TABLE {quote(name or table.name)} AS "
        f"SELECT * FROM ({_normalised(table, source)}) WHERE {_valid(table)}"
    )


def _valid(table: Table) -> str:
    conditions = [
        f"{quote(c.name)} IS NOT NULL"
        + (f" AND {quote(c.name)} <> ''" if c.sql_type == "VARCHAR" else "")
        for c in table.columns
        if c.required
    ]
    if table.check is not None:
        conditions.append(table.check[0])
    return " AND ".join(conditions) or "TRUE"


def scalar(connection: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The one value of a one-row query (the result read to its end, as DuckDB expects before
    the connection's next statement)."""
    rows = connection.execute(sql).fetchall()
    return rows[0][0] if rows else None


def create_empty(connection: duckdb.DuckDBPyConnection, table: Table) -> None:
    columns = ", ".join(f"{quote(c.name)} {c.sql_type}" for c in table.columns)
    connection.execute(f"CREATE OR REPLACE TABLE {quote(table.name)} ({columns})")


def load_evidence(
    connection: duckdb.DuckDBPyConnection, directory: Path, report: Report
) -> dict[str, int]:
    """Load every evidence file found in ``directory``; the number of rows of each table."""
    loaded = {}
    for table in TABLES:
        csv_path = directory / f"{table.name}.csv"
        parquet_path = directory / f"{table.name}.parquet"
        if csv_path.exists():
            _load_csv(connection, table, csv_path, report)
        elif parquet_path.exists():
            _load_parquet(connection, table, parquet_path, report)
        else:
            create_empty(connection, table)
        loaded[table.name] = int(scalar(connection, f"SELECT count(*) FROM {quote(table.name)}"))
    return loaded


def _reporter(path: Path, report: Report) -> Callable[[str, str], None]:
    seen = count(1)

    def bad(where: str, reason: str) -> None:
        number = next(seen)
        if number <= MAX_REPORTED:
            report(f"{path.name} {where}: {reason}")
        elif number == MAX_REPORTED + 1:
            report(f"{path.name}: more bad rows, not listed")

    return bad


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def _check_header(table: Table, path: Path, names: Iterable[str], report: Report) -> set[str]:
    present = set(names)
    known = {c.name for c in table.columns}
    missing = [c.name for c in table.columns if c.in_header and c.name not in present]
    if missing:
        raise LoadError(f"{path.name}: missing column(s) {', '.join(missing)}")
    extra = sorted(present - known)
    if extra:
        report(f"{path.name}: column(s) {', '.join(extra)} ignored")
    return present


REJECT_REASONS = {
    "MISSING COLUMNS": "too few values",
    "TOO MANY COLUMNS": "too many values",
    "UNQUOTED VALUE": "a value with a quote must be quoted",
    "INVALID ENCODING": "not UTF-8 text",
    "LINE SIZE OVER MAXIMUM": "line too long",
}
TYPE_WORDS = {"DATE": "a date (YYYY-MM-DD)", "VARCHAR": "text", "INTEGER": "a whole number"}


def _load_csv(
    connection: duckdb.DuckDBPyConnection, table: Table, path: Path, report: Report
) -> None:
    header = _header(path)
    if not header:
        report(f"{path.name}: empty file")
        create_empty(connection, table)
        return
    present = _check_header(table, path, header, report)
    types = {c.name: c.sql_type for c in table.columns}
    # Extra columns are read as text, then left out.
    columns = (
        "{"
        + ", ".join(f"{sql_literal(n)}: {sql_literal(types.get(n, 'VARCHAR'))}" for n in header)
        + "}"
    )
    required_dates = [c.name for c in table.columns if c.required and c.sql_type == "DATE"]
    suffix = next(_names)
    rejects, scans = f"rejects_{suffix}", f"reject_scans_{suffix}"
    # force_not_null: an empty required date becomes '' and fails its cast, so DuckDB reports
    # its line like any other bad value.
    source = (
        f"read_csv({sql_literal(str(path))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', dateformat = '%Y-%m-%d', columns = {columns}, "
        + (
            f"force_not_null = [{', '.join(map(sql_literal, required_dates))}], "
            if required_dates
            else ""
        )
        + f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scans}')"
    )
    absent = [c for c in table.columns if c.name not in present]
    if absent:
        nulls = ", ".join(f"CAST(NULL AS {c.sql_type}) AS {quote(c.name)}" for c in absent)
        source = f"(SELECT *, {nulls} FROM {source})"
    connection.execute(f"CREATE OR REPLACE TEMP TABLE raw_{suffix} AS SELECT * FROM {source}")
    bad = _reporter(path, report)
    rejected = set()
    for line, kinds, names in connection.execute(
        f"SELECT line, list(DISTINCT CAST(error_type AS VARCHAR)), list(DISTINCT column_name) "
        f"FROM {rejects} GROUP BY line ORDER BY line"
    ).fetchall():
        reasons = [REJECT_REASONS.get(kind, kind.lower()) for kind in kinds if kind != "CAST"]
        for name in sorted(n for n in names if n) if "CAST" in kinds else []:
            reasons.append(f"{name}: not {TYPE_WORDS.get(types.get(name, ''), 'a number')}")
        bad(f"line {line}", "; ".join(reasons))
        rejected.add(int(line))
    connection.execute(f"DROP TABLE {rejects}; DROP TABLE {scans}")
    _finish(connection, table, f"raw_{suffix}", path, bad, rejected)


def _finish(
    connection: duckdb.DuckDBPyConnection,
    table: Table,
    raw: str,
    path: Path,
    bad: Callable[[str, str], None],
    rejected: set[int],
) -> None:
    """Keep the valid rows of ``raw``, their NIRs indexed; report the others (rare) with their
    line numbers."""
    people = _index_people(connection, raw)
    normalised = _normalised(table, raw, people=people)
    connection.execute(
        f"CREATE OR REPLACE TABLE {quote(table.name)} AS "
        f"SELECT * FROM ({normalised}) WHERE {_valid(table)}"
    )
    dropped = scalar(connection, f"SELECT count(*) FROM ({normalised}) WHERE NOT ({_valid(table)})")
    if dropped:
        _report_dropped(table, path, bad, rejected)
    connection.execute(f"DROP TABLE {raw}; DROP TABLE {people}")


def _report_dropped(
    table: Table, path: Path, bad: Callable[[str, str], None], rejected: set[int]
) -> None:
    """Find the lines of rows that have a value in every column but fail a check of meaning
    (a second, slow read of the file: it only happens when such rows exist). Lines are counted
    as DuckDB counts them: the header is line 1, each record one line."""
    required = [c.name for c in table.columns if c.required and c.sql_type == "VARCHAR"]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if line in rejected:
                continue
            missing = [name for name in required if not (row.get(name) or "").strip()]
            if missing:
                bad(f"line {line}", f"no {', '.join(missing)}")
            elif table.check_row is not None and table.check is not None and table.check_row(row):
                bad(f"line {line}", table.check[1])


def _load_parquet(
    connection: duckdb.DuckDBPyConnection, table: Table, path: Path, report: Report
) -> None:
    names = [
        row[0]
        for row in connection.execute(
            f"SELECT name FROM parquet_schema({sql_literal(str(path))}) WHERE num_children IS NULL"
        ).fetchall()
    ]
    present = _check_header(table, path, names, report)
    casts = []
    failed = []
    for column in table.columns:
        if column.name in present:
            cast = f"TRY_CAST({quote(column.name)} AS {column.sql_type})"
            casts.append(f"{cast} AS {quote(column.name)}")
            failed.append(f"({quote(column.name)} IS NOT NULL AND {cast} IS NULL)")
        else:
            casts.append(f"CAST(NULL AS {column.sql_type}) AS {quote(column.name)}")
    typed = (
        f"(SELECT file_row_number, {', '.join(casts)}, {' OR '.join(failed) or 'FALSE'} "
        f"AS cast_failed FROM read_parquet({sql_literal(str(path))}, file_row_number = true))"
    )
    # the NIRs as the file has them (one column read), each distinct one indexed once
    people = _index_people(connection, f"read_parquet({sql_literal(str(path))})")
    normalised = _normalised(table, typed, keep=("file_row_number", "cast_failed"), people=people)
    checked = f"(SELECT * FROM ({normalised}) WHERE NOT cast_failed AND {_valid(table)})"
    # One pass; the file is read a second time only if some rows were left out.
    connection.execute(
        f"CREATE OR REPLACE TABLE {quote(table.name)} AS "
        f"SELECT * EXCLUDE (file_row_number, cast_failed) FROM {checked}"
    )
    kept = scalar(connection, f"SELECT count(*) FROM {quote(table.name)}")
    total = scalar(
        connection, f"SELECT sum(num_rows) FROM parquet_file_metadata({sql_literal(str(path))})"
    )
    if kept != (total or 0):
        bad = _reporter(path, report)
        for (number,) in connection.execute(
            f"SELECT file_row_number FROM ({normalised}) "
            f"WHERE cast_failed OR NOT ({_valid(table)}) ORDER BY file_row_number"
        ).fetchall():
            bad(f"row {number + 1}", "a value of the wrong type, a missing value or end < start")
    connection.execute(f"DROP TABLE {people}")


# -- applicants --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    line: int
    ref: str
    nir: str | None  # the blind index of the NIR (the batch's person key), never the NIR
    facts: dict[str, Any]


def index_nir(value: Any) -> str | None:
    """The blind index of a NIR as a file gives it (spaces and case aside); None for none."""
    if value is None:
        return None
    return blind_index("nir", str(value)) or None


FACT_WORDS = {
    "number": "a number",
    "money": "an amount",
    "count": "a number",
    "date": "a date (YYYY-MM-DD)",
    "boolean": "true or false",
}


def parse_applicant(document: RuleDocument, line: int, text: str) -> Applicant:
    """One line of applicants.jsonl, or ValueError saying why it is not usable."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg}, column {error.colno})") from None
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    ref = record.get("ref")
    if not isinstance(ref, str | int) or isinstance(ref, bool) or not str(ref).strip():
        raise ValueError("no ref")
    declared = record.get("declared")
    if declared is not None and not isinstance(declared, dict):
        raise ValueError("'declared' is not a JSON object")
    try:
        facts = facts_from(document, record)
    except FactError as error:
        fact = document.fact(error.fact_id)
        expected = FACT_WORDS.get(fact.type if fact else "", "a valid value")
        raise ValueError(f"{error.fact_id}: {expected} was expected") from None
    for name, value in facts.items():
        if isinstance(value, Decimal):
            problem = number_problem(value)
            if problem:
                raise ValueError(f"{name}: {problem}")
            facts[name] = canonical_number(value)
    return Applicant(line=line, ref=str(ref).strip(), nir=index_nir(record.get("nir")), facts=facts)


def read_applicants(document: RuleDocument, path: Path, report: Report) -> Iterator[Applicant]:
    """The usable applicants of applicants.jsonl, in order; each bad line is reported."""
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                yield parse_applicant(document, number, text)
            except ValueError as error:
                report(f"{path.name} line {number}: {error}")
            except RecursionError:
                report(f"{path.name} line {number}: nested too deeply")


ARROW_TYPES = {
    "number": pa.decimal128(18, 4),
    "money": pa.decimal128(18, 4),
    "count": pa.decimal128(18, 4),
    "date": pa.date32(),
    "boolean": pa.bool_(),
    "choice": pa.string(),
    "country": pa.string(),
    "text": pa.string(),
}
assert set(ARROW_TYPES) == set(FACT_SQL_TYPES)


def create_applicants(
    connection: duckdb.DuckDBPyConnection,
    document: RuleDocument,
    applicants: Iterable[Applicant],
    chunk: int = 50_000,
) -> int:
    """The ``applicants`` table: ``_line``, ``ref``, ``nir`` (as given: the blind index) and
    one typed column per fact."""
    facts = [(f.id, fact_column(f.id), ARROW_TYPES[f.type]) for f in document.facts]
    schema = pa.schema(
        [("_line", pa.int64()), ("ref", pa.string()), ("nir", pa.string())]
        + [(column, arrow_type) for _, column, arrow_type in facts]
    )
    columns = ", ".join(
        ["_line BIGINT", "ref VARCHAR", "nir VARCHAR"]
        + [
            f"{quote(column)} {FACT_SQL_TYPES[f.type]}"
            for f, (_, column, _) in zip(document.facts, facts, strict=True)
        ]
    )
    connection.execute(f"CREATE OR REPLACE TABLE applicants ({columns})")
    total = 0
    batch: list[Applicant] = []

    def flush() -> None:
        arrays = [
            pa.array([a.line for a in batch], pa.int64()),
            pa.array([a.ref for a in batch], pa.string()),
            pa.array([a.nir for a in batch], pa.string()),
        ] + [
            pa.array([a.facts.get(fact_id) for a in batch], arrow_type)
            for fact_id, _, arrow_type in facts
        ]
        connection.register("applicants_chunk", pa.Table.from_arrays(arrays, schema=schema))
        connection.execute("INSERT INTO applicants SELECT * FROM applicants_chunk")
        connection.unregister("applicants_chunk")

    for applicant in applicants:
        batch.append(applicant)
        if len(batch) >= chunk:
            flush()
            total += len(batch)
            batch = []
    if batch:
        flush()
        total += len(batch)
    return total


# -- evidence indexed by person, for the per-applicant engine -----------------------------------


def evidence_by_nir(connection: duckdb.DuckDBPyConnection) -> dict[str, PersonEvidence]:
    """The evidence of every person in ``applicants``, in memory, by the blind index of their
    NIR (``Applicant.nir``)."""
    people: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    mine = "WHERE nir IN (SELECT nir FROM applicants)"
    queries: dict[str, tuple[str, Callable[..., Any]]] = {
        "declarations": (
            'siret, naf, idcc, contract_type, start, "end", hours, cachets, gross_pay',
            Declaration,
        ),
        "rights": ("annex, opened_on, ends_on, status, reason", Rights),
        "benefits": ('scheme, "from", "to"', Benefit),
        "cancellations": ("siret, date, cachets, signed_on", Cancellation),
    }
    for name, (columns, record) in queries.items():
        result = connection.execute(f"SELECT nir, {columns} FROM {name} {mine}")
        while rows := result.fetchmany(50_000):
            for nir, *values in rows:
                people[nir][name].append(record(*values))
    return {
        nir: PersonEvidence(
            declarations=tuple(records["declarations"]),
            rights=tuple(records["rights"]),
            benefits=tuple(records["benefits"]),
            cancellations=tuple(records["cancellations"]),
        )
        for nir, records in people.items()
    }


def connect(
    memory_limit: str | None = None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    if memory_limit:
        connection.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
    if threads:
        connection.execute(f"SET threads = {int(threads)}")
    return connection
