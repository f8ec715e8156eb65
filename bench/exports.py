"""Benchmark: exports of a fund's applications at 1,000,000 rows (issue 10: CSV and XLSX
streamed without timing out or exhausting memory).

A new database is migrated here: SQLite in a scratch folder (the embedded default), or, when
``DATABASE_URL`` is set, the PostgreSQL database it names, created and dropped by the benchmark
(it must not exist yet). One fund is filled in bulk (not measured): ``--rows`` synthetic
applications (Faker's fr_FR names, e-mails made of them, a telephone written "+33 …" that the
export must guard against formulas, submitted over 60 days, most in the first ones, and stored
in the order they arrived; one in five from a partner) written by ``executemany`` on SQLite or
``COPY`` on PostgreSQL, their tables' secondary indexes dropped meanwhile and built again after,
then in SQL: a current evaluation of every application (62 % eligible), awards for 30 % (a third
of them paid, each with its transfer in a batch sent to the bank), 40 % assigned among 5
reviewers. Then ``ANALYZE``.

Measured, in this process, in this order:

- the baseline, the plain lower bound: the product's own query (same SQL, same rows, same
  order) run on a raw DB-API cursor (``sqlite3``, or a ``psycopg`` server-side cursor) and its
  tuples written as they come by ``csv.writer``: no Django, no conversion, no labels;
- the real task, ``reporting.tasks.export_applications``, run in-process (the immediate tasks
  backend) for the whole list, in CSV, then in XLSX, headed in French.

Reported for each: seconds, rows per second, the time of each chunk of ``PROGRESS_EVERY`` rows
(p50/p95/p99/max: the task reports its progress after each chunk, and the benchmark notes when),
the peak resident memory (VmHWM, reset before each run through /proc/self/clear_refs) beside the
memory the process had before the run, the file's size, and the ratio of its time to the
baseline's. Run it at two sizes (``--rows 100000`` and the default): the rise of the peak over
the start must be the same, whatever the number of rows.

    .venv/bin/python bench/exports.py [--rows 1000000] [--formats csv,xlsx]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/entraide_bench_exports \\
        .venv/bin/python bench/exports.py
"""

# ruff: noqa: S608  (SQL from integers and fixed text only)

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import itertools
import logging
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import memory_mib, reset_peak_memory  # noqa: E402 (after the path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")

OPENS_ON = dt.date(2020, 4, 15)
WINDOW_DAYS = 60
REVIEWERS = 5
APPLICATION_COLUMNS = (
    "reference",
    "fund_id",
    "applicant_id",
    "partner_id",
    "status",
    "nir",
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone",
    "address_line",
    "postcode",
    "city",
    "country",
    "profession",
    "declared",
    "iban",
    "bic",
    "account_holder",
    "language",
    "idempotency_key",
    "request_digest",
    "submitted_at",
    "status_changed_at",
    "clock_paused_seconds",
    "origin",
)
# Tables filled here, whose secondary indexes are dropped while they are.
TABLES = (
    "applications_application",
    "rules_applicationevaluation",
    "funds_award",
    "payments_payment",
    "review_assignment",
)
STATUSES = ("received", "under_review", "approved", "rejected", "paid")
CITIES = (
    ("75011", "Paris"),
    ("93200", "Saint-Denis"),
    ("69002", "Lyon"),
    ("13001", "Marseille"),
    ("33000", "Bordeaux"),
    ("59000", "Lille"),
)


# -- the data ---------------------------------------------------------------------------------


