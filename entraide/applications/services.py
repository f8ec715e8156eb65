"""Actions on applications: drafting, submitting (from the portal or a partner's API call),
moving between statuses, and the messages and documents exchanged with the fund's staff."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from entraide.applications import documents as document_store
from entraide.applications.models import (
    ALLOWED_TRANSITIONS,
    Application,
    ApplicationDocument,
    ApplicationDraft,
    ApplicationMessage,
)
from entraide.applications.selectors import lock_application
from entraide.applications.signals import application_status_changed
from entraide.applications.submission import (
    Problem,
    SubmissionData,
    SubmissionInvalid,
    check_submission,
    normalise_bic,
    normalise_iban,
)
from entraide.applications.tasks import (
    follow_up_submission,
    notify_applicant_of_message,
    scan_documents,
)
from entraide.audit import services as audit
from entraide.core.crypto import blind_index, with_blind_indexes
from entraide.core.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from entraide.core.refs import new_reference
from entraide.core.tasks import enqueue_with_transaction
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability, require
from entraide.funds.window import window_state
from entraide.programmes import selectors as programme_selectors
from entraide.rules import selectors as rules_selectors
from entraide.rules.document import RuleDocument

logger = logging.getLogger(__name__)

# Enough for every document a fund asks for, with room for second tries.
MAX_DRAFT_DOCUMENTS = 20

SUBMISSION_AUDITED_FIELDS = (
    "reference",
    "status",
    "nir",
    "first_name",
    "last_name",
    "birth_date",
    "profession",
    "iban",
)


class WindowClosed(DomainError):
    code = "window_closed"
    default_message = _("Applications to this fund are not open at the moment.")


class AlreadyApplied(DomainError):
    code = "already_applied"
    default_message = _(
        "An application for this person (the same identity number) has already been made to "
        "this fund. If you think this is a mistake, contact the fund."
    )


class AlreadyAppliedInProgramme(AlreadyApplied):
    default_message = _(
        "An application for this person (the same identity number) has already been made to "
        "another fund of the same programme, which allows one application per person. If you "
        "think this is a mistake, contact the fund."
    )


class IdempotencyConflict(DomainError):
    code = "idempotency_key_reused"
    default_message = _(
        "This idempotency key was already used for a different request: use a new key for a new "
        "application."
    )


class DraftGone(NotFound):
    code = "draft_gone"
    default_message = _("This application has already been sent, or its draft was removed.")


@dataclass(frozen=True)
class Submitted:
    application: Application
    created: bool


def rules_for_submission(fund: Fund, at: dt.date) -> RuleDocument | None:
    """The rule document in force on ``at``: its questions are what an application answers."""
    return rules_selectors.document_in_force(fund, at)


def request_digest_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# -- submitting --------------------------------------------------------------------------------


def submit_application(
    *,
    actor: Any,
    fund: Fund,
    idempotency_key: str,
    data: SubmissionData,
    partner: Any = None,
    request_digest: str = "",
    draft: ApplicationDraft | None = None,
    required_documents: Sequence[tuple[str, str]] = (),
    now: dt.datetime | None = None,
    origin: str = "",
) -> Submitted:
    """Record a submission by an applicant (``actor``) or by a ``partner`` for its member;
    from the portal, the ``draft`` goes with its documents (``required_documents``: the
    ``(code, label)`` the fund requires; a missing one is a problem on ``documents.<code>``)
    and the ``origin`` (:func:`entraide.applications.origin.origin_of`).

    The same key from the same submitter returns the first application (a double click, a
    retried request, a second tab): never two. A submission is complete or absent: the
    application, its documents, the removal of the draft, the audit event and the worker's
    tasks (receipt, evaluation, virus scan) are one transaction.

    A new submission is the common case on opening day, so it is not looked up first: the
    unique constraints refuse a repeated key, and only then is the first application found.
    """
    if partner is None and not actor.is_authenticated:
        raise PermissionDenied()
    if fund.kind != Fund.Kind.APPLICATIONS:  # crew relief pays from rosters: no one applies
        raise NotFound()
    idempotency_key = str(idempotency_key)
    try:
        return _record_submission(
            actor=actor,
            fund=fund,
            idempotency_key=idempotency_key,
            data=data,
            partner=partner,
            request_digest=request_digest,
            draft=draft,
            required_documents=required_documents,
            now=now,
            origin=origin,
        )
    except (DomainError, IntegrityError) as refused:
        # A repeat of a submission that went through (the window may have closed since, or
        # the person "already applied": with this very submission) gets the first result.
        first = _first_submission(actor, partner, idempotency_key, request_digest)
        if first is not None:
            return Submitted(first, created=False)
        raise refused from None


def _record_submission(
    *,
    actor: Any,
    fund: Fund,
    idempotency_key: str,
    data: SubmissionData,
    partner: Any,
    request_digest: str,
    draft: ApplicationDraft | None,
    required_documents: Sequence[tuple[str, str]],
    now: dt.datetime | None,
    origin: str,
) -> Submitted:
    now = now or timezone.now()
    if not fund.is_open(now):
        # The sentence (dates formatted in the reader's language) only for a refusal.
        raise WindowClosed(window_state(fund, now).message)
    document = rules_for_submission(fund, fund.local_today(now))
    data = check_submission(data, document)
    try:
        with transaction.atomic(durable=True):
            documents = (
                _documents_of_locked_draft(draft, required_documents) if draft is not None else []
            )
            if (
                document is not None
                and document.one_per_person == "programme"
                and fund.programme_id
            ):
                _check_not_applied_in_programme(fund, data.nir)
            # One per fund needs no query: the application_one_per_person constraint refuses it.
            application = Application.objects.create(
                reference=new_reference("A"),
                fund=fund,
                applicant=actor if partner is None else None,
                partner=partner,
                idempotency_key=idempotency_key,
                request_digest=request_digest,
                submitted_at=now,
                status_changed_at=now,
                origin=origin,
                **{
                    name: value
                    for name, value in dataclasses.asdict(data).items()
                    # Consent is a condition of submitting; the audit event records the act.
                    if name != "consent"
                },
            )
            if documents:
                ApplicationDocument.objects.filter(pk__in=[d.pk for d in documents]).update(
                    application=application, draft=None
                )
            if draft is not None:
                draft.delete()
            _enqueue_follow_ups(application, has_rules=document is not None, documents=documents)
            # Last: the audit chain's head stays locked until the commit.
            audit.record(
                actor=actor if partner is None else None,
                action="application.submitted",
                obj=application,
                changes={
                    **audit.created(audit.snapshot(application, SUBMISSION_AUDITED_FIELDS)),
                    "partner": getattr(partner, "slug", None),
                    "documents": len(documents),
                },
                fund_id=fund.pk,
            )
            transaction.on_commit(
                lambda: announce_status(application.pk, application.status, partner)
            )
    except IntegrityError:
        if Application.objects.filter(fund=fund, nir_index=blind_index("nir", data.nir)).exists():
            raise AlreadyApplied() from None
        raise  # the same key: the caller finds the first application
    return Submitted(application, created=True)


def _first_submission(
    actor: Any, partner: Any, idempotency_key: str, request_digest: str
) -> Application | None:
    submitter = {"partner": partner} if partner is not None else {"applicant": actor}
    first = Application.objects.filter(**submitter, idempotency_key=idempotency_key).first()
    if first is not None and partner is not None and first.request_digest != request_digest:
        raise IdempotencyConflict()
    return first


def _check_not_applied_in_programme(fund: Fund, nir: str) -> None:
    assert fund.programme_id is not None
    # Two funds of the programme share no unique constraint: serialise on the programme so
    # that two simultaneous submissions cannot both pass the check.
    programme_selectors.lock_programme(fund.programme_id)
    person = Application.objects.filter(nir_index=blind_index("nir", nir))
    if person.filter(fund__programme_id=fund.programme_id).exists():
        if person.filter(fund=fund).exists():
            raise AlreadyApplied()
        raise AlreadyAppliedInProgramme()


def _enqueue_follow_ups(
    application: Application, *, has_rules: bool, documents: Sequence[ApplicationDocument]
) -> None:
    """What can wait for the worker: the evaluation and the receipt, the virus scan."""
    enqueue_with_transaction(follow_up_submission, application.pk, has_rules)
    if documents:
        enqueue_with_transaction(scan_documents, application.pk)


def announce_status(application_id: int, status: str, partner: Any = None) -> None:
    """Tell the listening domains (partners' webhooks) after commit. The change is committed
    already: a failing listener is logged, it does not undo or fail the action."""
    responses = application_status_changed.send_robust(
        sender=Application, application_id=application_id, status=status, partner=partner
    )
    for receiver, response in responses:
        if isinstance(response, Exception):
            logger.error(
                "listener %r failed on application %s", receiver, application_id, exc_info=response
            )


# -- drafts ------------------------------------------------------------------------------------


def resume_draft(
    *, actor: Any, fund: Fund, prefill: Mapping[str, Any] | None = None
) -> ApplicationDraft:
    """The applicant's draft for the fund, created on first visit (with the answers of the
    self-check, when they made one) and found again on every later visit."""
    if not actor.is_authenticated:
        raise PermissionDenied()
    draft, _created = ApplicationDraft.objects.get_or_create(
        applicant=actor,
        fund=fund,
        defaults={"data": {"situation": {"declared": dict(prefill)}} if prefill else {}},
    )
    return draft


def save_draft_step(
    *, actor: Any, draft: ApplicationDraft, step: str, values: Mapping[str, Any], complete: bool
) -> ApplicationDraft:
    """Keep what was typed at ``step`` (even when invalid, so nothing is lost) and whether the
    step is complete."""
    if draft.applicant_id != actor.pk:
        raise PermissionDenied()
    if step not in ApplicationDraft.Step.values:
        raise ValidationFailed()
    draft.data = {**draft.data, step: dict(values)}
    completed = set(draft.completed_steps)
    if complete:
        completed.add(step)
    else:
        completed.discard(step)
    draft.completed_steps = [s for s in ApplicationDraft.Step.values if s in completed]
    saved = ApplicationDraft.objects.filter(pk=draft.pk).update(
        data=draft.data, completed_steps=draft.completed_steps, updated_at=timezone.now()
    )
    if not saved:  # sent from another tab meanwhile
        raise DraftGone()
    return draft


def add_draft_document(
    *, actor: Any, draft: ApplicationDraft, requirement: str, upload: UploadedFile
) -> ApplicationDocument:
    """Check and keep a file for the draft; the file is attached to the application on submit."""
    if draft.applicant_id != actor.pk:
        raise PermissionDenied()
    if ApplicationDocument.objects.filter(draft=draft).count() >= MAX_DRAFT_DOCUMENTS:
        raise ValidationFailed(
            _("A draft holds at most %(count)s documents: remove one first.")
            % {"count": MAX_DRAFT_DOCUMENTS},
            field="file",
        )
    stored = document_store.store(upload)
    try:
        document = _document(
            actor, draft.fund_id, requirement, upload, stored, timezone.now(), draft=draft
        )
        document.save()
        return document
    except Exception:
        document_store.discard(stored.stored_name)
        raise


def _document(
    owner: Any,
    fund_id: int,
    requirement: str,
    upload: UploadedFile,
    stored: document_store.StoredFile,
    uploaded_at: dt.datetime,
    **attached_to: Any,
) -> ApplicationDocument:
    """The row of a stored file, waiting for its virus scan (not saved)."""
    return ApplicationDocument(
        fund_id=fund_id,
        owner=owner,
        requirement=requirement,
        original_name=stored.original_name,
        stored_name=stored.stored_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        scan=ApplicationDocument.Scan.PENDING,
        uploaded_at=uploaded_at,
        **attached_to,
    )


def remove_draft_document(*, actor: Any, document: ApplicationDocument) -> None:
    if document.owner_id != actor.pk or document.application_id is not None:
        raise PermissionDenied()
    stored_name = document.stored_name
    document.delete()
    document_store.discard(stored_name)


def submit_draft(
    *,
    actor: Any,
    draft: ApplicationDraft,
    data: SubmissionData,
    idempotency_key: str,
    required_documents: Sequence[tuple[str, str]] = (),
    origin: str = "",
) -> Submitted:
    """Submit the draft with its documents (see :func:`submit_application`)."""
    if draft.applicant_id != actor.pk:
        raise PermissionDenied()
    return submit_application(
        actor=actor,
        fund=draft.fund,
        idempotency_key=idempotency_key,
        data=data,
        draft=draft,
        required_documents=required_documents,
        origin=origin,
    )


def _documents_of_locked_draft(
    draft: ApplicationDraft, required_documents: Sequence[tuple[str, str]]
) -> list[ApplicationDocument]:
    """The draft's documents, read with the draft locked, so that a file removed or added from
    another tab meanwhile cannot leave the application without it, nor orphan it."""
    if not ApplicationDraft.objects.select_for_update().filter(pk=draft.pk).exists():
        raise DraftGone()
    documents = list(ApplicationDocument.objects.filter(draft_id=draft.pk))
    present = {document.requirement for document in documents}
    missing = [
        Problem(
            f"documents.{code}",
            str(_("Please add this document: %(label)s.") % {"label": label}),
            "required",
        )
        for code, label in required_documents
        if code not in present
    ]
    if missing:
        raise SubmissionInvalid(missing)
    return documents


# -- statuses ----------------------------------------------------------------------------------


def transition_application(
    *, actor: Any, application: Application, to_status: str, note: str = ""
) -> Application:
    """Move an application to another status, inside the caller's action (e.g. a decision)."""
    if to_status not in ALLOWED_TRANSITIONS[application.status]:
        raise InvalidTransition()
    before = application.status
    now = timezone.now()
    application.status = to_status
    application.status_changed_at = now
    # The review clock stops while the fund waits for the applicant.
    if to_status == Application.Status.INFO_REQUESTED:
        application.clock_paused_since = now
    elif application.clock_paused_since is not None:
        paused = now - application.clock_paused_since
        application.clock_paused_seconds += max(int(paused.total_seconds()), 0)
        application.clock_paused_since = None
    application.save(
        update_fields=["status", "status_changed_at", "clock_paused_since", "clock_paused_seconds"]
    )
    audit.record(
        actor=actor,
        action="application.status_changed",
        obj=application,
        changes={"status": {"before": before, "after": to_status}, "note": note},
        fund_id=application.fund_id,
    )
    application_id = application.pk
    partner = application.partner if application.partner_id is not None else None
    transaction.on_commit(lambda: announce_status(application_id, to_status, partner))
    return application


