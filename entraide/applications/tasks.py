"""Background work of the portal: receipts and notifications, and virus scans. Each task is
idempotent: running it twice does no harm."""

from __future__ import annotations

from collections.abc import Callable

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from entraide.applications import documents as document_store
from entraide.applications import selectors
from entraide.applications.models import ApplicationDocument


@task()
def follow_up_submission(application_id: int, evaluate: bool) -> None:
    """Check the account holder's name and look for duplicates (flagging what reviewers must
    see), evaluate a new application (when the fund has rules), then send its receipt: one
    task per submission, so that opening day queues one row, not two. Each step runs even if
    one before it fails, and the receipt always goes (a failure stays on the task; staff can
    evaluate again, and a fund's full duplicate check finds what this one missed)."""
    from entraide.integrity.services import check_application
    from entraide.payments.bank_details import check_account_holder
    from entraide.rules.tasks import evaluate_submitted_application

    steps: list[Callable[[int], object]] = [check_account_holder, check_application]
    if evaluate:
        steps.append(evaluate_submitted_application.call)
    steps.append(send_receipt.call)
    failures = []
    for step in steps:
        try:
            step(application_id)
        except Exception as failure:  # the next steps still run; the first failure is raised
            failures.append(failure)
    if failures:
        raise failures[0]


@task()
def send_receipt(application_id: int) -> None:
    """E-mail the applicant what they sent, in the language they applied in."""
    application = selectors.application_by_id(application_id)
    with translation.override(application.language):
        context = {
            "application": application,
            "fund": application.fund,
            "answers": selectors.declared_answers(application, application.language),
            "documents": list(application.documents.all()),
            "status_url": selectors.status_url(application),
        }
        send_mail(
            subject=_("Your application %(reference)s was received")
            % {"reference": application.reference},
            message=render_to_string("applications/email/receipt.txt", context),
            from_email=None,
            recipient_list=[application.email],
        )


@task()
def notify_applicant_of_message(message_id: int) -> None:
    """Tell the applicant, in their language, that the fund wrote to them (not what: the
    message may be personal, and is read in the portal after logging in)."""
    message = selectors.message_by_id(message_id)
    application = message.application
    with translation.override(application.language):
        context = {
            "application": application,
            "fund": application.fund,
            "message": message,
            "status_url": selectors.status_url(application),
        }
        send_mail(
            subject=_("%(fund)s: a message about your application %(reference)s")
            % {"fund": application.fund.name, "reference": application.reference},
            message=render_to_string("applications/email/message.txt", context),
            from_email=None,
            recipient_list=[application.email],
        )


@task()
def scan_documents(application_id: int) -> None:
    """Scan the application's documents that wait for it with the configured scanner."""
    from entraide.applications.services import record_scan_result

    waiting = ApplicationDocument.objects.filter(
        application_id=application_id, scan=ApplicationDocument.Scan.PENDING
    )
    for document in waiting:
        record_scan_result(document=document, clean=document_store.scan(document.stored_name))
