"""An applicant's bank details after submission: the account holder's name checked against the
applicant's, changes made by the applicant in the portal or entered for them by finance, and
their verification by finance.

Before an award is reserved, nothing is paid yet: a change applies at once, and the holder's
name is checked as at submission. Once an award is reserved, new details wait in a
:class:`BankDetailsChange` until finance verifies them; while one is open (asked of the
applicant after a transfer bounced, or waiting for verification) the award is not payable
(:func:`applications_with_open_change`). A partner's member has no account in the portal:
finance enters the details they send (:func:`enter_bank_details`), and another person of
finance verifies them, reading the old and new details in clear on the change's page (each
look audited, :func:`record_bank_details_viewed`). Once verified, the applicant is e-mailed
that their account changed, so that details they did not give do not go unnoticed.

Lock order, as the fund's decisions: the fund, then the application, then its change, all
before the first audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz, utils

from entraide.applications import selectors as application_selectors
from entraide.applications import services as application_services
from entraide.applications.models import Application
from entraide.applications.search import fold
from entraide.applications.submission import bic_of, normalise_bic, normalise_iban
from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from entraide.core.tasks import enqueue_with_transaction
from entraide.funds import ledger
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Award, Fund
from entraide.funds.permissions import Capability, require
from entraide.payments import tasks
from entraide.payments.models import BankDetailsChange, Payment
from entraide.review import flags
from entraide.review.models import Flag

Status = BankDetailsChange.Status

HOLDER_MISMATCH = "bank_holder_mismatch"  # the code of the platform's flag

# Courtesy titles and the words of joint accounts ("M. ou Mme Dupont"), left out of the
# comparison: they say nothing of who holds the account.
_IGNORED_WORDS = frozenset(
    {"m", "mr", "mme", "mlle", "mrs", "ms", "miss", "monsieur", "madame", "mademoiselle"}
    | {"et", "ou", "and", "or"}
)
# token_set_ratio, 0-100: the same words in any order score 100, extra words on one side
# (a joint account, a middle name) too; one letter wrong in "jean dupond" scores 91, another
# person's first name (Pierre Dupont for Jean Dupont) about 70.
HOLDER_MATCH_SCORE = 90
TRANSFER_UNDER_WAY = (Payment.Status.PENDING, Payment.Status.SENT)
# The lengths of BankDetailsChange's (and Application's) fields.
HOLDER_MAX_LENGTH = 140
NOTE_MAX_LENGTH = 300


class TransferUnderWay(DomainError):
    code = "transfer_under_way"
    default_message = _(
        "Your grant is being transferred to the account you gave, so your bank details cannot "
        "change now. If the bank returns the transfer, you will be asked for new details."
    )


class GrantPaid(DomainError):
    code = "grant_paid"
    default_message = _("Your grant was paid: your bank details can no longer be changed here.")


class NoGrantToPay(DomainError):
    code = "no_grant_to_pay"
    default_message = _("No grant is to be paid for this application: there is nothing to change.")


class ChangeAwaitingVerification(DomainError):
    code = "bank_details_awaiting_verification"
    default_message = _(
        "Your new bank details are waiting for the fund's verification. You can give others "
        "once the fund has verified or refused them."
    )


class EnteredBySamePerson(DomainError):
    code = "bank_details_entered_by_same_person"
    default_message = _(
        "You entered these bank details yourself: another person of finance verifies or "
        "refuses them."
    )


# The refusals above as finance reads them when it enters details for the applicant.
_REFUSALS_FOR_FINANCE: dict[str, Promise] = {
    TransferUnderWay.code: _(
        "The grant is being transferred to the current account: new bank details can be "
        "entered only if the bank returns the transfer."
    ),
    GrantPaid.code: _("The grant was paid: its bank details can no longer change."),
    ChangeAwaitingVerification.code: _(
        "New bank details for this application are already waiting for verification."
    ),
}


# -- the holder's name -------------------------------------------------------------------------


def _name_words(name: str) -> str:
    """Folded (case, accents), punctuation and hyphens as spaces, without courtesy titles."""
    words = utils.default_process(fold(name)).split()
    return " ".join(word for word in words if word not in _IGNORED_WORDS)


def holder_matches(holder: str, first_name: str, last_name: str) -> bool:
    """Whether the account holder's name is the applicant's, whatever the order of the names,
    the case, the accents, the hyphens or a courtesy title ("DUPONT JEAN", "M. Jean Dupont"
    for Jean Dupont); a typo passes, another person's name does not."""
    score = fuzz.token_set_ratio(
        _name_words(holder),
        _name_words(f"{first_name} {last_name}"),
        score_cutoff=HOLDER_MATCH_SCORE,
    )
    return score > 0


