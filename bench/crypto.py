"""Benchmark: the cost of encryption at rest and of blind indexes (issue 11).

Generated here: ``--values`` synthetic NIRs (valid keys) and French IBANs. Measured, in this
process, on the real code (``entraide.core.crypto``):

- ``encrypt_text`` and ``decrypt_text`` of each value (what saving and reading an application's
  NIR and IBAN cost), one value at a time, against the baseline of the same loop doing
  ``hashlib.sha256`` of the value (the floor of any per-value Python work);
- ``blind_index("nir", …)`` one value at a time, against the same baseline;
- the DuckDB function the evidence imports and rule files use (``entraide_nir_index``, an Arrow
  UDF) over all the NIRs in one query, against DuckDB's built-in ``sha256`` over the same column
  (the floor of hashing inside the engine).

Reported: values per second, latency percentiles of single calls (p50/p95/p99, microseconds),
peak resident memory of each phase, and the ratio of each time to its baseline's.

    .venv/bin/python bench/crypto.py [--values 1000000]
"""

# ruff: noqa: S311, S608  (synthetic data; SQL of a fixed function name)

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")

import django  # noqa: E402

django.setup()

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from bench.memory import memory_mib, reset_peak_memory  # noqa: E402
from entraide.core import crypto  # noqa: E402
from entraide.demo.synthetic import make_iban, make_nir  # noqa: E402
from entraide.rules.loaders import register_nir_index  # noqa: E402


def timed_each(label: str, values: list[str], call: Callable[[str], object]) -> float:
    """Run ``call`` on every value; print the rate, the percentiles of single calls and the
    peak memory; return the total seconds."""
    reset_peak_memory()
    start_rss = memory_mib("VmRSS")
    latencies = []
    clock = time.perf_counter
    started = clock()
    for value in values:
        before = clock()
        call(value)
        latencies.append(clock() - before)
    total = clock() - started
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{label:<28} {len(values) / total:>12,.0f}/s  p50 {cuts[49] * 1e6:6.1f} µs  "
        f"p95 {cuts[94] * 1e6:6.1f} µs  p99 {cuts[98] * 1e6:6.1f} µs  "
        f"peak {memory_mib('VmHWM'):.0f} MiB (+{memory_mib('VmHWM') - start_rss:.0f})"
    )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(2020)
    nirs = [
        make_nir(rng, dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000)), 1 + i % 2)
        for i in range(args.values)
    ]
    ibans = [make_iban(rng) for _ in range(args.values // 10)]
    print(f"{platform.node()} · Python {platform.python_version()} · {args.values:,} NIRs")

    baseline = timed_each(
        "baseline sha256(NIR)", nirs, lambda v: hashlib.sha256(v.encode()).hexdigest()
    )
    index = timed_each("blind_index(nir)", nirs, lambda v: crypto.blind_index("nir", v))
    tokens: list[str] = []
    encrypt = timed_each("encrypt_text(NIR)", nirs, lambda v: tokens.append(crypto.encrypt_text(v)))
    decrypt = timed_each("decrypt_text(token)", tokens, crypto.decrypt_text)
    iban_base = timed_each(
        "baseline sha256(IBAN)", ibans, lambda v: hashlib.sha256(v.encode()).hexdigest()
    )
    iban_encrypt = timed_each("encrypt_text(IBAN)", ibans, crypto.encrypt_text)
    print(
        f"ratios to the baseline: blind index ×{index / baseline:.1f}, encrypt "
        f"×{encrypt / baseline:.1f}, decrypt ×{decrypt / baseline:.1f}, IBAN encrypt "
        f"×{iban_encrypt / iban_base:.1f}"
    )

    connection = duckdb.connect()
    connection.register("people", pa.table({"nir": pa.array(nirs, pa.string())}))
    function = register_nir_index(connection)
    reset_peak_memory()
    started = time.perf_counter()
    connection.execute("SELECT count(DISTINCT sha256(nir)) FROM people").fetchall()
    engine_base = time.perf_counter() - started
    started = time.perf_counter()
    connection.execute(f"SELECT count(DISTINCT {function}(nir)) FROM people").fetchall()
    engine = time.perf_counter() - started
    print(
        f"DuckDB sha256 (baseline)     {args.values / engine_base:>12,.0f}/s  "
        f"{engine_base:.2f} s\n"
        f"DuckDB {function}   {args.values / engine:>12,.0f}/s  {engine:.2f} s  "
        f"peak {memory_mib('VmHWM'):.0f} MiB  ×{engine / engine_base:.1f} the baseline"
    )


if __name__ == "__main__":
    main()
