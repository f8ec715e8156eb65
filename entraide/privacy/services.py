"""Privacy actions: a fund's retention policy, erasure (on request, or when the policy says the
data is no longer needed) with its legal holds, and the applicant's download of their data.

Erasure goes through each app's ``erasure`` module (applications, review, funds, payments,
integrity): each knows what it holds about a person. What stays is what the fund's figures and
accounts need (reference, fund, status, amounts, dates, rule version, the criteria results);
every erasure is one audit event naming the fields erased and held, never their values. The
audit chain itself is never rewritten.

Legal holds:
- **accounting**: a grant paid (a transfer that went to the bank) keeps the beneficiary's
  name, IBAN, amount, payment date and reference for ten years after the end of its financial
  year (Code de commerce L123-22); the retention task erases them when the hold ends.
- **investigation**: an application with an open flag or a flagged link still to review is
  not erased until it is closed; a request stays open and is retried every day.
- **in progress**: an application the fund has not decided on, or a grant not paid yet, is
  needed to decide or pay; a request waits for it in the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from entraide.applications import erasure as application_erasure
from entraide.applications import selectors as application_selectors
from entraide.applications.models import Application
from entraide.audit import services as audit
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.refs import new_reference
from entraide.funds import erasure as fund_erasure
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.integrity import erasure as integrity_erasure
from entraide.payments import erasure as payment_erasure
from entraide.privacy import selectors
from entraide.privacy.models import (
    DataDownload,
    ErasedApplication,
    ErasureRequest,
    FundRetentionPolicy,
)
from entraide.review import erasure as review_erasure

POLICY_FIELDS = ("months_after_payment", "months_after_refusal", "months_after_closing")
# Applications erased per transaction by the retention task.
RETENTION_CHUNK = 200


class Outcome:
    """What an erasure did to one application (stable ids, in requests and audit events)."""

    ERASED = "erased"
    ERASED_EXCEPT_ACCOUNTING = "erased_except_accounting"
    ALREADY_ERASED = "already_erased"
    HELD_INVESTIGATION = "held_investigation"
    HELD_IN_PROGRESS = "held_in_progress"

    DONE = frozenset({ERASED, ERASED_EXCEPT_ACCOUNTING, ALREADY_ERASED})
    LABELS = {
        ERASED: pgettext_lazy("erasure outcome", "Erased"),
        ERASED_EXCEPT_ACCOUNTING: pgettext_lazy(
            "erasure outcome",
            "Erased, except what accounting law requires to keep for ten years (the "
            "beneficiary's name, IBAN, amount, payment date and reference)",
        ),
        ALREADY_ERASED: pgettext_lazy("erasure outcome", "Already erased"),
        HELD_INVESTIGATION: pgettext_lazy(
            "erasure outcome",
            "Held: the application is under investigation (a flag or a possible duplicate "
            "still to review); it will be erased once the investigation is closed",
        ),
        HELD_IN_PROGRESS: pgettext_lazy(
            "erasure outcome",
            "Held: the fund has not finished with the application (decision or payment "
            "pending); it will be erased once it has",
        ),
    }


class GrantedApplication(DomainError):
    code = "erasure_of_a_grant"
    default_message = _(
        "This application was granted: the fund keeps it to pay the grant and for its accounts. "
        "Write to the fund to have your data erased."
    )


class UnknownApplication(DomainError):
    code = "unknown_application"
    default_message = _("No application of this fund has this reference.")


class AlreadyRequested(DomainError):
    code = "erasure_already_requested"
    default_message = _("The erasure of this application has already been asked for.")


# -- the retention policy ----------------------------------------------------------------------


def save_retention_policy(
    *,
    actor: Any,
    fund: Fund,
    months_after_payment: int,
    months_after_refusal: int,
    months_after_closing: int,
) -> FundRetentionPolicy:
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        policy = selectors.policy_of(fund)
        before = audit.snapshot(policy, POLICY_FIELDS) if policy.pk else {}
        policy.months_after_payment = months_after_payment
        policy.months_after_refusal = months_after_refusal
        policy.months_after_closing = months_after_closing
        policy.updated_by = actor
        policy.full_clean()
        policy.save()
        audit.record(
            actor=actor,
            action="privacy.retention_policy_changed",
            obj=policy,
            changes=audit.diff(before, audit.snapshot(policy, POLICY_FIELDS)),
            fund_id=fund.pk,
        )
    return policy


# -- erasing one application -------------------------------------------------------------------


def _hold(application: Application) -> str | None:
    """Why the application cannot be erased now, or None."""
    ids = [application.pk]
    if review_erasure.with_open_flags(ids) or integrity_erasure.under_investigation(ids):
        return Outcome.HELD_INVESTIGATION
    if application.status in application_erasure.IN_PROGRESS:
        return Outcome.HELD_IN_PROGRESS
    if application.status == Application.Status.APPROVED and fund_erasure.with_live_award(ids):
        return Outcome.HELD_IN_PROGRESS  # granted, not paid yet (or paid again after a return)
    return None


def _erase(
    application_id: int,
    *,
    actor: Any,
    cause: str,
    request: ErasureRequest | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Erase one application (in the caller's transaction); what happened, for the request."""
    application = application_erasure.lock(application_id)
    done = selectors.erasure_of(application.pk)
    if done is not None:
        return {"outcome": Outcome.ALREADY_ERASED, "hold_until": done.hold_until}
    held = _hold(application)
    if held is not None:
        return {"outcome": held}
    booked = payment_erasure.last_booked([application.pk]).get(application.pk)
    hold_until = selectors.accounting_hold_until(booked) if booked is not None else None
    erased = application_erasure.erase_application(
        application, hold_bank_details=hold_until is not None
    )
    ids = [application.pk]
    texts = review_erasure.erase(ids)
    fund_erasure.erase(ids)
    bank = payment_erasure.erase(ids, hold=hold_until is not None)
    link_notes = integrity_erasure.erase(ids)
    ErasedApplication.objects.create(
        application=application,
        fund_id=application.fund_id,
        erased_at=now,
        cause=cause,
        request=request,
        hold=ErasedApplication.Hold.ACCOUNTING if hold_until else ErasedApplication.Hold.NONE,
        hold_until=hold_until,
    )
    outcome = Outcome.ERASED_EXCEPT_ACCOUNTING if hold_until else Outcome.ERASED
    audit.record(
        actor=actor,
        action="privacy.erased",
        obj=application,
        changes={
            "cause": cause,
            "request": request.reference if request else None,
            "erased": erased["fields"],
            "held": (erased["held"] + ["payments"]) if hold_until else [],
            "hold": ErasedApplication.Hold.ACCOUNTING if hold_until else None,
            "hold_until": hold_until,
            "messages": erased["messages"],
            "documents": erased["documents"],
            "bank_details_changes": bank["bank_details_changes"],
            "texts": {**texts, "link_notes": link_notes},
        },
        fund_id=application.fund_id,
    )
    return {"outcome": outcome, "hold_until": hold_until}


