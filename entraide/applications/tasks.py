"""Background work of the portal: receipts and notifications, virus scans, and exports that
show their progress. Each task is idempotent: running it twice does no harm."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task
from django_tasks.base import TaskContext

from entraide.applications import documents as document_store
from entraide.applications import selectors
from entraide.applications.models import Application, ApplicationDocument
from entraide.core.progress import report_progress


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


EXPORT_COLUMNS = (
    "reference",
    "status",
    "submitted_at",
    "first_name",
    "last_name",
    "profession",
)


@task(takes_context=True)
def export_fund_applications(context: TaskContext, fund_id: int) -> str:
    """Write the fund's applications to a CSV file (no NIR), reporting progress as it goes."""
    queryset = Application.objects.filter(fund_id=fund_id).order_by("pk")
    total = queryset.count()
    exports_dir = Path(settings.EXPORTS_DIR)
    exports_dir.mkdir(parents=True, exist_ok=True)
    path = exports_dir / f"applications-{fund_id}-{context.task_result.id}.csv"
    report_progress(context, done=0, total=total, label=_("Exporting applications"))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for done, row in enumerate(
            queryset.values_list(*EXPORT_COLUMNS).iterator(chunk_size=2000), start=1
        ):
            writer.writerow(row)
            if done % 1000 == 0:
                report_progress(context, done=done, total=total)
    report_progress(context, done=total, total=total, output_path=str(path))
    return str(path)
