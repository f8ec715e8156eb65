"""The rules' pages: versions, preview, publishing, re-evaluating, and the evaluation shown on
the staff's application page. (Who gets what on each URL: funds/tests/test_views.py.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.evidence.tests.factories import BenefitRecordFactory, EmployerDeclarationFactory
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules import services
from entraide.rules.models import ApplicationEvaluation, RuleSetVersion
from entraide.rules.tests.factories import (
    SIMPLE_RULES,
    ApplicationEvaluationFactory,
    RuleSetVersionFactory,
    rules_with,
)

Role = FundRole.Role
pytestmark = pytest.mark.django_db
PREVIEW_MAX_QUERIES = 16
VERSIONS_MAX_QUERIES = 8


def staff(fund: Fund, role: str = Role.OPERATOR_ADMIN) -> Any:
    return FundRoleFactory.create(fund=fund, role=role).user


def url(name: str, fund: Fund, **kwargs: Any) -> str:
    return reverse(name, kwargs={"slug": fund.slug, **kwargs})


def worked(application: Application, days: int) -> None:
    start = dt.date(2019, 10, 1)
    EmployerDeclarationFactory.create(
        nir=application.nir, start=start, end=start + dt.timedelta(days - 1)
    )


def fund_with_pending(n: int, budget: str = "3000.00") -> tuple[Fund, RuleSetVersion, Any]:
    """A fund with v1 published, ``n`` pending applications evaluated under it (every other
    one has worked 10 days: not eligible under v1's 12, eligible under 8), and an admin."""
    fund = FundFactory.create(budget=Decimal(budget))
    admin = staff(fund)
    v1 = services.publish_version(
        actor=admin, version=services.save_draft(actor=admin, fund=fund, source=SIMPLE_RULES)
    )
    for index in range(n):
        application = ApplicationFactory.create(fund=fund, annual_resources=Decimal("10000"))
        worked(application, 20 if index % 2 else 10)
        services.evaluate_application(actor=admin, application=application)
    return fund, v1, admin


def draft_lowering_days(fund: Fund, admin: Any) -> RuleSetVersion:
    return services.save_draft(
        actor=admin, fund=fund, source=rules_with(**{"min_days: 12": "min_days: 8"})
    )


# --------------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_versions", [1, 12])
def test_the_list_of_versions_uses_a_fixed_number_of_queries(
    client: Client, django_assert_max_num_queries: Any, n_versions: int
) -> None:
    fund = FundFactory.create()
    for _ in range(n_versions):
        RuleSetVersionFactory.create(rule_set__fund=fund)
    RuleSetVersionFactory.create(rule_set__fund=fund, status="draft")
    client.force_login(staff(fund))

    with django_assert_max_num_queries(VERSIONS_MAX_QUERIES):
        response = client.get(url("rule_versions", fund))

    assert response.status_code == 200
    assert len(response.context["versions"]) == n_versions + 1
    assert response.context["in_force"].number == n_versions
    html = response.content.decode()
    assert "Edit the draft (version" in html
    assert response.context["draft"].number == n_versions + 1


def test_the_version_page_shows_its_criteria_and_source(client: Client) -> None:
    version = RuleSetVersionFactory.create()
    client.force_login(staff(version.rule_set.fund))

    response = client.get(url("rule_version", version.rule_set.fund, number=version.number))

    html = response.content.decode()
    assert "Worked 12 days" in html
    assert "days &gt;= min_days" in html
    assert "# A small fund for the tests." in html


def test_the_fund_dashboard_links_to_the_rules_for_its_operator_admin_only(
    client: Client,
) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund))
    assert url("rule_versions", fund) in client.get(url("fund_dashboard", fund)).content.decode()
    client.force_login(staff(fund, Role.REVIEWER))
    assert (
        url("rule_versions", fund) not in client.get(url("fund_dashboard", fund)).content.decode()
    )


# --------------------------------------------------------------------------------------------
# Preview, publish, re-evaluate
# --------------------------------------------------------------------------------------------


def test_the_preview_shows_the_figures_against_the_budget(client: Client) -> None:
    fund, _v1, admin = fund_with_pending(6, budget="4000.00")
    draft = draft_lowering_days(fund, admin)
    client.force_login(admin)

    response = client.get(url("rule_version_preview", fund, number=draft.number))

    assert response.status_code == 200
    html = response.content.decode()
    assert "6 eligible applications, €5,400.00 in all" in html
    assert "over budget by €1,400.00" in html
    assert len(response.context["gainers"]) == 3
    assert len(response.context["losers"]) == 0
    assert "Publish version 2" in html