def record_applications_paid(
    *, actor: Any, application_ids: QuerySet[Any, Any], count: int, batch: models.Model
) -> None:
    """The grants of these approved applications were sent to the bank together in ``batch``:
    one update and one audit event, in the caller's transaction, for batches of any size.
    Refused unless all ``count`` of them were approved."""
    approved = Application.objects.filter(
        pk__in=application_ids, status=Application.Status.APPROVED
    )
    # Partners hear of each of theirs (the portal's applicants read their status page).
    of_partners = [
        (application.pk, application.partner)
        for application in approved.filter(partner__isnull=False).select_related("partner")
    ]
    if approved.update(status=Application.Status.PAID, status_changed_at=timezone.now()) != count:
        raise InvalidTransition()
    audit.record(
        actor=actor,
        action="applications.paid",
        obj=batch,
        changes={"count": count},
        fund_id=getattr(batch, "fund_id", None),
    )
    if of_partners:

        def announce() -> None:
            for application_id, partner in of_partners:
                announce_status(application_id, Application.Status.PAID, partner)

        transaction.on_commit(announce)


# -- bank details ------------------------------------------------------------------------------

BANK_DETAILS_FIELDS = ("iban", "bic", "account_holder")


def replace_bank_details(
    *, actor: Any, application: Application, iban: str, bic: str, account_holder: str, note: str
) -> Application:
    """Put new bank details on the application (locked by the caller, whose action decides
    whether they may change: the applicant's before an award, finance's verification after),
    in the caller's transaction; the audit event shows the IBANs masked."""
    new = {
        "iban": normalise_iban(iban),
        "bic": normalise_bic(bic),
        "account_holder": " ".join(account_holder.split()),
    }
    if not new["account_holder"]:
        raise ValidationFailed(field="account_holder")
    changed = {
        field: {
            "before": audit.mask(field, getattr(application, field)),
            "after": audit.mask(field, value),
        }
        for field, value in new.items()
        if getattr(application, field) != value
    }
    for field, value in new.items():
        setattr(application, field, value)
    application.save(update_fields=with_blind_indexes(Application, BANK_DETAILS_FIELDS))
    audit.record(
        actor=actor,
        action="application.bank_details_replaced",
        obj=application,
        changes={**changed, "note": note},
        fund_id=application.fund_id,
    )
    return application