# -- on request --------------------------------------------------------------------------------


def _process(request: ErasureRequest, *, actor: Any, now: dt.datetime) -> ErasureRequest:
    """Erase every application of the person in the fund that may be; the request is done when
    none is held any more (the retention task retries it every day until then)."""
    named = application_erasure.application_by_id(request.application_id)
    ids = application_erasure.person_application_ids(named)
    references = application_erasure.references_by_id(ids)
    outcome = {
        references[application_id]: _erase(
            application_id,
            actor=actor,
            cause=ErasedApplication.Cause.REQUEST,
            request=request,
            now=now,
        )
        for application_id in ids
    }
    if named.applicant_id is not None:
        application_erasure.erase_drafts(request.fund_id, applicant_id=named.applicant_id)
    request.outcome = json.loads(json.dumps(outcome, default=str))
    if all(item["outcome"] in Outcome.DONE for item in outcome.values()):
        request.status = ErasureRequest.Status.DONE
        request.completed_at = now
    request.save(update_fields=["outcome", "status", "completed_at"])
    return request


def record_erasure_request(
    *, actor: Any, fund: Fund, reference: str, requested_on: dt.date, channel: str
) -> ErasureRequest:
    """The operator admin records a request received by e-mail, letter, telephone… for the
    application ``reference`` (the person's every application in the fund is erased)."""
    require(actor, fund, Capability.MANAGE_FUND)
    try:
        application = application_selectors.application_for_staff(actor, fund, reference.strip())
    except Http404:
        raise UnknownApplication(field="reference") from None
    with transaction.atomic(durable=True):
        require(actor, fund, Capability.MANAGE_FUND)
        now = timezone.now()
        request = ErasureRequest.objects.create(
            reference=new_reference("E"),
            fund=fund,
            application=application,
            channel=channel,
            requested_on=requested_on,
            recorded_by=actor,
            recorded_at=now,
        )
        audit.record(
            actor=actor,
            action="privacy.erasure_requested",
            obj=request,
            changes={
                "application": application.reference,
                "channel": channel,
                "requested_on": requested_on,
            },
            fund_id=fund.pk,
        )
        _process(request, actor=actor, now=now)
    return request