def test_the_preview_speaks_french_with_french_numbers(client: Client) -> None:
    fund, _v1, admin = fund_with_pending(2, budget="100.00")
    draft = draft_lowering_days(fund, admin)
    client.force_login(admin)

    response = client.get(
        url("rule_version_preview", fund, number=draft.number), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert response.status_code == 200
    assert "€" in response.content.decode()


@pytest.mark.parametrize("n_pending", [4, 30])
def test_the_preview_page_uses_a_fixed_number_of_queries(
    client: Client, django_assert_max_num_queries: Any, n_pending: int
) -> None:
    fund, _v1, admin = fund_with_pending(n_pending)
    draft = draft_lowering_days(fund, admin)
    client.force_login(admin)

    with django_assert_max_num_queries(PREVIEW_MAX_QUERIES):
        response = client.get(url("rule_version_preview", fund, number=draft.number))

    assert response.status_code == 200
    assert response.context["preview"].pending == n_pending


def test_the_lists_of_gainers_are_paginated(client: Client, settings: Any) -> None:
    settings.BACKOFFICE_PAGE_SIZE = 2
    fund, _v1, admin = fund_with_pending(10)
    draft = draft_lowering_days(fund, admin)
    client.force_login(admin)

    first = client.get(url("rule_version_preview", fund, number=draft.number))
    last = client.get(url("rule_version_preview", fund, number=draft.number), {"gainers": "3"})

    assert len(first.context["preview"].gainers) == 5
    assert [len(first.context["gainers"]), len(last.context["gainers"])] == [2, 1]
    assert "gainers=2" in first.content.decode()


def test_publish_then_confirm_the_reevaluation_with_the_previews_numbers(client: Client) -> None:
    fund, _v1, admin = fund_with_pending(4)
    draft = draft_lowering_days(fund, admin)
    client.force_login(admin)

    published = client.post(url("rule_version_publish", fund, number=draft.number))

    confirm_url = url("rule_version_reevaluate", fund, number=draft.number)
    assert published.status_code == 302
    assert published["Location"] == confirm_url
    draft.refresh_from_db()
    assert draft.status == "published"
    page = client.get(confirm_url)
    html = page.content.decode()
    assert "4 eligible applications, €3,600.00 in all" in html
    assert "over budget by €600.00" in html
    assert "Re-evaluate 4 pending applications" in html
    fingerprint = page.context["form"].initial["fingerprint"]

    done = client.post(confirm_url, {"fingerprint": fingerprint})

    assert done.status_code == 302
    assert done["Location"] == url("rule_versions", fund)
    assert ApplicationEvaluation.objects.filter(version=draft, is_current=True).count() == 4
    assert AuditEvent.objects.filter(action="rule_set.pending_reevaluated").count() == 1
    assert "re-evaluated with version 2" in client.get(done["Location"]).content.decode()


def test_confirming_figures_that_changed_shows_the_new_ones_instead(client: Client) -> None:
    fund, _v1, admin = fund_with_pending(2)
    v2 = services.publish_version(actor=admin, version=draft_lowering_days(fund, admin))
    client.force_login(admin)
    confirm_url = url("rule_version_reevaluate", fund, number=v2.number)
    fingerprint = client.get(confirm_url).context["form"].initial["fingerprint"]
    BenefitRecordFactory.create(nir=Application.objects.filter(fund=fund).first().nir)

    response = client.post(confirm_url, {"fingerprint": fingerprint})

    assert response.status_code == 200
    assert "changed since the preview" in response.content.decode()
    assert response.context["preview"].eligible == 1
    assert not ApplicationEvaluation.objects.filter(version=v2).exists()


def test_a_draft_cannot_be_reevaluated_with(client: Client) -> None:
    fund, _v1, admin = fund_with_pending(1)
    draft = draft_lowering_days(fund, admin)
    client.force_login(admin)

    response = client.post(url("rule_version_reevaluate", fund, number=draft.number))

    assert response.status_code == 302
    assert response["Location"] == url("rule_version_preview", fund, number=draft.number)


def test_many_pending_applications_are_reevaluated_in_the_background_with_progress(
    client: Client, settings: Any, monkeypatch: Any
) -> None:
    settings.TASKS = DATABASE_TASKS
    monkeypatch.setattr(services, "SYNC_REEVALUATION_LIMIT", 2)
    fund, _v1, admin = fund_with_pending(3)
    v2 = services.publish_version(actor=admin, version=draft_lowering_days(fund, admin))
    client.force_login(admin)
    confirm_url = url("rule_version_reevaluate", fund, number=v2.number)
    fingerprint = client.get(confirm_url).context["form"].initial["fingerprint"]

    started = client.post(confirm_url, {"fingerprint": fingerprint})

    assert started.status_code == 302
    status_url = started["Location"]
    assert status_url.startswith(url("rule_versions", fund) + "reevaluations/")
    assert "is running" in client.get(status_url).content.decode()
    run_db_worker(inside_test_transaction=True, monkeypatch=monkeypatch)
    assert "were re-evaluated" in client.get(status_url).content.decode()
    assert ApplicationEvaluation.objects.filter(version=v2, is_current=True).count() == 3
    # Another fund's operator admin cannot follow it, even through their own fund.
    other = FundFactory.create()
    client.force_login(staff(other))
    task_id = status_url.rstrip("/").rsplit("/", 1)[1]
    assert client.get(status_url).status_code == 404
    assert client.get(url("rule_reevaluation_status", other, task_id=task_id)).status_code == 404


# --------------------------------------------------------------------------------------------
# The evaluation on the staff's application page
# --------------------------------------------------------------------------------------------


def application_url(application: Application) -> str:
    return url("staff_application", application.fund, reference=application.reference)


@pytest.mark.parametrize(
    ("language", "explanation", "label"),
    [
        ("en", "You worked 14 days; 12 are required.", "Worked 12 days"),
        ("fr", "Vous avez travaillé 14 jours ; 12 sont requis.", "A travaillé 12 jours"),
    ],
)
def test_the_application_page_shows_the_evaluation_criterion_by_criterion_in_the_ui_language(
    client: Client, language: str, explanation: str, label: str
) -> None:
    application = ApplicationFactory.create()
    worked(application, 14)
    admin = staff(application.fund)
    services.publish_version(
        actor=admin,
        version=services.save_draft(actor=admin, fund=application.fund, source=SIMPLE_RULES),
    )
    services.evaluate_application(actor=None, application=application)
    client.force_login(staff(application.fund, Role.FINANCE))

    response = client.get(application_url(application), HTTP_ACCEPT_LANGUAGE=language)

    html = response.content.decode()
    assert explanation in html
    assert label in html
    assert response.context["evaluation"].version.number == 1
    rows = response.context["criteria"]
    assert [(row.id, row.passed, row.value) for row in rows] == [
        ("worked", True, "14"),
        ("receives_benefits", False, "0"),
    ]
    if language == "en":
        assert '<td class="passed">Met</td>' in html
        assert "Version 1 (v1)" in html
    assert response.context["can_evaluate"] is False
    assert (
        reverse(
            "staff_application_evaluate",
            kwargs={"slug": application.fund.slug, "reference": application.reference},
        )
        not in html
    )


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.OPERATOR_ADMIN])
def test_those_who_decide_or_manage_can_evaluate_again(client: Client, role: str) -> None:
    evaluation = ApplicationEvaluationFactory.create(eligible=False, amount=Decimal(0))
    application = evaluation.application
    worked(application, 20)
    client.force_login(staff(application.fund, role))

    page = client.get(application_url(application))
    response = client.post(
        url("staff_application_evaluate", application.fund, reference=application.reference),
        follow=True,
    )

    assert page.context["can_evaluate"] is True
    assert "Evaluate again" in page.content.decode()
    assert response.redirect_chain[-1][0] == application_url(application)
    assert "The application was evaluated again." in response.content.decode()
    current = response.context["evaluation"]
    assert (current.pk != evaluation.pk, current.eligible) == (True, True)


