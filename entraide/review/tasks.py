from __future__ import annotations

from django.core.mail import send_mail
from django_tasks import task
from django_tasks.base import TaskContext

from entraide.applications import selectors as application_selectors
from entraide.core.progress import report_progress
from entraide.review import bulk, messages
from entraide.review.models import BulkApproval


@task()
def notify_applicant(application_id: int, kind: str) -> None:
    """E-mail the applicant the fund's message of ``kind`` (a :class:`MessageTemplate.Kind`:
    approved, rejected, waitlisted), in the language they applied in. Not to a crew member
    granted from a roster: they applied for nothing, and crew relief writes to them itself
    (their grant, waiting for budget or not, then its payment)."""
    if kind not in messages.Kind.values:
        raise ValueError(f"not a kind of message: {kind!r}")
    application = application_selectors.application_by_id(application_id)
    if application.from_roster:
        return
    subject, body = messages.render_message(
        application, kind, extra=messages.outcome_values(application, kind)
    )
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[application.email])


@task(takes_context=True)
def approve_in_bulk(context: TaskContext, bulk_id: int) -> dict[str, int]:
    """Approve the applications of a confirmed bulk approval, showing how far it got."""
    approval = BulkApproval.objects.select_related("requested_by").get(pk=bulk_id)

    def tell(done: BulkApproval) -> None:
        report_progress(context, done=done.handled, total=done.count)

    tell(approval)
    bulk.run_bulk_approval(approval, progress=tell)
    return {
        "approved": approval.approved,
        "waitlisted": approval.waitlisted,
        "skipped": approval.skipped,
    }
