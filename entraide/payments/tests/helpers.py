"""Helpers of the payments' tests: people, approved awards, a batch sent, a bank's report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from lxml import etree

from entraide.accounts.models import User
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
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


def status_report(
    original: str, transactions: list[tuple[str, str, str]], message_id: str = "STATUS-1"
) -> bytes:
    """A pain.002.001.03 as a bank sends it: (end-to-end id, status, reason code)."""
    items = "".join(
        f"""<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>{status}</TxSts>"""
        + (f"<StsRsnInf><Rsn><Cd>{code}</Cd></Rsn></StsRsnInf>" if code else "")
        + "</TxInfAndSts>"
        for e2e, status, code in transactions
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
<CstmrPmtStsRpt>
<GrpHdr><MsgId>{message_id}</MsgId><CreDtTm>2026-11-20T10:00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{original}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>{original}-1</OrgnlPmtInfId>{items}</OrgnlPmtInfAndSts>
</CstmrPmtStsRpt>
</Document>""".encode()


def end_to_end_ids(content: bytes) -> list[str]:
    tree = etree.fromstring(content, etree.XMLParser(huge_tree=True))
    return [element.text or "" for element in tree.iter("{*}EndToEndId")]
