"""Benchmark: per-applicant evaluation with the evidence read from the database (issue 4: p99 ≤
5 ms with evidence indexed).

What the application path does for one applicant:
``evidence.selectors.person_evidence(nir_index)`` (4 queries on the ``nir_index`` indexes of the
evidence tables, each person found by the blind index of their NIR), then ``engine.evaluate``
(criteria, amount and French explanations). The evidence is the synthetic data of
bench/rules_data.py at the density of the batch benchmark (10,000 applicants among 11,666
people, about 33 declarations per person), loaded with the command's loaders (which index the
NIRs) and written with ``bulk_create`` into a throw-away database migrated here: SQLite in a
temporary directory, or, with ``--postgres``, a new PostgreSQL database created and dropped by
the benchmark. Baseline, in the same process on the same data: the in-memory path of
bench/rules_single.py (``engine.evaluate`` with the evidence already indexed by NIR in a dict).
Both paths must give the same eligibility and amount.

    .venv/bin/python bench/rules_single_db.py [--rules rulesets/fussat-2020-11-20.yaml]
    .venv/bin/python bench/rules_single_db.py --postgres postgres://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from rules_single import percentiles, timed  # noqa: E402


@contextmanager
def postgres_database(url: str) -> Iterator[None]:
    """Create the database named in ``url`` (which must not exist yet), drop it afterwards."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name:
        raise SystemExit("--postgres: the URL must name a new database")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# The columns of FORMATS.md that the evidence models store, per kind (= DuckDB table); the
# loaders have replaced each NIR by its blind index already, which is what the models keep.
EVIDENCE_COLUMNS = {
    "declarations": (
        'nir AS nir_index, siret, naf, idcc, contract_type, start, "end", hours, cachets, gross_pay'
    ),
    "rights": "nir AS nir_index, annex, opened_on, ends_on, status, COALESCE(reason, '') AS reason",
    "benefits": 'nir AS nir_index, scheme, "from", "to"',
    "cancellations": "nir AS nir_index, siret, date, cachets, signed_on",
}


