"""Benchmark: batch evaluation of the FUSSAT rules (issue 4).

300,000 applicants, 10,000,000 employer declarations, 500,000 rights rows (plus benefits and
cancellations, which FUSSAT reads), generated with DuckDB into Parquet in a temporary
directory. The measured path is the one ``entraide rules evaluate --engine batch`` runs:

1. evidence: the Parquet files loaded, checked and normalised into DuckDB (loaders);
2. applicants: applicants.jsonl parsed line by line (facts_from) into the applicants table;
3. evaluate: the compiled plan (one query) run into a table;
4. decisions: decisions.jsonl written (values and explanations, in French).

Baseline, in the same process on the same tables: a plain hand-written DuckDB query computing
the same eligibility and amounts for the FUSSAT rules; both must give the same number of
eligible applicants and the same total. Peak memory is the process's maximum resident set size
(``resource.getrusage``), measured in a child process that does not generate the data.

    .venv/bin/python bench/rules_batch.py [--rules rulesets/fussat-2020-11-20.yaml] [--small]
"""

# ruff: noqa: S608  (SQL from the rule document's own values and fixed text)

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fussat_baseline(document: Any, at: dt.date) -> str:
    """The FUSSAT rules written by hand as one plain query (thresholds and amounts read from
    the document, so that every FUSSAT version can be compared)."""
    p = document.parameters
    one_off = next(c for c in document.components if c.id == "one_off").flat
    per_cachet = next(c for c in document.components if c.id == "per_cancelled_cachet")
    rate, cap = per_cachet.rate, per_cachet.cap
    day = f"DATE '{at.isoformat()}'"
    return f"""
    WITH hours AS (
        SELECT nir, SUM(COALESCE(hours, 0) + 12 * COALESCE(cachets, 0)) AS hours
        FROM declarations
        WHERE contract_type = 'CDDU' AND start BETWEEN DATE '2019-03-01' AND DATE '2020-03-01'
        GROUP BY nir
    ), employers AS (
        SELECT nir, COUNT(DISTINCT siret) AS employers FROM declarations
        WHERE start <= {day} AND "end" >= {day} GROUP BY nir
    ), rights_now AS (
        SELECT nir,
            COUNT(*) FILTER (annex IN ('8', '10') AND status = 'ended'
                AND ends_on BETWEEN DATE '2019-12-01' AND DATE '2020-02-29') AS ended_dec_feb,
            COUNT(*) FILTER (annex IN ('8', '10')
                AND opened_on BETWEEN DATE '2019-12-01' AND {day}) AS opened_since_dec,
            COUNT(*) FILTER (status = 'open') AS open_rights,
            COUNT(*) FILTER (annex IN ('8', '10') AND status IN ('ended', 'refused')
                AND reason IN ('maternity', 'adoption', 'illness')
                AND ends_on BETWEEN DATE '2020-03-01' AND DATE '2020-08-31') AS leave_rights,
            COUNT(*) FILTER (annex IN ('8', '10')
                AND opened_on BETWEEN DATE '2020-03-01' AND {day}) AS opened_since_march
        FROM rights GROUP BY nir
    ), paid AS (
        SELECT nir, COUNT(*) FILTER (scheme = 'general') AS general_now, COUNT(*) AS any_now
        FROM benefits WHERE "from" <= {day} AND ("to" IS NULL OR "to" >= {day})
        GROUP BY nir
    ), cancelled AS (
        SELECT nir, COUNT(DISTINCT date) AS dates,
            SUM(cachets) FILTER (signed_on BETWEEN DATE '2020-03-01' AND DATE '2020-08-31')
                AS cachets
        FROM cancellations WHERE date BETWEEN DATE '2020-03-01' AND DATE '2020-08-31'
        GROUP BY nir
    ), aids AS (
        SELECT a.ref,
            COALESCE(h.hours, 0) >= {p["min_hours"]} AND COALESCE(h.hours, 0) < {p["rights_hours"]}
                AND COALESCE(paid.general_now, 0) = 0 AS aid1,
            COALESCE(r.ended_dec_feb, 0) > 0 AND COALESCE(r.opened_since_dec, 0) = 0 AS aid2,
            COALESCE(a.profession = 'artist' AND a.residence_country = 'FR'
                AND a.works_mostly_abroad, FALSE)
                AND COALESCE(c.dates, 0) >= {p["min_cancelled_dates"]}
                AND COALESCE(r.open_rights, 0) = 0 AND COALESCE(paid.any_now, 0) = 0 AS aid3,
            COALESCE(r.leave_rights, 0) > 0 AND COALESCE(r.opened_since_march, 0) = 0 AS aid4,
            COALESCE(c.cachets, 0) AS cachets,
            COALESCE(e.employers, 0) > 0 OR COALESCE(r.open_rights, 0) > 0 AS capped
        FROM applicants AS a
        LEFT JOIN hours AS h USING (nir)
        LEFT JOIN employers AS e USING (nir)
        LEFT JOIN rights_now AS r USING (nir)
        LEFT JOIN paid USING (nir)
        LEFT JOIN cancelled AS c USING (nir)
    )
    SELECT ref, aid1 OR aid2 OR aid3 OR aid4 OR cachets > 0 AS eligible,
        CAST(CASE WHEN aid1 OR aid2 OR aid3 OR aid4 THEN {one_off} ELSE 0 END
            + CASE WHEN cachets > 0
                   THEN {rate} * CASE WHEN capped THEN LEAST(cachets, {cap}) ELSE cachets END
                   ELSE 0 END AS DECIMAL(18,2)) AS amount
    FROM aids
    """


