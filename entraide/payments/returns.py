"""Reading what a bank says about the fund's transfers: a pain.002 payment status report or a
camt.054 debit/credit notification, turned into one status per transfer, found by its
end-to-end identifier.

Pure: no database. :func:`parse_bank_return` only reads the file; applying its statuses to the
payments is the service's work.

The message is recognised by its root namespace (any version of pain.002.001 or camt.054.001;
written for pain.002.001.03 and .10, camt.054.001.02 and .08) and read by local names, so a
bank's own prefixes or a newer version do not matter. The parser never loads a DTD, never
expands an entity and never goes to the network; a file that declares a DOCTYPE is refused
outright, since bank files never do.

What cannot be read in one transaction (no end-to-end identifier, an amount that is not one, a
status we do not know) becomes a :class:`Problem` with its line and path; the rest is still read.
Statuses come in the order of the file: when one transfer appears twice (debited, then returned
in a later entry of the same notification), the later one is the latest news.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from lxml import etree

from entraide.core.errors import DomainError
from entraide.payments import reasons

PAIN_002 = "pain.002"  # BankReturn.Kind values
CAMT_054 = "camt.054"

NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:(?P<kind>pain\.002|camt\.054)\.001\.\d+")
MESSAGE_ELEMENT = {PAIN_002: "CstmrPmtStsRpt", CAMT_054: "BkToCstmrDbtCdtNtfctn"}
NOT_PROVIDED = "NOTPROVIDED"  # what a bank writes when the sender gave no end-to-end id
AMOUNT = re.compile(r"\d{1,18}(\.\d{1,5})?")  # ISO 20022 amounts: 18 digits, 5 decimals at most
CURRENCY = re.compile(r"[A-Z]{3}")
_Found = tuple[etree._Element | None, str]  # an element looked for (None: absent), and its path


class Outcome(StrEnum):
    """What happened to a transfer, as ``Payment.Status`` names it."""

    CONFIRMED = "confirmed"
    FAILED = "failed"
    PENDING = "pending"


REJECTED = "RJCT"
PARTIALLY_ACCEPTED = "PART"  # only said of a group or block: its transactions say the rest
TRANSACTION_OUTCOMES = {
    "ACCC": Outcome.CONFIRMED,
    "ACCP": Outcome.CONFIRMED,
    "ACFC": Outcome.CONFIRMED,
    "ACSC": Outcome.CONFIRMED,
    "ACSP": Outcome.CONFIRMED,
    "ACTC": Outcome.CONFIRMED,
    "ACWC": Outcome.CONFIRMED,
    "ACWP": Outcome.CONFIRMED,
    "RJCT": Outcome.FAILED,
    "CANC": Outcome.FAILED,  # cancelled at the fund's request: no money left
    "PDNG": Outcome.PENDING,
    "RCVD": Outcome.PENDING,
}
BOOKED = "BOOK"
DEBIT = "DBIT"
CREDIT = "CRDT"
RETURN_SUBFAMILY = "RRTN"  # bank transaction code PMNT/ICDT/RRTN: a transfer paid back


class InvalidBankReturn(DomainError):
    code = "invalid_bank_return"
    default_message = _(
        "The file is neither a payment status report (pain.002) nor a debit/credit "
        "notification (camt.054)."
    )


@dataclass(frozen=True)
class TransactionStatus:
    end_to_end_id: str
    outcome: Outcome
    reason_code: str  # "" when none
    reason_detail: str  # the bank's AddtlInf text, "" when none
    amount: Decimal | None
    currency: str  # "" when the file gives no amount
    line: int  # of the transaction's element


@dataclass(frozen=True)
class Problem:
    line: int | None
    path: str
    reason: str


@dataclass(frozen=True)
class Rejection:
    """A pain.002 rejection of a whole original message, or of one payment information block
    of it: every transaction in it failed, whether the report lists them or not."""

    original_message_id: str
    payment_information_id: str  # "" when the whole message was rejected
    reason_code: str
    reason_detail: str
    line: int

    def for_transaction(self, end_to_end_id: str) -> TransactionStatus:
        """The failure of a transaction of the rejected message that the report does not list."""
        return TransactionStatus(
            end_to_end_id=end_to_end_id,
            outcome=Outcome.FAILED,
            reason_code=self.reason_code,
            reason_detail=self.reason_detail,
            amount=None,
            currency="",
            line=self.line,
        )


@dataclass
class ParsedReturn:
    kind: str  # PAIN_002 or CAMT_054
    message_id: str
    statuses: list[TransactionStatus]
    problems: list[Problem]
    original_message_id: str = ""  # pain.002: the MsgId of the fund's file it reports on
    rejections: list[Rejection] = field(default_factory=list)
    # Every end-to-end id the report speaks of, with a usable status or not (a contradiction
    # is a problem): a rejection of their whole message or block does not speak for them.
    mentioned: set[str] = field(default_factory=set)

    @property
    def group_rejection(self) -> Rejection | None:
        """The rejection of the whole original message, if the bank rejected it."""
        return next((r for r in self.rejections if not r.payment_information_id), None)


def parse_bank_return(content: bytes) -> ParsedReturn:
    """Read a pain.002 or camt.054 file; raise :class:`InvalidBankReturn` for anything else."""
    root = _parse_xml(content)
    match = NAMESPACE.fullmatch(etree.QName(root).namespace or "")
    if match is None:
        raise InvalidBankReturn
    kind = match["kind"]
    message = _child(root, MESSAGE_ELEMENT[kind])
    if message is None:
        raise InvalidBankReturn(
            _("The file has the namespace of a %(kind)s message but no %(element)s in it.")
            % {"kind": kind, "element": MESSAGE_ELEMENT[kind]}
        )
    path = f"/{_local(root)}/{_local(message)}"
    parsed = ParsedReturn(
        kind=kind, message_id=_text(message, "GrpHdr", "MsgId"), statuses=[], problems=[]
    )
    if not parsed.message_id:
        parsed.problems.append(
            Problem(
                _line(message),
                f"{path}/GrpHdr/MsgId",
                gettext("The file has no message identifier."),
            )
        )
    if kind == PAIN_002:
        _read_status_report(message, path, parsed)
    else:
        _read_notification(message, path, parsed)
    return parsed


def _parse_xml(content: bytes) -> etree._Element:
    if not content.strip():
        raise InvalidBankReturn(_("The file is empty."))
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise InvalidBankReturn(
            _("The file is not well-formed XML (first error at line %(line)s).")
            % {"line": error.lineno}
        ) from error
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs do not know DocInfo.doctype
    if docinfo.doctype:
        raise InvalidBankReturn(
            _("The file declares a document type (DOCTYPE), which bank files never do.")
        )
    return root


# -- pain.002 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Status:
    """A status as one level of a pain.002 gives it (the group, a block, a transaction)."""

    code: str
    reason_code: str
    reason_detail: str
    line: int


class _Contradiction(Exception):
    """A transaction accepted in a block or message that the bank rejected."""


def _read_status_report(report: etree._Element, path: str, parsed: ParsedReturn) -> None:
    group = _child(report, "OrgnlGrpInfAndSts")
    group_status = None
    if group is None:
        parsed.problems.append(
            Problem(
                _line(report),
                f"{path}/OrgnlGrpInfAndSts",
                gettext("The report does not say which message of the fund it answers."),
            )
        )
    else:
        parsed.original_message_id = _text(group, "OrgnlMsgId")
        group_status = _status(group, "GrpSts")
    if group_status is not None and group_status.code == REJECTED:
        parsed.rejections.append(_rejection(parsed.original_message_id, "", group_status))
    for block, block_path in _numbered(report, "OrgnlPmtInfAndSts", path):
        block_status = _status(block, "PmtInfSts")
        transactions = list(_numbered(block, "TxInfAndSts", block_path))
        if block_status is not None and block_status.code == REJECTED:
            rejection = _rejection(
                parsed.original_message_id, _text(block, "OrgnlPmtInfId"), block_status
            )
            parsed.rejections.append(rejection)
        for transaction, transaction_path in transactions:
            _read_transaction_status(
                transaction, transaction_path, (block_status, group_status), parsed
            )
    # pain.002.001.02 and some banks' reports list transactions right under the report.
    for transaction, transaction_path in _numbered(report, "TxInfAndSts", path):
        _read_transaction_status(transaction, transaction_path, (group_status,), parsed)


def _read_transaction_status(
    transaction: etree._Element,
    path: str,
    enclosing: tuple[_Status | None, ...],
    parsed: ParsedReturn,
) -> None:
    line = _line(transaction)
    if end_to_end_id := _text(transaction, "OrgnlEndToEndId"):
        parsed.mentioned.add(end_to_end_id)
    try:
        status = _effective_status(_status(transaction, "TxSts"), enclosing)
    except _Contradiction:
        parsed.problems.append(
            Problem(
                line,
                f"{path}/TxSts",
                gettext(
                    "The transaction is said to be accepted in a message or block the bank "
                    "rejected: ask the bank which is true."
                ),
            )
        )
        return
    if status is None:
        parsed.problems.append(
            Problem(line, f"{path}/TxSts", gettext("The bank gives no status for the transaction."))
        )
        return
    outcome = TRANSACTION_OUTCOMES.get(status.code)
    if outcome is None:
        parsed.problems.append(
            Problem(
                line,
                f"{path}/TxSts",
                gettext("The status %(status)s is not one we know.") % {"status": status.code},
            )
        )
        return
    _add_status(
        parsed,
        transaction,
        path,
        end_to_end_id=_found(transaction, path, "OrgnlEndToEndId"),
        amount=_found(transaction, path, "OrgnlTxRef", "Amt", "InstdAmt"),
        outcome=outcome,
        reason_code=status.reason_code,
        reason_detail=status.reason_detail,
    )


def _effective_status(own: _Status | None, enclosing: tuple[_Status | None, ...]) -> _Status | None:
    """The transaction's own status, or the one it inherits from its block or group (the
    nearest first); a rejection of the block or the group rejects every transaction in it."""
    rejection = next((s for s in enclosing if s is not None and s.code == REJECTED), None)
    if own is not None:
        if rejection is None:
            return own
        if own.code != REJECTED:
            raise _Contradiction
        return (
            own
            if own.reason_code
            else replace(
                own, reason_code=rejection.reason_code, reason_detail=rejection.reason_detail
            )
        )
    if rejection is not None:
        return rejection
    return next((s for s in enclosing if s is not None and s.code != PARTIALLY_ACCEPTED), None)


def _status(element: etree._Element, status_name: str) -> _Status | None:
    code = _text(element, status_name)
    if not code:
        return None
    reason_code = ""
    details = []
    for information in _children(element, "StsRsnInf"):
        reason_code = (
            reason_code or _text(information, "Rsn", "Cd") or _text(information, "Rsn", "Prtry")
        )
        details += [_clean(line.text) for line in _children(information, "AddtlInf")]
    return _Status(
        code=code.upper(),
        reason_code=reason_code,
        reason_detail=" ".join(detail for detail in details if detail),
        line=_line(element),
    )


def _rejection(original_message_id: str, block_id: str, status: _Status) -> Rejection:
    return Rejection(
        original_message_id=original_message_id,
        payment_information_id=block_id,
        reason_code=status.reason_code,
        reason_detail=status.reason_detail,
        line=status.line,
    )


def _reason_text(code: str, detail: str) -> str:
    text = f"{code} – {reasons.explain(code)}" if code else reasons.explain(code)
    return f"{text} {detail}" if detail else text


# -- camt.054 ----------------------------------------------------------------------------------


def _read_notification(message: etree._Element, path: str, parsed: ParsedReturn) -> None:
    for notification, notification_path in _numbered(message, "Ntfctn", path):
        for entry, entry_path in _numbered(notification, "Ntry", notification_path):
            _read_entry(entry, entry_path, parsed)


def _read_entry(entry: etree._Element, path: str, parsed: ParsedReturn) -> None:
    status = _entry_status(entry)
    if not status:
        parsed.problems.append(
            Problem(_line(entry), f"{path}/Sts", gettext("The entry has no status."))
        )
        return
    reversal = _text(entry, "RvslInd").lower() in {"true", "1"}
    details = [
        (transaction, transaction_path)
        for entry_details, details_path in _numbered(entry, "NtryDtls", path)
        for transaction, transaction_path in _numbered(entry_details, "TxDtls", details_path)
    ]
    if not details:
        concerns_transfers = _is_reversed_credit(entry, entry, reversal) or (
            _entry_outcome(entry, entry, status, reversal) is not None
        )
        if concerns_transfers:
            parsed.problems.append(
                Problem(
                    _line(entry),
                    f"{path}/NtryDtls",
                    gettext(
                        "The entry has no transaction details, so the transfers in it cannot "
                        "be told apart."
                    ),
                )
            )
        return
    for transaction, transaction_path in details:
        if _is_reversed_credit(entry, transaction, reversal):
            parsed.problems.append(
                Problem(
                    _line(transaction),
                    transaction_path,
                    gettext(
                        "The entry reverses an earlier credit: ask the bank what became of "
                        "the transfer."
                    ),
                )
            )
            continue
        outcome = _entry_outcome(entry, transaction, status, reversal)
        if outcome is None:
            continue  # money the fund received, not one of its transfers
        amount = _found(transaction, transaction_path, "Amt")
        if amount[0] is None:
            amount = _found(transaction, transaction_path, "AmtDtls", "TxAmt", "Amt")
        if amount[0] is None and len(details) == 1:
            amount = _found(entry, path, "Amt")  # the entry's amount is this transfer's alone
        return_information = _child(transaction, "RtrInf")
        _add_status(
            parsed,
            transaction,
            transaction_path,
            end_to_end_id=_found(transaction, transaction_path, "Refs", "EndToEndId"),
            amount=amount,
            outcome=outcome,
            reason_code=_return_reason(return_information),
            reason_detail=_return_detail(return_information),
        )


def _entry_status(entry: etree._Element) -> str:
    status = _child(entry, "Sts")
    if status is None:
        return ""
    # camt.054.001.02 writes <Sts>BOOK</Sts>; later versions <Sts><Cd>BOOK</Cd></Sts>.
    return (_text(status, "Cd") or _text(status, "Prtry") or _clean(status.text)).upper()


def _direction(entry: etree._Element, scope: etree._Element) -> str:
    return _text(scope, "CdtDbtInd") or _text(entry, "CdtDbtInd")


def _is_returned(entry: etree._Element, scope: etree._Element) -> bool:
    return _child(scope, "RtrInf") is not None or RETURN_SUBFAMILY in {
        _text(scope, "BkTxCd", "Domn", "Fmly", "SubFmlyCd"),
        _text(entry, "BkTxCd", "Domn", "Fmly", "SubFmlyCd"),
    }


def _is_reversed_credit(entry: etree._Element, scope: etree._Element, reversal: bool) -> bool:
    """A debit that reverses a credit, perhaps a return the bank took back: unclear."""
    return reversal and _direction(entry, scope) == DEBIT


def _entry_outcome(
    entry: etree._Element, scope: etree._Element, status: str, reversal: bool
) -> Outcome | None:
    """A debit is a transfer made; a credit that returns or reverses one is a transfer failed;
    other credits, and debits sending back money the fund received, are not its transfers."""
    direction = _direction(entry, scope)
    returned = _is_returned(entry, scope)
    if direction == DEBIT and not returned:
        final = Outcome.CONFIRMED
    elif direction == CREDIT and (returned or reversal):
        final = Outcome.FAILED
    else:
        return None
    return final if status == BOOKED else Outcome.PENDING


def _return_reason(information: etree._Element | None) -> str:
    if information is None:
        return ""
    return _text(information, "Rsn", "Cd") or _text(information, "Rsn", "Prtry")


def _return_detail(information: etree._Element | None) -> str:
    if information is None:
        return ""
    details = (_clean(line.text) for line in _children(information, "AddtlInf"))
    return " ".join(detail for detail in details if detail)


# -- both --------------------------------------------------------------------------------------


def _add_status(
    parsed: ParsedReturn,
    transaction: etree._Element,
    path: str,
    *,
    end_to_end_id: _Found,
    amount: _Found,
    outcome: Outcome,
    reason_code: str,
    reason_detail: str,
) -> None:
    """Add the transaction's status, or the problem that keeps it from being matched."""
    line = _line(transaction)
    id_element, id_path = end_to_end_id
    identifier = _clean(id_element.text) if id_element is not None else ""
    if not identifier:
        parsed.problems.append(
            Problem(
                line,
                id_path,
                gettext(
                    "The transaction has no end-to-end identifier, so it cannot be matched to "
                    "a payment."
                ),
            )
        )
        return
    if identifier.upper() == NOT_PROVIDED:
        parsed.problems.append(
            Problem(
                line,
                id_path,
                gettext(
                    "The transaction's end-to-end identifier is NOTPROVIDED, so it cannot be "
                    "matched to a payment."
                ),
            )
        )
        return
    value: Decimal | None = None
    currency = ""
    amount_element, amount_path = amount
    if amount_element is not None:
        text = _clean(amount_element.text)
        currency = (amount_element.get("Ccy") or "").strip()
        if not AMOUNT.fullmatch(text):
            parsed.problems.append(
                Problem(
                    _line(amount_element),
                    amount_path,
                    gettext("“%(value)s” is not an amount (transaction %(id)s).")
                    % {"value": text, "id": identifier},
                )
            )
            return
        if not CURRENCY.fullmatch(currency):
            parsed.problems.append(
                Problem(
                    _line(amount_element),
                    amount_path,
                    gettext("The amount has no valid currency (transaction %(id)s).")
                    % {"id": identifier},
                )
            )
            return
        value = Decimal(text)
    parsed.statuses.append(
        TransactionStatus(
            end_to_end_id=identifier,
            outcome=outcome,
            reason_code=reason_code,
            reason_detail=reason_detail,
            amount=value,
            currency=currency,
            line=line,
        )
    )


def _line(element: etree._Element) -> int:
    return cast(int | None, element.sourceline) or 0  # lxml-stubs leave sourceline untyped


def _local(element: etree._Element) -> str:
    return str(element.tag).rpartition("}")[2]


def _children(element: etree._Element, name: str) -> Iterator[etree._Element]:
    return (child for child in element.iterchildren(tag=etree.Element) if _local(child) == name)


def _numbered(
    element: etree._Element, name: str, path: str
) -> Iterator[tuple[etree._Element, str]]:
    """The children called ``name``, each with its path (1-based position, as XPath counts)."""
    for position, child in enumerate(_children(element, name), start=1):
        yield child, f"{path}/{name}[{position}]"


def _child(element: etree._Element, *names: str) -> etree._Element | None:
    found: etree._Element | None = element
    for name in names:
        found = next(_children(found, name), None) if found is not None else None
    return found


def _found(element: etree._Element, path: str, *names: str) -> _Found:
    """The descendant at ``names`` (None when absent) with its path."""
    return _child(element, *names), "/".join((path, *names))


def _text(element: etree._Element, *names: str) -> str:
    found = _child(element, *names)
    return _clean(found.text) if found is not None else ""


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())