def check_account_holder(application_id: int) -> Flag | None:
    """Flag the application for the reviewers (as the platform) when the account holder is
    not the applicant; the flag, or None when the names match. Idempotent: an open flag of
    the platform is returned again."""
    application = application_selectors.application_by_id(application_id)
    if holder_matches(application.account_holder, application.first_name, application.last_name):
        return None
    return flags.raise_flag(
        actor=None, application=application, code=HOLDER_MISMATCH, note=application.account_holder
    )


# -- selectors ---------------------------------------------------------------------------------


def open_change(application: Application) -> BankDetailsChange | None:
    """The change asked of the applicant or waiting for verification, if any (at most one)."""
    return BankDetailsChange.objects.filter(
        application=application, status__in=BankDetailsChange.OPEN
    ).first()


def refusal_behind(request: BankDetailsChange) -> BankDetailsChange | None:
    """The details finance refused when it opened ``request`` (asking again), if that is why
    it was opened: its note tells the applicant what was wrong."""
    return (
        BankDetailsChange.objects.filter(
            application_id=request.application_id,
            status=Status.REFUSED,
            decided_at__gte=request.requested_at,
        )
        .order_by("-decided_at", "-pk")
        .first()
    )


def awaiting_verification(fund: Fund) -> QuerySet[BankDetailsChange]:
    """The fund's new bank details waiting for finance, the oldest first."""
    return (
        BankDetailsChange.objects.filter(fund=fund, status=Status.SUBMITTED)
        .select_related("application", "failed_payment", "submitted_by")
        .order_by("submitted_at", "pk")
    )


def change_of(fund: Fund, change_id: int) -> BankDetailsChange:
    """One of the fund's changes of bank details (404 for another fund's)."""
    return get_object_or_404(
        BankDetailsChange.objects.filter(fund=fund).select_related("application"), pk=change_id
    )


def change_to_show(fund: Fund, change_id: int) -> BankDetailsChange:
    """One of the fund's changes with all its page shows: the application, the returned
    transfer and who entered it (404 for another fund's)."""
    return get_object_or_404(
        BankDetailsChange.objects.filter(fund=fund).select_related(
            "fund", "application__partner", "failed_payment", "submitted_by"
        ),
        pk=change_id,
    )


def asked_of_applicants(fund: Fund) -> QuerySet[BankDetailsChange]:
    """The fund's requests for new bank details that the applicants have not answered yet,
    the oldest first."""
    return (
        BankDetailsChange.objects.filter(fund=fund, status=Status.REQUESTED)
        .select_related("application__partner", "failed_payment")
        .order_by("requested_at", "pk")
    )


def last_refusal(application: Application) -> BankDetailsChange | None:
    """The details the applicant offered and finance refused, when that is the application's
    latest change: nothing was asked again, and the applicant reads why on their page."""
    latest = (
        BankDetailsChange.objects.filter(application=application)
        .order_by("-requested_at", "-pk")
        .first()
    )
    return latest if latest is not None and latest.status == Status.REFUSED else None


def applications_with_open_change(fund: Fund) -> QuerySet[BankDetailsChange, Any]:
    """The ids of the fund's applications with an open change of bank details, as a
    sub-query: their awards are not payable until finance has verified the new details
    (``.exclude(application_id__in=applications_with_open_change(fund))``). The database reads
    it from the index of the one-open-change constraint."""
    return BankDetailsChange.objects.filter(fund=fund, status__in=BankDetailsChange.OPEN).values(
        "application_id"
    )


@dataclass(frozen=True)
class BankDetailsState:
    """What the applicant may do with their bank details now."""

    change: BankDetailsChange | None  # the open one
    refusal: DomainError | None  # why they cannot give new details now, if they cannot
    applies_now: bool  # nothing reserved yet: new details replace the old ones at once

    @property
    def may_change(self) -> bool:
        return self.refusal is None

    @property
    def requested(self) -> bool:
        """New details are asked of the applicant (a transfer bounced, or finance refused
        those they gave) and they may give them."""
        return (
            self.may_change and self.change is not None and self.change.status == Status.REQUESTED
        )

    @property
    def awaiting_verification(self) -> bool:
        return self.change is not None and self.change.status == Status.SUBMITTED


