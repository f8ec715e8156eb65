"""Benchmark: duplicate applicants found by probabilistic record linkage (issue 9), at 300,000
applications of which 3 % repeat an earlier applicant.

``integrity.synthetic.make_population`` makes the applications once (their variations and
look-alikes known), not measured. Then, in this process:

- the full run, each phase timed: ``linkage.prepared`` (Splink's input), ``train_model`` (u from
  value frequencies and random pairs, m by expectation maximisation: no labels),
  ``predict`` (every pair blocking brings together scored, those from ``DEFAULT_THRESHOLD``
  kept) and ``clusters``;
- the baseline, in the same run: the exact-match-only links (``exact.exact_baseline_pairs``:
  same NIR or same IBAN), timed;
- the incremental path, with the full run's model: ``score_pairs`` of ``--sample`` records drawn
  at random, each against its candidates (the records sharing its NIR, IBAN, e-mail, telephone
  or date of birth, at most 50, those sharing most first), found in an index built before
  timing; the first call (which prepares the model's SQL) is timed apart.

Reported: seconds per phase and records per second; precision, recall and F1 of the flagged
pairs and of the clusters' pairs against the population's truth, and the baseline's, with the
time ratio of the full run to the baseline; per-call latency p50/p95/p99/max of the incremental
path and whether its weights are the full run's for the pairs both flag; peak memory: each
phase's (VmHWM, reset before it through /proc/self/clear_refs) and the process's (``ru_maxrss``,
read before the first reset, since the reset clears it too, and the phases' peaks after).

    .venv/bin/python bench/integrity.py [--count 300000] [--duplicate-rate 0.03] [--seed 2020]
        [--sample 1000] [--max-candidates 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from entraide.integrity.evaluation import Score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")

# What this benchmark checks, at its default size.
TARGET_SECONDS = 60.0
TARGET_QUALITY = 0.95
TARGET_P99_MS = 300.0
CANDIDATE_KEYS = ("nir", "iban", "email", "phone", "birth_date")


def timed(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def memory_mib(field: str) -> float:
    """VmRSS or VmHWM of this process, in MiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    line = next(line for line in status.splitlines() if line.startswith(f"{field}:"))
    return int(line.split()[1]) / 1024  # kB


