"""Benchmark: duplicate applicants found by probabilistic record linkage (issue 9), at 300,000
applications of which 3 % repeat an earlier applicant.

``integrity.synthetic.make_population`` makes the applications once (their variations and
look-alikes known), and ``Population.compared`` gives them as the checks read them (NIR and IBAN
by their blind indexes, as the database keeps them), not measured. Then, in this process:

- the full run, each phase timed: ``linkage.prepared`` (Splink's input), ``train_model`` (u from
  value frequencies and random pairs, m by expectation maximisation: no labels),
  ``predict`` (every pair blocking brings together scored, those from ``DEFAULT_THRESHOLD``
  kept) and ``clusters``;
- the baseline, in the same run: the exact-match-only links (``exact.exact_baseline_pairs``:
  same NIR or same IBAN), timed;
- the incremental path, with the full run's model: ``score_pairs`` of ``--sample`` records drawn
  at random, each against its candidates (the records sharing its NIR, IBAN, e-mail, telephone
  or date of birth, at most 50, those sharing most first), found in an index built before
  timing; the first call (which prepares the model's SQL) is timed apart;
- unless ``--no-database``, the product's path through a new SQLite database (migrated in a
  scratch folder): the population stored as received applications of one partner (in bulk, not
  measured; a repeated NIR in the next fund of a programme allowing one application per person,
  as the database refuses two in one fund), then, ``--repeat`` times on a clean state,
  ``integrity.services.perform_linkage_run`` (the worker's full check: the applications read,
  the model trained, pairs predicted, links written and flags raised), split by the time spent
  in each of its steps; then ``check_application`` of ``--checks`` applications drawn at random,
  their links and flags removed first (as if each had just arrived), with the full run's model.

Reported: seconds per phase and records per second; precision, recall and F1 of the flagged
pairs and of the clusters' pairs against the population's truth, and the baseline's, with the
time ratio of the full run to the baseline; per-call latency p50/p95/p99/max of the incremental
path and whether its weights are the full run's for the pairs both flag; peak memory: each
phase's (VmHWM, reset before it through /proc/self/clear_refs) and the process's (``ru_maxrss``,
read before the first reset, since the reset clears it too, and the phases' peaks after). Through
the database: the full check's seconds, records per second and peak memory, its links and flags,
precision and recall of its links of weight from ``DEFAULT_THRESHOLD`` or sharing a NIR, and the
check's per-call latency, statements, and whether it finds the full run's links again with the
same weights. ``--profile`` runs one more full check under cProfile.

    .venv/bin/python bench/integrity.py [--count 300000] [--duplicate-rate 0.03] [--seed 2020]
        [--sample 1000] [--max-candidates 50] [--no-database] [--repeat 1] [--checks 200]
        [--profile]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from entraide.integrity.evaluation import Pair, Score
    from entraide.integrity.synthetic import Applicant, Population

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import memory_mib, reset_peak_memory  # noqa: E402 (after the path)

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


def measure_engine(options: argparse.Namespace) -> tuple[Population, dict[str, bool]]:
    """The engine's phases on the population (made here): the population and the verdicts."""
    import duckdb
    import splink

    from entraide.integrity import linkage
    from entraide.integrity.evaluation import pairs_of_clusters, precision_recall
    from entraide.integrity.exact import exact_baseline_pairs, records_frame
    from entraide.integrity.synthetic import make_population

    started = time.perf_counter()
    population = make_population(options.count, options.duplicate_rate, seed=options.seed)
    truth = population.duplicate_pairs()
    made = time.perf_counter() - started
    indexed, compared = timed(lambda: population.compared)
    records = records_frame(compared)
    by_id = {record.record_id: record for record in compared}
    print(
        f"{options.count:,} synthetic applications, {options.duplicate_rate:.0%} repeating an "
        f"earlier applicant: {len(truth):,} duplicate pairs, {len(population.hard_negatives):,} "
        f"look-alikes (made in {made:.1f} s, their blind indexes in {indexed:.1f} s; not "
        "measured)"
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
    return population, verdicts


# -- the product's path through the database ---------------------------------------------------


@dataclass(frozen=True)
class StoredPopulation:
    """The population as applications in the (new) database."""

    fund_id: int  # the fund whose full check is run: the programme's first
    fund_sizes: list[int]
    pk_of: dict[int, int]  # record id -> application id
    seconds: float


def store_population(records: Sequence[Applicant]) -> StoredPopulation:
    """The records as received applications of one partner, in bulk (NIR and IBAN encrypted,
    beside their blind indexes), in a programme of funds that allow one application per person
    across the programme. A NIR is unique within a fund
    (the database refuses a second application): a person's k-th application with the same NIR
    goes to the programme's k-th fund, as such a duplicate can only arrive."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from entraide.applications.models import Application
    from entraide.core.refs import new_reference
    from entraide.funds.tests.factories import FundFactory
    from entraide.intake.tests.factories import PartnerFactory
    from entraide.programmes.tests.factories import ProgrammeFactory
    from entraide.rules.tests.factories import RuleSetVersionFactory, rules_with

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    seen: Counter[str] = Counter()
    fund_index = []
    for record in records:
        fund_index.append(seen[record.nir])
        seen[record.nir] += 1
    programme = ProgrammeFactory.create()
    funds = [FundFactory.create(programme=programme) for _ in range(max(fund_index, default=0) + 1)]
    for fund in funds:
        RuleSetVersionFactory.create(
            rule_set__fund=fund,
            source=rules_with(**{"currency: EUR": "currency: EUR\none_per_person: programme"}),
        )
    partner = PartnerFactory.create()
    # Random references may repeat (about one chance in 25 at 300,000): drawn until distinct.
    references: set[str] = set()
    while len(references) < len(records):
        references.add(new_reference("A"))
    week = dt.timedelta(days=7)
    start = timezone.now() - week
    with transaction.atomic():
        Application.objects.bulk_create(
            (
                Application(
                    reference=reference,
                    fund=funds[index],
                    applicant=None,
                    partner=partner,
                    status=Application.Status.RECEIVED,
                    nir=record.nir,
                    first_name=record.first_name,
                    last_name=record.last_name,
                    birth_date=record.birth_date,
                    email=record.email,
                    phone=record.phone,
                    address_line=record.address_line,
                    postcode=record.postcode,
                    city=record.city,
                    profession=Application.Profession.TECHNICIAN,
                    declared={},
                    iban=record.iban,
                    account_holder=record.account_holder,
                    idempotency_key=str(record.record_id),
                    submitted_at=(at := start + week * position / len(records)),
                    status_changed_at=at,
                )
                for position, (record, index, reference) in enumerate(
                    zip(records, fund_index, references, strict=True)
                )
            ),
            batch_size=5000,
        )
    pk_of = {
        int(key): pk
        for key, pk in Application.objects.filter(partner=partner).values_list(
            "idempotency_key", "pk"
        )
    }
    return StoredPopulation(
        fund_id=funds[0].pk,
        fund_sizes=[fund_index.count(index) for index in range(len(funds))],
        pk_of=pk_of,
        seconds=time.perf_counter() - started,
    )


def clear_integrity() -> None:
    """What the checks wrote (links, flags, confirmed people, runs): a clean state."""
    from entraide.integrity.models import Link, LinkageRun, Person, PersonRecord
    from entraide.review.models import Flag

    for model in (Flag, PersonRecord, Person, Link, LinkageRun):
        model.objects.all().delete()


def _timed_calls(function: Callable[..., Any], label: str, spent: dict[str, float]) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - started

    return wrapper


@contextmanager
def calls_timed(targets: Sequence[tuple[Any, str, str]]) -> Iterator[dict[str, float]]:
    """The seconds spent in each of ``targets`` (module, function name, label), which are
    replaced by timing wrappers meanwhile (the bench's process only)."""
    spent: dict[str, float] = {}
    originals = [(owner, name, getattr(owner, name)) for owner, name, _label in targets]
    for (owner, name, original), (_owner, _name, label) in zip(originals, targets, strict=True):
        setattr(owner, name, _timed_calls(original, label, spent))
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def stored_links() -> dict[Pair, tuple[float | None, list[str]]]:
    """Every link in the database: its match weight and shared identifiers, by pair."""
    from entraide.integrity.models import Link

    return {
        (left, right): (weight, reasons)
        for left, right, weight, reasons in Link.objects.values_list(
            "left_id", "right_id", "match_weight", "reasons"
        ).iterator(chunk_size=5000)
    }


def likely_same(weight: float | None, reasons: list[str]) -> bool:
    """A link counted as a duplicate found: from the threshold on, or the same NIR."""
    from entraide.integrity import linkage

    return "nir" in reasons or (weight is not None and weight >= linkage.DEFAULT_THRESHOLD)


def profile_full_run(fund_id: int) -> None:
    """One more full check under cProfile, on a clean state: where its time goes."""
    import cProfile
    import pstats

    from django.utils import timezone

    from entraide.integrity import services
    from entraide.integrity.models import LinkageRun

    clear_integrity()
    run = LinkageRun.objects.create(fund_id=fund_id, requested_at=timezone.now())
    profiler = cProfile.Profile()
    seconds, _run = timed(profiler.runcall, services.perform_linkage_run, run.pk)
    print(f"\nperform_linkage_run under cProfile: {seconds:.1f} s")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def measure_database(options: argparse.Namespace, population: Population) -> dict[str, bool]:
    """The worker's full check (``perform_linkage_run``) and the check of one application
    (``check_application``) through the (new) database: their verdicts."""
    from django.db import connection
    from django.db.models import Q
    from django.utils import timezone

    from entraide.integrity import exact, linkage, services
    from entraide.integrity.evaluation import normalise_pair, precision_recall
    from entraide.integrity.models import Link, LinkageRun
    from entraide.review.models import Flag

    stored = store_population(population.records)
    pk_of = stored.pk_of
    truth = {
        normalise_pair(pk_of[left], pk_of[right]) for left, right in population.duplicate_pairs()
    }
    print(
        f"\nSQLite {sqlite3.sqlite_version}: {len(pk_of):,} applications "
        f"of one partner stored in {stored.seconds:.1f} s (migrated, written in bulk; not "
        f"measured), in {len(stored.fund_sizes)} funds of a programme with one application per "
        f"person: {', '.join(f'{size:,}' for size in stored.fund_sizes)} (a repeated NIR in the "
        "next fund)"
    )

    # The worker's full check, each repeat on a clean state.
    split_targets = [
        (exact, "records_frame", "records_frame"),
        (linkage, "train_model", "train_model"),
        (linkage, "predict", "predict"),
        (linkage, "clusters", "clusters"),
        (exact, "exact_links", "exact_links"),
        (exact, "crowded_values", "crowded_values"),
        (services, "_store_findings", "links and flags written"),
    ]
    runs: list[tuple[float, float, float, dict[str, float]]] = []  # seconds, from, peak MiB
    run = None
    for _repeat in range(options.repeat):
        clear_integrity()
        run = LinkageRun.objects.create(
            fund_id=stored.fund_id, status=LinkageRun.Status.QUEUED, requested_at=timezone.now()
        )
        peak_reset = reset_peak_memory()
        start_mib = memory_mib("VmRSS")
        with calls_timed(split_targets) as spent:
            seconds, run = timed(services.perform_linkage_run, run.pk)
        runs.append((seconds, start_mib, memory_mib("VmHWM"), dict(spent)))
        if run.status != LinkageRun.Status.DONE:
            raise SystemExit(f"the full check failed: {run.error}")
    assert run is not None
    print(
        f"\n{'perform_linkage_run (database → links and flags)':<50} {'s':>7}  records/s  peak MiB"
    )
    for number, (seconds, start_mib, peak_mib, _spent) in enumerate(runs, 1):
        print(
            f"  {f'run {number}':<48} {seconds:>7.2f}  {run.records / seconds:>9,.0f}  "
            f"{peak_mib:>8,.0f}  (from {start_mib:,.0f}"
            + ("" if peak_reset else ", not reset")
            + ")"
        )
    seconds, _start, _peak, spent = runs[-1]
    spent["other: reading applications, references, funds; commit"] = seconds - sum(spent.values())
    print("  of the last run:")
    for label, part in spent.items():
        print(f"    {label:<56} {part:>7.2f}  {part / seconds:>6.1%}")
    links = stored_links()
    found = {pair for pair, (weight, reasons) in links.items() if likely_same(weight, reasons)}
    database_score = precision_recall(found, truth)
    print(
        f"  {run.records:,} applications; {'trained' if run.trained else 'default model'}; "
        f"{run.pairs:,} pairs; {run.links_created:,} links created, {run.flags_raised:,} flags "
        f"raised; {len(run.crowded)} crowded values"
    )
    print(quality("links stored, weight ≥ threshold or same NIR", database_score))

    # A new application's check, with the full run's model: the sample's links and flags
    # removed first, as if each had just arrived.
    rng = random.Random(options.seed + 1)  # noqa: S311 (a sample, not a secret)
    first, *sampled = rng.sample(sorted(pk_of.values()), min(options.checks + 1, len(pk_of)))
    chosen = {first, *sampled}
    involving = Q(left_id__in=chosen) | Q(right_id__in=chosen)
    before = {pair: value for pair, value in links.items() if not chosen.isdisjoint(pair)}
    Link.objects.filter(involving).delete()
    Flag.objects.filter(application_id__in=chosen).delete()
    statements = [0]

    def counted(execute: Callable[..., Any], *args: Any) -> Any:
        statements[0] += 1
        return execute(*args)

    first_seconds, _first = timed(services.check_application, first)
    latencies = []
    links_created = flags_raised = 0
    with connection.execute_wrapper(counted):
        for application_id in sampled:
            seconds, result = timed(services.check_application, application_id)
            latencies.append(seconds * 1000)
            links_created += result.links_created
            flags_raised += result.flags_raised
    after = {
        (left, right): weight
        for left, right, weight in Link.objects.filter(involving).values_list(
            "left_id", "right_id", "match_weight"
        )
    }
    again = before.keys() & after.keys()
    # The full run scores the pairs that blocking brings together; a pair that shares only an
    # identifier below the listing threshold may be stored unscored, and the check scores it.
    unscored = sum(before[pair][0] is None and after[pair] is not None for pair in again)
    differing = sum(
        abs(weight - after_weight) > 1e-9
        for pair in again
        if (weight := before[pair][0]) is not None and (after_weight := after[pair]) is not None
    )
    print(
        f"\ncheck_application: {len(sampled):,} applications of the database, "
        f"{statements[0] / len(sampled):.1f} statements each; first call "
        f"{first_seconds * 1000:.0f} ms (prepares the model's SQL)"
    )
    print(
        f"  per call: p50 {percentile(latencies, 0.50):.1f} ms  p95 "
        f"{percentile(latencies, 0.95):.1f} ms  p99 {percentile(latencies, 0.99):.1f} ms  max "
        f"{max(latencies):.1f} ms  ({len(latencies) / (sum(latencies) / 1000):,.0f} calls/s)"
    )
    print(
        f"  {links_created:,} links created, {flags_raised:,} flags raised; of the full run's "
        f"{len(before):,} links of these applications, {len(again):,} found again "
        f"({differing} weights differ; {unscored} unscored by the full run, scored by the "
        f"check), {len(after.keys() - before.keys()):,} new"
    )
    if options.profile:
        profile_full_run(stored.fund_id)
    median = statistics.median(seconds for seconds, _start, _peak, _spent in runs)
    return {
        f"database full run ≤ {TARGET_SECONDS:.0f} s": median <= TARGET_SECONDS,
        f"database precision and recall ≥ {TARGET_QUALITY}": min(
            database_score.precision, database_score.recall
        )
        >= TARGET_QUALITY,
        f"check_application p99 ≤ {TARGET_P99_MS:.0f} ms": percentile(latencies, 0.99)
        <= TARGET_P99_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300_000, help="applications")
    parser.add_argument("--duplicate-rate", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=2020, help="of the population")
    parser.add_argument("--sample", type=int, default=1_000, help="records scored incrementally")
    parser.add_argument("--max-candidates", type=int, default=50)
    parser.add_argument(
        "--no-database",
        dest="database",
        action="store_false",
        help="skip the product's path through a new SQLite database",
    )
    parser.add_argument("--repeat", type=int, default=1, help="full checks through the database")
    parser.add_argument(
        "--checks", type=int, default=200, help="applications checked through the database"
    )
    parser.add_argument("--profile", action="store_true", help="one more full check under cProfile")
    options = parser.parse_args()
    scratch = None
    if options.database:
        scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-integrity-"))
        os.environ["ENTRAIDE_VAR_DIR"] = str(scratch)
        os.environ.pop("DATABASE_URL", None)  # the embedded default: SQLite in the scratch folder
        import django

        django.setup()
    try:
        population, verdicts = measure_engine(options)
        if options.database:
            verdicts |= measure_database(options, population)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(
        "\ntargets: "
        + "; ".join(f"{target} {'met' if met else 'MISSED'}" for target, met in verdicts.items())
    )


if __name__ == "__main__":
    main()
