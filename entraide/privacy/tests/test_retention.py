"""The retention policy: what is due when, applied by the daily task, idempotent, in chunks;
the policy's page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications import documents as document_store
from entraide.applications import services as application_services
from entraide.applications.models import Application, ApplicationDocument, ApplicationDraft
from entraide.applications.tests.factories import ApplicationFactory
from entraide.applications.tests.portal_factories import PDF
from entraide.audit.models import AuditEvent
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.payments.models import PaymentBatch
from entraide.privacy import selectors, services
from entraide.privacy.models import ErasedApplication, FundRetentionPolicy
from entraide.privacy.tasks import apply_retention
from entraide.privacy.tests.factories import FundRetentionPolicyFactory, Life, ago, member_of

pytestmark = pytest.mark.django_db


def refused(fund: Any, months: int) -> Application:
    application: Application = ApplicationFactory(
        fund=fund,
        status=Application.Status.REJECTED,
        status_changed_at=ago(days=30 * months + 5),
    )
    return application


def erased(application: Application) -> bool:
    return ErasedApplication.objects.filter(application=application).exists()


def test_months_are_calendar_months() -> None:
    moment = dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)
    assert selectors.months_before(moment, 1) == dt.datetime(2026, 2, 28, 12, tzinfo=dt.UTC)
    assert selectors.months_before(moment, 15) == dt.datetime(2024, 12, 31, 12, tzinfo=dt.UTC)
    assert selectors.accounting_hold_until(moment) == dt.date(2036, 12, 31)


def test_a_refusal_is_erased_after_the_policy_months_and_not_before() -> None:
    fund = FundFactory()
    old, recent = refused(fund, 7), refused(fund, 5)
    report = services.apply_retention_to_fund(fund)
    assert report.erased == 1
    assert erased(old)
    assert not erased(recent)
    old.refresh_from_db()
    assert old.last_name == ""
    assert old.status == Application.Status.REJECTED


def test_the_operator_admin_s_policy_is_the_one_applied() -> None:
    fund = FundFactory()
    FundRetentionPolicyFactory(fund=fund, months_after_refusal=12)
    application = refused(fund, 7)
    services.apply_retention_to_fund(fund)
    assert not erased(application)
    services.apply_retention_to_fund(fund, now=timezone.now() + dt.timedelta(days=160))
    assert erased(application)


def test_pending_and_approved_applications_are_never_due() -> None:
    fund = FundFactory()
    long_ago = ago(days=3000)
    for status in (Application.Status.RECEIVED, Application.Status.APPROVED):
        ApplicationFactory(fund=fund, status=status, status_changed_at=long_ago)
    assert services.due_for_erasure(fund, timezone.now()) == []


def test_a_paid_grant_is_erased_after_its_last_payment_with_the_accounting_hold(
    django_capture_on_commit_callbacks: Any,
) -> None:
    fund = FundFactory()
    life = Life(fund, UserFactory())
    life.approve()
    batch = life.pay(django_capture_on_commit_callbacks)
    assert services.due_for_erasure(fund, timezone.now()) == []
    PaymentBatch.objects.filter(pk=batch.pk).update(sent_at=ago(days=30 * 25))

    services.apply_retention_to_fund(fund)

    record = ErasedApplication.objects.get(application=life.application)
    assert record.cause == "retention"
    assert record.hold == "accounting"
    assert record.hold_until == dt.date(ago(days=30 * 25).year + 10, 12, 31)
    application = life.refresh()
    assert application.first_name == ""
    assert application.iban != ""


def test_a_grant_given_up_is_erased_like_a_refusal() -> None:
    fund = FundFactory()
    life = Life(fund, UserFactory())
    life.approve()
    Award.objects.filter(application=life.application).update(
        status=Award.Status.RELEASED, released_at=ago(days=30 * 7)
    )
    services.apply_retention_to_fund(fund)
    assert erased(life.application)
    assert life.refresh().iban == ""  # never paid: nothing held


def test_the_retention_is_idempotent_and_resumes_after_a_partial_run() -> None:
    fund = FundFactory()
    applications = [refused(fund, 8) for _ in range(5)]
    due = services.due_for_erasure(fund, timezone.now())
    services.erase_due_chunk(due[:2], now=timezone.now())  # a run stopped after one chunk

    report = services.apply_retention_to_fund(fund, chunk=2)

    assert report.erased == 3
    assert all(erased(application) for application in applications)
    assert AuditEvent.objects.filter(action="privacy.erased").count() == 5
    again = services.apply_retention_to_fund(fund)
    assert again.erased == 0
    assert AuditEvent.objects.filter(action="privacy.erased").count() == 5


def test_applications_never_sent_are_deleted_with_their_files_once_the_fund_closed(
    django_capture_on_commit_callbacks: Any,
) -> None:
    today = timezone.localdate()
    closed = FundFactory(
        opens_on=today - dt.timedelta(days=200), closes_on=today - dt.timedelta(days=130)
    )
    recent = FundFactory(
        opens_on=today - dt.timedelta(days=100), closes_on=today - dt.timedelta(days=60)
    )
    person = UserFactory()
    stored = []
    for fund in (closed, recent):
        draft = application_services.resume_draft(actor=person, fund=fund)
        document = application_services.add_draft_document(
            actor=person,
            draft=draft,
            requirement="payslip",
            upload=SimpleUploadedFile("p.pdf", PDF, content_type="application/pdf"),
        )
        stored.append(document.stored_name)

    with django_capture_on_commit_callbacks(execute=True):  # files go once committed
        services.apply_retention_to_fund(closed)
        services.apply_retention_to_fund(recent)

    assert list(ApplicationDraft.objects.values_list("fund_id", flat=True)) == [recent.pk]
    assert not ApplicationDocument.objects.filter(stored_name=stored[0]).exists()
    assert not document_store.path_of(stored[0]).exists()
    assert document_store.path_of(stored[1]).exists()
    event = AuditEvent.objects.get(action="privacy.drafts_deleted")
    assert event.changes == {"drafts": 1}
    assert event.actor_id is None


def test_the_daily_task_goes_through_every_fund() -> None:
    first, second = FundFactory(), FundFactory()
    refused(first, 9), refused(second, 9), refused(second, 1)
    result = apply_retention.enqueue().return_value
    assert result is not None
    assert result["erased"] == 2
    again = apply_retention.enqueue().return_value
    assert again is not None
    assert again["erased"] == 0


# -- the page ----------------------------------------------------------------------------------


def test_the_operator_admin_changes_the_policy_and_it_is_audited(client: Any) -> None:
    fund: Fund = FundFactory()
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    client.force_login(admin)
    url = reverse("privacy_retention", args=[fund.slug])
    page = client.get(url)
    assert page.status_code == 200
    assert "24 months after its last payment" in page.content.decode()

    response = client.post(
        url, {"months_after_payment": 36, "months_after_refusal": 3, "months_after_closing": 1}
    )

    assert response.status_code == 302
    policy = FundRetentionPolicy.objects.get(fund=fund)
    assert (policy.months_after_payment, policy.updated_by) == (36, admin)
    event = AuditEvent.objects.get(action="privacy.retention_policy_changed")
    assert event.changes["months_after_payment"] == {"before": None, "after": 36}


def test_a_policy_of_no_month_is_refused(client: Any) -> None:
    fund = FundFactory()
    client.force_login(member_of(fund, FundRole.Role.OPERATOR_ADMIN))
    response = client.post(
        reverse("privacy_retention", args=[fund.slug]),
        {"months_after_payment": 0, "months_after_refusal": 3, "months_after_closing": 1},
    )
    assert response.status_code == 200
    assert "months_after_payment" in response.context["form"].errors
    assert not FundRetentionPolicy.objects.exists()
