"""Erasure on request: what goes, what the legal holds keep, and that nothing of the person is
left anywhere in the database but the held fields, the audit chain still whole."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from entraide.accounts.tests.factories import UserFactory
from entraide.applications import documents as document_store
from entraide.applications.models import Application, ApplicationDocument, ApplicationMessage
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core import crypto
from entraide.core.errors import PermissionDenied
from entraide.funds.models import Award, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.integrity.tests.factories import LinkFactory
from entraide.payments.models import Payment
from entraide.privacy import services
from entraide.privacy.models import ErasedApplication, ErasureRequest
from entraide.privacy.services import Outcome
from entraide.privacy.tests.factories import Life, member_of
from entraide.review.models import Decision
from entraide.review.tests.factories import FlagFactory

pytestmark = pytest.mark.django_db

FIRST, LAST = "Jeanne", "Dupontel-Quillard"
EMAIL = "jeanne.dupontel-quillard@example.org"


def person() -> Any:
    return UserFactory(email=EMAIL, first_name=FIRST, last_name=LAST)


def identity() -> dict[str, Any]:
    return {"first_name": FIRST, "last_name": LAST, "account_holder": f"{FIRST} {LAST}"}


def operator_request(application: Application, **fields: Any) -> ErasureRequest:
    admin = member_of(application.fund, FundRole.Role.OPERATOR_ADMIN)
    return services.record_erasure_request(
        actor=admin,
        fund=application.fund,
        reference=application.reference,
        requested_on=timezone.localdate(),
        channel=fields.get("channel", ErasureRequest.Channel.EMAIL),
    )


# -- what an erasure erases --------------------------------------------------------------------


def test_a_refused_application_loses_every_personal_field_and_keeps_its_figures(
    django_capture_on_commit_callbacks: Any,
) -> None:
    life = Life(FundFactory(), person(), **identity())
    life.ask_and_answer("Bonjour Jeanne, votre fiche de paie ?", "La voici, Jeanne Dupontel")
    life.reject("Vos revenus, Jeanne, dépassent le plafond.")
    application = life.refresh()
    files = list(ApplicationDocument.objects.filter(application=application))
    assert len(files) == 2
    assert all(document_store.path_of(f.stored_name).exists() for f in files)

    with django_capture_on_commit_callbacks(execute=True):
        request = operator_request(application)

    application = life.refresh()
    assert request.status == ErasureRequest.Status.DONE
    assert request.outcome[application.reference]["outcome"] == Outcome.ERASED
    assert (application.first_name, application.last_name, application.email) == ("", "", "")
    assert (application.iban, application.bic, application.account_holder) == ("", "", "")
    assert application.nir == f"ERASED{application.pk}"
    assert application.declared == {}
    assert (application.phone, application.address_line, application.city) == ("", "", "")
    assert application.birth_date == dt.date(1985, 1, 1)  # the year, for the age bands
    # What the fund's figures need stays.
    assert application.status == Application.Status.REJECTED
    assert application.reference
    assert application.submitted_at
    decision = Decision.objects.get(application=application)
    assert decision.reason == ""
    assert decision.outcome == "rejected"
    assert not ApplicationMessage.objects.filter(application=application).exclude(body="")
    assert not ApplicationDocument.objects.filter(application=application).exists()
    assert not any(document_store.path_of(f.stored_name).exists() for f in files)
    erased = ErasedApplication.objects.get(application=application)
    assert (erased.cause, erased.hold, erased.hold_until) == ("request", "", None)
    event = AuditEvent.objects.get(action="privacy.erased", object_id=str(application.pk))
    assert "first_name" in event.changes["erased"]
    assert event.changes["held"] == []
    assert FIRST not in str(event.changes)
    assert EMAIL not in str(event.changes)


def test_files_are_kept_when_the_erasure_is_rolled_back() -> None:
    """Without a commit, the files stay: the rows pointing at them were not deleted."""
    life = Life(FundFactory(), person(), **identity())
    life.reject("Non.")
    stored = ApplicationDocument.objects.get(application=life.application).stored_name
    operator_request(life.refresh())  # the test's transaction never commits
    assert document_store.path_of(stored).exists()


def test_a_paid_grant_keeps_what_accounting_needs_until_the_hold_ends(
    django_capture_on_commit_callbacks: Any,
) -> None:
    life = Life(FundFactory(), person(), **identity())
    life.approve()
    life.pay(django_capture_on_commit_callbacks)
    application = life.refresh()
    iban = application.iban

    request = operator_request(application)

    application = life.refresh()
    assert request.status == ErasureRequest.Status.DONE
    item = request.outcome[application.reference]
    assert item["outcome"] == Outcome.ERASED_EXCEPT_ACCOUNTING
    assert item["hold_until"] == f"{timezone.now().year + 10}-12-31"
    assert (application.first_name, application.email, application.nir[:6]) == ("", "", "ERASED")
    assert (application.iban, application.account_holder) == (iban, f"{FIRST} {LAST}")
    payment = Payment.objects.get(award__application=application)
    assert (payment.creditor_name, payment.iban) == (f"{FIRST} {LAST}", iban)
    assert payment.amount
    assert payment.end_to_end_id
    assert payment.batch.sent_at
    assert Award.objects.get(application=application).nir_index.startswith("erased:")

    # Ten years later, the retention task erases the held fields too.
    later = timezone.now().replace(year=timezone.now().year + 11)
    services.apply_retention_to_fund(life.fund, now=later)
    application = life.refresh()
    payment.refresh_from_db()
    assert (application.iban, application.account_holder) == ("", "")
    assert (payment.creditor_name, payment.iban) == ("", "")
    assert payment.amount == application.award.amount  # the figures stay
    assert ErasedApplication.objects.get(application=application).hold_ended_at == later
    assert AuditEvent.objects.filter(action="privacy.hold_ended").count() == 1


def test_an_application_under_investigation_is_held_and_the_requester_is_told() -> None:
    life = Life(FundFactory(), person(), **identity())
    life.reject("Non.")
    other = ApplicationFactory(fund=life.fund)
    link = LinkFactory(left=life.refresh(), right=other)  # flagged, to review

    request = operator_request(life.refresh())

    assert request.status == ErasureRequest.Status.OPEN
    outcome = request.outcome[life.application.reference]["outcome"]
    assert outcome == Outcome.HELD_INVESTIGATION
    with override("en"):
        assert "under investigation" in str(Outcome.LABELS[outcome])
    assert life.refresh().last_name == LAST
    assert not AuditEvent.objects.filter(action="privacy.erased").exists()

    # Once the link is decided, the daily task erases it and closes the request.
    link.status, link.decided_by, link.decided_at = "dismissed", UserFactory(), timezone.now()
    link.save()
    services.apply_retention_to_fund(life.fund)
    request.refresh_from_db()
    assert request.status == ErasureRequest.Status.DONE
    assert life.refresh().last_name == ""


def test_an_open_flag_holds_the_erasure_too() -> None:
    life = Life(FundFactory(), person(), **identity())
    FlagFactory(application=life.application)
    request = operator_request(life.refresh())
    assert request.outcome[life.application.reference]["outcome"] == Outcome.HELD_INVESTIGATION


def test_an_application_not_decided_yet_waits_for_its_decision() -> None:
    life = Life(FundFactory(), person(), **identity())
    request = operator_request(life.refresh())
    assert request.status == ErasureRequest.Status.OPEN
    assert request.outcome[life.application.reference]["outcome"] == Outcome.HELD_IN_PROGRESS

    life.reject("Non.")
    services.apply_retention_to_fund(life.fund)
    request.refresh_from_db()
    assert request.status == ErasureRequest.Status.DONE
    assert life.refresh().email == ""


def test_every_application_of_the_person_in_the_fund_is_erased_and_no_other() -> None:
    fund = FundFactory()
    life = Life(fund, person(), **identity())
    life.reject("Non.")
    # The same person through a partner (no account), with the same NIR, in another fund...
    elsewhere = ApplicationFactory(nir=life.application.nir, status=Application.Status.REJECTED)
    # ...and someone else in the same fund.
    stranger = ApplicationFactory(fund=fund, status=Application.Status.REJECTED)

    operator_request(life.refresh())

    assert life.refresh().first_name == ""
    elsewhere.refresh_from_db()
    stranger.refresh_from_db()
    assert elsewhere.first_name
    assert stranger.first_name


def test_erasing_twice_changes_nothing_more() -> None:
    life = Life(FundFactory(), person(), **identity())
    life.reject("Non.")
    operator_request(life.refresh())
    second = operator_request(life.refresh())
    assert second.outcome[life.application.reference]["outcome"] == Outcome.ALREADY_ERASED
    assert AuditEvent.objects.filter(action="privacy.erased").count() == 1


def test_only_the_operator_admin_records_a_request() -> None:
    life = Life(FundFactory(), person(), **identity())
    reviewer = member_of(life.fund, FundRole.Role.REVIEWER)
    with pytest.raises(PermissionDenied):
        services.record_erasure_request(
            actor=reviewer,
            fund=life.fund,
            reference=life.application.reference,
            requested_on=timezone.localdate(),
            channel="email",
        )


def test_a_reference_of_another_fund_is_refused_on_its_field() -> None:
    life = Life(FundFactory(), person(), **identity())
    other_fund = FundFactory()
    admin = member_of(other_fund, FundRole.Role.OPERATOR_ADMIN)
    with pytest.raises(services.UnknownApplication) as refused:
        services.record_erasure_request(
            actor=admin,
            fund=other_fund,
            reference=life.application.reference,
            requested_on=timezone.localdate(),
            channel="email",
        )
    assert refused.value.field == "reference"


# -- from the portal ---------------------------------------------------------------------------


def test_the_applicant_erases_a_refused_application_and_the_audit_names_no_one() -> None:
    applicant = person()
    life = Life(FundFactory(), applicant, **identity())
    life.reject("Non.")
    request = services.request_erasure_from_portal(actor=applicant, application=life.refresh())
    assert request.status == ErasureRequest.Status.DONE
    assert request.recorded_by is None
    assert life.refresh().last_name == ""
    for event in AuditEvent.objects.filter(action__startswith="privacy."):
        assert event.actor_id is None
        assert EMAIL not in event.actor_label + str(event.changes)
    asked = AuditEvent.objects.get(action="privacy.erasure_requested")
    assert asked.changes["account"] == applicant.pk


def test_the_applicant_cannot_erase_a_grant_from_the_portal(
    django_capture_on_commit_callbacks: Any,
) -> None:
    applicant = person()
    life = Life(FundFactory(), applicant, **identity())
    life.approve()
    with pytest.raises(services.GrantedApplication):
        services.request_erasure_from_portal(actor=applicant, application=life.refresh())
    assert not ErasureRequest.objects.exists()


# -- nothing left of the person ----------------------------------------------------------------

# The account is the person's login, not a fund's record: deleting it is another matter.
ACCOUNT_TABLES = {"accounts_user", "account_emailaddress"}
# What the audit chain holds of an applicant today, and cannot forget (it is never rewritten):
# (action, column). The submission's snapshot names the person, and the events of their own
# actions carry their account's e-mail as the actor. Shrink this as those events stop
# recording it; it must never grow.
KNOWN_AUDIT_LEAKS = {
    ("application.submitted", "changes"),
    ("application.submitted", "actor_label"),
    ("application.reply_received", "actor_label"),
    ("application.status_changed", "actor_label"),
    ("account.created", "changes"),
    ("account.created", "object_label"),
}


def _clear(value: str) -> str:
    """A value as the database holds it, and in clear when it is encrypted: data a key opens
    is still there."""
    if value.startswith("gAAAAA"):
        try:
            return f"{value} {crypto.decrypt_text(value)}"
        except (InvalidToken, ValueError, UnicodeDecodeError):
            return value
    return value


def text_cells() -> Iterator[tuple[str, str, int, str]]:
    """(table, column, row, text) for every text value of every table, decrypted."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            description = connection.introspection.get_table_description(cursor, table)
            columns = [column.name for column in description]
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            for number, row in enumerate(cursor.fetchall()):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    if isinstance(value, str) and value:
                        yield table, column, number, _clear(value)


