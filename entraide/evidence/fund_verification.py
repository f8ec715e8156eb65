"""Verifying every application of a fund against the records at once.

Each application is evaluated on the records under the rule version in force on the day it was
submitted (as its own evaluation is), and its answers are checked against the records
(:func:`entraide.evidence.verification.mismatched_aggregates`, the flags of the application's
page). The work is columnar: the fund's applications and the records of their people are copied
into DuckDB (``COPY … TO STDOUT`` on PostgreSQL), the batch plan of each version runs once per
evaluation date (once in all when the rules never read the date), and the results replace the
fund's verification rows in one transaction, with the counts and the audit event of the run.

An outcome *changed* when it differs from the run before (the first run: from the current
evaluation). A pending application whose current evaluation no longer matches the records is
*outdated*: a follow-up task evaluates it again. A decided application whose records changed is
counted for review; its decision stays as it was.
"""

# ruff: noqa: S608  (SQL from model metadata, compiled rule plans and integers)

from __future__ import annotations

import csv
import datetime as dt
import json
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from entraide.applications import selectors as application_selectors
from entraide.audit import services as audit
from entraide.core.copying import copy_from, copy_to, psycopg_cursor
from entraide.evidence import columnar
from entraide.evidence import selectors as evidence_selectors
from entraide.evidence.imports import SPECS
from entraide.evidence.models import ApplicationVerification, EvidenceBatch, VerificationRun
from entraide.evidence.verification import mismatched_aggregates
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.rules import batch, loaders
from entraide.rules import selectors as rules_selectors
from entraide.rules.batch import canonical_number
from entraide.rules.document import RuleDocument
from entraide.rules.engine import FactError, facts_from
from entraide.rules.expressions import number_problem
from entraide.rules.models import RuleSetVersion
from entraide.rules.services import PENDING_STATUSES, record_of

Progress = Callable[[int, int], None]  # told (applications verified so far, in all)
EXPORT_ROWS = 10_000  # rows per fetch where the database cannot COPY
# Two days far apart: a plan that reads the evaluation date differs between them.
PROBE_DATES = (dt.date(2000, 1, 1), dt.date(2001, 2, 2))


@dataclass(frozen=True)
class Applicant:
    """One application as the batch reads it."""

    id: int
    nir_index: str  # the person, as the records know them
    status: str
    at: dt.date
    facts: dict[str, Any]
    answers: dict[str, Any]  # the application's declared values (answers of asked aggregates)


@dataclass
class Outcome:
    application_id: int
    version_id: int
    at: dt.date
    eligible: bool
    amount: Decimal
    mismatched: list[str]
    changed: bool


class _Rules:
    """The fund's versions, read once per version and per evaluation date."""

    def __init__(self, fund: Fund) -> None:
        self.fund = fund
        self.by_date: dict[dt.date, RuleSetVersion | None] = {}
        self.documents: dict[int, RuleDocument] = {}
        self.dated: dict[int, bool] = {}

    def version(self, at: dt.date) -> RuleSetVersion | None:
        if at not in self.by_date:
            version = rules_selectors.version_in_force(self.fund, at)
            self.by_date[at] = version
            if version is not None and version.pk not in self.documents:
                document = rules_selectors.document_of(version)
                self.documents[version.pk] = document
                plans = {batch.compile_plan(document, at=day).sql for day in PROBE_DATES}
                self.dated[version.pk] = len(plans) > 1
        return self.by_date[at]


def _applicants(
    fund: Fund, rules: _Rules
) -> tuple[dict[tuple[int, dt.date | None], list[Applicant]], int]:
    """The fund's applications grouped by (version, evaluation date or None when the version's
    rules do not read it), and how many cannot be evaluated (no rules, unreadable facts)."""
    zone = ZoneInfo(fund.time_zone)
    groups: dict[tuple[int, dt.date | None], list[Applicant]] = defaultdict(list)
    unreadable = 0
    rows = application_selectors.submitted_values(fund).iterator(chunk_size=EXPORT_ROWS)
    for pk, reference, nir_index, submitted_at, status, profession, birth_date, declared in rows:
        at = submitted_at.astimezone(zone).date()
        version = rules.version(at)
        if version is None:
            unreadable += 1
            continue
        document = rules.documents[version.pk]
        try:
            facts = facts_from(document, record_of(reference, profession, birth_date, declared))
        except FactError:
            unreadable += 1
            continue
        if any(isinstance(v, Decimal) and number_problem(v) for v in facts.values()):
            unreadable += 1  # beyond what the batch's numbers hold
            continue
        facts = {k: canonical_number(v) if isinstance(v, Decimal) else v for k, v in facts.items()}
        key = (version.pk, at if rules.dated[version.pk] else None)
        groups[key].append(Applicant(pk, nir_index, status, at, facts, declared or {}))
    return groups, unreadable