def bank_details_state(application: Application, *, lock: bool = False) -> BankDetailsState:
    """Whether new bank details apply at once, wait for verification, or are refused (with
    the reason); ``lock``: the open change is locked (the caller holds the application's).

    Until the application is approved nothing is reserved for it (a waiting award is paid
    only once approved): read from its status, at no query, as the status page shows it."""
    if application.status == Application.Status.REJECTED:
        return BankDetailsState(None, NoGrantToPay(), applies_now=False)
    if application.status not in (Application.Status.APPROVED, Application.Status.PAID):
        return BankDetailsState(None, None, applies_now=True)
    changes = BankDetailsChange.objects.filter(
        application=application, status__in=BankDetailsChange.OPEN
    )
    change = (changes.select_for_update() if lock else changes).first()
    award = ledger.award_of(application)
    refusal: DomainError | None = None
    if award is None or award.status == Award.Status.RELEASED:
        refusal = NoGrantToPay()
    elif Payment.objects.filter(award=award, status__in=TRANSFER_UNDER_WAY).exists():
        refusal = TransferUnderWay()
    elif award.status == Award.Status.PAID:
        refusal = GrantPaid()
    elif change is not None and change.status == Status.SUBMITTED:
        refusal = ChangeAwaitingVerification()
    return BankDetailsState(change, refusal, applies_now=False)


# -- the applicant's change --------------------------------------------------------------------


@dataclass(frozen=True)
class BankDetails:
    iban: str
    bic: str
    account_holder: str


def clean_bank_details(iban: str, bic: str, account_holder: str) -> BankDetails:
    """Normalised (IBAN and BIC compact, the BIC found from the IBAN when left empty), or
    :class:`ValidationFailed` on the field at fault."""
    holder = " ".join(account_holder.split())
    if not holder:
        raise ValidationFailed(_("Give the name of the account holder."), field="account_holder")
    if len(holder) > HOLDER_MAX_LENGTH:
        raise ValidationFailed(
            _("The account holder's name has at most %(count)s characters.")
            % {"count": HOLDER_MAX_LENGTH},
            field="account_holder",
        )
    iban = normalise_iban(iban)
    return BankDetails(iban, normalise_bic(bic) or bic_of(iban), holder)


def change_bank_details(
    *, actor: Any, application: Application, iban: str, bic: str, account_holder: str
) -> BankDetailsChange | None:
    """The applicant gives new bank details. Before an award is reserved they replace the old
    ones at once (the holder's name checked as at submission) and None is returned; once one
    is reserved they wait for finance's verification in the change returned (the one asked
    of them, or a new one), and the award is not paid until then. Refused while a transfer is
    under way, once the grant is paid, or when none is to be paid."""
    if application.applicant_id is None or application.applicant_id != actor.pk:
        raise PermissionDenied()
    details = clean_bank_details(iban, bic, account_holder)
    with transaction.atomic(durable=True):
        fund_selectors.lock_fund(application.fund_id)
        application = application_selectors.lock_application(application.pk)
        state = bank_details_state(application, lock=True)
        if state.refusal is not None:
            raise state.refusal
        if state.applies_now:
            application_services.replace_bank_details(
                actor=actor,
                application=application,
                iban=details.iban,
                bic=details.bic,
                account_holder=details.account_holder,
                note="changed by the applicant",
            )
            enqueue_with_transaction(tasks.flag_holder_mismatch, application.pk)
            return None
        return _submit(actor, application, state.change, details)


def enter_bank_details(
    *,
    actor: Any,
    change_or_application: BankDetailsChange | Application,
    iban: str,
    bic: str,
    account_holder: str,
    note: str,
) -> BankDetailsChange:
    """Finance enters the new bank details the applicant (or the partner who applied for
    them) sent by other means, with ``note`` saying where they come from: they wait for the
    verification of another person of finance, as the applicant's own would. Given a change,
    it must still be the request open for its application; given an application, its open
    request is answered, or a new change made. An approved application whose award is
    still to be paid only."""
    if isinstance(change_or_application, BankDetailsChange):
        expected: BankDetailsChange | None = change_or_application
        application = change_or_application.application
    else:
        expected, application = None, change_or_application
    require(actor, application.fund, Capability.MANAGE_PAYMENTS)
    details = clean_bank_details(iban, bic, account_holder)
    note = _checked_note(
        note, missing=_("Say who gave these bank details, and how (e-mail, letter, phone).")
    )
    with transaction.atomic(durable=True):
        fund_selectors.lock_fund(application.fund_id)
        application = application_selectors.lock_application(application.pk)
        state = bank_details_state(application, lock=True)
        if state.applies_now:
            raise InvalidTransition(
                _("Finance enters new bank details once the application is approved only.")
            )
        if state.refusal is not None:
            message = _REFUSALS_FOR_FINANCE.get(state.refusal.code)
            raise type(state.refusal)(message) if message is not None else state.refusal
        if expected is not None and (state.change is None or state.change.pk != expected.pk):
            raise InvalidTransition(_("New bank details are no longer asked for this application."))
        return _submit(actor, application, state.change, details, entered_with_note=note)