def reset_peak_memory() -> bool:
    """Start VmHWM again from the current resident set (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def candidates_of(frame: pl.DataFrame, record_ids: Sequence[int], cap: int) -> dict[int, list[int]]:
    """For each of ``record_ids``, the records sharing one of CANDIDATE_KEYS (normalised, as
    ``linkage.prepared`` leaves them) with it, those sharing most first, at most ``cap``."""
    values = pl.concat(
        [
            frame.select(
                pl.col("unique_id"),
                pl.lit(key).alias("key"),
                pl.col(key).cast(pl.String).alias("value"),
            ).drop_nulls("value")
            for key in CANDIDATE_KEYS
        ]
    )
    shared = (
        values.filter(pl.col("unique_id").is_in(list(record_ids)))
        .join(values, on=["key", "value"], suffix="_candidate")
        .filter(pl.col("unique_id") != pl.col("unique_id_candidate"))
        .group_by("unique_id", "unique_id_candidate")
        .len()
        .sort(["unique_id", "len", "unique_id_candidate"], descending=[False, True, False])
        .group_by("unique_id", maintain_order=True)
        .agg(pl.col("unique_id_candidate").head(cap))
    )
    found = dict(shared.iter_rows())
    return {record_id: found.get(record_id, []) for record_id in record_ids}


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def quality(label: str, score: Score) -> str:
    return (
        f"{label:<46} P {score.precision:.4f}  R {score.recall:.4f}  F1 {score.f1:.4f}  "
        f"(TP {score.true_positives:,}, FP {score.false_positives:,}, "
        f"FN {score.false_negatives:,})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300_000, help="applications")
    parser.add_argument("--duplicate-rate", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=2020, help="of the population")
    parser.add_argument("--sample", type=int, default=1_000, help="records scored incrementally")
    parser.add_argument("--max-candidates", type=int, default=50)
    options = parser.parse_args()

    import duckdb
    import splink

    from entraide.integrity import linkage
    from entraide.integrity.evaluation import pairs_of_clusters, precision_recall
    from entraide.integrity.exact import exact_baseline_pairs, records_frame
    from entraide.integrity.synthetic import make_population

    started = time.perf_counter()
    population = make_population(options.count, options.duplicate_rate, seed=options.seed)
    truth = population.duplicate_pairs()
    records = records_frame(population.records)
    by_id = {record.record_id: record for record in population.records}
    print(
        f"{options.count:,} synthetic applications, {options.duplicate_rate:.0%} repeating an "
        f"earlier applicant: {len(truth):,} duplicate pairs, {len(population.hard_negatives):,} "
        f"look-alikes (made in {time.perf_counter() - started:.1f} s, not measured)"
    )
    print(
        f"Python {platform.python_version()}, Splink {splink.__version__}, DuckDB "
        f"{duckdb.__version__}, polars {pl.__version__}, {os.cpu_count()} CPUs; threshold: "
        f"match weight ≥ {linkage.DEFAULT_THRESHOLD:g}"
    )
    # Not timed: the index the incremental path's candidates come from (at submission, the
    # database's indexes on the same keys).
    rng = random.Random(options.seed)  # noqa: S311 (a sample, not a secret)
    sampled = rng.sample(sorted(by_id), min(options.sample, len(by_id)))
    candidates = candidates_of(linkage.prepared(records), sampled, options.max_candidates)

    def ru_maxrss_mib() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux

    made_peak_mib = ru_maxrss_mib()  # making the population and the index
    start_mib = memory_mib("VmRSS")
    phases: dict[str, float] = {}
    peaks: dict[str, float] = {}  # VmHWM, reset before each phase

    def phase(name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        reset_peak_memory()
        phases[name], result = timed(function, *args, **kwargs)
        peaks[name] = memory_mib("VmHWM")
        return result

    peak_reset = reset_peak_memory()
    frame = phase("prepared", linkage.prepared, records)
    model = phase("train_model", linkage.train_model, frame)
    pairs = phase("predict", linkage.predict, frame, model, min_weight=linkage.DEFAULT_THRESHOLD)
    groups = phase("clusters", linkage.clusters, pairs, min_weight=linkage.DEFAULT_THRESHOLD)
    full_run = sum(phases.values())
    baseline_seconds, baseline = timed(exact_baseline_pairs, records)

    print(
        f"\n{'full run (prepared + train + predict + clusters)':<50} {'s':>7}  records/s  peak MiB"
    )
    for name, seconds in phases.items():
        print(
            f"  {name:<48} {seconds:>7.2f}  {options.count / seconds:>9,.0f}  {peaks[name]:>8,.0f}"
        )
    print(
        f"  {'total':<48} {full_run:>7.2f}  {options.count / full_run:>9,.0f}  "
        f"{max(peaks.values()):>8,.0f}"
    )
    print(
        f"baseline: exact_baseline_pairs (same NIR or IBAN) {baseline_seconds:>7.2f}  "
        f"{options.count / baseline_seconds:>9,.0f}"
    )
    print(f"ratio full run / baseline: {full_run / baseline_seconds:.1f}×")

    flagged = {(pair.left_id, pair.right_id) for pair in pairs}
    linked = precision_recall(flagged, truth)
    grouped = precision_recall(pairs_of_clusters(groups), truth)
    exact = precision_recall(baseline, truth)
    sizes = [len(group) for group in groups]
    print(
        f"\n{len(flagged):,} pairs flagged; {len(groups):,} clusters "
        f"(largest {max(sizes, default=0)}, {sum(size > 2 for size in sizes):,} of more than 2)"
    )
    print(quality("linkage, flagged pairs", linked))
    print(quality("linkage, pairs within clusters", grouped))
    print(quality("baseline, exact NIR or IBAN", exact))
    look_alikes = {kind: 0 for kind in ("couple", "namesake", "twin")}
    for pair, kind in population.hard_negatives.items():
        look_alikes[kind] += pair in flagged
    print(
        "look-alikes flagged: "
        + ", ".join(f"{count} {kind}s" for kind, count in look_alikes.items())
    )

    # The incremental path, with the full run's model.
    first = next((record_id for record_id in sampled if candidates[record_id]), sampled[0])
    first_seconds, _first = timed(
        linkage.score_pairs, model, by_id[first], [by_id[i] for i in candidates[first]]
    )
    latencies = []
    incremental: dict[tuple[int, int], float] = {}
    for record_id in sampled:
        record, others = by_id[record_id], [by_id[i] for i in candidates[record_id]]
        seconds, scored = timed(linkage.score_pairs, model, record, others)
        latencies.append(seconds * 1000)
        for pair in scored:
            if pair.match_weight >= linkage.DEFAULT_THRESHOLD:
                incremental[pair.left_id, pair.right_id] = pair.match_weight
    counts = [len(candidates[record_id]) for record_id in sampled]
    # The full run's flagged pairs that the incremental path looked at.
    offered = {
        (min(record_id, other), max(record_id, other))
        for record_id in sampled
        for other in candidates[record_id]
    }
    full = {(pair.left_id, pair.right_id): pair.match_weight for pair in pairs}
    expected = {key: weight for key, weight in full.items() if key in offered}
    differing = sum(incremental.get(key) != weight for key, weight in expected.items())
    print(
        f"\nincremental score_pairs: {len(sampled):,} records, {statistics.mean(counts):.1f} "
        f"candidates each on average (max {max(counts)}); first call {first_seconds * 1000:.0f} "
        "ms (prepares the model's SQL)"
    )
    print(
        f"  per call: p50 {percentile(latencies, 0.50):.1f} ms  p95 "
        f"{percentile(latencies, 0.95):.1f} ms  p99 {percentile(latencies, 0.99):.1f} ms  max "
        f"{max(latencies):.1f} ms  ({len(latencies) / (sum(latencies) / 1000):,.0f} calls/s)"
    )
    same_pairs = set(incremental) == set(expected)
    print(
        f"  same flagged pairs and weights as the full run: "
        f"{'yes' if same_pairs and not differing else 'NO'} ({len(expected):,} pairs, "
        f"{differing} weights differ, {len(set(incremental) ^ set(expected))} pairs differ)"
    )

    process_peak_mib = max(made_peak_mib, *peaks.values(), ru_maxrss_mib())
    print(
        f"\npeak memory: the full run {max(peaks.values()):,.0f} MiB (VmHWM, reset before each "
        f"phase, from {start_mib:,.0f} MiB with the population in memory"
        + ("" if peak_reset else "; not reset: the process's")
        + f"); the process {process_peak_mib:,.0f} MiB (ru_maxrss; {made_peak_mib:,.0f} MiB "
        "making the population)"
    )
    verdicts = {
        f"full run ≤ {TARGET_SECONDS:.0f} s": full_run <= TARGET_SECONDS,
        f"precision and recall ≥ {TARGET_QUALITY}": min(linked.precision, linked.recall)
        >= TARGET_QUALITY,
        f"incremental p99 ≤ {TARGET_P99_MS:.0f} ms": percentile(latencies, 0.99) <= TARGET_P99_MS,
    }
    print(
        "targets: "
        + "; ".join(f"{target} {'met' if met else 'MISSED'}" for target, met in verdicts.items())
    )


if __name__ == "__main__":
    main()
