from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application, ApplicationDraft
from entraide.applications.services import (
    MAX_DRAFT_DOCUMENTS,
    AlreadyApplied,
    AlreadyAppliedInProgramme,
    DraftGone,
    IdempotencyConflict,
    WindowClosed,
    add_draft_document,
    reply_to_staff,
    resume_draft,
    save_draft_step,
    send_staff_message,
    submit_application,
    submit_draft,
    transition_application,
)
from entraide.applications.signals import application_status_changed
from entraide.applications.submission import SubmissionInvalid
from entraide.applications.tests.factories import ApplicationFactory, submission_data
from entraide.applications.tests.portal_factories import PNG
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.tests.factories import PartnerFactory
from entraide.programmes.tests.factories import ProgrammeFactory
from entraide.rules.tests.factories import RuleSetVersionFactory, rules_with

pytestmark = pytest.mark.django_db
BIRTH = dt.date(1985, 3, 2)


def submit(actor: Any = None, fund: Any = None, key: str | None = None, **kwargs: Any) -> Any:
    return submit_application(
        actor=actor or UserFactory(),
        fund=fund or FundFactory(),
        idempotency_key=key or str(uuid.uuid4()),
        data=kwargs.pop("data", None) or submission_data(),
        **kwargs,
    )


def test_submission_is_recorded_audited_and_acknowledged_by_email(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit()
    application = submitted.application
    assert submitted.created
    assert application.status == Application.Status.RECEIVED
    assert application.reference.startswith("A-")
    assert application.status_changed_at == application.submitted_at
    event = AuditEvent.objects.get(action="application.submitted")
    assert event.changes["nir"]["after"].startswith("•••• ")
    assert application.nir not in str(event.changes)
    assert application.iban not in str(event.changes)
    assert len(mail.outbox) == 1
    assert application.reference in mail.outbox[0].subject


def test_identifiers_are_normalised_before_storage() -> None:
    values = submission_data()
    spaced_nir = " ".join([values.nir[:1], values.nir[1:3], values.nir[3:]])
    spaced_iban = " ".join(values.iban[i : i + 4] for i in range(0, len(values.iban), 4)).lower()
    application = submit(
        data=dataclasses.replace(
            values, nir=spaced_nir, iban=spaced_iban, email=" Camille.Martin@Example.ORG"
        )
    )
    assert application.application.nir == values.nir
    assert application.application.iban == values.iban
    # One address however it is typed: the duplicate checks compare it as stored.
    assert application.application.email == "camille.martin@example.org"


def test_retrying_a_submission_returns_the_first_application() -> None:
    fund, applicant = FundFactory(), UserFactory()
    first = submit(applicant, fund, key="same")
    again = submit(applicant, fund, key="same")
    assert first.application == again.application
    assert (first.created, again.created) == (True, False)
    assert Application.objects.count() == 1


def test_a_partner_retry_must_resend_the_same_request() -> None:
    fund, partner, member = FundFactory(), PartnerFactory(), submission_data()
    first = submit(None, fund, "k1", data=member, partner=partner, request_digest="a" * 64)
    again = submit(None, fund, "k1", data=member, partner=partner, request_digest="a" * 64)
    assert first.application == again.application
    assert first.application.applicant is None
    assert first.application.partner == partner
    with pytest.raises(IdempotencyConflict):
        submit(None, fund, "k1", data=member, partner=partner, request_digest="b" * 64)
    # Another partner's keys are its own: the same key is a new submission, here refused
    # because the member already applied.
    with pytest.raises(AlreadyApplied):
        submit(None, fund, "k1", data=member, partner=PartnerFactory(), request_digest="a" * 64)


def test_one_application_per_person_per_fund() -> None:
    fund, person = FundFactory(), submission_data()
    submit(fund=fund, data=person)
    with pytest.raises(AlreadyApplied):
        submit(fund=fund, data=person)
    # The same person may apply to another fund.
    assert submit(fund=FundFactory(), data=person).created


def test_one_application_per_person_per_programme_when_the_rules_say_so() -> None:
    programme = ProgrammeFactory()
    first, second = FundFactory(programme=programme), FundFactory(programme=programme)
    for fund in (first, second):
        RuleSetVersionFactory(
            rule_set__fund=fund,
            source=rules_with(**{"currency: EUR": "currency: EUR\none_per_person: programme"}),
        )
    person = submission_data(declared={"annual_resources": "9000", "days": 20})
    submit(fund=first, data=person)
    with pytest.raises(AlreadyAppliedInProgramme):
        submit(fund=second, data=person)


def test_every_problem_is_reported_with_its_field_path() -> None:
    with pytest.raises(SubmissionInvalid) as refused:
        submit(
            data=submission_data(
                nir="185037512345600",
                iban="FR76 3000 6000 0112 3456 7890 188",
                consent=False,
                first_name=" ",
                declared={"unknown": 1},
            )
        )
    paths = {problem.path for problem in refused.value.problems}
    assert paths == {
        "applicant.nir",
        "bank.iban",
        "consent",
        "applicant.first_name",
        "declared.unknown",
    }
    assert not Application.objects.exists()


def test_birth_date_must_match_the_nir() -> None:
    with pytest.raises(SubmissionInvalid) as refused:
        submit(data=submission_data(nir=submission_data().nir, birth_date=dt.date(1986, 3, 2)))
    assert [p.path for p in refused.value.problems] == ["applicant.birth_date"]


def test_answers_are_checked_against_the_rules_in_force() -> None:
    fund = FundFactory()
    RuleSetVersionFactory(rule_set__fund=fund)
    with pytest.raises(SubmissionInvalid) as refused:
        submit(fund=fund, data=submission_data(declared={"annual_resources": "lots", "days": 3}))
    assert [p.path for p in refused.value.problems] == ["declared.annual_resources"]
    application = submit(
        fund=fund, data=submission_data(declared={"annual_resources": "9000.5", "days": 3})
    ).application
    assert application.declared["annual_resources"] == "9000.50"


def test_submission_outside_the_window_is_refused() -> None:
    fund = FundFactory(opens_on=dt.date(2020, 4, 15), closes_on=dt.date(2020, 4, 30))
    with pytest.raises(WindowClosed) as refused:
        submit(fund=fund)
    assert "2020" in str(refused.value.message)


def test_status_changes_are_listed_stamped_and_signalled_after_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = submit().application
    seen: list[tuple[int, str]] = []

    def listener(**kwargs: Any) -> None:
        seen.append((kwargs["application_id"], kwargs["status"]))

    application_status_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            transition_application(actor=None, application=application, to_status="under_review")
            assert seen == []  # nothing is announced before the change is committed
        with pytest.raises(InvalidTransition), transaction.atomic():
            transition_application(actor=None, application=application, to_status="paid")
    finally:
        application_status_changed.disconnect(listener)
    application.refresh_from_db()
    assert application.status == "under_review"
    assert application.status_changed_at > application.submitted_at
    assert seen == [(application.pk, "under_review")]


def test_a_draft_is_submitted_with_its_documents_once() -> None:
    applicant, fund = UserFactory(), FundFactory()
    draft = resume_draft(actor=applicant, fund=fund)
    assert resume_draft(actor=applicant, fund=fund) == draft
    upload = SimpleUploadedFile("payslip.pdf", PNG, content_type="application/pdf")
    document = add_draft_document(actor=applicant, draft=draft, requirement="id", upload=upload)
    assert document.content_type == "image/png"  # the content decides, not the name
    with pytest.raises(SubmissionInvalid) as refused:
        submit_draft(
            actor=applicant,
            draft=draft,
            data=submission_data(),
            idempotency_key=str(draft.idempotency_key),
            required_documents=[("id", "Identity"), ("rib", "Bank details")],
        )
    assert [p.path for p in refused.value.problems] == ["documents.rib"]
    submitted = submit_draft(
        actor=applicant,
        draft=draft,
        data=submission_data(),
        idempotency_key=str(draft.idempotency_key),
        required_documents=[("id", "Identity")],
    )
    document.refresh_from_db()
    assert document.application == submitted.application
    assert not ApplicationDraft.objects.exists()
    # The same key from a second tab, once the draft is gone, finds the same application.
    again = submit_draft(
        actor=applicant,
        draft=draft,
        data=submission_data(),
        idempotency_key=str(draft.idempotency_key),
    )
    assert again.application == submitted.application
    assert not again.created


def test_someone_else_cannot_use_a_draft() -> None:
    draft = resume_draft(actor=UserFactory(), fund=FundFactory())
    upload = SimpleUploadedFile("a.png", PNG)
    with pytest.raises(PermissionDenied):
        add_draft_document(actor=UserFactory(), draft=draft, requirement="", upload=upload)


def test_asking_for_information_and_the_reply_move_the_application(
    django_capture_on_commit_callbacks: Any,
) -> None:
    application = ApplicationFactory()
    reviewer = FundRoleFactory(fund=application.fund, role=FundRole.Role.REVIEWER).user
    with django_capture_on_commit_callbacks(execute=True):
        send_staff_message(
            actor=reviewer,
            application=application,
            body="Pourriez-vous envoyer votre dernier bulletin de salaire ?",
            requested_documents=["payslip"],
        )
    application.refresh_from_db()
    assert application.status == Application.Status.INFO_REQUESTED
    assert len(mail.outbox) == 1
    assert "bulletin" not in mail.outbox[0].body  # the message itself is read in the portal
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_staff(
            actor=application.applicant,
            application=application,
            body="Voici le bulletin.",
            uploads=[("payslip", SimpleUploadedFile("bulletin.png", PNG))],
        )
    application.refresh_from_db()
    assert application.status == Application.Status.UNDER_REVIEW
    assert [d.requirement for d in reply.documents.all()] == ["payslip"]
    assert AuditEvent.objects.filter(action="application.reply_received").exists()


def test_only_deciding_roles_write_to_applicants_and_only_the_applicant_replies() -> None:
    application = ApplicationFactory()
    finance = FundRoleFactory(fund=application.fund, role=FundRole.Role.FINANCE).user
    with pytest.raises(PermissionDenied):
        send_staff_message(actor=finance, application=application, body="Bonjour")
    with pytest.raises(PermissionDenied):
        reply_to_staff(actor=UserFactory(), application=application, body="Bonjour")


def test_the_receipt_goes_even_when_the_evaluation_fails(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("evaluation crashed")

    monkeypatch.setattr("entraide.rules.services.evaluate_application", broken)
    fund = FundFactory()
    RuleSetVersionFactory(rule_set__fund=fund)
    with django_capture_on_commit_callbacks(execute=True):
        submit(fund=fund, data=submission_data(declared={"annual_resources": "9000", "days": 20}))
    assert len(mail.outbox) == 1


def test_a_step_saved_from_a_tab_after_the_draft_was_sent_says_so() -> None:
    applicant, fund = UserFactory(), FundFactory()
    draft = resume_draft(actor=applicant, fund=fund)
    stale = ApplicationDraft.objects.get(pk=draft.pk)
    submit_draft(actor=applicant, draft=draft, data=submission_data(), idempotency_key="tab-1")
    with pytest.raises(DraftGone):
        save_draft_step(
            actor=applicant, draft=stale, step="contact", values={"phone": "1"}, complete=True
        )


def test_a_draft_holds_a_bounded_number_of_documents() -> None:
    applicant = UserFactory()
    draft = resume_draft(actor=applicant, fund=FundFactory())
    for index in range(MAX_DRAFT_DOCUMENTS):
        add_draft_document(
            actor=applicant,
            draft=draft,
            requirement="",
            upload=SimpleUploadedFile(f"{index}.png", PNG),
        )
    with pytest.raises(ValidationFailed):
        add_draft_document(
            actor=applicant, draft=draft, requirement="", upload=SimpleUploadedFile("x.png", PNG)
        )
