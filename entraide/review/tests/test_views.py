"""The back office of one fund: dashboard, list of applications, decisions, CSV export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from entraide.applications.models import Application
from entraide.applications.tasks import EXPORT_COLUMNS, export_fund_applications, send_receipt
from entraide.applications.tests.factories import ApplicationFactory
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review.models import Decision, SecondApproval

Role = FundRole.Role
LIST_PAGE_MAX_QUERIES = 12


@pytest.fixture
def db_tasks(settings: Any) -> None:
    """Tasks wait in the database for the worker, so that pages can read their result."""
    settings.TASKS = DATABASE_TASKS


def staff(fund: Fund, role: str) -> Any:
    return FundRoleFactory.create(fund=fund, role=role).user


def detail_url(application: Application, fund: Fund | None = None) -> str:
    slug = (fund or application.fund).slug
    return reverse("staff_application", kwargs={"slug": slug, "reference": application.reference})


# --------------------------------------------------------------------------------------------
# Deciding
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER])
def test_approving_grants_the_standard_amount_and_comes_back_to_the_application(
    client: Client, db: None, role: str
) -> None:
    application = ApplicationFactory.create(fund__standard_amount=Decimal("650.00"))
    client.force_login(staff(application.fund, role))

    response = client.post(detail_url(application), {"outcome": "approve"})

    assert response.status_code == 302
    assert response["Location"] == detail_url(application) + "#decision"
    decision = Decision.objects.get(application=application)
    assert (decision.outcome, decision.amount) == ("approved", Decimal("650.00"))
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    page = client.get(response["Location"])
    assert page.context["decision"] == decision
    assert "Record the decision" not in page.content.decode()


def test_rejecting_with_a_reason_records_it_without_an_amount(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application.fund, Role.REVIEWER))

    response = client.post(
        detail_url(application), {"outcome": "reject", "reason": "Resources above the ceiling."}
    )

    assert response.status_code == 302
    decision = Decision.objects.get(application=application)
    assert (decision.outcome, decision.amount) == ("rejected", Decimal("0.00"))
    assert decision.reason == "Resources above the ceiling."


def test_rejecting_without_a_reason_shows_the_error_on_the_reason_field(
    client: Client, db: None
) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application.fund, Role.REVIEWER))

    response = client.post(detail_url(application), {"outcome": "reject", "reason": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "reason": ["Give the applicant the reason for the rejection."]
    }
    html = response.content.decode()
    assert 'id="id_reason_error"' in html
    assert "Give the applicant the reason for the rejection." in html
    assert not Decision.objects.exists()
    application.refresh_from_db()
    assert application.status == Application.Status.RECEIVED


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR, Role.OPERATOR_ADMIN])
def test_a_role_that_cannot_decide_gets_403_when_posting_a_decision(
    client: Client, db: None, role: str
) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application.fund, role))

    page = client.get(detail_url(application))
    response = client.post(detail_url(application), {"outcome": "approved"})

    assert page.status_code == 200
    assert page.context["can_decide"] is False
    assert "Record the decision" not in page.content.decode()
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_approving_beyond_the_budget_puts_the_application_on_the_waiting_list(
    client: Client, db: None
) -> None:
    first, second, third = ApplicationFactory.create_batch(
        3, fund__budget=Decimal("1000.00"), fund__standard_amount=Decimal("500.00")
    )
    fund = first.fund
    second.fund = third.fund = fund
    Application.objects.filter(pk__in=[second.pk, third.pk]).update(fund=fund)
    client.force_login(staff(fund, Role.REVIEWER))
    client.post(detail_url(first), {"outcome": "approve"})
    client.post(detail_url(second), {"outcome": "approve"})

    page = client.post(detail_url(third), {"outcome": "approve"}, follow=True)

    assert "The budget is committed: the application waits on the waiting list." in (
        page.content.decode()
    )
    third.refresh_from_db()
    assert third.status == Application.Status.WAITLISTED
    assert not Decision.objects.filter(application=third).exists()
    assert Decision.objects.filter(fund=fund, outcome="approved").count() == 2


def test_another_amount_than_the_standard_one_waits_for_a_second_approver(
    client: Client, db: None
) -> None:
    application = ApplicationFactory.create(fund__standard_amount=Decimal("500.00"))
    client.force_login(staff(application.fund, Role.APPROVER))

    client.post(detail_url(application), {"outcome": "approve", "amount": "750"})

    assert SecondApproval.objects.get(application=application).grounds == ["amount_changed"]
    assert not Decision.objects.exists()


# --------------------------------------------------------------------------------------------
# Staff of one fund see nothing of another
# --------------------------------------------------------------------------------------------


def test_a_reviewer_of_fund_a_gets_404_on_an_application_of_fund_b(
    client: Client, db: None
) -> None:
    fund_a, fund_b = FundFactory.create(), FundFactory.create()
    application_of_b = ApplicationFactory.create(fund=fund_b)
    client.force_login(staff(fund_a, Role.REVIEWER))

    assert client.get(detail_url(application_of_b)).status_code == 404
    assert client.post(detail_url(application_of_b), {"outcome": "approved"}).status_code == 404
    # Nor through their own fund's address with the other fund's reference.
    assert client.get(detail_url(application_of_b, fund=fund_a)).status_code == 404
    assert (
        client.post(detail_url(application_of_b, fund=fund_a), {"outcome": "approved"}).status_code
        == 404
    )
    assert not Decision.objects.exists()


def test_the_list_of_a_fund_shows_none_of_another_funds_applications(
    client: Client, db: None
) -> None:
    mine = ApplicationFactory.create(last_name="Mine")
    ApplicationFactory.create(last_name="Elsewhere")
    client.force_login(staff(mine.fund, Role.REVIEWER))

    response = client.get(reverse("application_list", kwargs={"slug": mine.fund.slug}))

    assert list(response.context["page"]) == [mine]
    assert "Elsewhere" not in response.content.decode()


# --------------------------------------------------------------------------------------------
# Number of queries of the back office's pages
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_applications", [5, 60])
def test_the_application_list_uses_the_same_few_queries_whatever_the_number_of_applications(
    client: Client, db: None, django_assert_max_num_queries: Any, n_applications: int
) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create_batch(n_applications, fund=fund)
    client.force_login(staff(fund, Role.REVIEWER))
    url = reverse("application_list", kwargs={"slug": fund.slug})

    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        first = client.get(url)
    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        last = client.get(url, {"page": "2"})

    assert first.status_code == last.status_code == 200
    assert first.context["page"].count == n_applications
    if n_applications > 50:
        assert (len(first.context["page"]), len(last.context["page"])) == (50, 10)
        assert "page=2" in first.content.decode()
    else:
        assert len(first.context["page"]) == len(last.context["page"]) == n_applications


def test_the_filtered_application_list_keeps_its_query_bound(
    client: Client, db: None, django_assert_max_num_queries: Any
) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create_batch(55, fund=fund, status=Application.Status.UNDER_REVIEW)
    ApplicationFactory.create(fund=fund, last_name="Zorglub")
    client.force_login(staff(fund, Role.FINANCE))
    url = reverse("application_list", kwargs={"slug": fund.slug})

    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        by_status = client.get(url, {"status": "under_review", "page": "2"})
    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        by_name = client.get(url, {"q": "zorg"})

    assert by_status.context["page"].count == 55
    assert len(by_status.context["page"]) == 5
    assert [a.last_name for a in by_name.context["page"]] == ["Zorglub"]


@pytest.mark.parametrize("n_applications", [3, 40])
def test_the_fund_dashboard_uses_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n_applications: int
) -> None:
    fund = FundFactory.create()
    ApplicationFactory.create_batch(n_applications, fund=fund)
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))

    # The budget, the waiting list, second approvals, applications per day, every queue:
    # 16 whatever the data (entraide/review/tests/test_queues.py fills each).
    with django_assert_max_num_queries(16):
        response = client.get(reverse("fund_dashboard", kwargs={"slug": fund.slug}))

    assert response.status_code == 200
    counts = {status: count for status, _, count in response.context["counts"]}
    assert counts[Application.Status.RECEIVED] == n_applications


# --------------------------------------------------------------------------------------------
# CSV export
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("db_tasks")
def test_an_operator_admin_exports_the_applications_and_downloads_the_csv(
    client: Client, transactional_db: None
) -> None:
    fund = FundFactory.create(slug="export-me")
    applications = ApplicationFactory.create_batch(3, fund=fund)
    ApplicationFactory.create()  # another fund's, not exported
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))

    waiting = client.post(reverse("export_start", kwargs={"slug": fund.slug}), follow=True)

    status_url, _ = waiting.redirect_chain[-1]
    assert waiting.status_code == 200
    assert status_url.startswith(reverse("export_start", kwargs={"slug": fund.slug}))
    assert "The export is running" in waiting.content.decode()

    run_db_worker()

    ready = client.get(status_url)
    assert "The export is ready." in ready.content.decode()
    download_url = reverse(
        "export_download", kwargs={"slug": fund.slug, "task_id": ready.context["task_id"]}
    )
    assert download_url in ready.content.decode()

    download = client.get(download_url)
    assert download.status_code == 200
    assert 'filename="export-me-applications.csv"' in download["Content-Disposition"]
    content = b"".join(download.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert len(rows) == 1 + 3
    assert sorted(row[0] for row in rows[1:]) == sorted(a.reference for a in applications)
    assert all(a.nir not in content for a in applications)


@pytest.mark.usefixtures("db_tasks")
def test_a_reviewer_without_the_export_capability_gets_404_on_export_start(
    client: Client, db: None
) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund, Role.REVIEWER))

    response = client.post(reverse("export_start", kwargs={"slug": fund.slug}))

    assert response.status_code == 404
    assert not DBTaskResult.objects.exists()


@pytest.mark.usefixtures("db_tasks")
def test_an_auditor_of_another_fund_gets_404_on_this_funds_export(client: Client, db: None) -> None:
    fund, other_fund = FundFactory.create(), FundFactory.create()
    task_id = str(export_fund_applications.enqueue(fund.pk).id)
    client.force_login(staff(other_fund, Role.AUDITOR))

    # Under this fund's address, and under their own fund's address with this fund's task.
    for slug in (fund.slug, other_fund.slug):
        for name in ("export_status", "export_download"):
            url = reverse(name, kwargs={"slug": slug, "task_id": task_id})
            assert client.get(url).status_code == 404, url


@pytest.mark.usefixtures("db_tasks")
@pytest.mark.parametrize("task_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_export_id_is_a_404(client: Client, db: None, task_id: str) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund, Role.AUDITOR))

    response = client.get(reverse("export_status", kwargs={"slug": fund.slug, "task_id": task_id}))

    assert response.status_code == 404


@pytest.mark.usefixtures("db_tasks")
def test_the_id_of_another_kind_of_task_is_a_404_on_the_export_pages(
    client: Client, db: None
) -> None:
    application = ApplicationFactory.create()
    receipt_id = str(send_receipt.enqueue(application.pk).id)
    client.force_login(staff(application.fund, Role.OPERATOR_ADMIN))

    for name in ("export_status", "export_download"):
        url = reverse(name, kwargs={"slug": application.fund.slug, "task_id": receipt_id})
        assert client.get(url).status_code == 404, url


@pytest.mark.usefixtures("db_tasks")
def test_an_export_not_finished_yet_cannot_be_downloaded(client: Client, db: None) -> None:
    fund = FundFactory.create()
    task_id = str(export_fund_applications.enqueue(fund.pk).id)
    client.force_login(staff(fund, Role.AUDITOR))
    kwargs = {"slug": fund.slug, "task_id": task_id}

    status = client.get(reverse("export_status", kwargs=kwargs))
    download = client.get(reverse("export_download", kwargs=kwargs))

    assert status.status_code == 200
    assert '<meta http-equiv="refresh"' in status.content.decode()
    assert download.status_code == 404
