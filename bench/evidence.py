"""Benchmark: importing employer declarations at national scale into PostgreSQL (issue 6).

10,000,000 declaration rows (bench/rules_data.py's synthetic people and employers) written as
one CSV with defects on purpose: 0.5 % of rows broken (a NIR key, a SIRET check digit, an
impossible date, a negative pay, an end before the start) and 0.2 % repeated (the same contract
twice). The measured path is the one ``entraide evidence import declarations FILE`` and the
import task run: ``evidence.imports.import_evidence_file`` (hash, DuckDB read and checks, error
report, de-duplication, ``COPY`` into a staging table, one anti-join ``INSERT``), into a
freshly migrated database created and dropped here.

Baseline, in the same run on the same file: a raw ``COPY`` of the file into a table of text
columns with no index or constraint (what PostgreSQL needs at the least to take the file in).
Peak memory is the importing process's maximum resident set size (``resource.getrusage``),
measured in a child process that does not generate the data; PostgreSQL's own memory is not in
it.

    .venv/bin/python bench/evidence.py [--rows 10000000] [--memory-limit 512MB]
        [--postgres postgres://postgres@127.0.0.1:5432/entraide_bench_evidence]
"""

# ruff: noqa: S608  (SQL from integers and fixed text only)

from __future__ import annotations

import argparse
import json
import os
import resource
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
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


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
    blocks = [later - earlier for earlier, later in zip(ticks[1:], ticks[2:], strict=False)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM evidence_employerdeclaration")
        (stored,) = cursor.fetchone()
    return {
        "server": server,
        "seconds": total,
        "baseline_seconds": baseline,
        "duckdb_seconds": ticks[0] - started if ticks else None,
        "copy_seconds": ticks[-1] - ticks[0] if ticks else None,
        "insert_seconds": started + total - ticks[-1] if ticks else None,
        "block_seconds": percentiles(blocks) if len(blocks) > 2 else None,
        "read": batch.rows_read,
        "imported": batch.rows,
        "rejected": batch.rows_rejected,
        "duplicates": batch.rows_duplicate,
        "stored": stored,
        "peak_rss_mib": peak_rss_mib(),
    }


def child(options: argparse.Namespace, step: str, argument: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, f"--{step}", str(argument)]
    command += ["--postgres", options.postgres, "--memory-limit", options.memory_limit]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="512MB", help="DuckDB's memory limit")
    parser.add_argument("--postgres", default=DEFAULT_DATABASE, help="a database created here")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "entraide.settings"
    os.environ["DATABASE_URL"] = options.postgres
    if options.measure:
        print(json.dumps(measure_import(options)))
        return

    import rules_data
    from rules_single_db import postgres_database

    scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-evidence-"))
    os.environ["ENTRAIDE_VAR_DIR"] = str(scratch / "var")
    (scratch / "var").mkdir()
    try:
        started = time.perf_counter()
        rules_data.generate(scratch / "data", declarations=options.rows, applicants=300_000)
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
            f"  stages: hash + DuckDB (read, check, report, de-duplicate, export) "
            f"{result['duckdb_seconds']:.2f} s, COPY to staging {result['copy_seconds']:.2f} s, "
            f"anti-join INSERT + commit {result['insert_seconds']:.2f} s"
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


if __name__ == "__main__":
    main()