def measure(options: argparse.Namespace) -> dict[str, Any]:
    """Run in a child process: the measured path and the baseline."""
    import django

    django.setup()
    from entraide.rules import batch, loaders
    from entraide.rules.document import load_file

    directory = Path(options.measure)
    document = load_file(options.rules)
    at = dt.date.fromisoformat(options.at)
    problems: list[str] = []
    stages: dict[str, float] = {}
    connection = loaders.connect(memory_limit=options.memory_limit, threads=options.threads)

    started = time.perf_counter()
    loaders.load_evidence(connection, directory, problems.append)
    stages["evidence"] = time.perf_counter() - started

    mark = time.perf_counter()
    applicants = loaders.create_applicants(
        connection,
        document,
        loaders.read_applicants(document, directory / "applicants.jsonl", problems.append),
    )
    stages["applicants"] = time.perf_counter() - mark

    mark = time.perf_counter()
    plan = batch.compile_plan(document, at=at)
    connection.execute(f"CREATE TABLE decided AS {plan.sql}")
    stages["evaluate"] = time.perf_counter() - mark
    rss_evaluated = peak_rss_mib()

    mark = time.perf_counter()
    written = 0
    if not options.no_decisions:
        explainer = batch.Explainer(plan, "fr")
        columns = ", ".join(batch.quote(name) for name in plan.columns)
        result = connection.execute(f"SELECT {columns} FROM decided")
        with (directory / "decisions.jsonl").open("w", encoding="utf-8") as out:
            while rows := result.fetchmany(10_000):
                for row in rows:
                    out.write(explainer.json_line(row))
                    out.write("\n")
                    written += 1
    stages["decisions"] = time.perf_counter() - mark
    total = time.perf_counter() - started
    rss_total = peak_rss_mib()

    eligible, amount = connection.execute(
        "SELECT count(*) FILTER (eligible), sum(amount) FROM decided"
    ).fetchall()[0]
    baseline_seconds = None
    if document.id == "fussat":
        mark = time.perf_counter()
        connection.execute(f"CREATE TABLE by_hand AS {fussat_baseline(document, at)}")
        baseline_seconds = time.perf_counter() - mark
        by_hand = connection.execute(
            "SELECT count(*) FILTER (eligible), sum(amount) FROM by_hand"
        ).fetchall()[0]
        assert (eligible, amount) == tuple(by_hand), (eligible, amount, by_hand)
        differ = connection.execute(
            "SELECT count(*) FROM decided JOIN by_hand USING (ref) "
            "WHERE decided.eligible <> by_hand.eligible OR decided.amount <> by_hand.amount"
        ).fetchall()
        assert differ == [(0,)], differ
    return {
        "rules": str(options.rules),
        "at": options.at,
        "applicants": applicants,
        "decisions_written": written,
        "stages": stages,
        "total": total,
        "eligible": eligible,
        "amount": str(Decimal(amount or 0)),
        "baseline_seconds": baseline_seconds,
        "peak_rss_mib_after_evaluate": rss_evaluated,
        "peak_rss_mib": rss_total,
        "problems": len(problems),
        "duckdb_memory_limit": options.memory_limit,
        "threads": options.threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_rules = ROOT / "rulesets" / "fussat-2020-11-20.yaml"
    if not default_rules.exists():
        default_rules = ROOT / "rulesets" / "netflix-audiens.yaml"
    parser.add_argument("--rules", type=Path, default=default_rules)
    parser.add_argument("--at", default="2020-11-20")
    parser.add_argument("--applicants", type=int, default=300_000)
    parser.add_argument("--declarations", type=int, default=10_000_000)
    parser.add_argument("--rights", type=int, default=500_000)
    parser.add_argument("--small", action="store_true", help="a 100 times smaller run")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory limit")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-decisions", action="store_true", help="skip decisions.jsonl")
    parser.add_argument("--data", type=Path, help="reuse (or keep) generated data here")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        print(json.dumps(measure(options)))
        return
    if options.small:
        options.applicants //= 100
        options.declarations //= 100
        options.rights //= 100
    import django

    django.setup()
    sys.path.insert(0, str(Path(__file__).parent))
    import rules_data

    with tempfile.TemporaryDirectory(prefix="entraide-bench-") as scratch:
        directory = options.data or Path(scratch)
        sizes: dict[str, int] | None = None
        generated = 0.0
        if not (directory / "applicants.jsonl").exists():
            mark = time.perf_counter()
            sizes = rules_data.generate(
                directory,
                applicants=options.applicants,
                declarations=options.declarations,
                rights=options.rights,
                threads=options.threads,
            )
            generated = time.perf_counter() - mark
        command = [sys.executable, __file__, "--measure", str(directory)]
        command += ["--rules", str(options.rules), "--at", options.at]
        command += ["--memory-limit", options.memory_limit, "--threads", str(options.threads)]
        if options.no_decisions:
            command.append("--no-decisions")
        # this same script, measuring in a fresh process (its peak RSS excludes the generation)
        child = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if child.returncode != 0:
            sys.exit(child.stderr)
        result = json.loads(child.stdout.strip().splitlines()[-1])
    report(result, sizes, generated)


