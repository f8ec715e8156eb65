from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from entraide.review.models import Decision


@task()
def notify_decision(decision_id: int) -> None:
    """Tell the applicant the decision, in the language they applied in."""
    decision = Decision.objects.select_related("application", "fund").get(pk=decision_id)
    application = decision.application
    with translation.override(application.language):
        send_mail(
            subject=_("Decision on your application %(reference)s")
            % {"reference": application.reference},
            message=render_to_string(
                "review/email/decision.txt",
                {"decision": decision, "application": application, "fund": decision.fund},
            ),
            from_email=None,
            recipient_list=[application.email],
        )