def _export(queryset: QuerySet[Any, Any], path: Path) -> None:
    """Write the rows of a ``values_list`` query as CSV (no header; NULL as nothing)."""
    if connection.vendor == "postgresql":
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        with psycopg_cursor() as cursor:
            copy_to(cursor, f"COPY ({sql}) TO STDOUT (FORMAT csv)", path, params)
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for row in queryset.iterator(chunk_size=EXPORT_ROWS):
            writer.writerow(["" if value is None else value for value in row])


def _load_evidence(
    duck: duckdb.DuckDBPyConnection,
    fund: Fund,
    groups: list[list[Applicant]],
    workdir: Path,
) -> None:
    """The records of the fund's applicants, as the batch engine's four tables prefixed
    ``all_``, each row with the number of its person's group (``grp``) and sorted by it: a
    group's plan reads its own rows only (DuckDB skips the blocks of other groups). People are
    joined by the blind index of their NIR, in the engine's ``nir`` column."""
    duck.register(
        "people_arrow",
        pa.table(
            {
                "nir": pa.array([a.nir_index for group in groups for a in group], pa.string()),
                "grp": pa.array([n for n, group in enumerate(groups) for _ in group], pa.int32()),
            }
        ),
    )
    duck.execute("CREATE TABLE people AS SELECT * FROM people_arrow")
    duck.unregister("people_arrow")
    everyone = application_selectors.nir_indexes_of_fund(fund)
    for table in loaders.TABLES:
        spec = SPECS[table.name]
        # the batches' columnar copies, and the database for the batches without one
        copies = columnar.available(table.name, evidence_selectors.imported_batch_ids(table.name))
        path = workdir / f"{table.name}.csv"
        records = (
            spec.model._default_manager.filter(nir_index__in=everyone)
            .exclude(batch_id__in=list(copies))
            .values_list(*spec.fields)
        )
        _export(records, path)
        # the file's columns in the spec's order, typed as the engine's table
        sql_types = {column.name: column.sql_type for column in table.columns}
        names = ", ".join(batch.quote(c.name) for c in spec.columns)
        types = ", ".join(f"'{c.name}': '{sql_types[c.name]}'" for c in spec.columns)
        sources = [
            f"SELECT {names} FROM read_csv('{path}', header = false, auto_detect = false, "
            f"columns = {{{types}}})"
        ]
        if copies:
            files = ", ".join(f"'{copy}'" for copy in copies.values())
            copied = ", ".join(
                f"{batch.quote(c.copy_name)} AS {batch.quote(c.name)}" for c in spec.columns
            )
            sources.append(f"SELECT {copied} FROM read_parquet([{files}])")
        loaders.create_from(
            duck, table, f"({' UNION ALL BY NAME '.join(sources)})", name=f"read_{table.name}"
        )
        duck.execute(
            f"CREATE TABLE all_{table.name} AS SELECT * FROM read_{table.name} "
            f"JOIN people USING (nir) ORDER BY grp"
        )
        duck.execute(f"DROP TABLE read_{table.name}")
        path.unlink()


def _evaluate(
    duck: duckdb.DuckDBPyConnection,
    document: RuleDocument,
    version_id: int,
    at: dt.date,
    group: int,
    applicants: list[Applicant],
    before: dict[int, tuple[bool, Decimal]],
) -> Iterator[Outcome]:
    loaders.create_applicants(
        duck,
        document,
        (loaders.Applicant(i, str(a.id), a.nir_index, a.facts) for i, a in enumerate(applicants)),
    )
    for table in loaders.TABLES:  # each group's plan aggregates its own people's records
        duck.execute(
            f"CREATE OR REPLACE VIEW {table.name} AS SELECT * EXCLUDE (grp) "
            f"FROM all_{table.name} WHERE grp = {int(group)}"
        )
    plan = batch.compile_plan(document, at=at)
    asked = [a.id for a in document.evidence if a.ask is not None]
    columns = ", ".join(batch.quote(f"agg:{name}") for name in asked)
    result = duck.execute(
        f"SELECT ref, eligible, amount{', ' if asked else ''}{columns} FROM ({plan.sql})"
    )
    by_id = {a.id: a for a in applicants}
    while rows := result.fetchmany(EXPORT_ROWS):
        for ref, eligible, amount, *recorded in rows:
            applicant = by_id[int(ref)]
            mismatched = mismatched_aggregates(
                document, applicant.answers, dict(zip(asked, recorded, strict=True))
            )
            earlier = before.get(applicant.id)
            yield Outcome(
                applicant.id,
                version_id,
                applicant.at,
                bool(eligible),
                Decimal(amount),
                mismatched,
                earlier is not None and earlier != (bool(eligible), Decimal(amount)),
            )