def report(result: dict[str, Any], sizes: dict[str, int] | None, generated: float) -> None:
    stages = result["stages"]
    evaluation = stages["evidence"] + stages["applicants"] + stages["evaluate"]
    print(f"rules: {result['rules']} at {result['at']}")
    if sizes:
        print(f"data: {sizes} (generated in {generated:.1f} s, not measured)")
    print(f"DuckDB {result['threads']} threads, memory_limit {result['duckdb_memory_limit']}")
    for name, seconds in stages.items():
        print(f"  {name:<11} {seconds:7.2f} s")
    n = result["applicants"]
    print(
        f"evaluation (evidence + applicants + evaluate): {evaluation:.2f} s, "
        f"{n / evaluation:,.0f} applicants/s"
    )
    print(
        f"end to end with decisions.jsonl: {result['total']:.2f} s, "
        f"{n / result['total']:,.0f} applicants/s"
    )
    print(f"eligible: {result['eligible']:,}, total amount: {result['amount']}")
    print(
        f"peak RSS: {result['peak_rss_mib_after_evaluate']:.0f} MiB after evaluate, "
        f"{result['peak_rss_mib']:.0f} MiB at the end"
    )
    if result["baseline_seconds"]:
        ratio = stages["evaluate"] / result["baseline_seconds"]
        print(
            f"baseline (hand-written query): {result['baseline_seconds']:.2f} s; compiled plan / "
            f"baseline = {ratio:.2f}x (same eligible count and total)"
        )
    print(f"bad rows or lines reported: {result['problems']}")


if __name__ == "__main__":
    main()
