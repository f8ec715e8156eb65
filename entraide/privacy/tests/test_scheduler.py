"""The scheduler: each period of each periodic task enqueued once, whatever the number of
schedulers."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks import task

from entraide.core import schedule
from entraide.privacy.models import ScheduledRun
from entraide.privacy.tasks import apply_retention

CALLS: list[str] = []


@task()
def ping() -> str:
    CALLS.append("ping")
    return "pong"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, schedule.Periodic]:
    CALLS.clear()
    periodic: dict[str, schedule.Periodic] = {}
    monkeypatch.setattr(schedule, "REGISTRY", periodic)
    schedule.register("test.ping", ping, period=schedule.HOURLY)
    return periodic


AT = dt.datetime(2026, 11, 26, 15, 42, 10, tzinfo=dt.UTC)


def test_periods_are_aligned_on_midnight_utc() -> None:
    assert schedule.period_start(AT, schedule.DAILY) == dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    assert schedule.period_start(AT, schedule.HOURLY) == dt.datetime(
        2026, 11, 26, 15, tzinfo=dt.UTC
    )
    assert schedule.seconds_to_next_minute(AT) == 50


def test_the_retention_task_is_registered_daily() -> None:
    periodic = schedule.REGISTRY["privacy.apply_retention"]
    assert periodic.task == apply_retention
    assert periodic.period == schedule.DAILY


def test_a_task_runs_more_often_than_every_minute_is_refused() -> None:
    with pytest.raises(ValueError, match="at most once a minute"):
        schedule.register("too.often", ping, period=dt.timedelta(seconds=10))


@pytest.mark.django_db
def test_each_period_is_enqueued_once(
    registry: dict[str, schedule.Periodic], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = schedule.enqueue_due(AT)
        again = schedule.enqueue_due(AT + dt.timedelta(minutes=10))
        following = schedule.enqueue_due(AT + dt.timedelta(hours=1))
    assert [run.name for run in first] == ["test.ping"]
    assert again == []
    assert following[0].due_at == dt.datetime(2026, 11, 26, 16, tzinfo=dt.UTC)
    assert CALLS == ["ping", "ping"]
    runs = list(ScheduledRun.objects.order_by("due_at"))
    assert len(runs) == 2
    assert all(run.task_id for run in runs)


@pytest.mark.django_db
def test_a_period_another_scheduler_claimed_is_not_enqueued_again(
    registry: dict[str, schedule.Periodic], django_capture_on_commit_callbacks: Any
) -> None:
    ScheduledRun.objects.create(
        name="test.ping", due_at=schedule.period_start(AT, schedule.HOURLY), enqueued_at=AT
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert schedule.enqueue_due(AT) == []
    assert CALLS == []


@pytest.mark.django_db(transaction=True)
def test_schedulers_racing_enqueue_a_period_once(registry: dict[str, schedule.Periodic]) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] == ":memory:":
        pytest.skip("threads need a database file")
    barrier = threading.Barrier(4)
    results: list[int] = []

    def scheduler() -> None:
        barrier.wait()
        try:
            results.append(len(schedule.enqueue_due(AT)))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert ScheduledRun.objects.count() == 1
    assert CALLS == ["ping"]


@pytest.mark.django_db
def test_the_command_once_enqueues_what_is_due_and_says_so(
    registry: dict[str, schedule.Periodic], django_capture_on_commit_callbacks: Any
) -> None:
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("scheduler", "--once", stdout=out)
        call_command("scheduler", "--once", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["enqueued"] for line in lines] == ["test.ping"]
    assert CALLS == ["ping"]