def store_evidence(duck: Any) -> dict[str, int]:
    """Copy the evidence tables of the DuckDB connection into the Django database, through
    the service the application loads evidence with."""
    from entraide.evidence.services import load_evidence_batch

    counts = {}
    for kind, columns in EVIDENCE_COLUMNS.items():
        result = duck.execute(f"SELECT {columns} FROM {kind}")  # noqa: S608 (fixed text)
        names = [column[0] for column in result.description]
        rows = (dict(zip(names, row, strict=True)) for row in result.fetchall())
        batch = load_evidence_batch(
            actor=None, kind=kind, source=f"bench/{kind}.parquet", rows=rows
        )
        counts[kind] = batch.rows
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_rules = ROOT / "rulesets" / "fussat-2020-11-20.yaml"
    parser.add_argument("--rules", type=Path, default=default_rules)
    parser.add_argument("--at", default="2020-11-20")
    parser.add_argument("--applicants", type=int, default=10_000)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on PostgreSQL: a database that does not exist yet, created and dropped here",
    )
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-db-"))
    os.environ["ENTRAIDE_VAR_DIR"] = str(scratch / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "entraide.settings"
    if options.postgres:
        os.environ["DATABASE_URL"] = options.postgres
    else:
        os.environ.pop("DATABASE_URL", None)
    (scratch / "var").mkdir()
    try:
        if options.postgres:
            with postgres_database(options.postgres):
                run(options, scratch)
        else:
            run(options, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(options: argparse.Namespace, scratch: Path) -> None:
    import django

    django.setup()
    import rules_data
    from django.core.management import call_command
    from django.db import connection

    from entraide.evidence.selectors import person_evidence
    from entraide.rules import engine, loaders
    from entraide.rules.document import load_file
    from entraide.rules.records import PersonEvidence

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        database = f"SQLite {connection.Database.sqlite_version} (WAL, temporary file)"

    document = load_file(options.rules)
    at = dt.date.fromisoformat(options.at)
    n = options.applicants
    data = scratch / "data"
    people = n + n // 6  # the density of the batch benchmark: 10 M declarations, 350,000 people
    mark = time.perf_counter()
    rules_data.generate(
        data,
        applicants=n,
        people=people,
        declarations=people * 10_000_000 // 350_000,
        rights=people * 500_000 // 350_000,
    )
    duck = loaders.connect()
    loaders.load_evidence(duck, data, lambda *_: None)
    applicants = list(loaders.read_applicants(document, data / "applicants.jsonl", print))
    loaders.create_applicants(duck, document, applicants)
    in_memory = loaders.evidence_by_nir(duck)
    generated = time.perf_counter() - mark
    mark = time.perf_counter()
    counts = store_evidence(duck)
    stored = time.perf_counter() - mark
    duck.close()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as after a real load

    nobody = PersonEvidence()
    inputs = [(a.nir or "", a.facts) for a in applicants]

    def from_database(nir: str, facts: dict[str, Any]) -> Callable[[], Any]:
        return lambda: engine.evaluate(
            document, facts=facts, evidence=person_evidence(nir), at=at, language="fr"
        )

    def from_memory(nir: str, facts: dict[str, Any]) -> Callable[[], Any]:
        return lambda: engine.evaluate(
            document, facts=facts, evidence=in_memory.get(nir, nobody), at=at, language="fr"
        )

    def selector_only(nir: str, _facts: dict[str, Any]) -> Callable[[], Any]:
        return lambda: person_evidence(nir)

    # Same result on both paths (order of records may differ; outcomes must not).
    for nir, facts in inputs:
        ours = from_database(nir, facts)()
        theirs = from_memory(nir, facts)()
        if (ours.eligible, ours.amount) != (theirs.eligible, theirs.amount):
            raise SystemExit(f"{nir}: database path and in-memory path disagree")
    # (the pass above is also the warm-up: imports, babel's locale data, database caches)
    mark = time.perf_counter()
    samples = timed([from_database(*item) for item in inputs])
    elapsed = time.perf_counter() - mark
    mark = time.perf_counter()
    baseline = timed([from_memory(*item) for item in inputs])
    base_elapsed = time.perf_counter() - mark
    queries = timed([selector_only(*item) for item in inputs])
    ours, base, sel = percentiles(samples), percentiles(baseline), percentiles(queries)
    read = sum(len(in_memory.get(nir, nobody).declarations) for nir, _ in inputs)
    print(f"rules: {options.rules} at {at}")
    print(f"database: {database}")
    print(
        f"evidence stored: {counts['declarations']:,} declarations, {counts['rights']:,} rights, "
        f"{counts['benefits']:,} benefits, {counts['cancellations']:,} cancellations for "
        f"{people:,} people (generated {generated:.1f} s, bulk_create {stored:.1f} s)"
    )
    print(f"{n:,} applicants, {read:,} declarations read")
    print(
        f"person_evidence + engine.evaluate: p50 {ours['p50']:.3f} ms, p95 {ours['p95']:.3f} ms, "
        f"p99 {ours['p99']:.3f} ms, max {ours['max']:.3f} ms, mean "
        f"{statistics.mean(samples) / 1e6:.3f} ms; {n / elapsed:,.0f} applicants/s"
    )
    print(
        f"  of which person_evidence alone: p50 {sel['p50']:.3f} ms, p95 {sel['p95']:.3f} ms, "
        f"p99 {sel['p99']:.3f} ms"
    )
    print(
        f"baseline (engine.evaluate, evidence in memory): p50 {base['p50']:.3f} ms, "
        f"p95 {base['p95']:.3f} ms, p99 {base['p99']:.3f} ms; {n / base_elapsed:,.0f} "
        f"applicants/s"
    )
    print(
        f"ratio vs baseline: p50 {ours['p50'] / base['p50']:.2f}x, "
        f"p99 {ours['p99'] / base['p99']:.2f}x, "
        f"mean time per applicant {elapsed / base_elapsed:.2f}x"
    )
    print(
        f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
        "(ru_maxrss, includes generating and loading the data)"
    )
    print(f"target p99 ≤ 5 ms: {'met' if ours['p99'] <= 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
