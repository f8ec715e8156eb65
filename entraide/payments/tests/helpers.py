"""Helpers of the payments' tests: people, approved awards, a batch sent, a bank's report
(``status_report``, the demo's synthetic pain.002)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from lxml import etree

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.demo.synthetic import status_report
from entraide.funds import ledger
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundRoleFactory
from entraide.payments import services
from entraide.payments.models import PaymentBatch
from entraide.payments.services import Selection

DEBTOR_IBAN = "FR7630006000011234567890189"


def member_of(fund: Fund, role: str) -> User:
    user: User = UserFactory()
    FundRoleFactory(fund=fund, user=user, role=role)
    return user


def approved(fund: Fund, count: int, amount: str = "500.00") -> list[Award]:
    approver = member_of(fund, FundRole.Role.APPROVER)
    awards = []
    for _ in range(count):
        application = ApplicationFactory(fund=fund, status=Application.Status.APPROVED)
        with transaction.atomic():
            awards.append(
                ledger.place_award(
                    actor=approver, fund=fund, application=application, amount=Decimal(amount)
                )
            )
    return awards


def sent_batch(
    fund: Fund, preparer: User, releaser: User, capture: Any, selection: Selection | None = None
) -> PaymentBatch:
    batch = services.prepare_payment_batch(
        actor=preparer, fund=fund, selection=selection or Selection()
    )
    with capture(execute=True):  # the in-process worker generates the file
        services.release_payment_batch(actor=releaser, batch=batch)
    batch.refresh_from_db()
    assert batch.status == PaymentBatch.Status.READY
    return services.mark_batch_sent(actor=preparer, batch=batch)


def end_to_end_ids(content: bytes) -> list[str]:
    tree = etree.fromstring(content, etree.XMLParser(huge_tree=True))
    return [element.text or "" for element in tree.iter("{*}EndToEndId")]


__all__ = [
    "DEBTOR_IBAN",
    "approved",
    "end_to_end_ids",
    "member_of",
    "sent_batch",
    "status_report",
]