def granted(application: Application) -> bool:
    """A grant paid or live: the applicant cannot erase it from the portal (the fund can)."""
    return application.status == Application.Status.PAID or bool(
        fund_erasure.with_live_award([application.pk])
    )


def request_erasure_from_portal(*, actor: Any, application: Application) -> ErasureRequest:
    """The applicant asks to erase an application of theirs that was not granted. The audit
    events name their account by its number, never their e-mail address: the audit chain
    cannot be rewritten, so what it says of the person must be gone once the rest is."""
    if application.applicant_id != actor.pk:
        raise PermissionDenied()
    with transaction.atomic(durable=True):
        application = application_erasure.lock(application.pk)
        if granted(application):
            raise GrantedApplication()
        if ErasureRequest.objects.filter(
            application=application, status=ErasureRequest.Status.OPEN
        ).exists():
            raise AlreadyRequested()
        now = timezone.now()
        request = ErasureRequest.objects.create(
            reference=new_reference("E"),
            fund_id=application.fund_id,
            application=application,
            channel=ErasureRequest.Channel.PORTAL,
            requested_on=timezone.localdate(now),
            recorded_by=None,
            recorded_at=now,
        )
        audit.record(
            actor=None,
            action="privacy.erasure_requested",
            obj=request,
            changes={
                "application": application.reference,
                "channel": ErasureRequest.Channel.PORTAL,
                "account": actor.pk,
            },
            fund_id=application.fund_id,
        )
        _process(request, actor=None, now=now)
    return request


# -- the retention policy, applied -------------------------------------------------------------


@dataclass
class RetentionReport:
    erased: int = 0
    held: int = 0
    holds_ended: int = 0
    drafts: int = 0
    requests_done: int = 0
    by_fund: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "erased": self.erased,
            "held": self.held,
            "holds_ended": self.holds_ended,
            "drafts": self.drafts,
            "requests_done": self.requests_done,
        }


def due_for_erasure(fund: Fund, now: dt.datetime) -> list[int]:
    """The fund's applications whose time under its policy is over, not erased yet: paid
    (counted from the last transfer), refused (from the refusal) and given up (from the
    release of the award)."""
    policy = selectors.policy_of(fund)
    after_payment = selectors.months_before(now, policy.months_after_payment)
    after_refusal = selectors.months_before(now, policy.months_after_refusal)
    paid = application_erasure.ids_in_status(
        fund.pk,
        [Application.Status.PAID],
        among=payment_erasure.paid_before(fund.pk, after_payment),
    )
    given_up = application_erasure.ids_in_status(
        fund.pk,
        [Application.Status.APPROVED, Application.Status.REJECTED],
        among=fund_erasure.released_before(fund.pk, after_refusal),
    )
    refused = application_erasure.rejected_before(fund.pk, after_refusal)
    done = set(selectors.erased_ids(fund.pk))
    due = (set(paid) | set(given_up) | set(refused)) - done
    return sorted(due)


def erase_due_chunk(application_ids: Iterable[int], *, now: dt.datetime) -> dict[str, int]:
    """Erase these applications under the retention policy, in one transaction; those held
    (an investigation) are left for a later day."""
    counts = {"erased": 0, "held": 0}
    with transaction.atomic(durable=True):
        for application_id in application_ids:
            result = _erase(
                application_id,
                actor=None,
                cause=ErasedApplication.Cause.RETENTION,
                request=None,
                now=now,
            )
            counts["erased" if result["outcome"] in Outcome.DONE else "held"] += 1
    return counts


