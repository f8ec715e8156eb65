"""Issue 8: the worker killed (SIGKILL) at any moment while it generates a batch's file, then
run again, yields one file with each award once.

The project's real worker (django-tasks-db's ``db_worker``) runs in its own process on the
test database. The test watches it through PostgreSQL (``pg_stat_activity``, where the worker
goes by its own application name), freezes it with SIGSTOP when it reaches the moment wanted,
checks where it really is while it cannot move, then kills it. A killed worker leaves its task
running for ever, so finance asks for the file again, as the batch's page offers.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from stdnum.fr import nir as stdnum_nir

from entraide.accounts.models import User
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds import ledger
from entraide.funds.models import Award, BudgetEntry, Fund, FundRole
from entraide.payments import services, tasks
from entraide.payments.models import Payment, PaymentBatch, PaymentFile
from entraide.payments.services import Selection
from entraide.payments.tests.helpers import end_to_end_ids, member_of

AWARDS = 3000
# How long a worker may take to reach a moment, or to finish: Django starts in ~2 s here.
WORKER_SECONDS = 60.0


def _approved_in_bulk(fund: Fund, count: int) -> None:
    """``count`` approved applications with their awards reserved, written in bulk with the
    ledger's reservation entries that ``ledger.place_award`` would write one by one."""
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    approver = member_of(fund, FundRole.Role.APPROVER)
    amounts = [Decimal(f"{200 + 25 * (n % 13)}.{n % 100:02d}") for n in range(count)]
    ledger.credit_budget(actor=admin, fund=fund, amount=sum(amounts, Decimal(0)))
    built = ApplicationFactory.build_batch(
        count, fund=fund, applicant=approver, status=Application.Status.APPROVED
    )
    for serial, application in enumerate(built):
        body = f"1850275{serial:06d}"  # one person each: a NIR is unique in a fund
        application.nir = body + stdnum_nir.calc_check_digits(body)
    applications = Application.objects.bulk_create(built, batch_size=1000)
    now = timezone.now()
    awards = Award.objects.bulk_create(
        (
            Award(
                application=application,
                fund=fund,
                nir_index=application.nir_index,
                amount=amount,
                currency=fund.currency,
                status=Award.Status.RESERVED,
                approved_by=approver,
                queued_at=now,
                created_at=now,
                reserved_at=now,
            )
            for application, amount in zip(applications, amounts, strict=True)
        ),
        batch_size=1000,
    )
    last = BudgetEntry.objects.filter(fund=fund).latest("sequence")
    committed = last.committed
    entries = []
    for number, award in enumerate(awards, start=1):
        committed += award.amount
        entries.append(
            BudgetEntry(
                fund=fund,
                sequence=last.sequence + number,
                kind=BudgetEntry.Kind.RESERVATION,
                amount=award.amount,
                currency=fund.currency,
                award=award,
                credited=last.credited,
                committed=committed,
                paid=last.paid,
                recorded_by=approver,
                recorded_at=now,
            )
        )
    BudgetEntry.objects.bulk_create(entries, batch_size=1000)


# -- the worker, seen from PostgreSQL ------------------------------------------------------------


@dataclass(frozen=True)
class Sight:
    """The worker's connection as ``pg_stat_activity`` shows it, and the batch's files."""

    connected: bool
    state: str
    wait_event_type: str
    in_transaction: bool
    query: str
    files: int

    @property
    def phase(self) -> str:
        """Where generation is: starting, building, storing, stored (or other)."""
        if self.files:
            return "stored"
        if not self.connected:
            return "starting"
        if "_django_curs_" in self.query:
            # The payments are read through a server-side cursor (DECLARE, FETCH, CLOSE); the
            # file is written and validated in Python after the last of them.
            return "building"
        if self.in_transaction and DBTaskResult._meta.db_table not in self.query:
            return "storing"
        return "other"  # claiming its task, reading the batch


def _look(observer: psycopg.Connection[Any], name: str, batch_id: int) -> Sight:
    row = observer.execute(
        """
        SELECT (SELECT count(*) FROM payments_paymentfile WHERE batch_id = %s),
               activity.pid IS NOT NULL, activity.state, activity.wait_event_type,
               activity.xact_start IS NOT NULL, activity.query
        FROM (SELECT 1) AS one LEFT JOIN pg_stat_activity AS activity
            ON activity.application_name = %s
        """,
        (batch_id, name),
    ).fetchone()
    assert row is not None
    files, connected, state, wait_event_type, in_transaction, query = row
    return Sight(connected, state or "", wait_event_type or "", in_transaction, query or "", files)


