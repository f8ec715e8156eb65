"""Background work of the payments: bank files, and what follows a change of bank details.
Each task is idempotent: running it twice does no harm."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from entraide.payments.models import BankDetailsChange


@task()
def flag_holder_mismatch(application_id: int) -> None:
    """Flag the application when its new account holder is not the applicant, as at
    submission (the platform's flag is raised once however often this runs)."""
    from entraide.payments.bank_details import check_account_holder

    check_account_holder(application_id)


@task()
def ask_for_bank_details(change_id: int, refused: bool) -> None:
    """E-mail the applicant, in their language, that the fund needs new bank details (the
    bank returned the transfer, or ``refused``: the fund could not verify the last ones), with
    the link to the portal's page. Never the bank details themselves. Nothing is sent once
    the applicant has answered."""
    change = BankDetailsChange.objects.select_related("application__fund").get(pk=change_id)
    if change.status != BankDetailsChange.Status.REQUESTED:
        return
    application = change.application
    path = reverse("application_bank_details", kwargs={"reference": application.reference})
    with translation.override(application.language):
        context = {
            "application": application,
            "fund": application.fund,
            "refused": refused,
            "bank_details_url": f"{settings.PUBLIC_URL}{path}",
        }
        send_mail(
            subject=_("%(fund)s: new bank details needed for your grant %(reference)s")
            % {"fund": application.fund.name, "reference": application.reference},
            message=render_to_string("payments/email/bank_details_requested.txt", context),
            from_email=None,
            recipient_list=[application.email],
        )


@task()
def generate_payment_file(batch_id: int) -> str:
    """Build, validate and store a released batch's file: a retry after a crash stores the
    same file, once."""
    from entraide.payments.services import generate_payment_file as generate

    return generate(batch_id).sha256


@task()
def tell_applicant_bank_details_changed(change_id: int) -> None:
    """E-mail the applicant, in their language, that the account their grant is paid into
    changed (its last 4 characters and its holder only), so that they speak up at once if
    they did not ask for it. Sent to the application's e-mail address, which a change of bank
    details never touches, whether the applicant or finance gave the new details."""
    change = BankDetailsChange.objects.select_related("application__fund").get(pk=change_id)
    if change.status != BankDetailsChange.Status.VERIFIED:
        return
    application = change.application
    with translation.override(application.language):
        context = {
            "application": application,
            "fund": application.fund,
            # Never the whole IBAN: an e-mail is read where the fund cannot see.
            "iban_end": change.iban[-4:],
            "account_holder": change.account_holder,
        }
        send_mail(
            subject=_("%(fund)s: the bank account for your grant %(reference)s changed")
            % {"fund": application.fund.name, "reference": application.reference},
            message=render_to_string("payments/email/bank_details_changed.txt", context),
            from_email=None,
            recipient_list=[application.email],
        )
