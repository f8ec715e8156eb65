"""E-mails to crew members. They have no account in the portal, so what applicants read there
(their grant, its payment, the attestation) comes to them by e-mail, in their language."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from entraide.applications.models import Application
from entraide.core.dates import format_day
from entraide.core.money import format_money
from entraide.crew.models import Payout
from entraide.reporting import attestations
from entraide.reporting.models import Attestation


def _send(payout: Payout, kind: str, subject: str, attestation: Attestation | None) -> None:
    """``crew/email/<kind>.txt`` to the crew member, in the language active, the attestation
    (in the same language) attached."""
    application = payout.application
    assert application is not None
    fund = application.fund
    context: dict[str, Any] = {
        "first_name": application.first_name,
        "programme": payout.programme.name,
        "fund": fund.name,
        "production": payout.production.title,
        "code": payout.production.code,
        "suspended_on": format_day(payout.production.suspended_on),
        "amount": format_money(payout.amount, payout.currency),
        "iban_end": application.iban[-4:],
        "reference": application.reference,
        "attached": attestation is not None,
        "contact": fund.contact_email,
    }
    message = EmailMessage(
        subject=subject,
        body=render_to_string(f"crew/email/{kind}.txt", context),
        to=[application.email],
    )
    if attestation is not None:
        language = attestations.language_of(None, application)
        message.attach(
            f"attestation-{application.reference}.pdf",
            attestations.render_attestation(attestation, language),
            "application/pdf",
        )
    message.send()


def _payouts() -> Any:
    return Payout.objects.select_related("programme", "production", "application__fund")


def send_granted(payout_id: int) -> None:
    """What the crew member is granted, by whom, for which production, paid where, and that
    they need do nothing; the attestation of the grant once the budget covers it."""
    payout = _payouts().get(pk=payout_id)
    application = payout.application
    if application is None or not application.email:
        return
    with translation.override(attestations.language_of(None, application)):
        subject = _("%(programme)s: a grant of %(amount)s for %(production)s") % {
            "programme": payout.programme.name,
            "amount": format_money(payout.amount, payout.currency),
            "production": payout.production.title,
        }
        _send(payout, "granted", subject, attestations.issue_without_account(application))


def paid_in(batch_id: int) -> list[int]:
    """The payouts of the crew members paid in the batch who have an e-mail address."""
    return list(
        Payout.objects.filter(
            application__award__payments__batch_id=batch_id,
            application__status=Application.Status.PAID,
        )
        .exclude(application__email="")
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def send_paid(payout_id: int) -> None:
    """To a crew member whose grant is paid: the payment, with its attestation."""
    payout = _payouts().get(pk=payout_id)
    application = payout.application
    if application is None or not application.email:
        return
    if application.status != Application.Status.PAID:
        return
    with translation.override(attestations.language_of(None, application)):
        subject = _("%(programme)s: your grant of %(amount)s is paid") % {
            "programme": payout.programme.name,
            "amount": format_money(payout.amount, payout.currency),
        }
        _send(payout, "paid", subject, attestations.issue_without_account(application))
