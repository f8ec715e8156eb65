"""Benchmark: opening day of the intake API (issue 5: ≥ 300 submissions/s with p99 ≤ 250 ms,
0 errors, and exactly one application per distinct idempotency key sent).

A bounded load: ``--new`` complete, valid submissions of synthetic applicants (valid NIRs
matching their birth dates, valid IBANs, answers to every question of the rule set), plus
retries (``--retry-ratio`` of the requests resend an earlier key and body of the same wrk
thread, half of them among the keys just sent, so some race with their first request). Debian's
``wrk`` sends them from its own process (bench/intake.lua; the bench installs wrk with apt-get
when missing and root) to the application served by gunicorn on 127.0.0.1 with PostgreSQL, in
production settings (DEBUG off, WhiteNoise, the application's middleware and database
settings), in a database the bench creates (dropped first if it exists). The fund, its
published rule set (rulesets/netflix-audiens.yaml), the partner and its token are made through
the services. The task worker does not run: e-mails and evaluations wait in the task queue, and
the bench reports how many.

Measured: every request of the plans, from the first sent to the last answered; latency from
the moment wrk asks the script for the request to the response (p50, p90, p99, max). A wrk
thread that is done resends retries until the last one is done, so the load holds to the end;
those are reported ("past plan") but not measured. Also reported: the gunicorn workers' CPU
time per request, their peak memory, and what the database sessions were doing (sampled).

Baseline, in the same run, on the same server, with the same requests and concurrency: a bare
Django view that inserts one row per key (bench/intake_urls.py). Each target gets a warm-up
run (its own keys, counted like the others) before its measured run.

Afterwards: the number of applications must equal the number of distinct keys sent (the same for
the baseline's rows), no request may have failed, and ``entraide audit verify`` must pass
(the hash chain stayed whole under concurrency); otherwise the bench prints FAIL and exits 1.

    .venv/bin/python bench/intake.py [--new 6000] [--retry-ratio 0.1] [--connections 32]
        [--threads 2] [--workers 3] [--worker-class sync] [--conn-max-age N]
    .venv/bin/python bench/intake.py --profile 600   # where a submission's time goes

Three sync workers was the best choice on 2 cores (2, 3, 4 and 6 sync workers and gthread 2×4
and 4×2 tried: sync 3 and 4 equal, more workers or threads only queue on the audit chain's head
row; gthread's kept-alive connections also serve wrk's two threads unevenly).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

LUA = BENCH / "intake.lua"
RULES = ROOT / "rulesets" / "netflix-audiens.yaml"
FUND_SLUG = "opening-day"
BASELINE_PATH = "/bench/insert/"
TARGET_RATE = 300  # submissions/s
TARGET_P99_MS = 250


def ensure_wrk() -> str:
    """Debian's wrk, installed as run.py installs chromium: with apt-get, when root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit("wrk is missing and we are not root to install it: apt-get install wrk")
    print("==> installing Debian's wrk", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        subprocess.run(command, env=env, check=True)  # noqa: S603 (fixed commands)
    return shutil.which("wrk") or "wrk"


@contextmanager
def fresh_database(url: str, keep: bool) -> Iterator[None]:
    """Drop the database named in ``url`` if it exists and create it empty; drop it at the end
    unless ``keep``."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(drop)
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield
    finally:
        if not keep:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(drop)


# ---------------------------------------------------------------------------------------------
# The requests


def declared_answers(
    questions: Sequence[Any], annual_resources: Decimal, rng: random.Random
) -> dict[str, Any]:
    """An answer to every question of the rule set, as a partner's form would send them."""
    answers: dict[str, Any] = {}
    for question in questions:
        if question.id == "annual_resources":
            answers[question.id] = f"{annual_resources:.2f}"
        elif question.choices:
            answers[question.id] = rng.choice(question.choices).value
        elif question.type == "boolean":
            answers[question.id] = rng.random() < 0.3
        elif question.type == "count":
            low = int(question.min or 0)
            answers[question.id] = rng.randint(low, max(low, int(question.max or 60)))
        elif question.type in ("money", "number"):
            answers[question.id] = f"{rng.randint(0, 20_000)}.00"
        elif question.type == "date":
            day = dt.date(2020, 1, 1) + dt.timedelta(rng.randint(0, 90))
            answers[question.id] = day.isoformat()
        else:
            answers[question.id] = "—"
    return answers


def submissions(count: int, seed: int) -> list[tuple[str, str]]:
    """(idempotency key, JSON body) of ``count`` distinct applicants (distinct NIRs: one
    application per person per fund)."""
    from entraide.demo.synthetic import make_people
    from entraide.rules.declared import questions
    from entraide.rules.document import load_file

    asked = questions(load_file(RULES), skip=frozenset({"profession", "birth_date"}))
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    seen: set[str] = set()
    bodies = []
    # make_people draws NIRs at random: a few more than needed cover the rare duplicates.
    for person in make_people(count + count // 100 + 10, seed=seed):
        if person.nir in seen:
            continue
        seen.add(person.nir)
        body = {
            "applicant": {
                "nir": person.nir,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "birth_date": person.birth_date.isoformat(),
                "email": person.email,
                "phone": person.phone,
                "language": rng.choice(("fr", "fr", "fr", "en")),
            },
            "address": {
                "line": person.address_line,
                "postcode": person.postcode,
                "city": person.city,
                "country": "FR",
            },
            "profession": person.profession,
            "declared": declared_answers(asked, person.annual_resources, rng),
            "bank": {
                # as people type it: groups of four
                "iban": " ".join(person.iban[i : i + 4] for i in range(0, len(person.iban), 4)),
                "bic": "",
                "holder": f"{person.first_name} {person.last_name}",
            },
            "consent": True,
        }
        key = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        # Compact JSON escapes tabs and newlines: one request per line of the plan file.
        bodies.append((key, json.dumps(body, ensure_ascii=False, separators=(",", ":"))))
        if len(bodies) == count:
            return bodies
    raise SystemExit("could not draw enough distinct NIRs")


@dataclass(frozen=True)
class Plan:
    prefix: Path  # plan files: <prefix>.<thread>
    new: int  # distinct keys, all of them sent
    requests: int  # requests in the plans (new + retries)


def write_plan(
    prefix: Path,
    items: list[tuple[str, str]],
    *,
    threads: int,
    connections: int,
    retry_ratio: float,
    rng: random.Random,
) -> Plan:
    """Split ``items`` in ``threads`` disjoint slices and write each thread's request order."""
    recent = 2 * connections // threads
    total = 0
    for thread in range(threads):
        mine = items[thread::threads]
        retries = round(len(mine) * retry_ratio / (1 - retry_ratio))
        length = len(mine) + retries
        retry_at = set(rng.sample(range(1, length), retries))
        order: list[tuple[str, str]] = []
        sent: list[tuple[str, str]] = []
        fresh = iter(mine)
        for position in range(length):
            if position in retry_at:
                # Half among the keys just sent (often still in flight: a race with the first
                # request), half among any sent before.
                pool = sent[-recent:] if rng.random() < 0.5 else sent
                order.append(rng.choice(pool))
            else:
                sent.append(next(fresh))
                order.append(sent[-1])
        assert len(sent) == len(mine)
        with open(f"{prefix}.{thread}", "w", encoding="utf-8") as out:
            out.writelines(f"{key}\t{body}\n" for key, body in order)
        total += length
    return Plan(prefix=prefix, new=len(items), requests=total)


# ---------------------------------------------------------------------------------------------
# The server and the load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    options: argparse.Namespace, env: dict[str, str], port: int, token: str
) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn", "entraide.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(options.workers),
        "--worker-class", options.worker_class,
        "--threads", str(options.worker_threads),
        "--pythonpath", f"{ROOT},{BENCH}",
        "--backlog", "2048",
        # heartbeat files off the disk, as gunicorn advises
        "--worker-tmp-dir", "/dev/shm",  # noqa: S108
        "--log-level", "warning",
        "--timeout", "60",
    ]  # fmt: skip
    # Its own session: a Ctrl-C reaches the bench, which stops it in order.
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    ready = urllib.request.Request(  # the API's fund page, which the partner reads first
        f"http://127.0.0.1:{port}/api/v1/funds/{FUND_SLUG}",
        headers={"Authorization": f"Bearer {token}"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(ready, timeout=5):  # noqa: S310 (our own server)
                return server
        except urllib.error.HTTPError as error:
            raise SystemExit(f"the API answers {error.code}: {error.read()[:600]!r}") from None
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM, wait: float = 40) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_pids(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def workers_cpu(server: subprocess.Popen) -> float:
    """CPU time (user + system, seconds) the gunicorn workers have used so far."""
    ticks = 0
    for pid in worker_pids(server):
        # fields after the command name, which ends with ")": utime and stime are the 12th, 13th
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_memory(server: subprocess.Popen) -> dict[str, float]:
    """Peak resident memory (VmHWM) of the gunicorn master and each worker, in MiB."""
    peaks = {}
    for pid in [server.pid, *worker_pids(server)]:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[pid] = int(line.split()[1]) / 1024
    workers = [peak for pid, peak in peaks.items() if pid != server.pid]
    return {
        "master": peaks.get(server.pid, 0.0),
        "worker_max": max(workers, default=0.0),
        "workers_sum": sum(workers),
        "workers": len(workers),
    }


class WaitSampler(threading.Thread):
    """What the server's database sessions are doing, sampled every 50 ms during a run: the
    wait event of each active one (``CPU`` when none), or "idle in transaction" when the
    session waits for its worker in the middle of a transaction (holding its locks)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stopped = threading.Event()
        self.samples = 0
        self.seen: Counter[str] = Counter()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stopped.wait(0.05):
                rows = connection.execute(
                    "SELECT CASE WHEN state = 'active' THEN "
                    "coalesce(wait_event_type || ':' || wait_event, 'CPU') ELSE state END "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state <> 'idle'"
                ).fetchall()
                self.seen.update(row[0] for row in rows)
                self.samples += 1

    def average(self) -> dict[str, float]:
        """Sessions in each state at a sampled instant, on average."""
        self.stopped.set()
        self.join()
        return {
            state: round(count / max(self.samples, 1), 2)
            for state, count in self.seen.most_common()
        }


def percentiles(ordered: list[int]) -> dict[str, float]:
    """p50, p90, p99 and max in milliseconds (nearest rank) of latencies in microseconds."""

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000 if ordered else 0.0

    return {"p50": rank(0.50), "p90": rank(0.90), "p99": rank(0.99), "max": rank(1.0)}


def run_load(
    wrk: str,
    url: str,
    path: str,
    token: str,
    plan: Plan,
    options: argparse.Namespace,
    processes: list[subprocess.Popen],
) -> dict[str, Any]:
    command = [
        wrk, "-t", str(options.threads), "-c", str(options.connections),
        "-d", f"{options.ceiling}s", "--timeout", "30s", "-s", str(LUA), url,
        "--", path, token, str(plan.prefix),
    ]  # fmt: skip
    load = subprocess.Popen(  # noqa: S603
        command,
        stdout=subprocess.PIPE,
        # error bodies are cut at a byte count, perhaps inside a character
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
    )
    processes.append(load)
    done, lines = 0, []
    assert load.stdout is not None
    for line in load.stdout:
        lines.append(line)
        if line.strip() == "thread-done":
            done += 1
            if done == options.threads:
                # wrk waits for its -d ceiling; SIGINT ends it now, and it calls done().
                load.send_signal(signal.SIGINT)
    load.wait()
    report = next((line for line in lines if line.startswith("BENCH_JSON ")), None)
    if report is None:
        raise SystemExit(f"wrk ended without a report ({load.returncode}):\n{''.join(lines)}")
    result: dict[str, Any] = json.loads(report.removeprefix("BENCH_JSON "))
    threads = result["threads"]
    result["complete"] = done == options.threads and all(
        t["answered"] == t["planned"] for t in threads
    )
    # Measured: the plans' requests, from the first sent to the last answered (a thread that
    # is done sends retries until then, so the load stays the same to the end).
    result["duration"] = (
        max(t["finished_us"] for t in threads) - min(t["started_us"] for t in threads)
    ) / 1e6
    result["responses"] = sum(t["planned"] for t in threads)
    result["beyond"] = sum(t["beyond"] for t in threads)
    latencies = sorted(value for t in threads for value in t.pop("latencies_us"))
    result["latency_ms"] = percentiles(latencies)
    statuses: dict[str, int] = {}
    for thread in threads:
        for code, count in thread["statuses"].items():
            statuses[code] = statuses.get(code, 0) + count
    result["statuses"] = statuses
    result["failed"] = sum(n for code, n in statuses.items() if not code.startswith("2")) + sum(
        result["errors"][kind] for kind in ("connect", "read", "write", "timeout")
    )
    # among all the responses, those past the plans included
    result["replayed"] = sum(t["replayed"] for t in threads)
    result["first_error"] = next((t["first_error"] for t in threads if t["first_error"]), "")
    result["rate"] = result["responses"] / result["duration"] if result["duration"] else 0.0
    return result


# ---------------------------------------------------------------------------------------------
# Set-up and checks through the application


def set_up() -> tuple[Any, str]:
    """The fund with its published rules, a partner and its token, through the services."""
    from django.db import connection

    from entraide.accounts.services import create_account
    from entraide.funds.services import create_fund
    from entraide.intake.services import create_partner, issue_token
    from entraide.rules.services import publish_version, save_draft

    operator = create_account(
        actor=None, email="operator@bench.entraide.invalid", password=None, fund_operator=True
    )
    today = dt.date.today()
    fund = create_fund(
        actor=operator,
        name="Opening day (benchmark)",
        slug=FUND_SLUG,
        currency="EUR",
        budget=Decimal("100000000.00"),
        standard_amount=Decimal("500.00"),
        opens_on=today - dt.timedelta(days=1),
        closes_on=today + dt.timedelta(days=30),
    )
    publish_version(
        actor=operator,
        version=save_draft(actor=operator, fund=fund, source=RULES.read_text(encoding="utf-8")),
    )
    partner = create_partner(actor=operator, name="Syndicat (benchmark)", slug="bench-union")
    _, token = issue_token(actor=operator, partner=partner, fund=fund, name="load")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_row (id bigserial PRIMARY KEY, key text UNIQUE, body jsonb)"
        )
    return fund, token


def counts(fund: Any) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from entraide.applications.models import Application
    from entraide.audit.models import AuditEvent

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_row")
        rows = cursor.fetchone()[0]
    tasks = {
        f"{task['task_path'].rsplit('.', 1)[-1]} ({task['status'].lower()})": task["n"]
        for task in DBTaskResult.objects.values("task_path", "status")
        .annotate(n=Count("id"))
        .order_by("task_path")
    }
    return {
        "applications": Application.objects.filter(fund=fund).count(),
        "baseline_rows": rows,
        "audit_events": AuditEvent.objects.count(),
        "audit_submitted": AuditEvent.objects.filter(action="application.submitted").count(),
        "tasks": tasks,
    }


def profile_in_process(items: list[tuple[str, str]], token: str) -> None:
    """Where a submission's time goes: the same requests through django.test.Client in this
    process (the server's settings and middleware, without gunicorn and wrk), after 20 not
    measured, under cProfile; and the queries of one submission and of its retry."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    path = f"/api/v1/funds/{FUND_SLUG}/applications"

    def post(key: str, body: str) -> None:
        response = client.post(
            path,
            data=body,
            content_type="application/json",
            headers={"authorization": f"Bearer {token}", "idempotency-key": key},
        )
        if response.status_code != 201:
            raise SystemExit(f"{response.status_code} {response.content[:600]!r}")

    for item in items[:20]:
        post(*item)
    statements: list[tuple[float, str]] = []

    def timed(execute: Any, sql: str, *args: Any) -> Any:
        mark = time.perf_counter()
        try:
            return execute(sql, *args)
        finally:
            statements.append(((time.perf_counter() - mark) * 1000, sql))

    for label, item in (("submission", items[20]), ("retry", items[20])):
        statements.clear()
        with connection.execute_wrapper(timed):
            post(*item)
        print(
            f"statements of one {label}: {len(statements)}, "
            f"{sum(ms for ms, _ in statements):.2f} ms (BEGIN and COMMIT are not statements here)"
        )
        for ms, sql in statements:
            print(f"  {ms:6.2f} ms  {sql[:150]}")
    # Half without the profiler (its overhead is large on code made of many small calls).
    half = 21 + len(items[21:]) // 2
    plain, profiled = items[21:half], items[half:]
    mark = time.perf_counter()
    for item in plain:
        post(*item)
    elapsed = time.perf_counter() - mark
    print(f"{len(plain)} submissions in process: {elapsed / len(plain) * 1000:.1f} ms each")
    profiler = cProfile.Profile()
    mark = time.perf_counter()
    profiler.enable()
    for item in profiled:
        post(*item)
    profiler.disable()
    elapsed = time.perf_counter() - mark
    print(f"{len(profiled)} more under cProfile: {elapsed / len(profiled) * 1000:.1f} ms each")
    stats = pstats.Stats(profiler, stream=sys.stdout).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


def database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", type=int, default=6000, help="distinct submissions (keys)")
    parser.add_argument("--retry-ratio", type=float, default=0.1, help="share of retries")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--worker-threads", type=int, default=1, help="threads (gthread)")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        help="persistent database connections (seconds); default: the application's setting",
    )
    parser.add_argument(
        "--database",
        default="postgres://postgres@127.0.0.1:5432/entraide_bench_intake",
        help="PostgreSQL database to (re)create for the run",
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--ceiling", type=int, default=600, help="seconds before wrk gives up")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="instead of the load: N submissions in this process under cProfile, and the "
        "queries of one submission and of one retry",
    )
    options = parser.parse_args()
    if not 0 <= options.retry_ratio < 1:
        parser.error("--retry-ratio must be at least 0 and below 1")
    if options.connections % options.threads or options.new < 10 * options.connections:
        parser.error("--connections must be a multiple of --threads, --new ≥ 10 × connections")
    wrk = "" if options.profile else ensure_wrk()

    scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-intake-"))
    (scratch / "var" / "static").mkdir(parents=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "intake_settings",
        "ENTRAIDE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback, as behind the TLS-terminating proxy of a deployment.
        "SECURE_SSL_REDIRECT": "false",
        # One partner token sends the whole opening day at hundreds a second: its rate limit
        # (600 a minute in production) would be the bench's bottleneck, so it is off here.
        "ENTRAIDE_RATE_API_PARTNER": "",
        "DATABASE_URL": options.database,
        "ENTRAIDE_VAR_DIR": str(scratch / "var"),
    }
    if options.conn_max_age is not None:
        env["BENCH_CONN_MAX_AGE"] = str(options.conn_max_age)
    os.environ.update(env)
    processes: list[subprocess.Popen] = []
    try:
        with fresh_database(options.database, options.keep_database):
            try:
                ok = run(options, wrk, env, scratch, processes)
            finally:
                for process in reversed(processes):
                    stop(process, wait=5)
    except KeyboardInterrupt:
        ok = False
        print("interrupted", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(0 if ok else 1)


def run(
    options: argparse.Namespace,
    wrk: str,
    env: dict[str, str],
    scratch: Path,
    processes: list[subprocess.Popen],
) -> bool:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    mark = time.perf_counter()
    call_command("migrate", verbosity=0)
    fund, token = set_up()
    if options.profile:
        profile_in_process(submissions(options.profile + 20, options.seed), token)
        return True
    warm_new = max(10 * options.connections, options.new // 20)
    items = submissions(warm_new + options.new, options.seed)
    rng = random.Random(options.seed)  # noqa: S311 (synthetic data, not secrets)
    shape = {
        "threads": options.threads,
        "connections": options.connections,
        "retry_ratio": options.retry_ratio,
    }
    warm_plan = write_plan(scratch / "warm", items[:warm_new], rng=rng, **shape)
    plan = write_plan(scratch / "load", items[warm_new:], rng=rng, **shape)
    prepared = time.perf_counter() - mark
    database = database_version()
    conn_max_age = settings.DATABASES["default"]["CONN_MAX_AGE"]
    connections.close_all()

    load_before = os.getloadavg()[0]
    port = free_port()
    server = start_server(options, env, port, token)
    processes.append(server)
    url = f"http://127.0.0.1:{port}"
    api_path = f"/api/v1/funds/{FUND_SLUG}/applications"
    results: dict[str, dict[str, Any]] = {}
    for name, path in (("baseline", BASELINE_PATH), ("api", api_path)):
        results[f"{name} warm-up"] = run_load(wrk, url, path, token, warm_plan, options, processes)
        sampler = WaitSampler(options.database)
        sampler.start()
        cpu = workers_cpu(server)
        results[name] = run_load(wrk, url, path, token, plan, options, processes)
        # per planned request, though the few retries past the plans used some of it
        results[name]["worker_cpu_ms"] = (workers_cpu(server) - cpu) / plan.requests * 1000
        results[name]["database_sessions"] = sampler.average()
    memory = peak_memory(server)
    # Other work on the machine shows here (the load itself adds about workers + 1).
    loads = (load_before, os.getloadavg()[0])
    # Graceful stop: the workers finish what wrk sent past the plans before we count.
    stop(server)

    after = counts(fund)
    verify = subprocess.run(
        [sys.executable, "-m", "entraide", "audit", "verify"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "entraide.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    keys = warm_plan.new + plan.new
    checks = {
        "every request answered": all(r["complete"] for r in results.values()),
        "no failed request": all(r["failed"] == 0 for r in results.values()),
        "applications = distinct keys": after["applications"] == keys,
        "baseline rows = distinct keys": after["baseline_rows"] == keys,
        "audit verify": verify.returncode == 0,
    }
    server_text = (
        f"gunicorn {options.worker_class}, {options.workers} workers"
        + (f" × {options.worker_threads} threads" if options.worker_class == "gthread" else "")
        + f", 127.0.0.1, production settings, CONN_MAX_AGE {conn_max_age}"
        + ("" if options.conn_max_age is not None else " (the application's)")
    )
    report(
        options, server_text, results, plan, warm_plan, memory, after, checks, verify, database,
        prepared, loads,
    )  # fmt: skip
    return all(checks.values())


def report(
    options: argparse.Namespace,
    server: str,
    results: dict[str, dict[str, Any]],
    plan: Plan,
    warm_plan: Plan,
    memory: dict[str, float],
    after: dict[str, Any],
    checks: dict[str, bool],
    verify: subprocess.CompletedProcess,
    database: str,
    prepared: float,
    loads: tuple[float, float],
) -> None:
    api, base = results["api"], results["baseline"]
    print(
        f"intake API: {plan.new:,} new submissions + {plan.requests - plan.new:,} retries "
        f"(warm-up before each target: {warm_plan.new:,} + {warm_plan.requests - warm_plan.new:,})"
    )
    print(
        f"server: {server}; {database}; load: wrk {options.threads} threads, "
        f"{options.connections} connections; "
        f"set-up {prepared:.1f} s; load average (1 min) {loads[0]:.1f} before, "
        f"{loads[1]:.1f} after"
    )
    print(
        "measured: the planned requests ('past plan': retries a thread sent once done, while "
        "the others were not; 'replayed': Idempotent-Replayed among all the responses)"
    )
    print(
        f"{'target':<18}{'requests':>9}{'time s':>8}{'req/s':>8}{'p50 ms':>8}{'p90 ms':>8}"
        f"{'p99 ms':>8}{'max ms':>8}{'past plan':>10}{'replayed':>9}{'failed':>7}"
    )
    for name, result in results.items():
        latency = result["latency_ms"]
        print(
            f"{name:<18}{result['responses']:>9,}{result['duration']:>8.2f}{result['rate']:>8.0f}"
            f"{latency['p50']:>8.1f}{latency['p90']:>8.1f}{latency['p99']:>8.1f}"
            f"{latency['max']:>8.1f}{result['beyond']:>10,}{result['replayed']:>9,}"
            f"{result['failed']:>7,}"
        )
        if result["first_error"]:
            print(f"  first error: {result['first_error'][:300]}")
        if "worker_cpu_ms" in result:
            print(f"  gunicorn workers' CPU per request: {result['worker_cpu_ms']:.1f} ms")
        if "database_sessions" in result:
            sessions = ", ".join(f"{k} {v}" for k, v in result["database_sessions"].items())
            print(f"  database sessions at an instant, on average: {sessions}")
    ratio = api["rate"] / base["rate"] if base["rate"] else 0.0
    p99_ratio = api["latency_ms"]["p99"] / base["latency_ms"]["p99"]
    slower = base["rate"] / api["rate"] if api["rate"] else float("inf")
    print(
        f"ratio API / baseline: throughput {ratio:.2f}× ({slower:.1f}× slower), "
        f"p99 {p99_ratio:.1f}×"
    )
    print(
        f"peak RSS (VmHWM, shared pages counted in each): master {memory['master']:.0f} MiB, "
        f"worker max {memory['worker_max']:.0f} MiB, {memory['workers']} workers "
        f"{memory['workers_sum']:.0f} MiB"
    )
    print(
        f"database after: {after['applications']:,} applications for "
        f"{warm_plan.new + plan.new:,} distinct keys; {after['baseline_rows']:,} baseline rows; "
        f"{after['audit_events']:,} audit events ({after['audit_submitted']:,} "
        f"application.submitted); tasks queued: "
        + (", ".join(f"{n:,} {task}" for task, n in after["tasks"].items()) or "none")
    )
    met = api["rate"] >= TARGET_RATE and api["latency_ms"]["p99"] <= TARGET_P99_MS
    print(
        f"target ≥ {TARGET_RATE} submissions/s with p99 ≤ {TARGET_P99_MS} ms: "
        f"{'met' if met else 'MISSED'}"
    )
    for check, passed in checks.items():
        print(f"{'OK  ' if passed else 'FAIL'} {check}")
    if verify.returncode != 0:
        print(verify.stdout[-2000:], verify.stderr[-2000:], sep="\n")
    print(
        json.dumps(
            {
                "benchmark": "intake",
                "server": server,
                "database": database,
                "threads": options.threads,
                "connections": options.connections,
                "new": plan.new,
                "requests": plan.requests,
                "results": {
                    name: {
                        key: value
                        for key, value in result.items()
                        if key not in ("threads", "first_error", "requests")
                    }
                    for name, result in results.items()
                },
                "ratio_throughput": round(ratio, 3),
                "peak_rss_mib": memory,
                "load_average": loads,
                "after": after,
                "target_met": met,
                "checks": checks,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