def where(needles: dict[str, str]) -> dict[tuple[str, str], set[str]]:
    found: dict[tuple[str, str], set[str]] = {}
    for table, column, _row, text in text_cells():
        for name, needle in needles.items():
            if needle.lower() in text.lower():
                found.setdefault((table, column), set()).add(name)
    return found


def audit_leaks(needles: dict[str, str]) -> set[tuple[str, str]]:
    leaks = set()
    for event in AuditEvent.objects.all():
        for column in ("actor_label", "object_label", "changes"):
            text = str(getattr(event, column))
            if any(needle.lower() in text.lower() for needle in needles.values()):
                leaks.add((event.action, column))
    return leaks


def test_after_erasure_the_person_is_nowhere_but_in_the_held_fields_and_the_chain_holds(
    django_capture_on_commit_callbacks: Any,
) -> None:
    applicant = person()
    fund = FundFactory()
    with django_capture_on_commit_callbacks(execute=True):
        life = Life(fund, applicant, **identity())
    with django_capture_on_commit_callbacks(execute=True):
        life.ask_and_answer(f"Bonjour {FIRST}, votre fiche ?", f"Voici, {FIRST} {LAST}, {EMAIL}")
    with django_capture_on_commit_callbacks(execute=True):
        life.approve()
    life.pay(django_capture_on_commit_callbacks)
    application = life.refresh()
    needles = {
        "first name": FIRST,
        "last name": LAST,
        "email": EMAIL,
        "nir": application.nir,
        "iban": application.iban,
    }
    assert where(needles)  # the search finds the person before

    with django_capture_on_commit_callbacks(execute=True):
        operator_request(application)

    found = where(needles)
    held = {
        ("applications_application", "iban"),
        ("applications_application", "account_holder"),
        ("payments_payment", "creditor_name"),
        ("payments_payment", "iban"),
        ("payments_paymentfile", "content"),  # the file the bank was sent: a voucher
    }
    outside = {
        place: names
        for place, names in found.items()
        if place not in held and place[0] not in ACCOUNT_TABLES | {"audit_auditevent"}
    }
    assert outside == {}
    for place in held & set(found):
        assert found[place] <= {"first name", "last name", "iban"}
    assert audit_leaks(needles) <= KNOWN_AUDIT_LEAKS
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert '"ok": true' in out.getvalue()

    # The hold over, only the account and the audit chain's known events remain.
    later = timezone.now().replace(year=timezone.now().year + 11)
    services.apply_retention_to_fund(fund, now=later)
    found = where(needles)
    assert {
        place for place in found if place[0] not in ACCOUNT_TABLES | {"audit_auditevent"}
    } == set()
    call_command("audit", "verify", stdout=io.StringIO())
    # No document file of the person's is left in the store.
    assert not [p for p in Path(settings.DOCUMENTS_DIR).rglob("*") if p.is_file()]