# -- messages between staff and applicant ------------------------------------------------------


def send_staff_message(
    *,
    actor: Any,
    application: Application,
    body: str,
    request_information: bool = False,
    requested_documents: Sequence[str] = (),
) -> ApplicationMessage:
    """A reviewer writes to the applicant; asking for information (or documents) puts the
    application in *information requested* until the applicant answers."""
    body = body.strip()
    if not body:
        raise ValidationFailed(_("Write a message."), field="body")
    with transaction.atomic(durable=True):
        require(actor, application.fund, Capability.DECIDE)
        application = lock_application(application.pk)
        asks = request_information or bool(requested_documents)
        if asks and application.status != Application.Status.INFO_REQUESTED:
            transition_application(
                actor=actor,
                application=application,
                to_status=Application.Status.INFO_REQUESTED,
                note="message",
            )
        message = ApplicationMessage.objects.create(
            application=application,
            author=actor,
            from_staff=True,
            body=body,
            requests_information=asks,
            requested_documents=list(requested_documents),
            created_at=timezone.now(),
        )
        audit.record(
            actor=actor,
            action="application.message_sent",
            obj=application,
            changes={
                "message": message.pk,
                "requests_information": asks,
                "requested_documents": list(requested_documents),
            },
            fund_id=application.fund_id,
        )
        enqueue_with_transaction(notify_applicant_of_message, message.pk)
    return message


