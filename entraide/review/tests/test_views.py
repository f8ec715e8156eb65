"""The back office of one fund: dashboard, list of applications, decisions (exports:
entraide/reporting/tests/test_export_views.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review.models import Decision, SecondApproval

Role = FundRole.Role
LIST_PAGE_MAX_QUERIES = 12


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