def end_holds(fund: Fund, *, today: dt.date, now: dt.datetime) -> int:
    """Erase the data held for accounting whose ten years are over."""
    ended = 0
    for erased in selectors.holds_ended(fund.pk, today)[:RETENTION_CHUNK]:
        with transaction.atomic(durable=True):
            application = application_erasure.lock(erased.application_id)
            fields = application_erasure.erase_held_bank_details(application.pk)
            payments = payment_erasure.erase_held([application.pk])
            erased.hold_ended_at = now
            erased.save(update_fields=["hold_ended_at"])
            audit.record(
                actor=None,
                action="privacy.hold_ended",
                obj=application,
                changes={
                    "hold": erased.hold,
                    "hold_until": erased.hold_until,
                    "erased": fields,
                    "payments": payments,
                },
                fund_id=fund.pk,
            )
        ended += 1
    return ended


def delete_stale_drafts(fund: Fund, *, today: dt.date) -> int:
    """Applications started and never sent, once the fund has been closed long enough."""
    policy = selectors.policy_of(fund)
    closed = dt.datetime.combine(fund.closes_on, dt.time(), tzinfo=dt.UTC)
    if (
        selectors.months_before(
            dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC), policy.months_after_closing
        )
        <= closed
    ):
        return 0
    with transaction.atomic(durable=True):
        deleted = application_erasure.erase_drafts(fund.pk)
        if deleted:
            audit.record(
                actor=None,
                action="privacy.drafts_deleted",
                obj=fund,
                changes={"drafts": deleted},
                fund_id=fund.pk,
            )
    return deleted


def retry_open_requests(fund: Fund, *, now: dt.datetime) -> int:
    """Requests waiting for a hold to end: erase what may be now."""
    done = 0
    for request in selectors.open_requests(fund.pk):
        with transaction.atomic(durable=True):
            request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
            if request.status != ErasureRequest.Status.OPEN:
                continue
            _process(request, actor=None, now=now)
            done += request.status == ErasureRequest.Status.DONE
    return done


def apply_retention_to_fund(
    fund: Fund, *, now: dt.datetime | None = None, chunk: int = RETENTION_CHUNK
) -> RetentionReport:
    """Everything the fund's policy says is due: idempotent (what is erased is recorded, and
    erased once), in transactions of ``chunk`` applications, so it resumes where it stopped."""
    now = now or timezone.now()
    today = now.date()
    report = RetentionReport()
    due = due_for_erasure(fund, now)
    for start in range(0, len(due), chunk):
        counts = erase_due_chunk(due[start : start + chunk], now=now)
        report.erased += counts["erased"]
        report.held += counts["held"]
    report.holds_ended = end_holds(fund, today=today, now=now)
    report.drafts = delete_stale_drafts(fund, today=today)
    report.requests_done = retry_open_requests(fund, now=now)
    return report


def funds_to_check() -> list[Fund]:
    ids = (
        set(application_erasure.fund_ids_with_applications())
        | set(application_erasure.fund_ids_with_drafts())
        | selectors.fund_ids_with_erasures()
    )
    return [fund_selectors.fund_by_id(fund_id) for fund_id in sorted(ids)]


# -- the applicant's own data ------------------------------------------------------------------


def record_data_download(*, actor: Any, applications: int, documents: int) -> DataDownload:
    """Audited under the account's number (never its e-mail address, see
    :func:`request_erasure_from_portal`)."""
    with transaction.atomic(durable=True):
        download = DataDownload.objects.create(
            account=actor,
            downloaded_at=timezone.now(),
            applications=applications,
            documents=documents,
        )
        audit.record(
            actor=None,
            action="privacy.data_download",
            obj=download,
            changes={"account": actor.pk, "applications": applications, "documents": documents},
        )
    return download


def record_register_download(*, actor: Any, funds: list[Fund], file_format: str) -> None:
    with transaction.atomic(durable=True):
        for fund in funds:
            require(actor, fund, Capability.MANAGE_FUND)
            audit.record(
                actor=actor,
                action="privacy.register_downloaded",
                obj=fund,
                changes={"format": file_format},
                fund_id=fund.pk,
            )
