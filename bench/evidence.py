"""Benchmark: importing employer declarations at national scale into PostgreSQL (issue 6).

10,000,000 declaration rows (bench/rules_data.py's synthetic people and employers) written as
one CSV with defects on purpose: 0.5 % of rows broken (a NIR key, a SIRET check digit, an
impossible date, a negative pay, an end before the start) and 0.2 % repeated (the same contract
twice). The measured path is the one ``entraide evidence import declarations FILE`` and the
import task run: ``evidence.imports.import_evidence_file`` (hash, DuckDB read and checks, error
report, each NIR replaced by its blind index, the keys already stored left out, ``COPY`` of the
rows sorted by it), into a
freshly migrated database created and dropped here.

Baseline, in the same run on the same file: a raw ``COPY`` of the file into a table of text
columns with no index or constraint (what PostgreSQL needs at the least to take the file in).
Peak memory is the importing process's maximum resident set size (VmHWM),
measured in a child process that does not generate the data; PostgreSQL's own memory is not in
it.

Then the batch verification: the rights, benefits and cancellations of the same people are
imported from Parquet, a fund with the FUSSAT rules (2020-11-20) receives 300,000 applications
(bench/rules_data.py's applicants, submitted over 20 days: the rules read the evaluation date,
so the plan runs once a day), and ``evidence.fund_verification.verify_fund`` verifies them all,
in a child process of its own. Baseline, in that process: the batch engine on the same people
from the Parquet files at one date (bench/rules_batch.py's path), without a database.

    .venv/bin/python bench/evidence.py [--rows 10000000] [--applicants 300000]
        [--memory-limit 512MB]
        [--postgres postgres://postgres@127.0.0.1:5432/entraide_bench_evidence]
"""

# ruff: noqa: S608  (SQL from integers and fixed text only)

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/entraide_bench_evidence"
HEADER = "nir,siret,naf,idcc,contract_type,start,end,hours,cachets,gross_pay"


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: unlike ``ru_maxrss``, which Linux carries
    over from the parent across fork and exec, it starts at zero in a new program)."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024  # kB


def percentiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": statistics.median(values), "p95": cuts[94], "p99": cuts[98]}