def reply_to_staff(
    *,
    actor: Any,
    application: Application,
    body: str,
    uploads: Sequence[tuple[str, UploadedFile]] = (),
) -> ApplicationMessage:
    """The applicant answers in the portal, with documents if asked; an application waiting
    for information goes back to review."""
    body = body.strip()
    if application.applicant_id != actor.pk:
        raise PermissionDenied()
    if not body and not uploads:
        raise ValidationFailed(_("Write a message or add a document."), field="body")
    stored = [
        (requirement, upload, document_store.store(upload)) for requirement, upload in uploads
    ]
    try:
        with transaction.atomic(durable=True):
            application = lock_application(application.pk)
            now = timezone.now()
            message = ApplicationMessage.objects.create(
                application=application,
                author=actor,
                from_staff=False,
                body=body,
                created_at=now,
            )
            ApplicationDocument.objects.bulk_create(
                _document(
                    actor,
                    application.fund_id,
                    requirement,
                    upload,
                    file,
                    now,
                    application=application,
                    message=message,
                )
                for requirement, upload, file in stored
            )
            if application.status == Application.Status.INFO_REQUESTED:
                transition_application(
                    actor=actor,
                    application=application,
                    to_status=Application.Status.UNDER_REVIEW,
                    note="applicant replied",
                )
            audit.record(
                actor=actor,
                action="application.reply_received",
                obj=application,
                changes={"message": message.pk, "documents": len(stored)},
                fund_id=application.fund_id,
            )
            if stored:
                enqueue_with_transaction(scan_documents, application.pk)
    except Exception:
        for _requirement, _upload, file in stored:
            document_store.discard(file.stored_name)
        raise
    return message


