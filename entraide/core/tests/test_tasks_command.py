from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.reporting.tasks import export_applications


@pytest.fixture
def database_tasks(settings: Any) -> None:
    settings.TASKS = DATABASE_TASKS


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_watch_reports_the_progress_and_output_of_a_finished_task(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fund = FundFactory()
    ApplicationFactory.create_batch(3, fund=fund)
    admin = FundRoleFactory(fund=fund, role=FundRole.Role.OPERATOR_ADMIN).user
    result = export_applications.enqueue(fund.pk, admin.pk, {}, "csv", "en")
    run_db_worker()
    call_command("tasks", "watch", str(result.id), "--interval", "0")
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["status"] == "SUCCESSFUL"
    assert (report["done"], report["total"]) == (3, 3)
    assert report["output"].endswith(".csv")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_tasks")
def test_watch_refuses_an_unknown_task() -> None:
    with pytest.raises(CommandError, match="no task"):
        call_command("tasks", "watch", "00000000-0000-0000-0000-000000000000")