def _database_url() -> str:
    """The test database as the worker's settings read it (``DATABASE_URL``)."""
    database = connection.settings_dict
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    port = f":{database['PORT']}" if database["PORT"] else ""
    host = quote(database["HOST"] or "", safe="")
    return f"postgres://{credentials}@{host}{port}/{quote(database['NAME'], safe='')}"


def _observer() -> psycopg.Connection[Any]:
    database = connection.settings_dict
    return psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        autocommit=True,  # a new snapshot of pg_stat_activity at every look
    )


@contextmanager
def _worker(name: str, var_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``manage.py db_worker`` on the test database until it has run every task waiting, named
    ``name`` in pg_stat_activity; killed on the way out if it still runs."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "entraide.settings",
        "DATABASE_URL": _database_url(),
        "ENTRAIDE_VAR_DIR": str(var_dir),
        "PGAPPNAME": name,  # libpq names the connection: the test finds it in pg_stat_activity
    }
    env.pop("TASKS_BACKEND", None)  # the project's default: the database backend
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"]
    with (var_dir / f"{name}.log").open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603 (the project's own command)
            [*command, "--no-reload", "--interval", "0", "--verbosity", "0"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        # Never left behind: it would hold the test database open.
        worker.kill()
        worker.wait(timeout=WORKER_SECONDS)


def _worker_log(name: str, var_dir: Path) -> str:
    return (var_dir / f"{name}.log").read_text(errors="replace")[-3000:]


def _wait_gone(observer: psycopg.Connection[Any], name: str, batch_id: int) -> None:
    """Until PostgreSQL has ended the killed worker's session (and rolled back its
    transaction, if it was in one)."""
    deadline = time.monotonic() + WORKER_SECONDS
    while _look(observer, name, batch_id).connected:
        assert time.monotonic() < deadline, f"the session of {name} outlived its worker"
        time.sleep(0.01)


# -- the kills -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    moment: str
    when: Callable[[Sight, float], bool]  # what the worker is seen doing, seconds since start
    phase: str  # where the frozen worker must be
    lock_batch: bool = False  # hold the batch's row so that the worker waits in its transaction


KILLS = (
    Kill("while it starts", lambda sight, elapsed: elapsed >= 0.3, "starting"),
    Kill(
        "while it reads the payments", lambda sight, _: "_django_curs_" in sight.query, "building"
    ),
    Kill(
        "while it writes and validates the file",
        lambda sight, _: sight.query.startswith("CLOSE"),
        "building",
    ),
    Kill(
        "while it stores the file",
        lambda sight, _: sight.wait_event_type == "Lock",
        "storing",
        lock_batch=True,
    ),
    Kill("once the file is stored", lambda sight, _: sight.files > 0, "stored"),
)


@contextmanager
def _batch_locked(batch: PaymentBatch) -> Iterator[None]:
    """The batch's row locked, as a concurrent action would: the worker's storing transaction
    waits for it, inside ``generate_payment_file``'s ``transaction.atomic``."""
    with transaction.atomic():
        PaymentBatch.objects.select_for_update().get(pk=batch.pk)
        yield


def _freeze(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker, and return once it is stopped (not merely signalled)."""
    os.kill(worker.pid, signal.SIGSTOP)
    _pid, status = os.waitpid(worker.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the worker ended before it could be stopped ({status})"


def _kill_when(
    kill: Kill, observer: psycopg.Connection[Any], name: str, batch: PaymentBatch, var_dir: Path
) -> Sight:
    """Start a worker, freeze it at ``kill``'s moment, kill it: where it was when frozen."""
    with _worker(name, var_dir) as worker:
        started = time.monotonic()
        while not kill.when(_look(observer, name, batch.pk), time.monotonic() - started):
            assert worker.poll() is None, (
                f"the worker ended before {kill.moment!r}:\n{_worker_log(name, var_dir)}"
            )
            assert time.monotonic() - started < WORKER_SECONDS, f"never saw {kill.moment!r}"
            time.sleep(0.001)
        _freeze(worker)
        # What the worker sent before it stopped is carried out by PostgreSQL (unless it waits
        # for a lock, or for the stopped worker to read): then the sight is what the kill cuts.
        frozen = _look(observer, name, batch.pk)
        while frozen.state == "active" and frozen.wait_event_type not in ("Lock", "Client"):
            assert time.monotonic() - started < WORKER_SECONDS, f"busy for ever: {frozen}"
            time.sleep(0.005)
            frozen = _look(observer, name, batch.pk)
    return frozen


def _assert_paid_at_most_once(batch: PaymentBatch, fund: Fund) -> int:
    """At most one file; without one the batch is still released; each award in one live
    payment. The number of files."""
    files = PaymentFile.objects.filter(batch=batch).count()
    assert files <= 1
    batch.refresh_from_db()
    assert batch.status == (PaymentBatch.Status.READY if files else PaymentBatch.Status.RELEASED)
    assert PaymentBatch.objects.filter(fund=fund).count() == 1
    assert Payment.objects.filter(batch=batch, status=Payment.Status.PENDING).count() == AWARDS
    twice = (
        Payment.objects.filter(fund=fund, status__in=Payment.LIVE)
        .values("award_id")
        .annotate(live=Count("pk"))
        .filter(live__gt=1)
    )
    assert not twice.exists()
    return files


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_at_any_moment_of_generation_leaves_one_file_with_each_award_once(
    fund: Fund, preparer: User, releaser: User, settings: Any, tmp_path: Path
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no pg_stat_activity: watching the worker needs PostgreSQL")
    # Tasks are stored with the release, for the worker process, instead of run in this one.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    _approved_in_bulk(fund, AWARDS)
    batch = services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    batch = services.release_payment_batch(actor=releaser, batch=batch)
    assert DBTaskResult.objects.count() == 1

    with _observer() as observer:
        for number, kill in enumerate(KILLS):
            if number:  # finance asks again: the killed worker's task never ends
                services.generate_payment_file_again(actor=preparer, batch=batch)
            for attempt in range(3):
                if attempt:  # the moment was missed (a loaded machine): the same kill again
                    services.generate_payment_file_again(actor=preparer, batch=batch)
                name = f"entraide-kill-{os.getpid()}-{number}-{attempt}"
                with _batch_locked(batch) if kill.lock_batch else nullcontext():
                    frozen = _kill_when(kill, observer, name, batch, tmp_path)
                _wait_gone(observer, name, batch.pk)
                # Whatever the moment, nothing is paid twice.
                files = _assert_paid_at_most_once(batch, fund)
                if frozen.phase == kill.phase or files:
                    break
            assert frozen.phase == kill.phase, f"killed {kill.moment}: {frozen.phase}, {frozen}"
            expected = 1 if kill.phase == "stored" else 0
            assert files == expected, f"killed {kill.moment}: {files} file(s)"

        # The task run again (a retry), after the tasks the killed workers never started.
        retry = tasks.generate_payment_file.enqueue(batch.pk)
        name = f"entraide-kill-{os.getpid()}-last"
        with _worker(name, tmp_path) as worker:
            assert worker.wait(timeout=WORKER_SECONDS) == 0, _worker_log(name, tmp_path)
        _wait_gone(observer, name, batch.pk)

    assert _assert_paid_at_most_once(batch, fund) == 1
    stored = PaymentFile.objects.get(batch=batch)
    content = bytes(stored.content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    ids = end_to_end_ids(content)
    assert len(ids) == len(set(ids)) == batch.count == AWARDS
    assert set(ids) == set(
        Payment.objects.filter(batch=batch).values_list("end_to_end_id", flat=True)
    )
    assert DBTaskResult.objects.get(pk=retry.id).return_value == stored.sha256
    # Every run that finished returned that same file; none failed, none is left waiting.
    finished = DBTaskResult.objects.successful().values_list("return_value", flat=True)
    assert set(finished) == {stored.sha256}
    left = DBTaskResult.objects.exclude(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.RUNNING]  # RUNNING: killed
    )
    assert not left.exists()

    services.mark_batch_sent(actor=preparer, batch=batch)
    assert ledger.totals(fund).paid == batch.total
    assert Award.objects.filter(fund=fund, status=Award.Status.PAID).count() == AWARDS
    assert Payment.objects.filter(batch=batch, status=Payment.Status.SENT).count() == AWARDS