def _checked_note(note: str, *, missing: Promise) -> str:
    """``note`` without the spaces around it, or :class:`ValidationFailed` on the note when
    it is empty or too long."""
    note = note.strip()
    if not note:
        raise ValidationFailed(missing, field="note")
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationFailed(
            _("The note has at most %(count)s characters.") % {"count": NOTE_MAX_LENGTH},
            field="note",
        )
    return note


def _submit(
    actor: Any,
    application: Application,
    change: BankDetailsChange | None,
    details: BankDetails,
    *,
    entered_with_note: str | None = None,
) -> BankDetailsChange:
    """The new details waiting for verification: given by the applicant, or entered by
    finance (``entered_with_note``: where they come from), whose ``actor`` then may not verify
    them."""
    now = timezone.now()
    requested = change is not None
    if change is None:
        change = BankDetailsChange(application=application, fund_id=application.fund_id)
        change.requested_at = now
    change.status = Status.SUBMITTED
    change.iban, change.bic = details.iban, details.bic
    change.account_holder = details.account_holder
    change.holder_matches = holder_matches(
        details.account_holder, application.first_name, application.last_name
    )
    change.submitted_at = now
    entered = entered_with_note is not None
    if entered_with_note is not None:
        change.submitted_by = actor
        change.note = entered_with_note
    change.save()
    audit.record(
        actor=actor,
        action="bank_details.entered" if entered else "bank_details.submitted",
        obj=application,
        changes={
            "change": change.pk,
            "requested": requested,
            **audit.snapshot(change, ("iban", "bic", "account_holder", "holder_matches")),
            **({"note": entered_with_note} if entered else {}),
        },
        fund_id=application.fund_id,
    )
    return change


# -- finance -----------------------------------------------------------------------------------