def write_declarations_csv(parquet: Path, target: Path, threads: int) -> dict[str, int]:
    """The CSV of the benchmark: every row of ``parquet``, some broken, some repeated."""
    import duckdb

    duck = duckdb.connect()
    duck.execute(f"SET threads = {int(threads)}")
    duck.execute(
        f"CREATE VIEW source AS SELECT file_row_number AS r, * "
        f"FROM read_parquet('{parquet}', file_row_number = true)"
    )
    # One row in 200 is broken, each time in another way; one in 500 comes twice.
    broken = """
        CASE WHEN r % 1000 = 1 THEN substr(nir, 1, 13) || '00' ELSE nir END AS nir,
        CASE WHEN r % 1000 = 201 THEN substr(siret, 1, 13)
             || CAST((CAST(substr(siret, 14, 1) AS INTEGER) + 1) % 10 AS VARCHAR)
             ELSE siret END AS siret,
        naf, idcc, contract_type,
        CASE WHEN r % 1000 = 401 THEN '2020-02-30' ELSE CAST(start AS VARCHAR) END AS start,
        CASE WHEN r % 1000 = 601 THEN CAST(start - 3 AS VARCHAR)
             ELSE CAST("end" AS VARCHAR) END AS "end",
        hours, cachets,
        CASE WHEN r % 1000 = 801 THEN '-' || CAST(gross_pay AS VARCHAR)
             ELSE CAST(gross_pay AS VARCHAR) END AS gross_pay
    """
    (rows,) = duck.execute(
        f"COPY (SELECT {broken} FROM (SELECT * FROM source UNION ALL "
        f"SELECT * FROM source WHERE r % 500 = 7) ORDER BY r) TO '{target}' (FORMAT csv, HEADER)"
    ).fetchall()[0]
    duck.close()
    return {"rows": int(rows), "broken": int(rows) // 200, "repeated": int(rows) // 500}


def raw_copy(url: str, path: Path) -> float:
    """Seconds to COPY the file as it is into a bare table of text columns."""
    import psycopg

    columns = ", ".join(f'"{name}" text' for name in HEADER.split(","))
    with psycopg.connect(url) as connection:
        connection.execute(f"CREATE TABLE raw_copy ({columns})")
        connection.commit()
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY raw_copy FROM STDIN (FORMAT csv, HEADER)") as copy,
            path.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        connection.commit()
        seconds = time.perf_counter() - started
        connection.execute("DROP TABLE raw_copy")
        connection.commit()
    return seconds


def measure_import(options: argparse.Namespace) -> dict[str, Any]:
    """Run in a child process: the baseline, then the import."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from entraide.evidence.imports import import_evidence_file

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server,) = cursor.fetchone()
    path = Path(options.measure)
    baseline = raw_copy(options.postgres, path)
    ticks: list[float] = []
    started = time.perf_counter()
    batch = import_evidence_file(
        actor=None,
        kind="declarations",
        path=path,
        source="bench",
        progress=lambda done, total: ticks.append(time.perf_counter()),
        memory_limit=options.memory_limit,
    )
    total = time.perf_counter() - started
    blocks = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM evidence_employerdeclaration")
        (stored,) = cursor.fetchone()
    return {
        "server": server,
        "seconds": total,
        "baseline_seconds": baseline,
        "duckdb_seconds": ticks[0] - started if ticks else None,
        "copy_seconds": ticks[-1] - ticks[0] if ticks else None,
        "commit_seconds": started + total - ticks[-1] if ticks else None,
        "block_seconds": percentiles(blocks) if len(blocks) > 2 else None,
        "read": batch.rows_read,
        "imported": batch.rows,
        "rejected": batch.rows_rejected,
        "duplicates": batch.rows_duplicate,
        "stored": stored,
        "peak_rss_mib": peak_rss_mib(),
    }


SUBMISSION_DAYS = 20
FUSSAT = ROOT / "rulesets" / "fussat-2020-11-20.yaml"


def set_up_fund(options: argparse.Namespace) -> dict[str, Any]:
    """Run in a child process: the other records, and a fund with its applications."""
    import django

    django.setup()
    import datetime as dt
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from entraide.applications.models import Application
    from entraide.evidence.imports import import_evidence_file
    from entraide.funds.services import create_fund
    from entraide.intake.services import create_partner
    from entraide.rules.services import publish_version, save_draft

    directory = Path(options.set_up)
    imported = {}
    for kind in ("rights", "benefits", "cancellations"):
        started = time.perf_counter()
        batch = import_evidence_file(
            actor=None, kind=kind, path=directory / f"{kind}.parquet", source="bench"
        )
        imported[kind] = (batch.rows, time.perf_counter() - started)
    operator = get_user_model().objects.create_superuser("bench@example.org", "bench")
    fund = create_fund(
        actor=operator,
        name="FUSSAT (bench)",
        slug="fussat-bench",
        currency="EUR",
        budget=Decimal("17000000"),
        standard_amount=Decimal("1000"),
        opens_on=dt.date(2020, 9, 16),
        closes_on=dt.date(2020, 12, 31),
    )
    draft = save_draft(actor=operator, fund=fund, source=FUSSAT.read_text(encoding="utf-8"))
    publish_version(actor=operator, version=draft)
    partner = create_partner(actor=operator, name="Bench", slug="bench", fund=fund)
    first_day = timezone.make_aware(dt.datetime(2020, 11, 20, 10, 0))
    rows = []
    with (directory / "applicants.jsonl").open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            record = json.loads(line)
            declared = {
                "residence_country": record["residence_country"],
                "annual_resources": record["annual_resources"],
                **record["declared"],
            }
            submitted = first_day + dt.timedelta(days=number % SUBMISSION_DAYS)
            rows.append(
                Application(
                    reference=record["ref"],
                    fund=fund,
                    partner=partner,
                    nir=record["nir"],
                    first_name="Camille",
                    last_name=f"Synthétique {number}",
                    birth_date=dt.date(1980, 1, 1),
                    email="member@example.org",
                    profession=record["profession"],
                    declared=declared,
                    iban="FR7630006000011234567890189",
                    account_holder="Camille Synthétique",
                    idempotency_key=record["ref"],
                    submitted_at=submitted,
                    status_changed_at=submitted,
                )
            )
            if len(rows) == 5000:
                Application.objects.bulk_create(rows)
                rows = []
    Application.objects.bulk_create(rows)
    return {"fund": fund.pk, "imported": imported}


def measure_verification(options: argparse.Namespace) -> dict[str, Any]:
    """Run in a child process: the verification, then the baseline."""
    import django

    django.setup()
    import datetime as dt

    from entraide.evidence import fund_verification
    from entraide.funds.models import Fund
    from entraide.rules import batch, loaders
    from entraide.rules.document import load_file

    fund = Fund.objects.get(slug="fussat-bench")
    run = fund_verification.start_verification(actor=None, fund=fund)
    ticks: list[tuple[float, int]] = []
    started = time.perf_counter()
    fund_verification.verify_fund(
        run=run, progress=lambda done, total: ticks.append((time.perf_counter(), done))
    )
    seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    # the first date's time includes loading the records
    groups = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(ticks[1:])]

    directory = Path(options.verify)
    document = load_file(FUSSAT)
    mark = time.perf_counter()
    duck = loaders.connect(memory_limit="3GB", threads=2)
    loaders.load_evidence(duck, directory, lambda problem: None)
    loaders.create_applicants(
        duck,
        document,
        loaders.read_applicants(document, directory / "applicants.jsonl", lambda problem: None),
    )
    duck.execute(
        f"CREATE TABLE decided AS {batch.compile_plan(document, at=dt.date(2020, 11, 20)).sql}"
    )
    baseline = time.perf_counter() - mark
    return {
        "seconds": seconds,
        "reading_seconds": ticks[0][0] - started,
        "records_seconds": ticks[1][0] - ticks[0][0] if len(ticks) > 1 else None,
        "group_seconds": percentiles(groups) if len(groups) > 2 else None,
        "groups": len(ticks) - 1,
        "applications": run.applications,
        "unreadable": run.unreadable,
        "eligible": run.eligible,
        "mismatched": run.mismatched,
        "peak_rss_mib": peak,
        "baseline_seconds": baseline,
    }


def child(options: argparse.Namespace, step: str, argument: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, f"--{step}", str(argument)]
    command += ["--postgres", options.postgres, "--memory-limit", options.memory_limit]
    output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout  # noqa: S603
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="512MB", help="DuckDB's memory limit")
    parser.add_argument("--postgres", default=DEFAULT_DATABASE, help="a database created here")
    parser.add_argument("--applicants", type=int, default=300_000)
    parser.add_argument("--import-only", action="store_true", help="skip the verification")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--set-up", help=argparse.SUPPRESS)
    parser.add_argument("--verify", help=argparse.SUPPRESS)
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "entraide.settings"
    os.environ["DATABASE_URL"] = options.postgres
    for step, measured in (
        ("measure", measure_import),
        ("set_up", set_up_fund),
        ("verify", measure_verification),
    ):
        if getattr(options, step):
            print(json.dumps(measured(options)))
            return

    import rules_data
    from rules_single_db import postgres_database

    scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-evidence-"))
    os.environ["ENTRAIDE_VAR_DIR"] = str(scratch / "var")
    (scratch / "var").mkdir()
    try:
        started = time.perf_counter()
        rules_data.generate(
            scratch / "data", declarations=options.rows, applicants=options.applicants
        )
        sizes = write_declarations_csv(
            scratch / "data" / "declarations.parquet", scratch / "declarations.csv", threads=2
        )
        generated = time.perf_counter() - started
        megabytes = (scratch / "declarations.csv").stat().st_size / 2**20
        print(
            f"generated {sizes['rows']:,} rows ({megabytes:,.0f} MiB of CSV) in {generated:.1f} s"
        )
        with postgres_database(options.postgres):
            result = child(options, "measure", scratch / "declarations.csv")
            report(result)
            if options.import_only:
                return
            started = time.perf_counter()
            fund = child(options, "set-up", scratch / "data")
            print(f"set-up (not measured): {time.perf_counter() - started:.1f} s")
            for kind, (rows, seconds) in fund["imported"].items():
                print(f"  {kind}: {rows:,} rows imported from Parquet in {seconds:.2f} s")
            report_verification(child(options, "verify", scratch / "data"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report(result: dict[str, Any]) -> None:
    seconds, baseline = result["seconds"], result["baseline_seconds"]
    print(f"PostgreSQL {result['server']}")
    print(
        f"import: {result['read']:,} rows read in {seconds:.2f} s = "
        f"{result['read'] / seconds:,.0f} rows/s (target ≥ 150,000)"
    )
    print(
        f"  imported {result['imported']:,}, rejected {result['rejected']:,}, "
        f"duplicates {result['duplicates']:,}; {result['stored']:,} rows in the table"
    )
    if result["copy_seconds"] is not None:
        print(
            f"  stages: hashing, reading and checking in DuckDB, error report "
            f"{result['duckdb_seconds']:.2f} s; keys already stored, de-duplication, sorted "
            f"export and COPY {result['copy_seconds']:.2f} s; "
            f"commit {result['commit_seconds']:.2f} s"
        )
    if result["block_seconds"]:
        blocks = result["block_seconds"]
        print(
            "  COPY latency per 1 MiB block: "
            + ", ".join(f"{name} {value * 1000:.1f} ms" for name, value in blocks.items())
        )
    print(f"  peak memory (importing process): {result['peak_rss_mib']:,.0f} MiB (target ≤ 1024)")
    print(
        f"baseline: raw COPY of the same file into text columns {baseline:.2f} s = "
        f"{result['read'] / baseline:,.0f} rows/s; ratio {seconds / baseline:.2f}×"
    )


def report_verification(result: dict[str, Any]) -> None:
    seconds = result["seconds"]
    print(
        f"verification: {result['applications']:,} applications in {seconds:.2f} s = "
        f"{result['applications'] / seconds:,.0f} applications/s (target ≤ 30 s); "
        f"{result['unreadable']:,} unreadable, {result['eligible']:,} eligible on the records, "
        f"{result['mismatched']:,} whose answers the records contradict"
    )
    print(
        f"  reading the applications: {result['reading_seconds']:.2f} s; "
        f"loading their records and the first date: {result['records_seconds']:.2f} s"
    )
    if result["group_seconds"]:
        print(
            f"  {result['groups']} evaluation dates, per date: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in result["group_seconds"].items())
        )
    print(f"  peak memory (verifying process): {result['peak_rss_mib']:,.0f} MiB")
    print(
        f"baseline: the batch engine on the same people from Parquet at one date, no database: "
        f"{result['baseline_seconds']:.2f} s; ratio {seconds / result['baseline_seconds']:.2f}×"
    )


if __name__ == "__main__":
    main()
