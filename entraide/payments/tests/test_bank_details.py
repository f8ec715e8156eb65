"""Bank details after submission: the holder's name, the applicant's changes, finance's
verification (the details in full on its page, the applicant told by e-mail), and the pages of
both."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.submission import check_submission
from entraide.applications.tasks import follow_up_submission
from entraide.applications.tests.factories import ApplicationFactory, submission_data
from entraide.audit import selectors as audit_selectors
from entraide.audit import services as audit
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.core.tests.worker import DATABASE_TASKS, run_db_worker
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.tests.factories import PartnerFactory
from entraide.payments import bank_details, tasks
from entraide.payments import services as payment_services
from entraide.payments.bank_details import (
    ChangeAwaitingVerification,
    EnteredBySamePerson,
    GrantPaid,
    NoGrantToPay,
    TransferUnderWay,
)
from entraide.payments.models import BankDetailsChange, Payment, PaymentBatch
from entraide.payments.tests.factories import BankDetailsChangeFactory
from entraide.payments.tests.helpers import member_of
from entraide.review import services as review_services
from entraide.review.models import Flag

Role = FundRole.Role
Status = BankDetailsChange.Status

# Synthetic IBANs with valid keys, of banks whose BIC schwifty's registry knows.
NEW_IBAN = "FR1420041010050500013M02606"
OTHER_IBAN = "FR7630006000011234567890189"


def applicant_application(**kwargs: Any) -> Application:
    values = {"first_name": "Jean", "last_name": "Dupont", "account_holder": "Jean Dupont"}
    application: Application = ApplicationFactory.create(**{**values, **kwargs})
    return application


def approved(application: Application) -> Award:
    """Approved by a reviewer: the fund's standard grant reserved."""
    outcome = review_services.approve_application(
        actor=member_of(application.fund, Role.REVIEWER), application=application
    )
    assert outcome.award is not None
    assert outcome.award.status == Award.Status.RESERVED
    return outcome.award


def payment_of(award: Award, status: str, **fields: Any) -> Payment:
    """The award in a batch of its own, its transfer at ``status``."""
    batch = PaymentBatch.objects.create(
        reference=f"P-TEST-{award.pk}-{Payment.objects.count()}",
        fund=award.fund,
        file_format="pain.001.001.09",
        currency=award.currency,
        count=1,
        total=award.amount,
        prepared_by=UserFactory.create(),
        prepared_at=timezone.now(),
    )
    application = award.application
    return Payment.objects.create(
        batch=batch,
        award=award,
        fund=award.fund,
        attempt=Payment.objects.filter(award=award).count() + 1,
        end_to_end_id=f"{application.reference}-{Payment.objects.count()}",
        amount=award.amount,
        currency=award.currency,
        creditor_name=application.account_holder,
        iban=application.iban,
        bic=application.bic,
        remittance="Aide",
        status=status,
        **fields,
    )


def failed_payment(award: Award, reason_code: str = "AC04") -> Payment:
    return payment_of(
        award,
        Payment.Status.FAILED,
        reason_code=reason_code,
        reason_detail="Account closed",
        failed_at=timezone.now(),
    )


def requested_change(award: Award, capture: Any) -> BankDetailsChange:
    """The bank returned the award's transfer: finance's import asks for new details."""
    finance = member_of(award.fund, Role.FINANCE)
    payment = failed_payment(award)
    with capture(execute=True), transaction.atomic():
        return bank_details.request_bank_details(actor=finance, payment=payment, note="AC04")


def change(application: Application, iban: str = NEW_IBAN, **kwargs: Any) -> Any:
    assert application.applicant is not None
    values = {"bic": "", "account_holder": "Jean Dupont", **kwargs}
    return bank_details.change_bank_details(
        actor=application.applicant, application=application, iban=iban, **values
    )


def actions_of(application: Application) -> list[str]:
    return [event.action for event in audit_selectors.events_for(application)]


# -- the holder's name -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("holder", "first_name", "last_name", "matches"),
    [
        ("Jean Dupont", "Jean", "Dupont", True),
        ("DUPONT JEAN", "Jean", "Dupont", True),
        ("M. Jean Dupont", "Jean", "Dupont", True),
        ("MR JEAN DUPONT", "Jean", "Dupont", True),
        ("Mme Hélène Lefèvre", "Helene", "Lefevre", True),
        ("LEFEVRE HELENE", "Hélène", "Lefèvre", True),
        ("Jean-Pierre N'Diaye", "Jean Pierre", "N Diaye", True),
        ("M OU MME DUPONT JEAN", "Jean", "Dupont", True),  # a joint account
        ("Jean Dupond", "Jean", "Dupont", True),  # one letter wrong
        ("Marie Curie", "Jean", "Dupont", False),
        ("Pierre Dupont", "Jean", "Dupont", False),  # a relative's account
        ("SARL Les Studios", "Jean", "Dupont", False),
    ],
)
def test_the_holder_matches_the_applicant_whatever_the_form_of_the_name(
    holder: str, first_name: str, last_name: str, matches: bool
) -> None:
    assert bank_details.holder_matches(holder, first_name, last_name) is matches


# -- at submission -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_submission_follow_up_flags_a_holder_who_is_not_the_applicant() -> None:
    application = applicant_application(account_holder="Marie Curie")

    follow_up_submission.call(application.pk, False)

    flag = Flag.objects.get(application=application)
    assert (flag.code, flag.raised_by, flag.note) == ("bank_holder_mismatch", None, "Marie Curie")
    assert len(mail.outbox) == 1  # the receipt


@pytest.mark.django_db
def test_the_submission_follow_up_raises_no_flag_when_the_holder_is_the_applicant() -> None:
    application = applicant_application(account_holder="DUPONT JEAN")

    follow_up_submission.call(application.pk, False)

    assert not Flag.objects.exists()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_checking_the_holder_again_raises_no_second_flag() -> None:
    application = applicant_application(account_holder="Marie Curie")

    first = bank_details.check_account_holder(application.pk)
    second = bank_details.check_account_holder(application.pk)

    assert first == second
    assert Flag.objects.count() == 1


def test_a_bic_left_empty_at_submission_is_found_from_the_iban() -> None:
    checked = check_submission(submission_data(iban=NEW_IBAN, bic=""), None)

    assert checked.bic == "PSSTFRPP"


def test_a_bic_given_at_submission_is_kept() -> None:
    checked = check_submission(submission_data(iban=NEW_IBAN, bic="agri fr pp"), None)

    assert checked.bic == "AGRIFRPP"


# -- the applicant's change before an award ----------------------------------------------------


