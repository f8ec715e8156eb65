"""Benchmark: the back office's list pages with 1,000,000 applications in one fund (issue 7:
≤ 200 ms server time per page on PostgreSQL, a fixed number of queries per page).

A new PostgreSQL database, created and dropped here (even when the benchmark fails), is
migrated, then filled in bulk: one fund with 1,000,000 synthetic applications (Faker's fr_FR
first and last names, valid NIRs from entraide/demo/synthetic.py, e-mails made of the names,
submitted over 60 days with most in the first ones), written by ``COPY`` with the tables'
secondary indexes dropped and built again afterwards. Around them, in SQL and at realistic
proportions: a current evaluation of every application (62 % eligible), a verification against
the records of every one (8 % contradicted), open flags on 1 %, 30 % of those waiting for a
decision assigned among 20 reviewers, awards (waiting, reserved, paid) for those waitlisted,
approved or paid, and a few hundred approvals waiting for a second approver. Then VACUUM
ANALYZE, as a database that has settled.

Measured, in a child process of its own: each list page through Django's test ``Client``,
logged in as one of the reviewers, with production's persistent connections (``CONN_MAX_AGE``)
and ``DEBUG`` off. The time is the server's: from the request entering Django to the response
rendered. Pages: every queue's first page, deep pages (by the keyset links the list gives, and
the last numbered page), every sort, filters, and searches (part of a name, a name with its
accents, a reference whole and by its start, the start of an e-mail). For each: p50, p95, p99
of the server time and the number of queries. Baseline in the same run: a bare view rendering
``Application.objects.all()[:50]`` through the same middleware. Peak memory: the measuring
process's VmHWM.

    .venv/bin/python bench/backoffice.py [--applications 1000000] [--requests 30]
        [--postgres postgres://postgres@127.0.0.1:5432/entraide_bench_backoffice]
"""

# ruff: noqa: S608  (SQL from integers and fixed text only)

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from evidence import peak_rss_mib, percentiles  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/entraide_bench_backoffice"
TARGET_MS = 200
REVIEWERS = 20
OPENS_ON = dt.date(2020, 4, 15)
WINDOW_DAYS = 60
# Application statuses and their share of the fund.
STATUSES = (
    ("received", 0.40),
    ("under_review", 0.22),
    ("info_requested", 0.03),
    ("waitlisted", 0.02),
    ("approved", 0.22),
    ("rejected", 0.09),
    ("paid", 0.02),
)
PENDING = "('received', 'under_review', 'info_requested', 'waitlisted')"
# Tables filled here, whose secondary indexes are dropped while they are.
TABLES = (
    "applications_application",
    "rules_applicationevaluation",
    "evidence_applicationverification",
    "review_flag",
    "review_assignment",
    "funds_award",
    "review_secondapproval",
)
APPLICATION_COLUMNS = (
    "reference, fund_id, partner_id, status, nir, first_name, last_name, birth_date, email, "
    "phone, address_line, postcode, city, country, profession, declared, iban, bic, "
    "account_holder, language, idempotency_key, request_digest, submitted_at, "
    "status_changed_at, clock_paused_seconds"
)


# -- set-up -----------------------------------------------------------------------------------


def set_up(options: argparse.Namespace) -> dict[str, Any]:
    """Run in a child process: the fund, its staff, partners, rules and verification run."""
    import django

    django.setup()
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from entraide.evidence.models import VerificationRun
    from entraide.funds.services import create_fund, grant_fund_role
    from entraide.intake.services import create_partner, issue_token
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
    rng = random.Random(7)  # noqa: S311 (synthetic data, not secrets)
    from faker.providers.person.fr_FR import Provider

    reviewers = []
    for n in range(REVIEWERS):
        person = users.create_user(
            f"reviewer{n}@example.org",
            "bench",
            first_name=rng.choice(Provider.first_names),
            last_name=rng.choice(Provider.last_names),
        )
        grant_fund_role(actor=operator, fund=fund, user=person, role="reviewer")
        reviewers.append(person.pk)
    partners = []
    for name in ("Audiens", "Pôle emploi spectacle", "AFDAS"):
        slug = name.lower().replace(" ", "-").replace("ô", "o")
        partner = create_partner(actor=operator, name=name, slug=slug, fund=fund)
        issue_token(actor=operator, partner=partner, fund=fund)
        partners.append(partner.pk)
    source = (ROOT / "rulesets" / "netflix-audiens.yaml").read_text(encoding="utf-8")
    version = publish_version(
        actor=operator, version=save_draft(actor=operator, fund=fund, source=source)
    )
    run = VerificationRun.objects.create(
        fund=fund, status=VerificationRun.Status.DONE, finished_at=timezone.now()
    )
    return {
        "fund": fund.pk,
        "operator": operator.pk,
        "reviewers": reviewers,
        "partners": partners,
        "version": version.pk,
        "run": run.pk,
    }


