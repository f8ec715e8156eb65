"""An approved run granted by the worker: a grant of the crew relief fund per payout (its
budget's waiting list beyond it), once whatever the retries; the crew member's e-mail with the
attestation; then payment like any fund's, and the e-mail of the payment."""

from __future__ import annotations

import re
from decimal import Decimal
from smtplib import SMTPRecipientsRefused
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from entraide.applications import services as application_services
from entraide.applications.models import Application
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition
from entraide.crew import relief
from entraide.crew.models import CrewMember, Payout, ReliefRun
from entraide.crew.tasks import award_run, tell_crew_member_paid
from entraide.crew.tests.relief_helpers import World
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.payments import services as payment_services
from entraide.payments.models import PaymentBatch, PaymentFile
from entraide.payments.services import Selection
from entraide.payments.tests.factories import PaymentSettingsFactory
from entraide.payments.tests.helpers import approved, member_of
from entraide.reporting.tests.helpers import pdf_text
from entraide.review import services as review_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return World()


def approved_run(world: World, capture: Any, *members: CrewMember) -> ReliefRun:
    """A run of the members' productions, proposed by one manager, approved by the other, and
    granted by the worker (run in-process after the commit)."""
    productions = list({member.production_id: member.production for member in members}.values())
    run = relief.propose_run(
        actor=world.manager, programme=world.programme, productions=productions
    )
    with capture(execute=True):
        relief.approve_run(actor=world.second, run=run)
    run.refresh_from_db()
    return run