def set_up() -> dict[str, Any]:
    """The fund, its requester (a superuser), reviewers, a partner, published rules and a
    payment batch sent to the bank."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from entraide.funds.services import create_fund, grant_fund_role
    from entraide.intake.services import create_partner
    from entraide.payments.models import FileFormat, PaymentBatch
    from entraide.rules.services import publish_version, save_draft

    users = get_user_model().objects
    operator = users.create_superuser("operator@example.org", "bench")
    fund = create_fund(
        actor=operator,
        name="Netflix × Audiens (bench)",
        slug="bench",
        currency="EUR",
        budget=Decimal("1000000000"),
        standard_amount=Decimal("500"),
        opens_on=OPENS_ON,
        closes_on=OPENS_ON + dt.timedelta(days=WINDOW_DAYS - 1),
    )
    reviewers = []
    for n in range(REVIEWERS):
        person = users.create_user(
            f"reviewer{n}@example.org", "bench", first_name=f"Relectrice{n}", last_name="Martin"
        )
        grant_fund_role(actor=operator, fund=fund, user=person, role="reviewer")
        reviewers.append(person.pk)
    partner = create_partner(actor=operator, name="Audiens", slug="audiens", fund=fund)
    source = (ROOT / "rulesets" / "netflix-audiens.yaml").read_text(encoding="utf-8")
    version = publish_version(
        actor=operator, version=save_draft(actor=operator, fund=fund, source=source)
    )
    finance = users.create_user("finance@example.org", "bench")
    batch = PaymentBatch.objects.create(
        reference="P-BENCH-0001",
        fund=fund,
        status=PaymentBatch.Status.SENT,
        file_format=FileFormat.PAIN_001_001_09,
        currency="EUR",
        count=1,
        total=Decimal("1"),
        prepared_by=finance,
        prepared_at=timezone.now(),
        sent_by=finance,
        sent_at=dt.datetime(2020, 5, 4, 9, 30, tzinfo=dt.UTC),
    )
    return {
        "fund": fund.pk,
        "operator": operator.pk,
        "reviewers": reviewers,
        "partner": partner.pk,
        "version": version.pk,
        "batch": batch.pk,
    }


def application_rows(
    count: int, ids: dict[str, Any], seed: int = 2020
) -> Iterator[tuple[Any, ...]]:
    """The applications, in the order they were submitted."""
    from faker.providers.person.fr_FR import Provider

    from entraide.applications.search import fold

    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    first_names, last_names = Provider.first_names, Provider.last_names
    start = dt.datetime.combine(OPENS_ON, dt.time(8), tzinfo=dt.UTC)
    # Stored as they arrive: in the order of submission, most in the first days (a truncated
    # exponential over the window), as bench/backoffice.py does.
    scale = 10.0
    tail = 1 - math.exp(-WINDOW_DAYS / scale)
    offsets = sorted(-scale * math.log(1 - rng.random() * tail) * 86400 for _ in range(count))
    for n, offset in enumerate(offsets):
        first, last = rng.choice(first_names), rng.choice(last_names)
        local = f"{fold(first)}.{fold(last)}".replace(" ", "-").replace("'", "")
        submitted = (start + dt.timedelta(seconds=offset)).isoformat()
        postcode, city = CITIES[n % len(CITIES)]
        yield (
            f"A-{n // 10000:04d}-{n % 10000:04d}",
            ids["fund"],
            None if n % 5 == 0 else ids["operator"],  # an applicant account, or the partner's
            ids["partner"] if n % 5 == 0 else None,
            STATUSES[n % len(STATUSES)],
            f"1{n:014d}",
            first,
            last,
            dt.date(1950 + n % 50, 1 + n % 12, 1 + n % 28).isoformat(),
            f"{local}{n % 1000}@example.org",
            f"+33 6 {n % 100:02d} {n // 100 % 100:02d} 56 78",
            "12 rue des Studios",
            postcode,
            city,
            "FR",
            "artist" if n % 5 < 2 else "technician",
            "{}",
            "FR7630006000011234567890189",
            "",
            f"{first} {last}",
            "fr",
            f"bench-{n}",
            "",
            submitted,
            submitted,
            0,
            "",
        )


def secondary_indexes() -> list[tuple[str, str]]:
    """``(name, definition)`` of the filled tables' indexes that no constraint needs."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT schemaname || '.' || indexname, indexdef FROM pg_indexes i "
                "WHERE tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conindid = (i.schemaname || '.' || i.indexname)::regclass)",
                [list(TABLES)],
            )
        else:
            marks = ", ".join("%s" for _ in TABLES)
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) AND sql NOT LIKE 'CREATE UNIQUE%%'",
                list(TABLES),
            )
        return list(cursor.fetchall())


