"""Factories of the privacy app, and a life of an application made through the services:
submitted with a document, a request for information answered, decided, paid."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications import services as application_services
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory, submission_data
from entraide.applications.tests.portal_factories import PDF
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.payments.models import PaymentBatch
from entraide.payments.tests.factories import PaymentSettingsFactory
from entraide.payments.tests.helpers import sent_batch
from entraide.privacy.models import ErasureRequest, FundRetentionPolicy
from entraide.review import services as review_services


class FundRetentionPolicyFactory(factory.django.DjangoModelFactory[FundRetentionPolicy]):
    class Meta:
        model = FundRetentionPolicy

    fund = factory.SubFactory(FundFactory)
    months_after_payment = 24
    months_after_refusal = 6
    months_after_closing = 3


class ErasureRequestFactory(factory.django.DjangoModelFactory[ErasureRequest]):
    class Meta:
        model = ErasureRequest

    reference = factory.Sequence(lambda n: f"E-TEST-{n:04d}")
    application = factory.SubFactory(ApplicationFactory)
    fund = factory.SelfAttribute("application.fund")
    channel = ErasureRequest.Channel.EMAIL
    requested_on = factory.LazyFunction(timezone.localdate)
    recorded_at = factory.LazyFunction(timezone.now)


def member_of(fund: Fund, role: str) -> User:
    user: User = UserFactory()
    FundRoleFactory(fund=fund, user=user, role=role)
    return user


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


class Life:
    """An application of ``person`` to ``fund`` made and handled through the services."""

    def __init__(self, fund: Fund, person: User, **identity: Any) -> None:
        self.fund, self.person = fund, person
        self.reviewer = member_of(fund, FundRole.Role.REVIEWER)
        draft = application_services.resume_draft(actor=person, fund=fund)
        application_services.add_draft_document(
            actor=person, draft=draft, requirement="payslip", upload=upload("payslip.pdf")
        )
        data = submission_data(email=person.email, **identity)
        self.application = application_services.submit_draft(
            actor=person, draft=draft, data=data, idempotency_key=str(uuid.uuid4())
        ).application

    def refresh(self) -> Application:
        self.application.refresh_from_db()
        return self.application

    def ask_and_answer(self, question: str, answer: str) -> None:
        application_services.send_staff_message(
            actor=self.reviewer,
            application=self.refresh(),
            body=question,
            request_information=True,
        )
        application_services.reply_to_staff(
            actor=self.person,
            application=self.refresh(),
            body=answer,
            uploads=[("payslip", upload("answer.pdf"))],
        )

    def reject(self, reason: str) -> None:
        review_services.reject_application(
            actor=self.reviewer, application=self.refresh(), reason=reason
        )

    def approve(self, amount: str = "500.00") -> None:
        review_services.approve_application(
            actor=self.reviewer, application=self.refresh(), amount=Decimal(amount)
        )

    def pay(self, capture: Any) -> PaymentBatch:
        if not hasattr(self.fund, "payment_settings"):
            PaymentSettingsFactory(fund=self.fund)
        preparer = member_of(self.fund, FundRole.Role.FINANCE)
        releaser = member_of(self.fund, FundRole.Role.FINANCE)
        return sent_batch(self.fund, preparer, releaser, capture)


def ago(**delta: Any) -> dt.datetime:
    return timezone.now() - dt.timedelta(**delta)