def test_each_payout_becomes_a_grant_of_its_crew_relief_fund(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    paris = world.production("FR-001", title="Les Studios")
    gaffer = world.crew(
        paris, first_name="Zoé", last_name="Lambert", role="Gaffer", email="zoe@example.org"
    )

    run = approved_run(world, django_capture_on_commit_callbacks, gaffer)

    payout = Payout.objects.get(run=run)
    application = payout.application
    assert application is not None
    assert payout.status == Payout.Status.AWARDED
    assert (application.fund, application.status) == (world.france, Application.Status.APPROVED)
    assert (application.applicant, application.partner) == (None, None)
    assert (application.first_name, application.last_name, application.email) == (
        "Zoé",
        "Lambert",
        "zoe@example.org",
    )
    assert (application.iban, application.country, application.profession) == (
        gaffer.iban,
        "FR",
        Application.Profession.TECHNICIAN,
    )
    assert application.idempotency_key == f"crew:{payout.pk}"
    assert application.submitted_at == run.decided_at
    assert application.declared == {
        "crew": {
            "production": "FR-001",
            "title": "Les Studios",
            "role": "Gaffer",
            "run": run.reference,
        }
    }
    assert re.fullmatch(r"C[0-9A-F]{14}", application.nir)
    assert application.nir == relief.pseudonymous_nir(gaffer.person_key)
    award = Award.objects.get(application=application)
    assert (award.status, award.amount, award.currency) == (
        Award.Status.RESERVED,
        Decimal("2400.00"),
        "EUR",
    )
    assert (award.approved_by, award.proposed_by) == (world.second, world.manager)
    assert ledger.totals(world.france).left == Decimal("97600.00")
    assert run.awarded_at is not None
    finished = AuditEvent.objects.get(action="crew.run_awarded")
    assert finished.changes == {"run": run.reference, "awarded": 1, "waiting_for_budget": 0}


def test_granting_again_after_a_crash_grants_nothing_twice(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    paris = world.production("FR-001")
    members = [world.crew(paris) for _ in range(3)]
    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[paris])
    with django_capture_on_commit_callbacks(execute=False):
        relief.approve_run(actor=world.second, run=run)
    run.refresh_from_db()
    first = Payout.objects.get(run=run, crew_member=members[0])
    # A worker died after recording the first grant, before anything else was committed.
    with transaction.atomic():
        relief._record_grant(run, world.france, first)

    with django_capture_on_commit_callbacks(execute=True):
        award_run.enqueue(run.pk)
        award_run.enqueue(run.pk)  # and a second worker ran it too

    assert Application.objects.filter(fund=world.france).count() == 3
    assert Award.objects.filter(fund=world.france).count() == 3
    assert set(run.payouts.values_list("status", flat=True)) == {Payout.Status.AWARDED}
    assert AuditEvent.objects.filter(action="crew.run_awarded").count() == 1
    assert len(mail.outbox) == 3


def test_grants_beyond_the_budget_wait_for_it_and_the_waiting_list_funds_them(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    small = FundFactory.create(
        programme=world.programme,
        currency="EUR",
        kind=Fund.Kind.CREW_RELIEF,
        budget=Decimal("3000.00"),
    )
    Fund.objects.filter(pk=world.france.pk).update(kind=Fund.Kind.APPLICATIONS)
    paris = world.production("FR-001")
    first, second = world.crew(paris), world.crew(paris, language="en")

    with translation.override("en"):
        run = approved_run(world, django_capture_on_commit_callbacks, first, second)

    funded, waiting = (
        Payout.objects.get(run=run, crew_member=member).application for member in (first, second)
    )
    assert funded is not None
    assert waiting is not None
    assert funded.status == Application.Status.APPROVED
    assert waiting.status == Application.Status.WAITLISTED
    assert ledger.live_award(waiting).status == Award.Status.WAITLISTED
    told = next(message for message in mail.outbox if message.to == [waiting.email])
    assert "waits on its list" in told.body
    assert told.attachments == []
    event = AuditEvent.objects.get(action="crew.run_awarded")
    assert event.changes["waiting_for_budget"] == 1

    admin = FundRoleFactory.create(fund=small, role=FundRole.Role.OPERATOR_ADMIN).user
    ledger.credit_budget(actor=admin, fund=small, amount=Decimal("5000.00"))
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        review_services.fund_waitlist(actor=admin, fund=small)

    waiting.refresh_from_db()
    assert waiting.status == Application.Status.APPROVED
    # Not the applicants' "approved" message, which points to a portal the crew member has no
    # account in: they hear of it when it is paid.
    assert len(mail.outbox) == sent


def test_each_crew_member_is_told_in_their_language_with_the_attestation(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    paris = world.production("FR-001", title="Les Studios")
    english = world.crew(
        paris,
        first_name="Sam",
        last_name="Taylor",
        email="sam@example.org",
        language="en",
        iban="FR7630006000011234567890189",
    )
    french = world.crew(paris, first_name="Zoé", email="zoe@example.org", language="fr")
    silent = world.crew(paris, email="")

    run = approved_run(world, django_capture_on_commit_callbacks, english, french, silent)

    assert sorted(message.to[0] for message in mail.outbox) == [
        "sam@example.org",
        "zoe@example.org",
    ]
    told = next(message for message in mail.outbox if message.to == ["sam@example.org"])
    assert told.subject == "Streaming crews: a grant of €2,400.00 for Les Studios"
    body = " ".join(told.body.split())
    assert "Hello Sam," in body
    assert "Streaming crews grants you €2,400.00, paid by Crew relief — France" in body
    assert "The production Les Studios (FR-001) was suspended on" in body
    assert "your bank account ending in 0189" in body
    assert "You do not need to do anything" in body
    application = Payout.objects.get(run=run, crew_member=english).application
    assert application is not None
    assert application.reference in body
    (name, content, kind) = told.attachments[0]
    assert (name, kind) == (f"attestation-{application.reference}.pdf", "application/pdf")
    text = pdf_text(content)
    assert "Sam Taylor" in text
    assert "not taxable" in text
    french_told = next(message for message in mail.outbox if message.to == ["zoe@example.org"])
    assert "non imposable" in pdf_text(french_told.attachments[0][1])
    assert AuditEvent.objects.filter(action="attestation.issued").count() == 2


def test_only_a_crew_relief_fund_records_a_crew_grant(world: World) -> None:
    other = FundFactory.create(programme=world.programme)
    paris = world.production("FR-001")
    gaffer = world.crew(paris)

    with pytest.raises(InvalidTransition), transaction.atomic():
        application_services.record_crew_grant(
            actor=world.second,
            fund=other,
            idempotency_key="crew:1",
            nir=relief.pseudonymous_nir(gaffer.person_key),
            first_name=gaffer.first_name,
            last_name=gaffer.last_name,
            birth_date=gaffer.birth_date,
            email=gaffer.email,
            iban=gaffer.iban,
            bic=gaffer.bic,
            account_holder=gaffer.account_holder,
            language=gaffer.language,
            country="FR",
            declared={},
            submitted_at=gaffer.production.created_at,
        )


def released_batch(world: World, capture: Any, members: list[CrewMember]) -> PaymentBatch:
    """The members' grants, approved and granted, in a payment batch of the French crew relief
    fund released by a second person, its file built: ready to be marked sent."""
    approved_run(world, capture, *members)
    mail.outbox.clear()
    PaymentSettingsFactory.create(fund=world.france)
    preparer, releaser = (
        FundRoleFactory.create(fund=world.france, role=FundRole.Role.FINANCE).user for _ in range(2)
    )
    assert payment_services.payable_awards(world.france).count() == len(members)
    batch = payment_services.prepare_payment_batch(
        actor=preparer, fund=world.france, selection=Selection()
    )
    with capture(execute=True):  # the worker builds the file
        payment_services.release_payment_batch(actor=releaser, batch=batch)
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.READY
    return batch


def test_a_crew_relief_funds_grants_are_paid_like_any_awards_and_the_crew_told(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    paris = world.production("FR-001", title="Les Studios")
    members = [world.crew(paris, email=f"crew{n}@example.org", language="en") for n in range(2)]
    batch = released_batch(world, django_capture_on_commit_callbacks, members)
    content = bytes(PaymentFile.objects.get(batch=batch).content)
    assert members[0].iban.encode() in content
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.mark_batch_sent(actor=batch.prepared_by, batch=batch)

    applications = Application.objects.filter(crew_payout__crew_member__in=members)
    assert set(applications.values_list("status", flat=True)) == {Application.Status.PAID}
    assert ledger.totals(world.france).paid == Decimal("4800.00")
    assert sorted(message.to[0] for message in mail.outbox) == [
        "crew0@example.org",
        "crew1@example.org",
    ]
    told = mail.outbox[0]
    assert told.subject == "Streaming crews: your grant of €2,400.00 is paid"
    assert "has been sent by Crew relief — France to your bank account ending in" in " ".join(
        told.body.split()
    )
    assert "Date of payment" in pdf_text(told.attachments[0][1])


def test_an_email_of_payment_that_fails_stops_no_other_and_is_sent_again_alone(
    world: World, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    paris = world.production("FR-001")
    members = [world.crew(paris, email=f"crew{n}@example.org") for n in range(3)]
    batch = released_batch(world, django_capture_on_commit_callbacks, members)
    send = EmailMessage.send

    def refused_for_the_first(message: EmailMessage, fail_silently: bool = False) -> int:
        if message.to == ["crew0@example.org"]:
            raise SMTPRecipientsRefused({"crew0@example.org": (550, b"No such mailbox")})
        return send(message, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", refused_for_the_first)
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.mark_batch_sent(actor=batch.prepared_by, batch=batch)

    assert sorted(message.to[0] for message in mail.outbox) == [
        "crew1@example.org",
        "crew2@example.org",
    ]
    monkeypatch.setattr(EmailMessage, "send", send)
    failed = Payout.objects.get(crew_member=members[0])
    tell_crew_member_paid.call(failed.pk)  # the failed task, run again
    assert sorted(message.to[0] for message in mail.outbox) == [
        "crew0@example.org",
        "crew1@example.org",
        "crew2@example.org",
    ]


def test_an_earlier_grant_is_found_through_an_index_not_among_all_the_funds_applications(
    world: World,
) -> None:
    # Each grant of a run looks for an earlier one: reading every application of the fund
    # would make granting 50,000 payouts quadratic.
    if connection.vendor != "sqlite":
        pytest.skip("reads SQLite's query plan")
    paris = world.production("FR-001")
    world.crew(paris)
    run = relief.propose_run(actor=world.manager, programme=world.programme, productions=[paris])
    run = relief.approve_run(actor=world.second, run=run)  # its task is not run
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        relief._record_grant(run, world.france, run.payouts.select_related().get())

    lookup = next(
        query["sql"]
        for query in queries
        if query["sql"].startswith('SELECT "applications_application"')
    )
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {lookup}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "(fund_id=? AND nir_index=?)" in plan, plan


def test_applicants_of_a_fund_taking_applications_get_no_crew_email_when_paid(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    fund = FundFactory.create()
    PaymentSettingsFactory.create(fund=fund)
    approved(fund, 1)
    preparer, releaser = member_of(fund, "finance"), member_of(fund, "finance")
    batch = payment_services.prepare_payment_batch(actor=preparer, fund=fund, selection=Selection())
    with django_capture_on_commit_callbacks(execute=True):
        payment_services.release_payment_batch(actor=releaser, batch=batch)
    batch.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        payment_services.mark_batch_sent(actor=preparer, batch=batch)

    assert callbacks == []
    assert mail.outbox == []
