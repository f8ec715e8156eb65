"""Messages between the fund's staff and the applicant: a request for information (and
documents) and the applicant's answer in the portal."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application, ApplicationDocument, ApplicationMessage
from entraide.applications.tests.factories import ApplicationFactory
from entraide.applications.tests.portal_factories import PDF, FundDocumentRequirementFactory
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory

pytestmark = pytest.mark.django_db
BODY = "Could you send your last payslip? Your declared resources look low."


@pytest.fixture
def application(db: None) -> Application:
    application = ApplicationFactory.create()
    FundDocumentRequirementFactory.create(
        fund=application.fund, code="payslip", label_en="Last payslip"
    )
    FundDocumentRequirementFactory.create(
        fund=application.fund, code="contract", label_en="Cancelled contract"
    )
    return application


def logged_in(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def staff(application: Application, role: str = FundRole.Role.REVIEWER) -> Client:
    return logged_in(FundRoleFactory.create(fund=application.fund, role=role).user)


def detail_url(application: Application) -> str:
    return reverse(
        "staff_application",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


def message_url(application: Application) -> str:
    return reverse(
        "staff_application_message",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


def status_url(application: Application) -> str:
    return reverse("application_status", kwargs={"reference": application.reference})


def text(response: Any) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def ask_for_payslip(application: Application, capture: Any) -> Any:
    with capture(execute=True):
        return staff(application).post(
            message_url(application),
            {"body": BODY, "request_information": "on", "requested_documents": ["payslip"]},
        )


def test_a_request_for_information_waits_for_the_applicant_who_is_told_by_e_mail(
    application: Application, django_capture_on_commit_callbacks: Any
) -> None:
    response = ask_for_payslip(application, django_capture_on_commit_callbacks)

    assert response["Location"] == detail_url(application)
    application.refresh_from_db()
    assert application.status == Application.Status.INFO_REQUESTED
    message = ApplicationMessage.objects.get()
    assert (message.from_staff, message.requests_information) == (True, True)
    assert message.requested_documents == ["payslip"]
    [email] = mail.outbox
    assert email.to == [application.email]
    assert application.reference in email.subject
    assert BODY not in email.body  # read in the portal, after logging in
    assert status_url(application) in email.body


def test_a_message_without_a_request_leaves_the_status_alone(
    application: Application, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staff(application).post(message_url(application), {"body": "Your file is complete."})

    application.refresh_from_db()
    assert application.status == Application.Status.RECEIVED
    assert len(mail.outbox) == 1


def test_an_empty_message_is_refused_on_its_field(application: Application) -> None:
    response = staff(application).post(message_url(application), {"body": "  "})

    assert response.status_code == 200
    assert list(response.context["message_form"].errors) == ["body"]
    assert not ApplicationMessage.objects.exists()


def test_the_staff_page_shows_what_was_sent_and_the_form_to_write(
    application: Application,
) -> None:
    assert application.applicant is not None
    ApplicationDocument.objects.create(
        fund=application.fund,
        owner=application.applicant,
        application=application,
        requirement="payslip",
        original_name="payslip-march.pdf",
        stored_name="a" * 32 + ".pdf",
        content_type="application/pdf",
        size=2048,
        sha256="0" * 64,
        scan=ApplicationDocument.Scan.CLEAN,
        uploaded_at=timezone.now(),
    )

    response = staff(application).get(detail_url(application))

    page = text(response)
    assert application.iban not in page
    assert f"•••• {application.iban[-4:]}" in page
    assert application.address_line in page
    assert "Last payslip" in page
    assert "payslip-march.pdf" in page
    assert "No virus found" in page
    assert "Write to the applicant" in page
    assert 'name="requested_documents" value="contract"' in response.content.decode()


@pytest.mark.parametrize("role", [FundRole.Role.FINANCE, FundRole.Role.AUDITOR])
def test_a_role_that_cannot_decide_cannot_write(application: Application, role: str) -> None:
    client = staff(application, role)

    page = client.get(detail_url(application))
    response = client.post(message_url(application), {"body": BODY})

    assert page.status_code == 200
    assert "Write to the applicant" not in text(page)
    assert response.status_code == 403
    assert not ApplicationMessage.objects.exists()


def test_staff_of_another_fund_get_404(application: Application) -> None:
    client = logged_in(FundRoleFactory.create(fund=FundFactory.create()).user)

    response = client.post(message_url(application), {"body": BODY})

    assert response.status_code == 404
    assert not ApplicationMessage.objects.exists()


def test_an_applicant_cannot_write_as_staff(application: Application) -> None:
    response = logged_in(application.applicant).post(message_url(application), {"body": BODY})

    assert response.status_code == 403
    assert not ApplicationMessage.objects.exists()


def test_the_applicant_reads_the_request_and_answers_with_the_document(
    application: Application, django_capture_on_commit_callbacks: Any
) -> None:
    ask_for_payslip(application, django_capture_on_commit_callbacks)
    client = logged_in(application.applicant)
    page = client.get(status_url(application))
    assert BODY in text(page)
    assert "Documents asked for:</p><ul><li>Last payslip</li>" in text(page)
    assert page.context["reply_form"] is not None
    assert "document_payslip" in page.context["reply_form"].fields

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            status_url(application),
            {
                "body": "Here it is.",
                "document_payslip": SimpleUploadedFile("march.pdf", PDF),
            },
        )

    assert response["Location"] == status_url(application)
    application.refresh_from_db()
    assert application.status == Application.Status.UNDER_REVIEW
    reply = ApplicationMessage.objects.get(from_staff=False)
    [document] = reply.documents.all()
    assert (document.requirement, document.application) == ("payslip", application)
    assert document.content_type == "application/pdf"
    after = client.get(status_url(application))
    assert after.context["reply_form"] is None
    assert "Here it is." in text(after)
    assert "march.pdf" in text(after)
    # The staff see the answer and its document in the thread.
    staff_page = text(staff(application).get(detail_url(application)))
    assert "Here it is." in staff_page
    assert "march.pdf" in staff_page


def test_an_empty_answer_is_refused(
    application: Application, django_capture_on_commit_callbacks: Any
) -> None:
    ask_for_payslip(application, django_capture_on_commit_callbacks)

    response = logged_in(application.applicant).post(status_url(application), {"body": ""})

    assert response.status_code == 200
    assert response.context["reply_form"].errors == {"body": ["Write a message or add a document."]}
    application.refresh_from_db()
    assert application.status == Application.Status.INFO_REQUESTED


def test_a_file_that_is_not_a_document_is_refused_in_the_answer(
    application: Application, django_capture_on_commit_callbacks: Any
) -> None:
    ask_for_payslip(application, django_capture_on_commit_callbacks)

    response = logged_in(application.applicant).post(
        status_url(application),
        {"body": "Here.", "document_payslip": SimpleUploadedFile("march.pdf", b"plain text" * 9)},
    )

    assert response.status_code == 200
    assert response.context["reply_form"].non_field_errors() == [
        "This file is not a PDF, JPEG or PNG document (its content was checked)."
    ]
    assert not ApplicationMessage.objects.filter(from_staff=False).exists()


def test_no_answer_is_taken_when_nothing_was_asked(application: Application) -> None:
    client = logged_in(application.applicant)

    page = client.get(status_url(application))
    response = client.post(status_url(application), {"body": "Hello?"})

    assert page.context["reply_form"] is None
    assert response["Location"] == status_url(application)
    assert not ApplicationMessage.objects.exists()


def test_another_applicant_cannot_answer(
    application: Application, django_capture_on_commit_callbacks: Any
) -> None:
    ask_for_payslip(application, django_capture_on_commit_callbacks)

    response = logged_in(UserFactory.create()).post(status_url(application), {"body": "Me!"})

    assert response.status_code == 404
    assert not ApplicationMessage.objects.filter(from_staff=False).exists()


def test_the_review_clock_stops_while_the_fund_waits_for_the_applicant(
    application: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entraide.applications import services

    start = application.submitted_at
    clock = [start + dt.timedelta(days=2)]
    monkeypatch.setattr(services.timezone, "now", lambda: clock[0])
    reviewer = FundRoleFactory(fund=application.fund, role=FundRole.Role.REVIEWER).user
    services.send_staff_message(
        actor=reviewer, application=application, body="Your payslip?", request_information=True
    )  # day 2: the clock stops
    application.refresh_from_db()
    assert application.review_time(start + dt.timedelta(days=5)) == dt.timedelta(days=2)
    clock[0] = start + dt.timedelta(days=7)
    services.reply_to_staff(actor=application.applicant, application=application, body="Here.")
    application.refresh_from_db()  # day 7: it runs again, 5 days paused
    assert application.clock_paused_seconds == 5 * 86400
    assert application.review_time(start + dt.timedelta(days=10)) == dt.timedelta(days=5)