def application_blocks(
    count: int, ids: dict[str, Any], seed: int = 2020, block: int = 10_000
) -> Iterator[str]:
    """The applications as COPY text, in submission order, ``block`` lines at a time."""
    from faker.providers.person.fr_FR import Provider

    from entraide.applications.search import fold
    from entraide.core.refs import ALPHABET
    from entraide.demo.synthetic import make_nir

    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    first_names, last_names = Provider.first_names, Provider.last_names
    statuses = [name for name, _share in STATUSES]
    weights = [share for _name, share in STATUSES]
    start = dt.datetime.combine(OPENS_ON, dt.time(8), tzinfo=dt.UTC)
    # Most applications arrive in the first days: a truncated exponential over the window.
    scale = 10.0
    tail = 1 - math.exp(-WINDOW_DAYS / scale)
    offsets = sorted(-scale * math.log(1 - rng.random() * tail) * 86400 for _ in range(count))
    references: set[str] = set()
    nirs: set[str] = set()
    lines: list[str] = []
    for n, offset in enumerate(offsets):
        while (
            reference := "A-"
            + "".join(rng.choices(ALPHABET, k=4))
            + "-"
            + "".join(rng.choices(ALPHABET, k=4))
        ) in references:
            pass
        references.add(reference)
        birth = dt.date(1950 + rng.randrange(50), 1 + rng.randrange(12), 1 + rng.randrange(28))
        while (nir := make_nir(rng, birth, rng.choice((1, 2)))) in nirs:
            pass
        nirs.add(nir)
        first, last = rng.choice(first_names), rng.choice(last_names)
        local = f"{fold(first)}.{fold(last)}".replace(" ", "-").replace("'", "")
        submitted = (start + dt.timedelta(seconds=offset)).isoformat()
        status = rng.choices(statuses, weights)[0]
        lines.append(
            "\t".join(
                (
                    reference,
                    str(ids["fund"]),
                    str(ids["partners"][n % len(ids["partners"])]),
                    status,
                    nir,
                    first,
                    last,
                    birth.isoformat(),
                    f"{local}{n % 1000}@example.org",
                    "+33 6 12 34 56 78",
                    "12 rue des Studios",
                    "93200",
                    "Saint-Denis",
                    "FR",
                    "artist" if rng.random() < 0.4 else "technician",
                    "{}",
                    "FR7630006000011234567890189",
                    "",
                    f"{first} {last}",
                    "fr",
                    reference,
                    "",
                    submitted,
                    submitted,
                    "0",
                )
            )
            + "\n"
        )
        if len(lines) == block:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def fill(url: str, ids: dict[str, Any], count: int) -> dict[str, float]:
    """Every table of the benchmark, in bulk; seconds per step."""
    import psycopg

    seconds: dict[str, float] = {}
    mark = time.perf_counter()
    with psycopg.connect(url) as connection:
        cursor = connection.cursor()
        # The rows are consistent by construction: no foreign-key trigger per row (a bulk load,
        # as pg_restore does it).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "SELECT indexdef, schemaname || '.' || indexname FROM pg_indexes i "
            "WHERE tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (i.schemaname || '.' || i.indexname)::regclass)",
            [list(TABLES)],
        )
        indexes = cursor.fetchall()
        for _definition, name in indexes:
            cursor.execute(f"DROP INDEX {name}")
        copy_sql = f"COPY applications_application ({APPLICATION_COLUMNS}) FROM STDIN"
        with cursor.copy(copy_sql) as copy:
            for block in application_blocks(count, ids):
                copy.write(block)
        seconds["applications"] = time.perf_counter() - mark
        mark = time.perf_counter()
        fund, run, version, operator = ids["fund"], ids["run"], ids["version"], ids["operator"]
        reviewers = "ARRAY[" + ",".join(str(pk) for pk in ids["reviewers"]) + "]::bigint[]"
        # Reproducible draws from the id: h(k) is in 0..99, another series for each k.
        h = "mod(hashint8(id * {k} + {k})::bigint + 2147483648, 100)"
        cursor.execute(
            "INSERT INTO rules_applicationevaluation (eligible, amount, currency, result, "
            "evaluated_on, inputs_digest, evaluated_at, is_current, application_id, version_id) "
            f"SELECT {h.format(k=1)} < 62, CASE WHEN {h.format(k=1)} < 62 THEN "
            f"CASE WHEN {h.format(k=2)} < 40 THEN 900 ELSE 500 END ELSE 0 END, 'EUR', '{{}}', "
            "submitted_at::date, md5(id::text), submitted_at + interval '1 hour', true, id, "
            f"{version} FROM applications_application"
        )
        cursor.execute(
            "INSERT INTO evidence_applicationverification (evaluated_on, eligible, amount, "
            "mismatched, has_mismatch, changed, application_id, version_id, run_id) "
            f"SELECT submitted_at::date, {h.format(k=1)} < 62, 0, CASE WHEN {h.format(k=3)} < 8 "
            f"THEN '[\"days\"]' ELSE '[]' END::jsonb, {h.format(k=3)} < 8, {h.format(k=4)} < 3, "
            f"id, {version}, {run} FROM applications_application"
        )
        cursor.execute(
            "INSERT INTO review_flag (code, note, raised_at, resolved_at, resolution, "
            "application_id, fund_id) "
            f"SELECT 'reviewer', 'Synthetic', submitted_at + interval '1 day', CASE WHEN "
            f"{h.format(k=5)} = 1 THEN submitted_at + interval '2 days' END, '', id, {fund} "
            f"FROM applications_application WHERE {h.format(k=5)} < 2"
        )
        cursor.execute(
            "INSERT INTO review_assignment (assigned_at, application_id, assigned_by_id, "
            f"fund_id, reviewer_id) SELECT submitted_at + interval '3 hours', id, {operator}, "
            f"{fund}, ({reviewers})[1 + mod(hashint8(id)::bigint + 2147483648, {REVIEWERS})] "
            f"FROM applications_application WHERE status IN {PENDING} AND {h.format(k=6)} < 30"
        )
        cursor.execute(
            "INSERT INTO funds_award (nir, amount, currency, status, queued_at, created_at, "
            "reserved_at, application_id, approved_by_id, fund_id) "
            "SELECT nir, 500, 'EUR', CASE status WHEN 'waitlisted' THEN 'waitlisted' "
            "WHEN 'paid' THEN 'paid' ELSE 'reserved' END, submitted_at + interval '2 days', "
            "submitted_at + interval '2 days', CASE WHEN status <> 'waitlisted' THEN "
            f"submitted_at + interval '2 days' END, id, {operator}, {fund} "
            "FROM applications_application WHERE status IN ('waitlisted', 'approved', 'paid')"
        )
        cursor.execute(
            "INSERT INTO review_secondapproval (amount, currency, rules_eligible, rules_amount, "
            "grounds, note, status, proposed_at, answer, application_id, fund_id, "
            f"proposed_by_id) SELECT 1200, 'EUR', true, 900, '[\"amount_changed\"]', '', "
            f"'pending', submitted_at + interval '1 day', '', id, {fund}, "
            f"({reviewers})[1 + mod(hashint8(id)::bigint + 2147483648, {REVIEWERS})] FROM "
            f"applications_application WHERE status = 'under_review' AND {h.format(k=7)} < 1"
        )
        seconds["related"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for definition, _name in indexes:
            cursor.execute(definition)
        connection.commit()
        seconds["indexes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    seconds["vacuum"] = time.perf_counter() - mark
    return seconds


def sizes(url: str) -> dict[str, int]:
    import psycopg

    counts = {table: f"SELECT count(*) FROM {table}" for table in TABLES}
    counts["open flags"] = (
        "SELECT count(DISTINCT application_id) FROM review_flag WHERE resolved_at IS NULL"
    )
    counts["waitlisted"] = "SELECT count(*) FROM funds_award WHERE status = 'waitlisted'"
    with psycopg.connect(url) as connection:
        return {name: connection.execute(sql).fetchall()[0][0] for name, sql in counts.items()}


# -- measuring --------------------------------------------------------------------------------


def measure(options: argparse.Namespace) -> dict[str, Any]:
    """Run in a child process: every page, ``options.requests`` times each."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from entraide.accounts.models import User
    from entraide.applications.models import Application
    from entraide.core.keyset import encode_cursor
    from entraide.funds.models import Fund

    settings.ROOT_URLCONF = "backoffice_urls"
    fund = Fund.objects.get(slug="bench")
    reviewer = User.objects.get(email="reviewer0@example.org")
    client = Client()
    client.force_login(reviewer)
    url = reverse("application_list", kwargs={"slug": fund.slug})
    ordered = Application.objects.filter(fund=fund)

    def cursor_at(queryset: Any, fields: tuple[str, ...], row: int) -> str:
        return encode_cursor(list(queryset.order_by(*fields).values_list(*fields)[row]))

    half, fifth = options.applications // 2, options.applications // 5
    deep = cursor_at(ordered, ("submitted_at", "id"), half)
    deep_name = cursor_at(ordered, ("last_name", "first_name", "id"), half)
    deep_new = cursor_at(ordered.filter(status="received"), ("submitted_at", "id"), fifth)
    sample = ordered.order_by("id")[options.applications // 8]
    accented = (
        ordered.filter(first_name__in=["Hélène", "Thérèse", "Benoît", "Noël", "Jérôme"])
        .order_by("id")
        .first()
    )
    assert accented is not None
    partner = fund.applications.values_list("partner_id", flat=True).first()
    pages: list[tuple[str, str, dict[str, Any]]] = [
        ("baseline: Application.objects.all()[:50]", "/bench/baseline/", {}),
        ("all · first page", url, {}),
        ("all · page 200 (OFFSET 9,950, the last numbered)", url, {"page": 200}),
        (f"all · keyset page at row {half:,}", url, {"after": deep, "page": half // 50 + 1}),
        (f"all · previous of row {half:,}", url, {"before": deep, "page": half // 50}),
    ]
    pages += [
        (f"queue {queue} · first page", url, {"queue": queue})
        for queue in (
            "new",
            "auto_eligible",
            "mismatches",
            "info_requested",
            "flagged",
            "waitlist",
            "second_approval",
            "mine",
        )
    ]
    pages += [
        (f"queue new · keyset page at row {fifth:,}", url, {"queue": "new", "after": deep_new}),
        ("sort newest", url, {"sort": "newest"}),
        ("sort name", url, {"sort": "name"}),
        (f"sort name · keyset page at row {half:,}", url, {"sort": "name", "after": deep_name}),
        ("sort reference", url, {"sort": "reference"}),
        ("filter status under review", url, {"status": "under_review"}),
        (
            "filter artists, unassigned, by name",
            url,
            {"profession": "artist", "assignee": "none", "sort": "name"},
        ),
        ("filter assigned to a reviewer", url, {"assignee": reviewer.pk}),
        ("filter partner", url, {"partner": partner}),
        ("filter records contradicted, newest", url, {"records": "contradicted", "sort": "newest"}),
        (
            "queue auto-eligible, artists, by name",
            url,
            {"queue": "auto_eligible", "profession": "artist", "sort": "name"},
        ),
        ("search part of a name", url, {"q": sample.last_name[:5].lower()}),
        (
            "search first and last name, accents",
            url,
            {"q": f"{accented.first_name} {accented.last_name}"},
        ),
        ("search a reference", url, {"q": sample.reference}),
        ("search a reference's start", url, {"q": sample.reference[:4]}),
        ("search an e-mail's start", url, {"q": sample.email[:8]}),
        (
            "search a name, newest, in queue new",
            url,
            {"q": sample.last_name[:5], "sort": "newest", "queue": "new"},
        ),
        ("dashboard (not a list)", reverse("fund_dashboard", kwargs={"slug": fund.slug}), {}),
    ]
    results = []
    for label, path, params in pages:
        for _ in range(2):  # warm-up: plans, templates, the connection
            client.get(path, params)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, params)
        count = len(queries)  # read now: the next request empties the log it reads
        if response.status_code != 200:
            raise SystemExit(f"{label}: HTTP {response.status_code}")
        times = []
        for _ in range(options.requests):
            started = time.perf_counter()
            client.get(path, params)
            times.append((time.perf_counter() - started) * 1000)
        results.append({"page": label, "queries": count, **percentiles(times)})
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server,) = cursor.fetchone()
    return {"pages": results, "peak_rss_mib": peak_rss_mib(), "server": server}


def child(options: argparse.Namespace, step: str, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, __file__, f"--{step}", "--postgres", options.postgres]
    command += ["--requests", str(options.requests), "--applications", str(options.applications)]
    output = subprocess.run(  # noqa: S603
        command, check=True, stdout=subprocess.PIPE, text=True, env=env
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30, help="measured requests per page")
    parser.add_argument("--postgres", default=DEFAULT_DATABASE, help="a database created here")
    parser.add_argument("--set-up", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "entraide.settings"
    os.environ["DATABASE_URL"] = options.postgres
    if options.set_up:
        print(json.dumps(set_up(options)))
        return
    if options.measure:
        print(json.dumps(measure(options)))
        return

    from rules_single_db import postgres_database

    scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-backoffice-"))
    env = {
        **os.environ,
        "ENTRAIDE_VAR_DIR": str(scratch),
        "DEBUG": "0",
        "CONN_MAX_AGE": "60",
        "PYTHONPATH": str(Path(__file__).parent),
    }
    try:
        with postgres_database(options.postgres):
            subprocess.run(
                [sys.executable, "-m", "django", "migrate", "-v", "0"], check=True, env=env
            )
            ids = child(options, "set-up", env)
            os.environ.update(env)
            sys.path.insert(0, str(ROOT))
            import django

            django.setup()
            started = time.perf_counter()
            steps = fill(options.postgres, ids, options.applications)
            print(
                f"data (not measured): {time.perf_counter() - started:.1f} s — "
                + ", ".join(f"{name} {value:.1f} s" for name, value in steps.items())
            )
            print("  " + ", ".join(f"{k}: {v:,}" for k, v in sizes(options.postgres).items()))
            report(child(options, "measure", env), options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def report(result: dict[str, Any], options: argparse.Namespace) -> None:
    pages = result["pages"]
    baseline = pages[0]
    print(
        f"PostgreSQL {result['server']}; {options.applications:,} applications in one fund; "
        f"{options.requests} requests per page, server time through Django's test Client"
    )
    width = max(len(page["page"]) for page in pages)
    print(f"{'page':<{width}}  queries   p50 ms   p95 ms   p99 ms   p50 × baseline")
    for page in pages:
        print(
            f"{page['page']:<{width}}  {page['queries']:>7}  {page['p50']:>8.1f} "
            f"{page['p95']:>8.1f} {page['p99']:>8.1f}   {page['p50'] / baseline['p50']:>6.1f}×"
        )
    lists = [page for page in pages[1:] if "dashboard" not in page["page"]]
    worst = max(lists, key=lambda page: page["p95"])
    verdict = "met" if worst["p95"] <= TARGET_MS else "MISSED"
    print(
        f"target p95 ≤ {TARGET_MS} ms on every list page: {verdict} (worst: {worst['page']}, "
        f"p95 {worst['p95']:.1f} ms); queries per list page: "
        f"{min(p['queries'] for p in lists)}–{max(p['queries'] for p in lists)}"
    )
    print(f"peak memory (measuring process, VmHWM): {result['peak_rss_mib']:,.0f} MiB")


if __name__ == "__main__":
    main()