def test_evaluating_again_without_change_says_so_and_without_rules_says_why(
    client: Client,
) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application.fund, Role.REVIEWER))
    evaluate_url = url(
        "staff_application_evaluate", application.fund, reference=application.reference
    )

    no_rules = client.post(evaluate_url, follow=True)

    assert "No published version of the fund" in no_rules.content.decode()
    admin = staff(application.fund)
    services.publish_version(
        actor=admin,
        version=services.save_draft(actor=admin, fund=application.fund, source=SIMPLE_RULES),
    )
    client.post(evaluate_url)
    unchanged = client.post(evaluate_url, follow=True)
    assert "nothing has changed" in unchanged.content.decode()
    assert ApplicationEvaluation.objects.count() == 1


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AUDITOR])
def test_finance_and_auditors_cannot_evaluate(client: Client, role: str) -> None:
    application = ApplicationFactory.create()
    RuleSetVersionFactory.create(rule_set__fund=application.fund)
    client.force_login(staff(application.fund, role))

    response = client.post(
        url("staff_application_evaluate", application.fund, reference=application.reference)
    )

    assert response.status_code == 403
    assert not ApplicationEvaluation.objects.exists()


def test_an_approval_without_amount_grants_the_evaluations_amount(client: Client) -> None:
    evaluation = ApplicationEvaluationFactory.create(amount=Decimal("900.00"))
    application = evaluation.application
    client.force_login(staff(application.fund, Role.REVIEWER))

    page = client.get(application_url(application))
    client.post(application_url(application), {"outcome": "approve"})

    assert "Leave empty to grant the amount of the evaluation (€900.00)." in page.content.decode()
    application.refresh_from_db()
    assert application.decision.amount == Decimal("900.00")
    assert application.decision.rule_version == evaluation.version
    assert "Under rules version" in client.get(application_url(application)).content.decode()
