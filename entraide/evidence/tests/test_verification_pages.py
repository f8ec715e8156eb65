"""The fund's pages of the verification against the records: who sees them, who starts a run,
following a run, and their number of queries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.models import User
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.evidence.models import VerificationRun
from entraide.evidence.tests.factories import (
    EmployerDeclarationFactory,
    EvidenceBatchFactory,
    VerificationRunFactory,
)
from entraide.evidence.tests.helpers import fund_operator
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules.tests.factories import RuleSetVersionFactory

Role = FundRole.Role
LIST_PAGE_MAX_QUERIES = 10


def staff(fund: Fund, role: str) -> User:
    return FundRoleFactory.create(fund=fund, role=role).user


def page_url(fund: Fund) -> str:
    return reverse("fund_verification", kwargs={"slug": fund.slug})


def run_url(run: VerificationRun) -> str:
    return reverse("fund_verification_run", kwargs={"slug": run.fund.slug, "run_id": run.pk})


def page_text(response: Any) -> str:
    """The page's text, without its tags and with single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# -- who sees what ------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_log_in(client: Client, db: None) -> None:
    run = VerificationRunFactory.create()
    for url in (page_url(run.fund), run_url(run)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_staff_of_another_fund_get_404(client: Client, db: None) -> None:
    run = VerificationRunFactory.create()
    client.force_login(staff(FundFactory.create(), Role.OPERATOR_ADMIN))

    assert client.get(page_url(run.fund)).status_code == 404
    assert client.get(run_url(run)).status_code == 404
    assert client.post(page_url(run.fund)).status_code == 404
    assert VerificationRun.objects.count() == 1


def test_a_run_of_another_fund_is_a_404_under_this_fund(client: Client, db: None) -> None:
    run = VerificationRunFactory.create()
    mine = FundFactory.create()
    client.force_login(staff(mine, Role.REVIEWER))
    url = reverse("fund_verification_run", kwargs={"slug": mine.slug, "run_id": run.pk})

    assert client.get(url).status_code == 404


def test_a_reviewer_sees_the_page_without_the_button_and_cannot_start_a_run(
    client: Client, db: None
) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund, Role.REVIEWER))

    page = client.get(page_url(fund))
    refused = client.post(page_url(fund))

    assert page.status_code == 200
    assert "Verification against the records" in page_text(page)
    assert "Verify all applications now" not in page_text(page)
    assert refused.status_code == 403
    assert not VerificationRun.objects.exists()


@pytest.mark.usefixtures("db")
def test_an_operator_admin_starts_a_run_and_is_sent_to_its_page(
    client: Client, settings: Any
) -> None:
    settings.TASKS = DATABASE_TASKS  # the task waits for the worker: the run is under way
    fund = FundFactory.create()
    admin = staff(fund, Role.OPERATOR_ADMIN)
    client.force_login(admin)
    assert "Verify all applications now" in page_text(client.get(page_url(fund)))

    response = client.post(page_url(fund))

    run = VerificationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == run_url(run)
    assert (run.status, run.requested_by, run.evidence_batch) == ("running", admin, None)
    assert run.task_id
    assert AuditEvent.objects.filter(action="evidence.verification_requested").count() == 1
    running = client.get(response["Location"])
    assert "The verification is running" in page_text(running)
    assert 'data-refresh-seconds="2"' in running.content.decode()
    assert f"Asked by {admin}" in page_text(running)


# -- following a run ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_run_page_shows_the_progress_then_what_the_run_found(
    client: Client, settings: Any
) -> None:
    settings.TASKS = DATABASE_TASKS
    fund = FundFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=fund)
    submitted = timezone.make_aware(dt.datetime(2020, 4, 20, 10, 0))
    contradicted = ApplicationFactory.create(
        fund=fund, submitted_at=submitted, declared={"days": 15}
    )
    ApplicationFactory.create(fund=fund, submitted_at=submitted)
    EmployerDeclarationFactory.create(
        nir=contradicted.nir, start=dt.date(2019, 10, 1), end=dt.date(2019, 10, 20)
    )
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))
    run_page = client.post(page_url(fund))["Location"]

    run_db_worker()

    done = client.get(run_page)
    text = page_text(done)
    assert "The applications were verified against the records on" in text
    assert "Applications verified 2" in text
    assert "Answers contradicted by the records 1" in text
    assert 'data-refresh-seconds="2"' not in done.content.decode()
    application_list = reverse("application_list", kwargs={"slug": fund.slug})
    assert f"{application_list}?records=contradicted" in done.content.decode()
    assert f"{application_list}?records=changed" in done.content.decode()
    run = VerificationRun.objects.get()
    assert run.status == VerificationRun.Status.DONE
    summary = client.get(page_url(fund))
    assert f"Run {run.pk}" in page_text(summary)


def test_an_earlier_run_does_not_link_to_the_applications_of_the_latest(
    client: Client, db: None
) -> None:
    earlier = VerificationRunFactory.create(mismatched=4)
    VerificationRunFactory.create(fund=earlier.fund)
    client.force_login(staff(earlier.fund, Role.FINANCE))

    response = client.get(run_url(earlier))

    assert "Answers contradicted by the records 4" in page_text(response)
    assert "?records=contradicted" not in response.content.decode()
    assert "A later verification has replaced" in page_text(response)


def test_a_failed_run_says_so(client: Client, db: None) -> None:
    run = VerificationRunFactory.create(status=VerificationRun.Status.FAILED)
    client.force_login(staff(run.fund, Role.AUDITOR))

    assert "The verification failed." in page_text(client.get(run_url(run)))


def test_the_trigger_links_to_the_batch_for_those_who_see_the_evidence(
    client: Client, db: None
) -> None:
    batch = EvidenceBatchFactory.create()
    run = VerificationRunFactory.create(evidence_batch=batch)
    batch_url = reverse("evidence_batch", kwargs={"batch_id": batch.pk})
    reviewer = staff(run.fund, Role.REVIEWER)
    operator = fund_operator()
    FundRoleFactory.create(fund=run.fund, user=operator, role=Role.OPERATOR_ADMIN)

    client.force_login(reviewer)
    for url in (page_url(run.fund), run_url(run)):
        response = client.get(url)
        assert f"Records of batch {batch.pk}" in page_text(response)
        assert batch_url not in response.content.decode()
    client.force_login(operator)
    for url in (page_url(run.fund), run_url(run)):
        assert batch_url in client.get(url).content.decode()


# -- number of queries --------------------------------------------------------------------------


@pytest.mark.parametrize("n_runs", [3, 60])
def test_the_list_of_runs_takes_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n_runs: int
) -> None:
    fund = FundFactory.create()
    requester = staff(fund, Role.OPERATOR_ADMIN)
    for number in range(n_runs):
        if number % 2:
            VerificationRunFactory.create(fund=fund, evidence_batch=EvidenceBatchFactory.create())
        else:
            VerificationRunFactory.create(fund=fund, requested_by=requester)
    client.force_login(requester)

    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        first = client.get(page_url(fund))
    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        last = client.get(page_url(fund), {"page": "2"})

    assert first.context["page"].paginator.count == n_runs
    assert len(last.context["page"]) == (10 if n_runs > 50 else n_runs)


def test_the_run_page_takes_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any
) -> None:
    run = VerificationRunFactory.create(evidence_batch=EvidenceBatchFactory.create())
    client.force_login(staff(run.fund, Role.REVIEWER))

    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        assert client.get(run_url(run)).status_code == 200