def record_scan_result(*, document: ApplicationDocument, clean: bool | None) -> None:
    """Keep the worker's virus-scan verdict; an infected file is blocked from download."""
    verdict = {
        True: ApplicationDocument.Scan.CLEAN,
        False: ApplicationDocument.Scan.INFECTED,
        None: ApplicationDocument.Scan.NOT_SCANNED,
    }[clean]
    with transaction.atomic(durable=True):
        document.scan = verdict
        document.save(update_fields=["scan"])
        if document.application_id is not None:
            audit.record(
                actor=None,
                action="document.scanned",
                obj=document,
                changes={"scan": verdict},
                fund_id=document.fund_id,
            )


# -- crew relief -------------------------------------------------------------------------------

CREW_GRANT_AUDITED_FIELDS = ("reference", "status", "nir", "profession", "country", "iban")


def record_crew_grant(
    *,
    actor: Any,
    fund: Fund,
    idempotency_key: str,
    nir: str,
    first_name: str,
    last_name: str,
    birth_date: dt.date,
    email: str,
    iban: str,
    bic: str,
    account_holder: str,
    language: str,
    country: str,
    declared: Mapping[str, Any],
    submitted_at: dt.datetime,
) -> Application:
    """Record the grant of a crew relief fund to a crew member of a suspended production
    (entraide.crew: no application was made, a relief run computed it and a second person
    approved it), in the caller's transaction: received, its award to be placed and its status
    moved by the caller as a decision would. Recorded once per ``idempotency_key``: a retry
    returns the first."""
    if fund.kind != Fund.Kind.CREW_RELIEF:
        raise InvalidTransition(_("Only a crew relief fund grants crew relief."))
    # Read through the fund's one-application-per-NIR index: the key alone has none, and each
    # grant of a run would read all the fund's applications.
    first = Application.objects.filter(
        fund=fund, nir_index=blind_index("nir", nir), idempotency_key=idempotency_key
    ).first()
    if first is not None:
        return first
    application = Application.objects.create(
        reference=new_reference("A"),
        fund=fund,
        status=Application.Status.RECEIVED,
        nir=nir,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        email=email,
        country=country,
        profession=Application.Profession.TECHNICIAN,
        declared=dict(declared),
        iban=iban,
        bic=bic,
        account_holder=account_holder,
        language=language,
        idempotency_key=idempotency_key,
        submitted_at=submitted_at,
        status_changed_at=timezone.now(),
    )
    audit.record(
        actor=actor,
        action="application.crew_grant_recorded",
        obj=application,
        changes=audit.created(audit.snapshot(application, CREW_GRANT_AUDITED_FIELDS)),
        fund_id=fund.pk,
    )
    return application