def fill(count: int, ids: dict[str, Any]) -> dict[str, float]:
    """Every table of the benchmark, in bulk, their secondary indexes dropped meanwhile and
    built again after (as a restore does); seconds per step."""
    from django.db import connection, transaction

    seconds: dict[str, float] = {}
    mark = time.perf_counter()
    indexes = secondary_indexes()
    with connection.cursor() as cursor:
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    columns = ", ".join(APPLICATION_COLUMNS)
    rows = application_rows(count, ids)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy_sql = f"COPY applications_application ({columns}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in APPLICATION_COLUMNS)
        with transaction.atomic():  # one transaction, not one per row
            # The sqlite3 connection itself: no Django per row.
            connection.connection.executemany(
                f"INSERT INTO applications_application ({columns}) VALUES ({marks})", rows
            )
    seconds["applications"] = time.perf_counter() - mark
    mark = time.perf_counter()
    fund, version, operator = ids["fund"], ids["version"], ids["operator"]
    reviewer = "CASE id % {n} {cases} END".format(
        n=REVIEWERS,
        cases=" ".join(f"WHEN {k} THEN {pk}" for k, pk in enumerate(ids["reviewers"])),
    )
    statements = [
        "INSERT INTO rules_applicationevaluation (eligible, amount, currency, result, "
        "evaluated_on, inputs_digest, evaluated_at, is_current, application_id, version_id) "
        "SELECT id % 100 < 62, CASE WHEN id % 100 < 62 THEN 900 ELSE 0 END, 'EUR', '{}', "
        f"'2020-04-20', reference, submitted_at, {_true()}, id, {version} "
        "FROM applications_application",
        "INSERT INTO funds_award (nir, amount, currency, status, queued_at, created_at, "
        "reserved_at, application_id, approved_by_id, fund_id) "
        "SELECT nir, CASE WHEN id % 2 = 0 THEN 900 ELSE 500 END, 'EUR', "
        "CASE id % 10 WHEN 0 THEN 'paid' WHEN 1 THEN 'reserved' ELSE 'waitlisted' END, "
        f"submitted_at, submitted_at, submitted_at, id, {operator}, {fund} "
        "FROM applications_application WHERE id % 10 < 3",
        "INSERT INTO payments_payment (attempt, end_to_end_id, amount, currency, "
        "creditor_name, iban, bic, remittance, status, reason_code, reason_detail, award_id, "
        f"fund_id, batch_id) SELECT 1, 'E-' || id, amount, currency, 'Bench', "
        "'FR7630006000011234567890189', '', 'Aide', 'sent', '', '', id, fund_id, "
        f"{ids['batch']} FROM funds_award WHERE status = 'paid'",
        "INSERT INTO review_assignment (assigned_at, application_id, assigned_by_id, fund_id, "
        f"reviewer_id) SELECT submitted_at, id, {operator}, {fund}, {reviewer} "
        "FROM applications_application WHERE id % 10 BETWEEN 3 AND 6",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    seconds["related"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
    seconds["indexes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # Django's autocommit: outside a transaction
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seconds["analyze"] = time.perf_counter() - mark
    return seconds


def _true() -> str:
    from django.db import connection

    return "true" if connection.vendor == "postgresql" else "1"


# -- measuring --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def baseline(ids: dict[str, Any], target: Path) -> float:
    """The product's query on a raw DB-API cursor, its tuples straight into ``csv.writer``;
    its seconds."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from entraide.applications.selectors import applications_for_staff
    from entraide.funds.models import Fund
    from entraide.reporting.exports import CHUNK_SIZE, rows_of

    requester = get_user_model().objects.get(pk=ids["operator"])
    fund = Fund.objects.get(pk=ids["fund"])
    sql, params = rows_of(applications_for_staff(requester, fund)).query.sql_with_params()
    started = time.perf_counter()
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if connection.vendor == "postgresql":
            _postgres_rows_into(writer, sql, params, CHUNK_SIZE)
        else:
            _sqlite_rows_into(writer, sql, params, CHUNK_SIZE, connection.settings_dict["NAME"])
    return time.perf_counter() - started


def _postgres_rows_into(writer: Any, sql: str, params: Any, chunk_size: int) -> None:
    import psycopg

    with (
        psycopg.connect(os.environ["DATABASE_URL"]) as raw,
        raw.cursor(name="bench_baseline") as cursor,
    ):
        cursor.itersize = chunk_size
        cursor.execute(sql, params)
        writer.writerows(cursor)


def _sqlite_rows_into(writer: Any, sql: str, params: Any, chunk_size: int, name: str) -> None:
    import sqlite3

    raw = sqlite3.connect(name)
    try:
        cursor = raw.execute(sql.replace("%s", "?"), params)  # Django's placeholders
        while chunk := cursor.fetchmany(chunk_size):
            writer.writerows(chunk)
    finally:
        raw.close()


def run_task(ids: dict[str, Any], file_format: str) -> dict[str, Any]:
    """The export task for the whole list; its seconds, chunk times, peak memory and file."""
    from entraide.reporting import tasks
    from entraide.reporting.tasks import export_applications

    marks: list[float] = []
    report = tasks.report_progress

    def noted(*args: Any, **kwargs: Any) -> None:
        marks.append(time.perf_counter())
        report(*args, **kwargs)

    tasks.report_progress = noted
    start_mib = memory_mib("VmRSS")
    reset = reset_peak_memory()
    started = time.perf_counter()
    try:
        result = export_applications.enqueue(ids["fund"], ids["operator"], {}, file_format, "fr")
    finally:
        tasks.report_progress = report
    seconds = time.perf_counter() - started
    if result.errors:
        raise SystemExit(result.errors[0].traceback)
    path = Path(str(result.return_value))
    # marks: after the count, after each chunk, at the end (the file closed and moved into
    # place). A chunk's time: from the mark before it (the first one's includes the query's
    # start).
    chunks = [later - earlier for earlier, later in itertools.pairwise(marks[:-1])]
    return {
        "seconds": seconds,
        "chunks": chunks,
        "start_mib": start_mib,
        "peak_mib": memory_mib("VmHWM") if reset else float("nan"),
        "bytes": path.stat().st_size,
        "path": path,
    }


def describe_database() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]} (WAL, in a scratch folder)"


def measure(options: argparse.Namespace) -> None:
    import django
    import openpyxl
    from django.core.management import call_command

    from entraide.reporting.exports import PROGRESS_EVERY

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    ids = set_up()
    steps = fill(options.rows, ids)
    print(
        f"data (not measured): {time.perf_counter() - started:.1f} s — migrated and set up, "
        + ", ".join(f"{name} {value:.1f} s" for name, value in steps.items())
    )
    print(
        f"{platform.machine()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"Django {django.get_version()}, openpyxl {openpyxl.__version__}; {describe_database()}; "
        f"{options.rows:,} applications in one fund"
    )
    scratch = Path(os.environ["ENTRAIDE_VAR_DIR"])
    base_seconds = baseline(ids, scratch / "baseline.csv")
    base_bytes = (scratch / "baseline.csv").stat().st_size
    print(
        f"{'baseline (raw cursor → csv.writer)':<36} {base_seconds:>7.1f} s "
        f"{options.rows / base_seconds:>10,.0f} rows/s {base_bytes / 2**20:>8.1f} MiB"
    )
    header = (
        f"{'export':<36} {'seconds':>9} {'rows/s':>17}  chunk of {PROGRESS_EVERY:,} rows: "
        "p50 / p95 / p99 / max ms   peak memory (start → VmHWM, rise)   file   × baseline"
    )
    print(header)
    for file_format in options.formats.split(","):
        run = run_task(ids, file_format)
        chunks = [seconds * 1000 for seconds in run["chunks"]] or [float("nan")]
        print(
            f"{'task ' + file_format:<36} {run['seconds']:>7.1f} s "
            f"{options.rows / run['seconds']:>10,.0f} rows/s  "
            f"{statistics.median(chunks):.0f} / {percentile(chunks, 0.95):.0f} / "
            f"{percentile(chunks, 0.99):.0f} / {max(chunks):.0f} ms   "
            f"{run['start_mib']:.0f} → {run['peak_mib']:.0f} MiB "
            f"(+{run['peak_mib'] - run['start_mib']:.0f})   "
            f"{run['bytes'] / 2**20:.1f} MiB   {run['seconds'] / base_seconds:.2f}×"
        )
        run["path"].unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="applications in the fund")
    parser.add_argument("--formats", default="csv,xlsx", help="csv, xlsx or both")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-exports-"))
    os.environ["ENTRAIDE_VAR_DIR"] = str(scratch)
    # The real task, run in this process; production's settings otherwise (no query log).
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    os.environ["DEBUG"] = "0"
    database = os.environ.get("DATABASE_URL")
    try:
        with contextlib.ExitStack() as stack:
            if database:
                sys.path.insert(0, str(Path(__file__).parent))
                from rules_single_db import postgres_database

                stack.enter_context(postgres_database(database))
            import django

            django.setup()
            logging.getLogger("django_tasks").setLevel(logging.WARNING)  # a line per task
            measure(options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