def request_bank_details(*, actor: Any, payment: Payment, note: str) -> BankDetailsChange:
    """Ask the applicant for new bank details after the bank returned ``payment``; the open
    change if there is one already. Runs in the caller's transaction (the import of the
    bank's return) and takes no row lock: the one-open-change constraint keeps it single.
    The applicant is e-mailed once the transaction commits."""
    require(actor, payment.fund, Capability.MANAGE_PAYMENTS)
    if payment.status != Payment.Status.FAILED:
        raise InvalidTransition(_("New bank details are asked for after a failed payment only."))
    application_id = payment.award.application_id
    existing = BankDetailsChange.objects.filter(
        application_id=application_id, status__in=BankDetailsChange.OPEN
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            change = BankDetailsChange.objects.create(
                application_id=application_id,
                fund_id=payment.fund_id,
                status=Status.REQUESTED,
                failed_payment=payment,
                requested_by=actor,
                requested_at=timezone.now(),
                note=note.strip()[:NOTE_MAX_LENGTH],
            )
    except IntegrityError:  # asked meanwhile by another import
        return BankDetailsChange.objects.get(
            application_id=application_id, status__in=BankDetailsChange.OPEN
        )
    audit.record(
        actor=actor,
        action="bank_details.requested",
        obj=change.application,
        changes={
            "change": change.pk,
            "payment": payment.end_to_end_id,
            "reason": payment.reason_code,
            "note": change.note,
        },
        fund_id=payment.fund_id,
    )
    _ask_applicant(change, refused=False)
    return change


def close_open_change(*, actor: Any, application_id: int, note: str) -> None:
    """The award is given up (released): nobody is to give, nor verify, details that will
    not be used: a request the applicant has not answered is withdrawn, details waiting for
    verification are refused, with ``note``. Runs in the caller's transaction."""
    change = (
        BankDetailsChange.objects.select_for_update(of=("self",))
        .filter(application_id=application_id, status__in=BankDetailsChange.OPEN)
        .select_related("application")
        .first()
    )
    if change is None:
        return
    note = note.strip()[:NOTE_MAX_LENGTH]
    audit.record(
        actor=actor,
        action="bank_details.closed",
        obj=change.application,
        changes={"change": change.pk, "status": change.status, "note": note},
        fund_id=change.fund_id,
    )
    change.status = Status.WITHDRAWN if change.status == Status.REQUESTED else Status.REFUSED
    # Releasing the award decides nothing of the details; whoever entered them may release
    # it, and the four-eyes constraint keeps them out of decided_by: the event names them.
    entered_by_actor = actor is not None and actor.pk == change.submitted_by_id
    change.decided_by = None if entered_by_actor else actor
    change.decided_at = timezone.now()
    change.note = note
    change.save(update_fields=["status", "decided_by", "decided_at", "note"])


def record_bank_details_viewed(*, actor: Any, change: BankDetailsChange) -> None:
    """Log that a person of finance saw the old and new bank details of ``change`` in clear,
    to verify them: reading them is an act the audit log keeps, as changing them is."""
    with transaction.atomic(durable=True):
        require(actor, change.fund, Capability.MANAGE_PAYMENTS)
        audit.record(
            actor=actor,
            action="bank_details.viewed",
            obj=change.application,
            changes={"change": change.pk, "status": change.status},
            fund_id=change.fund_id,
        )


def _ask_applicant(change: BankDetailsChange, *, refused: bool) -> None:
    enqueue_with_transaction(tasks.ask_for_bank_details, change.pk, refused)


def _lock_for_decision(
    actor: Any, change: BankDetailsChange
) -> tuple[Application, BankDetailsChange]:
    """Finance's permission, then the fund, the application and the change locked; refused
    unless the change waits for verification, and to whoever entered it (four eyes)."""
    require(actor, change.fund, Capability.MANAGE_PAYMENTS)
    fund_selectors.lock_fund(change.fund_id)
    application = application_selectors.lock_application(change.application_id)
    locked = BankDetailsChange.objects.select_for_update().get(pk=change.pk)
    if locked.status != Status.SUBMITTED:
        raise InvalidTransition(_("These bank details are not waiting for verification."))
    if locked.submitted_by_id is not None and locked.submitted_by_id == actor.pk:
        raise EnteredBySamePerson()
    return application, locked


def verify_bank_details(*, actor: Any, change: BankDetailsChange) -> BankDetailsChange:
    """Finance checked the new bank details: they replace the application's, and the award is
    payable again. The applicant is told by e-mail, at the application's address, so that
    details that are not theirs do not go unnoticed, whoever entered them."""
    with transaction.atomic(durable=True):
        application, change = _lock_for_decision(actor, change)
        application_services.replace_bank_details(
            actor=actor,
            application=application,
            iban=change.iban,
            bic=change.bic,
            account_holder=change.account_holder,
            note=f"verified change {change.pk}",
        )
        change.status = Status.VERIFIED
        change.decided_by = actor
        change.decided_at = timezone.now()
        change.save(update_fields=["status", "decided_by", "decided_at"])
        audit.record(
            actor=actor,
            action="bank_details.verified",
            obj=application,
            changes={"change": change.pk, "holder_matches": change.holder_matches},
            fund_id=change.fund_id,
        )
        enqueue_with_transaction(tasks.tell_applicant_bank_details_changed, change.pk)
    return change


def refuse_bank_details(
    *, actor: Any, change: BankDetailsChange, note: str
) -> BankDetailsChange | None:
    """Finance could not accept the new bank details (``note`` says why, to the applicant):
    the application keeps its old ones. After a returned transfer those cannot be paid into,
    so the applicant is asked again and the new request is returned; details the applicant
    offered on their own leave the award payable into the account it had, and None is
    returned."""
    note = _checked_note(note, missing=_("Say why the bank details are refused."))
    with transaction.atomic(durable=True):
        application, change = _lock_for_decision(actor, change)
        now = timezone.now()
        change.status = Status.REFUSED
        change.decided_by = actor
        change.decided_at = now
        change.note = note
        change.save(update_fields=["status", "decided_by", "decided_at", "note"])
        again = None
        if change.failed_payment_id is not None:
            again = BankDetailsChange.objects.create(
                application=application,
                fund_id=change.fund_id,
                status=Status.REQUESTED,
                failed_payment_id=change.failed_payment_id,
                requested_by=actor,
                requested_at=now,
            )
            _ask_applicant(again, refused=True)
        audit.record(
            actor=actor,
            action="bank_details.refused",
            obj=application,
            changes={
                "change": change.pk,
                "note": note,
                "requested_again": again.pk if again is not None else None,
            },
            fund_id=change.fund_id,
        )
    return again
