"""Actions on applications: submitting one, and moving it from one status to another."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from entraide.applications.identity import check_birth_date_matches, normalise_nir
from entraide.applications.models import ALLOWED_TRANSITIONS, Application
from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from entraide.core.refs import new_reference
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require

SUBMISSION_AUDITED_FIELDS = (
    "reference",
    "status",
    "nir",
    "first_name",
    "last_name",
    "birth_date",
    "profession",
    "annual_resources",
)


class WindowClosed(DomainError):
    code = "window_closed"
    default_message = _("Applications to this fund are not open at the moment.")


class AlreadyApplied(DomainError):
    code = "already_applied"
    default_message = _(
        "An application with this social security number has already been made to this fund. "
        "If you think this is a mistake, contact the fund."
    )


def submit_application(
    *,
    actor: Any,
    fund: Fund,
    idempotency_key: uuid.UUID,
    nir: str,
    first_name: str,
    last_name: str,
    birth_date: dt.date,
    profession: str,
    annual_resources: Decimal,
    consent: bool,
    declared: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """Record a submission. Retrying with the same key returns the first application."""
    if not actor.is_authenticated:
        raise PermissionDenied()
    existing = Application.objects.filter(applicant=actor, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    if not consent:
        raise ValidationFailed(
            _("Please confirm that what you declare is accurate."), field="consent"
        )
    if annual_resources < 0:
        raise ValidationFailed(_("Resources cannot be negative."), field="annual_resources")
    nir = normalise_nir(nir)
    check_birth_date_matches(nir, birth_date)
    if not fund.is_open(now):
        raise WindowClosed()
    try:
        with transaction.atomic(durable=True):
            if Application.objects.filter(fund=fund, nir=nir).exists():
                raise AlreadyApplied()
            application = Application.objects.create(
                reference=new_reference("A"),
                fund=fund,
                applicant=actor,
                nir=nir,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                birth_date=birth_date,
                email=actor.email,
                profession=profession,
                annual_resources=annual_resources,
                declared=declared or {},
                language=get_language() or "fr",
                idempotency_key=idempotency_key,
                submitted_at=now or timezone.now(),
            )
            audit.record(
                actor=actor,
                action="application.submitted",
                obj=application,
                changes=audit.created(audit.snapshot(application, SUBMISSION_AUDITED_FIELDS)),
                fund_id=fund.pk,
            )
            transaction.on_commit(lambda: _enqueue_receipt(application.pk))
            transaction.on_commit(lambda: _enqueue_evaluation(application.pk, fund.pk))
    except IntegrityError:
        # Two submissions raced past the checks; the constraints kept one. Tell which.
        first = Application.objects.filter(applicant=actor, idempotency_key=idempotency_key).first()
        if first is not None:
            return first
        if Application.objects.filter(fund=fund, nir=nir).exists():
            raise AlreadyApplied() from None
        raise
    return application


def _enqueue_receipt(application_id: int) -> None:
    from entraide.applications.tasks import send_receipt

    send_receipt.enqueue(application_id)


def _enqueue_evaluation(application_id: int, fund_id: int) -> None:
    """Evaluate the new application in the background, if the fund has published rules."""
    from entraide.rules import selectors as rules_selectors
    from entraide.rules.tasks import evaluate_submitted_application

    if rules_selectors.has_published_rules(fund_id):
        evaluate_submitted_application.enqueue(application_id)


def transition_application(
    *, actor: Any, application: Application, to_status: str, note: str = ""
) -> Application:
    """Move an application to another status, inside the caller's action (e.g. a decision)."""
    if to_status not in ALLOWED_TRANSITIONS[application.status]:
        raise InvalidTransition()
    before = application.status
    application.status = to_status
    application.save(update_fields=["status"])
    audit.record(
        actor=actor,
        action="application.status_changed",
        obj=application,
        changes={"status": {"before": before, "after": to_status}, "note": note},
        fund_id=application.fund_id,
    )
    return application


def request_applications_export(*, actor: Any, fund: Fund) -> str:
    """Start a CSV export of the fund's applications; returns the task id to follow it."""
    from entraide.applications.tasks import export_fund_applications

    with transaction.atomic(durable=True):
        require(actor, fund, Capability.EXPORT)
        # The database tasks backend stores the task in this transaction: it runs only if the
        # request is committed, and is never lost if it is.
        result = export_fund_applications.enqueue(fund.pk)
        audit.record(
            actor=actor,
            action="fund.export_requested",
            obj=fund,
            changes={"task": str(result.id), "kind": "applications"},
            fund_id=fund.pk,
        )
    return str(result.id)