def _store(run: VerificationRun, fund: Fund, outcomes: list[Outcome], workdir: Path) -> None:
    """Replace the fund's verification rows (inside the caller's transaction)."""
    ApplicationVerification.objects.filter(application__fund=fund).delete()
    if connection.vendor != "postgresql":
        ApplicationVerification.objects.bulk_create(
            [
                ApplicationVerification(
                    application_id=o.application_id,
                    run=run,
                    version_id=o.version_id,
                    evaluated_on=o.at,
                    eligible=o.eligible,
                    amount=o.amount,
                    mismatched=o.mismatched,
                    has_mismatch=bool(o.mismatched),
                    changed=o.changed,
                )
                for o in outcomes
            ],
            batch_size=500,
        )
        return
    # PostgreSQL: one COPY of a CSV written here (booleans as t/f, the list as JSON)
    path = workdir / "verifications.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        for o in outcomes:
            writer.writerow(
                (
                    o.application_id,
                    run.pk,
                    o.version_id,
                    o.at.isoformat(),
                    "t" if o.eligible else "f",
                    o.amount,
                    json.dumps(o.mismatched),
                    "t" if o.mismatched else "f",
                    "t" if o.changed else "f",
                )
            )
    columns = ", ".join(connection.ops.quote_name(name) for name in STORED_COLUMNS)
    table = connection.ops.quote_name(ApplicationVerification._meta.db_table)
    with psycopg_cursor() as cursor, path.open("rb") as handle:
        copy_from(cursor, f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)", handle)


# The columns of the CSV that _store writes, in order.
STORED_COLUMNS = (
    "application_id",
    "run_id",
    "version_id",
    "evaluated_on",
    "eligible",
    "amount",
    "mismatched",
    "has_mismatch",
    "changed",
)


def start_verification(
    *, actor: Any, fund: Fund, evidence_batch: EvidenceBatch | None = None
) -> VerificationRun:
    """A new run of the fund's verification (``actor`` None: the platform, after an import)."""
    with transaction.atomic(durable=True):
        if actor is not None:
            require(actor, fund, Capability.MANAGE_FUND)
        return VerificationRun.objects.create(
            fund=fund, evidence_batch=evidence_batch, requested_by=actor
        )


def verify_fund(*, run: VerificationRun, progress: Progress | None = None) -> VerificationRun:
    """Verify every application of the run's fund; the run says what was found."""
    fund = run.fund
    try:
        with tempfile.TemporaryDirectory(prefix="entraide-verify-") as workdir:
            duck = duckdb.connect(config={"temp_directory": workdir})
            try:
                duck.execute(f"SET memory_limit = '{settings.EVIDENCE_IMPORT_MEMORY_LIMIT}'")
                _verify(run, fund, duck, Path(workdir), progress)
            finally:
                duck.close()
    except BaseException:
        with transaction.atomic(durable=True):
            run.status = VerificationRun.Status.FAILED
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at"])
        raise
    return run


def _verify(
    run: VerificationRun,
    fund: Fund,
    duck: duckdb.DuckDBPyConnection,
    workdir: Path,
    progress: Progress | None,
) -> None:
    rules = _Rules(fund)
    groups, unreadable = _applicants(fund, rules)
    total = sum(len(applicants) for applicants in groups.values())
    if progress is not None:
        progress(0, total)
    keys = list(groups)
    _load_evidence(duck, fund, [groups[key] for key in keys], workdir)
    # what each outcome is compared with: the run before, else the current evaluation
    current = rules_selectors.current_outcomes(application_selectors.ids_of_fund(fund))
    before = {
        **current,
        **{
            application_id: (eligible, amount)
            for application_id, eligible, amount in ApplicationVerification.objects.filter(
                application__fund=fund
            )
            .values_list("application_id", "eligible", "amount")
            .iterator(chunk_size=EXPORT_ROWS)
        },
    }
    outcomes: list[Outcome] = []
    statuses: dict[int, str] = {}
    for number, (version_id, dated_at) in enumerate(keys):
        applicants = groups[version_id, dated_at]
        at = dated_at or applicants[0].at
        document = rules.documents[version_id]
        outcomes.extend(_evaluate(duck, document, version_id, at, number, applicants, before))
        statuses.update((a.id, a.status) for a in applicants)
        if progress is not None:
            progress(len(outcomes), total)
    pending = set(PENDING_STATUSES)
    outdated = [
        o.application_id
        for o in outcomes
        if statuses[o.application_id] in pending
        and current.get(o.application_id) != (o.eligible, o.amount)
    ]
    with transaction.atomic(durable=True):
        _store(run, fund, outcomes, workdir)
        run.status = VerificationRun.Status.DONE
        run.finished_at = timezone.now()
        run.applications = len(outcomes)
        run.unreadable = unreadable
        run.eligible = sum(1 for o in outcomes if o.eligible)
        run.mismatched = sum(1 for o in outcomes if o.mismatched)
        run.changed = sum(1 for o in outcomes if o.changed)
        run.outdated = len(outdated)
        run.decided_changed = sum(
            1 for o in outcomes if o.changed and statuses[o.application_id] not in pending
        )
        run.save()
        audit.record(
            actor=run.requested_by,
            action="evidence.fund_verified",
            obj=run,
            changes={
                "applications": run.applications,
                "unreadable": run.unreadable,
                "eligible": run.eligible,
                "mismatched": run.mismatched,
                "changed": run.changed,
                "outdated": run.outdated,
                "decided_changed": run.decided_changed,
                "evidence_batch": run.evidence_batch_id,
            },
            fund_id=fund.pk,
        )
