"""Benchmark: per-applicant evaluation latency (issue 4: p99 ≤ 5 ms with evidence indexed).

10,000 applicants and their evidence at the density of the batch benchmark (about 33
declarations, 1.7 rights rows per person), generated with DuckDB (bench/rules_data.py), loaded
with the command's loaders and indexed by NIR in memory. Each applicant is evaluated with
``engine.evaluate`` (criteria, amount and French explanations); the latency of each call is
measured with ``time.perf_counter_ns``. Baseline, in the same process on the same data: a
trivial function of the same inputs (what the timing loop itself costs).

    .venv/bin/python bench/rules_single.py [--rules rulesets/fussat-2020-11-20.yaml]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")


def percentiles(samples: list[int]) -> dict[str, float]:
    """p50, p95, p99 in milliseconds (nearest rank)."""
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": ordered[-1] / 1e6}


def timed(calls: list[Callable[[], Any]]) -> list[int]:
    samples = []
    for call in calls:
        start = time.perf_counter_ns()
        call()
        samples.append(time.perf_counter_ns() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_rules = ROOT / "rulesets" / "fussat-2020-11-20.yaml"
    if not default_rules.exists():
        default_rules = ROOT / "rulesets" / "netflix-audiens.yaml"
    parser.add_argument("--rules", type=Path, default=default_rules)
    parser.add_argument("--at", default="2020-11-20")
    parser.add_argument("--applicants", type=int, default=10_000)
    options = parser.parse_args()

    import django

    django.setup()
    import rules_data

    from entraide.rules import engine, loaders
    from entraide.rules.document import load_file
    from entraide.rules.records import PersonEvidence

    document = load_file(options.rules)
    at = dt.date.fromisoformat(options.at)
    n = options.applicants
    with tempfile.TemporaryDirectory(prefix="entraide-bench-") as scratch:
        directory = Path(scratch)
        # the density of the batch benchmark: 10,000,000 declarations for 350,000 people
        people = n + n // 6
        rules_data.generate(
            directory,
            applicants=n,
            people=people,
            declarations=people * 10_000_000 // 350_000,
            rights=people * 500_000 // 350_000,
        )
        connection = loaders.connect()
        loaders.load_evidence(connection, directory, print)
        applicants = list(loaders.read_applicants(document, directory / "applicants.jsonl", print))
        loaders.create_applicants(connection, document, applicants)
        mark = time.perf_counter()
        evidence = loaders.evidence_by_nir(connection)
        indexed = time.perf_counter() - mark
    nobody = PersonEvidence()
    inputs = [(a.facts, evidence.get(a.nir or "", nobody)) for a in applicants]
    declarations = sum(len(person.declarations) for _, person in inputs)

    def evaluate(facts: dict[str, Any], person: PersonEvidence) -> Callable[[], Any]:
        return lambda: engine.evaluate(document, facts=facts, evidence=person, at=at, language="fr")

    def trivial(facts: dict[str, Any], person: PersonEvidence) -> Callable[[], Any]:
        return lambda: (len(facts), len(person.declarations))

    timed([evaluate(*item) for item in inputs[:500]])  # warm-up: imports, babel's locale data
    mark = time.perf_counter()
    samples = timed([evaluate(*item) for item in inputs])
    elapsed = time.perf_counter() - mark
    baseline = timed([trivial(*item) for item in inputs])
    ours, base = percentiles(samples), percentiles(baseline)
    print(f"rules: {options.rules} at {at}")
    print(
        f"{n:,} applicants, {declarations:,} declarations indexed by NIR in memory "
        f"(indexing {indexed:.2f} s)"
    )
    print(
        f"engine.evaluate: p50 {ours['p50']:.3f} ms, p95 {ours['p95']:.3f} ms, "
        f"p99 {ours['p99']:.3f} ms, max {ours['max']:.3f} ms, mean "
        f"{statistics.mean(samples) / 1e6:.3f} ms; {n / elapsed:,.0f} applicants/s"
    )
    print(
        f"baseline (trivial function): p50 {base['p50'] * 1000:.2f} µs, "
        f"p99 {base['p99'] * 1000:.2f} µs; ratio at p50 {ours['p50'] / base['p50']:,.0f}x"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(f"target p99 ≤ 5 ms: {'met' if ours['p99'] <= 5 else 'MISSED'}")


if __name__ == "__main__":
    main()