@pytest.mark.django_db
def test_a_change_before_approval_replaces_the_details_at_once_audited_with_the_iban_masked(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(iban=OTHER_IBAN)

    with django_capture_on_commit_callbacks(execute=True):
        result = change(application, iban="fr14 2004 1010 0505 0001 3m02 606")

    assert result is None
    application.refresh_from_db()
    assert (application.iban, application.bic) == (NEW_IBAN, "PSSTFRPP")
    event = audit_selectors.events_for(application).get(action="application.bank_details_replaced")
    assert event.changes["iban"] == {"before": "FR76 •••• 0189", "after": "FR14 •••• 2606"}
    assert NEW_IBAN not in str(event.changes)
    assert not BankDetailsChange.objects.exists()
    assert not Flag.objects.exists()


@pytest.mark.django_db
def test_a_change_before_approval_to_another_persons_account_is_flagged(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application()

    with django_capture_on_commit_callbacks(execute=True):
        change(application, account_holder="Marie Curie")

    assert Flag.objects.get(application=application).code == "bank_holder_mismatch"


@pytest.mark.parametrize(
    ("iban", "bic", "holder", "field"),
    [
        ("FR00 1234", "", "Jean Dupont", "iban"),
        (NEW_IBAN, "NOT A BIC", "Jean Dupont", "bic"),
        (NEW_IBAN, "", "   ", "account_holder"),
        (NEW_IBAN, "", "J" * 141, "account_holder"),
    ],
)
@pytest.mark.django_db
def test_invalid_bank_details_are_refused_on_their_field(
    iban: str, bic: str, holder: str, field: str
) -> None:
    application = applicant_application(iban=OTHER_IBAN)

    with pytest.raises(ValidationFailed) as refused:
        change(application, iban=iban, bic=bic, account_holder=holder)

    assert refused.value.field == field
    application.refresh_from_db()
    assert application.iban == OTHER_IBAN


@pytest.mark.django_db
def test_only_the_applicant_can_change_their_bank_details() -> None:
    application = applicant_application(iban=OTHER_IBAN)
    finance = member_of(application.fund, Role.FINANCE)

    for someone in (UserFactory.create(), finance):
        with pytest.raises(PermissionDenied):
            bank_details.change_bank_details(
                actor=someone,
                application=application,
                iban=NEW_IBAN,
                bic="",
                account_holder="Jean Dupont",
            )

    application.refresh_from_db()
    assert application.iban == OTHER_IBAN


@pytest.mark.django_db
def test_a_rejected_application_has_no_bank_details_to_change() -> None:
    application = applicant_application(status=Application.Status.REJECTED)

    with pytest.raises(NoGrantToPay):
        change(application)


# -- the applicant's change once an award is reserved -------------------------------------------


@pytest.mark.django_db
def test_a_change_after_approval_waits_for_verification_and_blocks_the_payment() -> None:
    application = applicant_application(iban=OTHER_IBAN)
    award = approved(application)

    pending = change(application, account_holder="Marie Curie")

    assert isinstance(pending, BankDetailsChange)
    assert (pending.status, pending.iban, pending.holder_matches) == (
        Status.SUBMITTED,
        NEW_IBAN,
        False,
    )
    application.refresh_from_db()
    assert application.iban == OTHER_IBAN  # not before finance verified it
    assert "bank_details.submitted" in actions_of(application)
    assert list(bank_details.applications_with_open_change(application.fund)) == [
        {"application_id": application.pk}
    ]
    assert award not in payment_services.payable_awards(application.fund)
    assert not Flag.objects.exists()  # decided already: finance sees the holder instead


@pytest.mark.django_db
def test_new_details_waiting_for_verification_cannot_be_replaced_by_the_applicant() -> None:
    application = applicant_application()
    approved(application)
    change(application)

    with pytest.raises(ChangeAwaitingVerification):
        change(application, iban=OTHER_IBAN)

    assert BankDetailsChange.objects.get().iban == NEW_IBAN


@pytest.mark.parametrize("status", [Payment.Status.PENDING, Payment.Status.SENT])
@pytest.mark.django_db
def test_a_change_is_refused_while_a_transfer_is_under_way(status: str) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    payment_of(approved(application), status)

    with pytest.raises(TransferUnderWay):
        change(application)

    assert not BankDetailsChange.objects.exists()


@pytest.mark.django_db
def test_a_change_is_refused_once_the_grant_was_paid_and_confirmed() -> None:
    application = applicant_application()
    award = approved(application)
    payment_of(award, Payment.Status.CONFIRMED, confirmed_at=timezone.now())
    with transaction.atomic():
        ledger.record_awards_paid(
            actor=None, fund=award.fund, award_ids=[award.pk], total=award.amount, note="P-TEST"
        )

    with pytest.raises(GrantPaid) as refused:
        change(application)

    with translation.override("en"):
        assert "Your grant was paid" in str(refused.value.message)


@pytest.mark.django_db
def test_a_change_is_refused_once_the_award_was_released() -> None:
    application = applicant_application()
    award = approved(application)
    with transaction.atomic():
        ledger.release_award(actor=None, award=award, note="withdrawn")

    with pytest.raises(NoGrantToPay):
        change(application)


# -- the bank returned the transfer ------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_payment_asks_the_applicant_for_new_details_in_their_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(language="en")
    award = approved(application)
    mail.outbox.clear()

    requested = requested_change(award, django_capture_on_commit_callbacks)

    assert requested.status == Status.REQUESTED
    assert requested.failed_payment is not None
    assert requested.failed_payment.reason_code == "AC04"
    assert "bank_details.requested" in actions_of(application)
    assert award not in payment_services.payable_awards(application.fund)
    (message,) = mail.outbox
    assert message.to == [application.email]
    assert "new bank details" in message.subject
    path = reverse("application_bank_details", kwargs={"reference": application.reference})
    assert path in message.body
    assert application.iban not in message.body
    assert application.iban[-4:] not in message.body


@pytest.mark.django_db
def test_the_request_e_mail_is_in_french_for_an_application_made_in_french(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(language="fr")
    award = approved(application)
    mail.outbox.clear()

    requested_change(award, django_capture_on_commit_callbacks)

    assert "Bonjour" in mail.outbox[0].body


@pytest.mark.django_db
def test_asking_again_for_the_same_application_returns_the_open_request(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application()
    award = approved(application)
    first = requested_change(award, django_capture_on_commit_callbacks)
    finance = member_of(application.fund, Role.FINANCE)

    with transaction.atomic():
        again = bank_details.request_bank_details(
            actor=finance, payment=failed_payment(award), note="again"
        )

    assert again == first
    assert BankDetailsChange.objects.count() == 1


@pytest.mark.django_db
def test_new_details_are_asked_for_after_a_failed_payment_only() -> None:
    application = applicant_application()
    payment = payment_of(approved(application), Payment.Status.SENT)
    finance = member_of(application.fund, Role.FINANCE)

    with pytest.raises(InvalidTransition), transaction.atomic():
        bank_details.request_bank_details(actor=finance, payment=payment, note="")


@pytest.mark.django_db
def test_the_applicants_answer_fills_the_request(django_capture_on_commit_callbacks: Any) -> None:
    application = applicant_application()
    award = approved(application)
    requested = requested_change(award, django_capture_on_commit_callbacks)

    answered = change(application)

    assert answered == requested
    requested.refresh_from_db()
    assert (requested.status, requested.iban) == (Status.SUBMITTED, NEW_IBAN)
    assert requested.holder_matches is True
    event = audit_selectors.events_for(application).get(action="bank_details.submitted")
    assert event.changes["requested"] is True
    assert event.changes["iban"] == "FR14 •••• 2606"


# -- finance's verification --------------------------------------------------------------------


@pytest.mark.django_db
def test_verifying_applies_the_new_details_and_makes_the_award_payable_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    award = approved(application)
    requested_change(award, django_capture_on_commit_callbacks)
    pending = change(application)
    finance = member_of(application.fund, Role.FINANCE)

    verified = bank_details.verify_bank_details(actor=finance, change=pending)

    assert (verified.status, verified.decided_by) == (Status.VERIFIED, finance)
    application.refresh_from_db()
    assert (application.iban, application.bic) == (NEW_IBAN, "PSSTFRPP")
    assert actions_of(application)[-2:] == [
        "application.bank_details_replaced",
        "bank_details.verified",
    ]
    assert award in payment_services.payable_awards(application.fund)


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.AUDITOR, Role.OPERATOR_ADMIN])
@pytest.mark.django_db
def test_only_finance_verifies_or_refuses_bank_details(role: str) -> None:
    pending = BankDetailsChangeFactory.create()
    someone = member_of(pending.fund, role)

    with pytest.raises(PermissionDenied):
        bank_details.verify_bank_details(actor=someone, change=pending)
    with pytest.raises(PermissionDenied):
        bank_details.refuse_bank_details(actor=someone, change=pending, note="No.")

    pending.refresh_from_db()
    assert pending.status == Status.SUBMITTED


@pytest.mark.django_db
def test_details_verified_already_cannot_be_verified_again() -> None:
    pending = BankDetailsChangeFactory.create()
    finance = member_of(pending.fund, Role.FINANCE)
    bank_details.verify_bank_details(actor=finance, change=pending)

    with pytest.raises(InvalidTransition):
        bank_details.verify_bank_details(actor=finance, change=pending)
    with pytest.raises(InvalidTransition):
        bank_details.refuse_bank_details(actor=finance, change=pending, note="Too late.")


@pytest.mark.django_db
def test_refusing_details_given_after_a_returned_transfer_asks_the_applicant_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(iban=OTHER_IBAN, language="en")
    award = approved(application)
    requested = requested_change(award, django_capture_on_commit_callbacks)
    pending = change(application, account_holder="Marie Curie")
    finance = member_of(application.fund, Role.FINANCE)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = bank_details.refuse_bank_details(
            actor=finance, change=pending, note="  The holder is not you.  "
        )

    pending.refresh_from_db()
    assert (pending.status, pending.note) == (Status.REFUSED, "The holder is not you.")
    assert again is not None
    assert (again.status, again.requested_by) == (Status.REQUESTED, finance)
    assert again.failed_payment == requested.failed_payment
    assert award not in payment_services.payable_awards(application.fund)
    application.refresh_from_db()
    assert application.iban == OTHER_IBAN
    assert "bank_details.refused" in actions_of(application)
    assert bank_details.refusal_behind(again) == pending
    (message,) = mail.outbox
    assert "could not verify" in message.body


@pytest.mark.django_db
def test_refusing_needs_a_reason() -> None:
    pending = BankDetailsChangeFactory.create()
    finance = member_of(pending.fund, Role.FINANCE)

    with pytest.raises(ValidationFailed) as refused:
        bank_details.refuse_bank_details(actor=finance, change=pending, note="   ")

    assert refused.value.field == "note"
    pending.refresh_from_db()
    assert pending.status == Status.SUBMITTED


@pytest.mark.django_db
def test_releasing_the_award_withdraws_an_unanswered_request(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application()
    award = approved(application)
    requested = requested_change(award, django_capture_on_commit_callbacks)
    finance = member_of(application.fund, Role.FINANCE)

    with transaction.atomic():
        bank_details.close_open_change(
            actor=finance, application_id=application.pk, note="applicant unreachable"
        )

    requested.refresh_from_db()
    assert (requested.status, requested.note) == (Status.WITHDRAWN, "applicant unreachable")
    event = audit_selectors.events_for(application).get(action="bank_details.closed")
    assert event.changes == {
        "change": requested.pk,
        "status": "requested",
        "note": audit.pseudonym("applicant unreachable"),
    }


@pytest.mark.django_db
def test_releasing_the_award_refuses_details_waiting_for_verification() -> None:
    pending = BankDetailsChangeFactory.create()
    finance = member_of(pending.fund, Role.FINANCE)

    with transaction.atomic():
        bank_details.close_open_change(
            actor=finance, application_id=pending.application_id, note="award released"
        )

    pending.refresh_from_db()
    assert (pending.status, pending.note, pending.decided_by) == (
        Status.REFUSED,
        "award released",
        finance,
    )


@pytest.mark.django_db
def test_refusing_details_the_applicant_offered_on_their_own_keeps_the_award_payable(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    award = approved(application)
    pending = change(application)
    assert award not in payment_services.payable_awards(application.fund)
    finance = member_of(application.fund, Role.FINANCE)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        again = bank_details.refuse_bank_details(
            actor=finance, change=pending, note="Send us a RIB."
        )

    assert again is None
    assert not BankDetailsChange.objects.filter(status=Status.REQUESTED).exists()
    assert award in payment_services.payable_awards(application.fund)
    application.refresh_from_db()
    assert application.iban == OTHER_IBAN
    assert bank_details.last_refusal(application) == pending
    event = audit_selectors.events_for(application).get(action="bank_details.refused")
    assert event.changes["requested_again"] is None
    assert mail.outbox == []


# -- details entered by finance ----------------------------------------------------------------


def partner_application(**kwargs: Any) -> Application:
    """Made by a partner for its member, who has no account in the portal."""
    return applicant_application(applicant=None, partner=PartnerFactory.create(), **kwargs)


def entered(
    actor: User, change_or_application: BankDetailsChange | Application, **kwargs: Any
) -> BankDetailsChange:
    values = {
        "iban": NEW_IBAN,
        "bic": "",
        "account_holder": "Jean Dupont",
        "note": "RIB e-mailed by the partner",
        **kwargs,
    }
    return bank_details.enter_bank_details(
        actor=actor, change_or_application=change_or_application, **values
    )


@pytest.mark.django_db
def test_a_partners_application_is_payable_again_once_another_person_verifies_entered_details(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = partner_application(iban=OTHER_IBAN)
    award = approved(application)
    requested = requested_change(award, django_capture_on_commit_callbacks)
    entering, verifying = (member_of(application.fund, Role.FINANCE) for _ in range(2))

    pending = entered(entering, requested)

    assert pending == requested
    assert (pending.status, pending.submitted_by, pending.note) == (
        Status.SUBMITTED,
        entering,
        "RIB e-mailed by the partner",
    )
    assert pending.holder_matches is True
    assert award not in payment_services.payable_awards(application.fund)
    event = audit_selectors.events_for(application).get(action="bank_details.entered")
    assert (event.actor, event.changes["iban"]) == (entering, "FR14 •••• 2606")
    assert event.changes["note"] == audit.pseudonym("RIB e-mailed by the partner")

    verified = bank_details.verify_bank_details(actor=verifying, change=pending)

    assert (verified.status, verified.decided_by) == (Status.VERIFIED, verifying)
    application.refresh_from_db()
    assert application.iban == NEW_IBAN
    assert award in payment_services.payable_awards(application.fund)


@pytest.mark.django_db
def test_whoever_entered_the_details_can_neither_verify_nor_refuse_them(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = partner_application(iban=OTHER_IBAN)
    requested = requested_change(approved(application), django_capture_on_commit_callbacks)
    finance = member_of(application.fund, Role.FINANCE)
    pending = entered(finance, requested)

    with pytest.raises(EnteredBySamePerson):
        bank_details.verify_bank_details(actor=finance, change=pending)
    with pytest.raises(EnteredBySamePerson):
        bank_details.refuse_bank_details(actor=finance, change=pending, note="Typo.")

    pending.refresh_from_db()
    assert (pending.status, pending.decided_by) == (Status.SUBMITTED, None)
    application.refresh_from_db()
    assert application.iban == OTHER_IBAN


@pytest.mark.django_db
def test_the_database_refuses_a_decision_by_whoever_entered_the_details() -> None:
    finance = UserFactory.create()
    pending = BankDetailsChangeFactory.create(submitted_by=finance)

    with pytest.raises(IntegrityError), transaction.atomic():
        BankDetailsChange.objects.filter(pk=pending.pk).update(
            status=Status.VERIFIED, decided_by=finance, decided_at=timezone.now()
        )


@pytest.mark.django_db
def test_finance_may_enter_details_for_an_applicant_with_an_account_without_a_request() -> None:
    application = applicant_application()
    award = approved(application)
    finance = member_of(application.fund, Role.FINANCE)

    pending = entered(finance, application, account_holder="Marie Curie", note="By letter")

    assert (pending.status, pending.failed_payment, pending.submitted_by) == (
        Status.SUBMITTED,
        None,
        finance,
    )
    assert pending.holder_matches is False
    assert award not in payment_services.payable_awards(application.fund)


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.AUDITOR, Role.OPERATOR_ADMIN])
@pytest.mark.django_db
def test_only_finance_enters_bank_details(role: str) -> None:
    application = partner_application()
    approved(application)

    with pytest.raises(PermissionDenied):
        entered(member_of(application.fund, role), application)

    assert not BankDetailsChange.objects.exists()


@pytest.mark.django_db
def test_entering_details_needs_to_say_where_they_come_from() -> None:
    application = partner_application()
    approved(application)

    with pytest.raises(ValidationFailed) as refused:
        entered(member_of(application.fund, Role.FINANCE), application, note="  ")

    assert refused.value.field == "note"
    assert not BankDetailsChange.objects.exists()


@pytest.mark.django_db
def test_entering_details_for_a_request_the_applicant_answered_meanwhile_is_refused(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application()
    requested = requested_change(approved(application), django_capture_on_commit_callbacks)
    change(application)

    with pytest.raises(ChangeAwaitingVerification) as refused:
        entered(member_of(application.fund, Role.FINANCE), requested, iban=OTHER_IBAN)

    with translation.override("en"):
        assert "already waiting for verification" in str(refused.value.message)
    requested.refresh_from_db()
    assert (requested.iban, requested.submitted_by) == (NEW_IBAN, None)


@pytest.mark.django_db
def test_entering_details_for_a_request_closed_meanwhile_is_refused(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application()
    requested = requested_change(approved(application), django_capture_on_commit_callbacks)
    pending = change(application)
    bank_details.verify_bank_details(
        actor=member_of(application.fund, Role.FINANCE), change=pending
    )

    with pytest.raises(InvalidTransition):
        entered(member_of(application.fund, Role.FINANCE), requested, iban=OTHER_IBAN)

    assert not BankDetailsChange.objects.filter(status__in=BankDetailsChange.OPEN).exists()


@pytest.mark.django_db
def test_entering_details_before_approval_is_refused() -> None:
    application = partner_application(iban=OTHER_IBAN)

    with pytest.raises(InvalidTransition):
        entered(member_of(application.fund, Role.FINANCE), application)

    application.refresh_from_db()
    assert application.iban == OTHER_IBAN
    assert not BankDetailsChange.objects.exists()


@pytest.mark.django_db
def test_entering_details_is_refused_while_a_transfer_is_under_way() -> None:
    application = partner_application()
    payment_of(approved(application), Payment.Status.SENT)

    with pytest.raises(TransferUnderWay) as refused:
        entered(member_of(application.fund, Role.FINANCE), application)

    with translation.override("en"):
        assert str(refused.value.message).startswith("The grant is being transferred")
    assert not BankDetailsChange.objects.exists()


@pytest.mark.django_db
def test_whoever_entered_the_details_may_still_release_the_award(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = partner_application()
    requested = requested_change(approved(application), django_capture_on_commit_callbacks)
    finance = member_of(application.fund, Role.FINANCE)
    entered(finance, requested)

    with transaction.atomic():
        bank_details.close_open_change(
            actor=finance, application_id=application.pk, note="member unreachable"
        )

    requested.refresh_from_db()
    assert (requested.status, requested.decided_by) == (Status.REFUSED, None)
    event = audit_selectors.events_for(application).get(action="bank_details.closed")
    assert event.actor == finance


@pytest.mark.parametrize(
    ("contact_email", "expected"),
    [
        ("aides@example.org", "to the fund at aides@example.org"),
        ("", "through the organisation that applied for you"),
    ],
)
@pytest.mark.django_db
def test_a_partners_member_is_told_to_answer_the_fund_not_sent_to_the_portal(
    django_capture_on_commit_callbacks: Any, contact_email: str, expected: str
) -> None:
    application = partner_application(language="en")
    Fund.objects.filter(pk=application.fund_id).update(contact_email=contact_email)
    award = approved(application)
    mail.outbox.clear()

    requested_change(award, django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.to == [application.email]
    assert expected in " ".join(message.body.split())
    assert "/bank-details/" not in message.body


# -- the portal --------------------------------------------------------------------------------


def bank_details_url(application: Application) -> str:
    return reverse("application_bank_details", kwargs={"reference": application.reference})


@pytest.mark.django_db
def test_the_portal_page_shows_the_current_details_masked(client: Client) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    assert application.applicant is not None
    client.force_login(application.applicant)

    response = client.get(bank_details_url(application))

    text = response.content.decode()
    assert response.status_code == 200
    assert "•••• 0189" in text
    assert OTHER_IBAN not in text
    assert response.context["form"]["account_holder"].value() == "Jean Dupont"


@pytest.mark.django_db
def test_the_portal_form_keeps_what_was_typed_on_error(client: Client) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    assert application.applicant is not None
    client.force_login(application.applicant)

    response = client.post(
        bank_details_url(application),
        {"iban": "FR76 0000 BAD", "bic": "", "account_holder": "Jean Dupont-Martin"},
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["iban"]
    assert 'value="FR76 0000 BAD"' in text
    assert 'value="Jean Dupont-Martin"' in text
    application.refresh_from_db()
    assert application.iban == OTHER_IBAN


@pytest.mark.django_db
def test_the_portal_form_keeps_what_was_typed_when_the_change_is_refused(client: Client) -> None:
    application = applicant_application()
    approved(application)
    change(application)
    assert application.applicant is not None
    client.force_login(application.applicant)

    response = client.post(
        bank_details_url(application),
        {"iban": OTHER_IBAN, "bic": "", "account_holder": "Jean Dupont"},
    )

    assert response.status_code == 200
    assert "waiting for the fund" in response.content.decode()
    assert BankDetailsChange.objects.get().iban == NEW_IBAN


@pytest.mark.django_db
def test_the_portal_says_a_change_before_approval_is_saved(client: Client) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    assert application.applicant is not None
    client.force_login(application.applicant)

    response = client.post(
        bank_details_url(application),
        {"iban": NEW_IBAN, "bic": "", "account_holder": "Jean Dupont"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse(
        "application_status", kwargs={"reference": application.reference}
    )
    assert "Your new bank details are saved." in response.content.decode()
    application.refresh_from_db()
    assert application.iban == NEW_IBAN


@pytest.mark.django_db
def test_the_portal_says_a_change_after_approval_awaits_verification(client: Client) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    approved(application)
    assert application.applicant is not None
    client.force_login(application.applicant)

    response = client.post(
        bank_details_url(application),
        {"iban": NEW_IBAN, "bic": "", "account_holder": "Jean Dupont"},
        follow=True,
    )

    text = response.content.decode()
    assert "It will check them" in text
    assert "waiting for the fund's verification" in text
    application.refresh_from_db()
    assert application.iban == OTHER_IBAN


@pytest.mark.django_db
def test_the_status_page_asks_prominently_for_new_details_after_a_returned_transfer(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    application = applicant_application()
    requested_change(approved(application), django_capture_on_commit_callbacks)
    assert application.applicant is not None
    client.force_login(application.applicant)

    response = client.get(
        reverse("application_status", kwargs={"reference": application.reference})
    )

    text = response.content.decode()
    assert "Your bank returned the transfer: give us new bank details." in text
    assert f'href="{bank_details_url(application)}"' in text


@pytest.mark.django_db
def test_the_status_page_offers_no_change_while_the_transfer_is_under_way(client: Client) -> None:
    application = applicant_application()
    payment_of(approved(application), Payment.Status.SENT)
    assert application.applicant is not None
    client.force_login(application.applicant)

    response = client.get(
        reverse("application_status", kwargs={"reference": application.reference})
    )

    assert bank_details_url(application) not in response.content.decode()


@pytest.mark.django_db
def test_the_portal_page_is_not_found_for_another_applicants_application(client: Client) -> None:
    application = applicant_application()
    client.force_login(UserFactory.create())

    assert client.get(bank_details_url(application)).status_code == 404
    assert client.post(bank_details_url(application), {}).status_code == 404


# -- the back office ---------------------------------------------------------------------------


def list_url(fund: Fund) -> str:
    return reverse("bank_details_changes", kwargs={"slug": fund.slug})


def action_url(name: str, pending: BankDetailsChange) -> str:
    return reverse(name, kwargs={"slug": pending.fund.slug, "change_id": pending.pk})


@pytest.mark.django_db
def test_finance_verifies_new_details_from_the_list(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    client.force_login(member_of(pending.fund, Role.FINANCE))

    listed = client.get(list_url(pending.fund))
    response = client.post(action_url("bank_details_verify", pending))

    text = listed.content.decode()
    assert pending.application.reference in text
    assert f"•••• {pending.iban[-4:]}" in text
    assert pending.iban not in text
    assert action_url("bank_details_verify", pending) in text
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == Status.VERIFIED


@pytest.mark.django_db
def test_finance_refuses_new_details_with_a_reason_from_the_list(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    client.force_login(member_of(pending.fund, Role.FINANCE))

    empty = client.post(action_url("bank_details_refuse", pending), {"note": ""}, follow=True)
    pending.refresh_from_db()
    assert pending.status == Status.SUBMITTED
    assert "Say why" in empty.content.decode()

    client.post(action_url("bank_details_refuse", pending), {"note": "Not your account."})
    pending.refresh_from_db()
    assert (pending.status, pending.note) == (Status.REFUSED, "Not your account.")


@pytest.mark.django_db
def test_the_auditor_sees_the_list_without_the_actions(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    client.force_login(member_of(pending.fund, Role.AUDITOR))

    response = client.get(list_url(pending.fund))

    assert response.status_code == 200
    assert pending.application.reference in response.content.decode()
    assert action_url("bank_details_verify", pending) not in response.content.decode()


@pytest.mark.parametrize(
    ("who", "expected"),
    [("reviewer", 404), ("auditor", 404), ("other_fund_finance", 404), ("applicant", 403)],
)
@pytest.mark.parametrize("action", ["bank_details_verify", "bank_details_refuse"])
@pytest.mark.django_db
def test_only_finance_of_the_fund_may_verify_or_refuse(
    client: Client, who: str, expected: int, action: str
) -> None:
    pending = BankDetailsChangeFactory.create()
    users = {
        "reviewer": lambda: member_of(pending.fund, Role.REVIEWER),
        "auditor": lambda: member_of(pending.fund, Role.AUDITOR),
        "other_fund_finance": lambda: member_of(FundFactory.create(), Role.FINANCE),
        "applicant": lambda: pending.application.applicant,
    }
    client.force_login(users[who]())

    response = client.post(action_url(action, pending), {"note": "No."})

    assert response.status_code == expected
    pending.refresh_from_db()
    assert pending.status == Status.SUBMITTED


@pytest.mark.django_db
def test_a_change_of_another_fund_is_not_found(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    finance = member_of(FundFactory.create(), Role.FINANCE)
    client.force_login(finance)
    fund = FundRole.objects.get(user=finance).fund
    url = reverse("bank_details_verify", kwargs={"slug": fund.slug, "change_id": pending.pk})

    assert client.post(url).status_code == 404
    pending.refresh_from_db()
    assert pending.status == Status.SUBMITTED


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.django_db
def test_the_list_uses_a_bounded_number_of_queries(
    client: Client, django_assert_max_num_queries: Any, count: int
) -> None:
    fund = FundFactory.create(budget=Decimal("100000.00"))
    for _ in range(count):
        application = applicant_application(fund=fund)
        returned = failed_payment(approved(application))
        BankDetailsChangeFactory.create(application=application, failed_payment=returned)
    client.force_login(member_of(fund, Role.FINANCE))

    with django_assert_max_num_queries(10):
        response = client.get(list_url(fund))

    assert response.status_code == 200
    assert len(response.context["page"]) == count


def requested_of_partner(fund: Fund | None = None) -> BankDetailsChange:
    """A request for new details of a partner's approved application, after a returned
    transfer, that its member cannot answer in the portal."""
    application = partner_application(**({"fund": fund} if fund is not None else {}))
    requested: BankDetailsChange = BankDetailsChangeFactory.create(
        application=application,
        status=Status.REQUESTED,
        failed_payment=failed_payment(approved(application)),
        iban="",
        account_holder="",
        holder_matches=None,
        submitted_at=None,
    )
    return requested


ENTERED_FORM = {
    "iban": NEW_IBAN,
    "bic": "",
    "account_holder": "Jean Dupont",
    "note": "RIB e-mailed by the partner",
}


@pytest.mark.django_db
def test_finance_enters_the_details_asked_of_a_partners_member_from_the_list(
    client: Client,
) -> None:
    requested = requested_of_partner()
    finance = member_of(requested.fund, Role.FINANCE)
    client.force_login(finance)

    listed = client.get(list_url(requested.fund))
    form = client.get(action_url("bank_details_enter", requested))
    response = client.post(action_url("bank_details_enter", requested), ENTERED_FORM, follow=True)

    text = listed.content.decode()
    assert "Enter the new details" in text
    assert action_url("bank_details_enter", requested) in text
    assert form.status_code == 200
    assert response.redirect_chain[-1][0] == list_url(requested.fund)
    assert "another person of finance verifies them" in response.content.decode()
    requested.refresh_from_db()
    assert (requested.status, requested.iban, requested.submitted_by) == (
        Status.SUBMITTED,
        NEW_IBAN,
        finance,
    )


@pytest.mark.django_db
def test_the_enter_form_keeps_what_was_typed_on_error(client: Client) -> None:
    requested = requested_of_partner()
    client.force_login(member_of(requested.fund, Role.FINANCE))

    response = client.post(
        action_url("bank_details_enter", requested),
        {**ENTERED_FORM, "iban": "FR76 0000 BAD", "account_holder": "Jean Dupont-Martin"},
    )

    text = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["iban"]
    assert 'value="FR76 0000 BAD"' in text
    assert 'value="Jean Dupont-Martin"' in text
    assert "RIB e-mailed by the partner" in text
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED


@pytest.mark.django_db
def test_the_enter_form_shows_the_services_refusal_keeping_what_was_typed(
    client: Client,
) -> None:
    requested = requested_of_partner()
    assert requested.failed_payment is not None
    payment_of(requested.failed_payment.award, Payment.Status.PENDING)
    client.force_login(member_of(requested.fund, Role.FINANCE))

    response = client.post(action_url("bank_details_enter", requested), ENTERED_FORM)

    text = response.content.decode()
    assert response.status_code == 200
    assert "The grant is being transferred" in text
    assert f'value="{NEW_IBAN}"' in text
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED


@pytest.mark.django_db
def test_the_enter_page_sends_back_to_the_list_once_nothing_is_asked(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    client.force_login(member_of(pending.fund, Role.FINANCE))

    response = client.get(action_url("bank_details_enter", pending), follow=True)

    assert response.redirect_chain[-1][0] == list_url(pending.fund)
    assert "no longer asked" in response.content.decode()


@pytest.mark.django_db
def test_the_list_leaves_entered_details_to_another_person_to_verify(client: Client) -> None:
    entering = UserFactory.create()
    pending = BankDetailsChangeFactory.create(submitted_by=entering, note="By letter")
    FundRoleFactory.create(fund=pending.fund, user=entering, role=Role.FINANCE)
    verify_url = action_url("bank_details_verify", pending)

    client.force_login(entering)
    own = client.get(list_url(pending.fund)).content.decode()
    client.force_login(member_of(pending.fund, Role.FINANCE))
    other = client.get(list_url(pending.fund)).content.decode()

    assert verify_url not in own
    assert "You entered them" in own
    assert verify_url in other
    assert f"Entered by {entering}: By letter" in other


@pytest.mark.django_db
def test_verifying_ones_own_entered_details_from_the_list_says_why_not(client: Client) -> None:
    entering = UserFactory.create()
    pending = BankDetailsChangeFactory.create(submitted_by=entering)
    FundRoleFactory.create(fund=pending.fund, user=entering, role=Role.FINANCE)
    client.force_login(entering)

    response = client.post(action_url("bank_details_verify", pending), follow=True)

    assert "another person of finance verifies or refuses them" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Status.SUBMITTED


@pytest.mark.django_db
def test_refusing_offered_details_from_the_list_says_the_award_stays_payable(
    client: Client,
) -> None:
    pending = BankDetailsChangeFactory.create()
    client.force_login(member_of(pending.fund, Role.FINANCE))

    response = client.post(
        action_url("bank_details_refuse", pending), {"note": "Not your account."}, follow=True
    )

    assert "stays payable into the account it had" in response.content.decode()
    assert not BankDetailsChange.objects.filter(status=Status.REQUESTED).exists()


@pytest.mark.django_db
def test_the_portal_shows_why_details_offered_on_their_own_were_refused(client: Client) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    approved(application)
    pending = change(application)
    bank_details.refuse_bank_details(
        actor=member_of(application.fund, Role.FINANCE), change=pending, note="Not your account."
    )
    assert application.applicant is not None
    client.force_login(application.applicant)

    text = client.get(bank_details_url(application)).content.decode()

    assert "The fund did not accept the new bank details you gave (IBAN FR14 •••• 2606)" in text
    assert "Not your account." in text


@pytest.mark.django_db
def test_the_auditor_sees_the_requests_without_the_enter_link(client: Client) -> None:
    requested = requested_of_partner()
    client.force_login(member_of(requested.fund, Role.AUDITOR))

    text = client.get(list_url(requested.fund)).content.decode()

    assert requested.application.reference in text
    assert action_url("bank_details_enter", requested) not in text


@pytest.mark.parametrize(
    ("who", "expected"),
    [("reviewer", 404), ("auditor", 404), ("other_fund_finance", 404), ("applicant", 403)],
)
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.django_db
def test_only_finance_of_the_fund_may_enter_details(
    client: Client, who: str, expected: int, method: str
) -> None:
    requested = requested_of_partner()
    users = {
        "reviewer": lambda: member_of(requested.fund, Role.REVIEWER),
        "auditor": lambda: member_of(requested.fund, Role.AUDITOR),
        "other_fund_finance": lambda: member_of(FundFactory.create(), Role.FINANCE),
        "applicant": lambda: UserFactory.create(),
    }
    client.force_login(users[who]())

    response = getattr(client, method)(action_url("bank_details_enter", requested), ENTERED_FORM)

    assert response.status_code == expected
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED


@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.django_db
def test_the_list_of_requests_uses_a_bounded_number_of_queries(
    client: Client, django_assert_max_num_queries: Any, count: int
) -> None:
    fund = FundFactory.create(budget=Decimal("100000.00"))
    for _ in range(count):
        requested_of_partner(fund)
    client.force_login(member_of(fund, Role.FINANCE))

    with django_assert_max_num_queries(10):
        response = client.get(list_url(fund))

    assert response.status_code == 200
    assert len(response.context["asked"]) == count


# -- verifying in full, and telling the applicant ----------------------------------------------


def grouped(iban: str) -> str:
    return " ".join(iban[start : start + 4] for start in range(0, len(iban), 4))


def viewed_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(action="bank_details.viewed")


@pytest.mark.django_db
def test_finance_sees_the_old_and_new_details_in_full_on_the_change_page_audited(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    application = applicant_application(iban=OTHER_IBAN)
    requested_change(approved(application), django_capture_on_commit_callbacks)
    pending = change(application, account_holder="Marie Curie")
    finance = member_of(application.fund, Role.FINANCE)
    client.force_login(finance)

    response = client.get(action_url("bank_details_change", pending))

    text = " ".join(html.unescape(response.content.decode()).split())
    assert response.status_code == 200
    assert grouped(NEW_IBAN) in text
    assert grouped(OTHER_IBAN) in text
    assert "PSSTFRPP" in text
    assert "Marie Curie" in text
    assert "Differs from the applicant's name" in text
    assert "The applicant, in the portal" in text
    assert "AC04 — The beneficiary's account is closed. (Account closed)" in text
    assert f"told by e-mail at {application.email}" in text
    assert action_url("bank_details_verify", pending) in text
    assert action_url("bank_details_refuse", pending) in text
    event = viewed_events().get()
    assert (event.actor, event.fund_id) == (finance, application.fund_id)
    assert (event.object_type, event.object_id) == ("applications.application", str(application.pk))
    assert event.changes == {"change": pending.pk, "status": "submitted"}


@pytest.mark.django_db
def test_each_visit_of_the_change_page_is_audited(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    client.force_login(member_of(pending.fund, Role.FINANCE))

    client.get(action_url("bank_details_change", pending))
    client.get(action_url("bank_details_change", pending))

    assert viewed_events().count() == 2


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("reviewer", 404),
        ("approver", 404),
        ("auditor", 404),
        ("operator_admin", 404),
        ("other_fund_finance", 404),
        ("applicant", 403),
    ],
)
@pytest.mark.django_db
def test_only_finance_of_the_fund_sees_the_details_in_full(
    client: Client, who: str, expected: int
) -> None:
    pending = BankDetailsChangeFactory.create()
    users = {
        "reviewer": lambda: member_of(pending.fund, Role.REVIEWER),
        "approver": lambda: member_of(pending.fund, Role.APPROVER),
        "auditor": lambda: member_of(pending.fund, Role.AUDITOR),
        "operator_admin": lambda: member_of(pending.fund, Role.OPERATOR_ADMIN),
        "other_fund_finance": lambda: member_of(FundFactory.create(), Role.FINANCE),
        "applicant": lambda: pending.application.applicant,
    }
    client.force_login(users[who]())

    response = client.get(action_url("bank_details_change", pending))

    assert response.status_code == expected
    assert pending.iban not in response.content.decode()
    assert not viewed_events().exists()


@pytest.mark.django_db
def test_the_change_page_of_another_funds_change_is_not_found(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    finance = member_of(FundFactory.create(), Role.FINANCE)
    client.force_login(finance)
    fund = FundRole.objects.get(user=finance).fund
    url = reverse("bank_details_change", kwargs={"slug": fund.slug, "change_id": pending.pk})

    assert client.get(url).status_code == 404
    assert not viewed_events().exists()


@pytest.mark.django_db
def test_the_change_page_sends_back_to_the_list_once_the_details_are_decided(
    client: Client,
) -> None:
    pending = BankDetailsChangeFactory.create()
    finance = member_of(pending.fund, Role.FINANCE)
    bank_details.verify_bank_details(actor=member_of(pending.fund, Role.FINANCE), change=pending)
    client.force_login(finance)

    response = client.get(action_url("bank_details_change", pending), follow=True)

    assert response.redirect_chain[-1][0] == list_url(pending.fund)
    assert "not waiting for verification" in response.content.decode()
    assert pending.iban not in response.content.decode()
    assert not viewed_events().exists()


@pytest.mark.django_db
def test_whoever_entered_the_details_sees_them_without_the_verification_forms(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    application = partner_application(iban=OTHER_IBAN)
    requested = requested_change(approved(application), django_capture_on_commit_callbacks)
    entering, verifying = (member_of(application.fund, Role.FINANCE) for _ in range(2))
    pending = entered(entering, requested)
    url = action_url("bank_details_change", pending)

    client.force_login(entering)
    own = " ".join(client.get(url).content.decode().split())
    client.force_login(verifying)
    other = " ".join(client.get(url).content.decode().split())

    assert "You entered them" in own
    assert action_url("bank_details_verify", pending) not in own
    assert f"Entered by {entering}: RIB e-mailed by the partner" in other
    assert application.partner is not None
    assert application.partner.name in other
    assert grouped(NEW_IBAN) in other
    assert action_url("bank_details_verify", pending) in other


@pytest.mark.django_db
def test_finance_verifies_from_the_change_page(client: Client) -> None:
    pending = BankDetailsChangeFactory.create()
    client.force_login(member_of(pending.fund, Role.FINANCE))
    client.get(action_url("bank_details_change", pending))

    response = client.post(action_url("bank_details_verify", pending), follow=True)

    assert response.redirect_chain[-1][0] == list_url(pending.fund)
    pending.refresh_from_db()
    assert pending.status == Status.VERIFIED


@pytest.mark.django_db
def test_the_change_page_uses_a_bounded_number_of_queries(
    client: Client, django_assert_max_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    application = partner_application()
    requested = requested_change(approved(application), django_capture_on_commit_callbacks)
    pending = entered(member_of(application.fund, Role.FINANCE), requested)
    client.force_login(member_of(application.fund, Role.FINANCE))

    with django_assert_max_num_queries(15):
        response = client.get(action_url("bank_details_change", pending))

    assert response.status_code == 200


@pytest.mark.django_db
def test_the_list_links_finance_to_each_changes_page_and_keeps_ibans_masked(
    client: Client,
) -> None:
    pending = BankDetailsChangeFactory.create()
    page_url = action_url("bank_details_change", pending)

    client.force_login(member_of(pending.fund, Role.FINANCE))
    finance_sees = client.get(list_url(pending.fund)).content.decode()
    client.force_login(member_of(pending.fund, Role.AUDITOR))
    auditor_sees = client.get(list_url(pending.fund)).content.decode()

    assert page_url in finance_sees
    assert page_url not in auditor_sees
    for text in (finance_sees, auditor_sees):
        assert f"•••• {pending.iban[-4:]}" in text
        assert pending.iban not in text
        assert grouped(pending.iban) not in text
    assert not viewed_events().exists()


def verified_by_finance(pending: BankDetailsChange, capture: Any) -> None:
    with capture(execute=True):
        bank_details.verify_bank_details(
            actor=member_of(pending.fund, Role.FINANCE), change=pending
        )


@pytest.mark.django_db
def test_the_applicant_is_e_mailed_the_last_four_characters_of_their_verified_account(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(iban=OTHER_IBAN, language="en")
    Fund.objects.filter(pk=application.fund_id).update(contact_email="aides@example.org")
    approved(application)
    pending = change(application)
    mail.outbox.clear()

    verified_by_finance(pending, django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    body = " ".join(message.body.split())
    assert message.to == [application.email]
    assert f"the bank account for your grant {application.reference} changed" in message.subject
    assert body.startswith("Hello Jean,")
    assert "changed to the account ending in 2606 (holder: Jean Dupont)" in body
    assert "If you did not ask for this, contact the fund at aides@example.org at once." in body
    for full in (NEW_IBAN, grouped(NEW_IBAN), OTHER_IBAN, grouped(OTHER_IBAN)):
        assert full not in message.body
    assert NEW_IBAN[-8:] not in body  # nothing before the last four characters


@pytest.mark.django_db
def test_the_verified_account_e_mail_is_in_the_applicants_language(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = applicant_application(language="fr")
    approved(application)
    pending = change(application)
    mail.outbox.clear()

    with translation.override("en"):
        verified_by_finance(pending, django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    assert message.body.startswith("Bonjour Jean,")


@pytest.mark.parametrize(
    ("contact_email", "expected"),
    [
        ("aides@example.org", "contact the fund at aides@example.org at once"),
        ("", "contact the fund at once, giving your reference"),
    ],
)
@pytest.mark.django_db
def test_a_partners_member_is_e_mailed_at_the_applications_address_once_entered_details_verified(
    django_capture_on_commit_callbacks: Any, contact_email: str, expected: str
) -> None:
    application = partner_application(language="en", email="member@example.org")
    Fund.objects.filter(pk=application.fund_id).update(contact_email=contact_email)
    requested = requested_change(approved(application), django_capture_on_commit_callbacks)
    pending = entered(
        member_of(application.fund, Role.FINANCE), requested, account_holder="Marie Curie"
    )
    mail.outbox.clear()

    verified_by_finance(pending, django_capture_on_commit_callbacks)

    (message,) = mail.outbox
    body = " ".join(message.body.split())
    assert message.to == ["member@example.org"]
    assert "ending in 2606 (holder: Marie Curie)" in body
    assert expected in body
    assert NEW_IBAN not in body


@pytest.mark.django_db
def test_no_e_mail_when_the_verification_is_refused(
    django_capture_on_commit_callbacks: Any,
) -> None:
    entering = UserFactory.create()
    pending = BankDetailsChangeFactory.create(submitted_by=entering)
    FundRoleFactory.create(fund=pending.fund, user=entering, role=Role.FINANCE)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(EnteredBySamePerson),
    ):
        bank_details.verify_bank_details(actor=entering, change=pending)

    assert mail.outbox == []


@pytest.mark.django_db
def test_the_e_mail_task_is_stored_in_the_verifications_transaction(
    settings: Any, monkeypatch: Any
) -> None:
    settings.TASKS = DATABASE_TASKS
    pending = BankDetailsChangeFactory.create(application=applicant_application(language="en"))

    bank_details.verify_bank_details(actor=member_of(pending.fund, Role.FINANCE), change=pending)

    # The test's transaction never commits: the task row was written inside it.
    stored = DBTaskResult.objects.get(task_path__endswith=".tell_applicant_bank_details_changed")
    assert stored.args_kwargs["args"] == [pending.pk]
    run_db_worker(inside_test_transaction=True, monkeypatch=monkeypatch)
    (message,) = mail.outbox
    assert message.to == [pending.application.email]


@pytest.mark.django_db
def test_the_e_mail_task_sends_nothing_for_details_not_verified() -> None:
    pending = BankDetailsChangeFactory.create()

    tasks.tell_applicant_bank_details_changed.call(pending.pk)

    assert mail.outbox == []
