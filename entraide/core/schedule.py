"""Periodic tasks: a registry, and the pass that enqueues those whose period has come.

An app registers a task in its ``AppConfig.ready`` (``register("privacy.apply_retention",
apply_retention, period=DAILY)``). Time is cut into periods aligned on the Unix epoch in UTC (a
daily task's period starts at midnight UTC); each period of each task is run once. The
``scheduler`` command calls :func:`enqueue_due` every minute (or once, from cron, with
``--once``); several schedulers may run at the same time: each claims a period by inserting a
row unique on (name, period) before enqueuing, in one transaction, so only one of them enqueues
it. A scheduler that was stopped for days enqueues the current period only, not the missed
ones: periodic tasks catch up by themselves (they work on what is due, not on a day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks.base import Task

from entraide.core.tasks import enqueue_with_transaction

MINUTELY = dt.timedelta(minutes=1)
HOURLY = dt.timedelta(hours=1)
DAILY = dt.timedelta(days=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Periodic:
    name: str
    task: Task[Any, Any]
    period: dt.timedelta


REGISTRY: dict[str, Periodic] = {}


def register(name: str, task: Task[Any, Any], *, period: dt.timedelta) -> None:
    """Run ``task`` (without arguments) once in every ``period``; registering again replaces."""
    if period < MINUTELY:
        raise ValueError("a periodic task runs at most once a minute")
    REGISTRY[name] = Periodic(name, task, period)


def period_start(moment: dt.datetime, period: dt.timedelta) -> dt.datetime:
    """The start of the period ``moment`` falls in."""
    elapsed = moment.astimezone(dt.UTC) - EPOCH
    return EPOCH + (elapsed // period) * period


@dataclass(frozen=True)
class Enqueued:
    name: str
    due_at: dt.datetime


def _claims() -> Any:
    # The claims are rows of the privacy app, the first to schedule anything; read through the
    # app registry so that core imports no domain app.
    return apps.get_model("privacy", "ScheduledRun")


def _recorder(runs: Any, run_id: int) -> Callable[[str], None]:
    def record(task_id: str) -> None:
        runs.objects.filter(pk=run_id).update(task_id=task_id)

    return record


def enqueue_due(now: dt.datetime | None = None) -> list[Enqueued]:
    """Enqueue every registered task whose current period has no run yet; return them."""
    now = now or timezone.now()
    runs = _claims()
    enqueued: list[Enqueued] = []
    for periodic in sorted(REGISTRY.values(), key=lambda p: p.name):
        due_at = period_start(now, periodic.period)
        if runs.objects.filter(name=periodic.name, due_at=due_at).exists():
            continue
        try:
            with transaction.atomic(durable=True):
                # The claim and the task row commit together (the database tasks backend):
                # a scheduler dying between the two leaves neither.
                run = runs.objects.create(name=periodic.name, due_at=due_at, enqueued_at=now)
                enqueue_with_transaction(periodic.task, on_enqueued=_recorder(runs, run.pk))
        except IntegrityError:
            continue  # another scheduler claimed this period first
        enqueued.append(Enqueued(periodic.name, due_at))
    return enqueued


def seconds_to_next_minute(now: dt.datetime | None = None) -> float:
    now = now or timezone.now()
    following = period_start(now, MINUTELY) + MINUTELY
    return max((following - now).total_seconds(), 0.0)
