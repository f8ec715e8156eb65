"""The payment files of a batch: SEPA credit transfers (pain.001) and the CSV some banks take for
bulk uploads outside SEPA.

Pure: a batch's header and transfers in, the file's bytes out; nothing is read from the
database. The same input always gives the same bytes, so a file generated again is the file the
bank already has.

The SEPA file is written with ``lxml.etree.xmlfile`` rather than sepaxml: sepaxml takes 6 to 9
s here to build 100,000 transfers before any validation, where this module writes and validates
them in about 2.3 s (``bench/payments.py``); and sepaxml's file would need rewriting to be
deterministic and complete (a random MsgId and PmtInfId, ``datetime.now()`` as CreDtTm, no
InitgPty/Id, the debtor's name as the initiating party's). Every file is validated against the
ISO 20022 schema kept in ``schemas/``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from lxml import etree
from lxml.builder import ElementMaker
from text_unidecode import unidecode

from entraide.core.errors import DomainError, ValidationFailed
from entraide.core.spreadsheets import spreadsheet_cell

from .models import SEPA_FORMATS, FileFormat

SCHEMAS = Path(__file__).resolve().parent / "schemas"
NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:{}"
# The EPC's limits for a SEPA credit transfer (a name: 70 characters, the schema allows 140).
NAME_LENGTH = 70
REMITTANCE_LENGTH = 140
IDENTIFIER_LENGTH = 35
SEPA_CURRENCY = "EUR"
MAX_AMOUNT = Decimal("999999999.99")
CENT = Decimal("0.01")
# The Latin character set every SEPA bank must accept (EPC's implementation guidelines).
_OUTSIDE_SEPA = re.compile(r"[^A-Za-z0-9/?:().,'+ -]+")


@dataclass(frozen=True, slots=True)
class Debtor:
    """The fund's account the money leaves from, as its :class:`PaymentSettings` say."""

    name: str
    iban: str
    bic: str
    initiating_party: str
    initiating_party_id: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """One payment of the batch."""

    end_to_end_id: str
    amount: Decimal
    currency: str
    creditor_name: str
    iban: str
    bic: str
    remittance: str


@dataclass(frozen=True, slots=True)
class FileHeader:
    message_id: str  # the batch's reference
    created_at: dt.datetime  # aware: the batch's release
    execution_date: dt.date
    debtor: Debtor
    currency: str


class InvalidPaymentFile(DomainError):
    code = "invalid_payment_file"
    default_message = _("The payment file is not valid.")


# -- SEPA --------------------------------------------------------------------------------------


def sepa_text(text: str, limit: int) -> str:
    """``text`` in SEPA's Latin character set, at most ``limit`` characters: accents and other
    scripts transliterated, other signs turned into spaces, spaces collapsed."""
    if not text.isascii():
        text = unidecode(text)
    return " ".join(_OUTSIDE_SEPA.sub(" ", text).split())[:limit].rstrip()


def build_sepa(header: FileHeader, transfers: Iterable[Transfer], file_format: str) -> bytes:
    """The pain.001 credit transfer file of a batch, validated against its schema.

    One payment information block, named by the message id, holds every transfer. Names and
    payment details are made to fit SEPA (transliterated, truncated); identifiers, amounts and
    currencies that do not fit are refused with :class:`InvalidPaymentFile`.
    """
    if file_format not in SEPA_FORMATS:
        raise ValueError(f"Not a SEPA file format: {file_format!r}")
    if header.created_at.tzinfo is None:
        raise ValueError("FileHeader.created_at must be timezone-aware")
    if header.currency != SEPA_CURRENCY:
        raise InvalidPaymentFile(
            gettext("SEPA credit transfers are in euros; this batch is in %(currency)s.")
            % {"currency": header.currency}
        )
    if not _is_identifier(header.message_id):
        raise InvalidPaymentFile(_not_an_identifier(gettext("The message id"), header.message_id))
    party_id = header.debtor.initiating_party_id
    if party_id and not _is_identifier(party_id):
        raise InvalidPaymentFile(_not_an_identifier(gettext("The initiating party id"), party_id))
    rows = _sepa_rows(transfers, header.currency)
    xml = _write_pain001(header, rows, file_format)
    validate_sepa(xml, file_format)
    return xml


# A BIC as both schemas accept it: a test BIC ("…1…" in place 7, e.g. BNPAFR1P) or a malformed
# one from an old registry is left out rather than refuse the file (SEPA needs the IBAN only).
_SCHEMA_BIC = re.compile(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?")

# One transfer ready to write: end-to-end id, amount, BIC, name, IBAN, payment details.
_Row = tuple[str, str, str, str, str, str]


def _sepa_rows(transfers: Iterable[Transfer], currency: str) -> list[_Row]:
    rows: list[_Row] = []
    seen: set[str] = set()
    for position, transfer in enumerate(transfers, start=1):
        e2e_id = transfer.end_to_end_id
        name = sepa_text(transfer.creditor_name, NAME_LENGTH)
        amount = _amount_text(transfer.amount)
        problem = None
        if not _is_identifier(e2e_id):
            problem = _not_an_identifier(gettext("The end-to-end id"), e2e_id)
        elif e2e_id in seen:
            # A bank's return names a transfer by this id alone: two would be indistinguishable.
            problem = gettext("this end-to-end id is already in the file.")
        elif transfer.currency != currency:
            problem = gettext("in %(currency)s, the batch is in %(batch)s.") % {
                "currency": transfer.currency,
                "batch": currency,
            }
        elif not name:
            problem = gettext("the beneficiary's name is empty once written for SEPA.")
        elif amount is None:
            problem = _not_an_amount(transfer.amount)
        if problem is not None:
            raise InvalidPaymentFile(_in_transfer(position, transfer, problem))
        seen.add(e2e_id)
        rows.append(
            (
                e2e_id,
                str(amount),
                transfer.bic if _SCHEMA_BIC.fullmatch(transfer.bic) else "",
                name,
                transfer.iban,
                sepa_text(transfer.remittance, REMITTANCE_LENGTH),
            )
        )
    if not rows:
        raise InvalidPaymentFile(gettext("A payment file needs at least one transfer."))
    return rows


def _is_identifier(value: str) -> bool:
    """Identifiers are matched by the bank as they are: none that it would alter."""
    return (
        0 < len(value) <= IDENTIFIER_LENGTH
        and not _OUTSIDE_SEPA.search(value)
        and " " not in value
        and not value.startswith("/")
        and not value.endswith("/")
        and "//" not in value
    )


def _amount_text(amount: Decimal) -> str | None:
    """The amount with two decimals, exactly; None for one that would need rounding, or is not
    a SEPA transfer's."""
    if amount.is_finite() and CENT <= amount <= MAX_AMOUNT and amount % CENT == 0:
        return f"{amount:.2f}"
    return None


def _in_transfer(position: int, transfer: Transfer, problem: str) -> str:
    return gettext("Transfer %(position)s (%(id)s): %(problem)s") % {
        "position": position,
        "id": transfer.end_to_end_id,
        "problem": problem,
    }


def _not_an_identifier(what: str, value: str) -> str:
    return gettext(
        "%(what)s “%(value)s” is not a SEPA identifier: 1 to 35 letters, digits or /-?:().,'+ "
        "without a leading or trailing / nor //."
    ) % {"what": what, "value": value}


def _not_an_amount(amount: Decimal) -> str:
    return gettext(
        "the amount %(amount)s is not between 0.01 and 999,999,999.99 with at most two decimals."
    ) % {"amount": amount}


def _write_pain001(header: FileHeader, rows: list[_Row], file_format: str) -> bytes:
    # Elements are written without a namespace inside a Document that declares it as the
    # default one: the bytes carry the namespace once, as banks' files do (qualified lxml
    # elements would be written with a prefix each), and validation reads them in it.
    legacy = file_format == FileFormat.PAIN_001_001_03
    bic_tag = "BIC" if legacy else "BICFI"
    debtor = header.debtor
    debtor_name = sepa_text(debtor.name, NAME_LENGTH)
    initiating_party = sepa_text(debtor.initiating_party, NAME_LENGTH) or debtor_name
    total = sum((Decimal(row[1]) for row in rows), Decimal(0))
    count, control_sum = str(len(rows)), f"{total:.2f}"
    E = ElementMaker()

    party = [E.Nm(initiating_party)]
    if debtor.initiating_party_id:
        party.append(E.Id(E.OrgId(E.Othr(E.Id(debtor.initiating_party_id)))))
    group_header = E.GrpHdr(
        E.MsgId(header.message_id),
        E.CreDtTm(header.created_at.isoformat(timespec="seconds")),
        E.NbOfTxs(count),
        E.CtrlSum(control_sum),
        E.InitgPty(*party),
    )
    execution_date = header.execution_date.isoformat()
    # Without a BIC, the EPC's guidelines name the debtor's bank "NOTPROVIDED" (IBAN only).
    debtor_bank = E(bic_tag, debtor.bic) if debtor.bic else E.Othr(E.Id("NOTPROVIDED"))
    payment_information = [
        E.PmtInfId(header.message_id),  # one block per file: the file's id names it
        E.PmtMtd("TRF"),
        E.BtchBookg("true"),
        E.NbOfTxs(count),
        E.CtrlSum(control_sum),
        E.PmtTpInf(E.SvcLvl(E.Cd("SEPA"))),
        E.ReqdExctnDt(execution_date) if legacy else E.ReqdExctnDt(E.Dt(execution_date)),
        E.Dbtr(E.Nm(debtor_name)),
        E.DbtrAcct(E.Id(E.IBAN(debtor.iban))),
        E.DbtrAgt(E.FinInstnId(debtor_bank)),
        E.ChrgBr("SLEV"),
    ]
    templates = _TransactionTemplates(E, bic_tag, header.currency)
    # A line for the group header, one for the payment information, then one per transfer
    # (transfer n on line 6 + n): a schema error's line number says which transfer it is.
    group_header.tail = payment_information[-1].tail = "\n"

    buffer = io.BytesIO()
    buffer.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    with (
        etree.xmlfile(buffer, encoding="UTF-8") as xf,
        xf.element("Document", nsmap={None: NAMESPACE.format(file_format)}),
    ):
        xf.write("\n")
        with xf.element("CstmrCdtTrfInitn"):
            xf.write("\n", group_header)
            with xf.element("PmtInf"):
                xf.write("\n", *payment_information)
                for row in rows:
                    xf.write(templates.fill(row))
    return buffer.getvalue()


class _TransactionTemplates:
    """One CdtTrfTxInf element per shape (with or without a BIC, with or without payment
    details), filled in for each transfer and written: building ~20 elements per transfer
    would cost three times as much."""

    def __init__(self, E: ElementMaker, bic_tag: str, currency: str) -> None:
        self._shapes: dict[
            tuple[bool, bool], tuple[etree._Element, list[etree._Element | None]]
        ] = {}
        for with_bic in (True, False):
            for with_remittance in (True, False):
                parts = [E.PmtId(E.EndToEndId()), E.Amt(E.InstdAmt(Ccy=currency))]
                if with_bic:
                    parts.append(E.CdtrAgt(E.FinInstnId(E(bic_tag))))
                parts += [E.Cdtr(E.Nm()), E.CdtrAcct(E.Id(E.IBAN()))]
                if with_remittance:
                    parts.append(E.RmtInf(E.Ustrd()))
                element = E.CdtTrfTxInf(*parts)
                element.tail = "\n"
                paths = ["PmtId/EndToEndId", "Amt/InstdAmt", "CdtrAgt/FinInstnId/" + bic_tag]
                paths += ["Cdtr/Nm", "CdtrAcct/Id/IBAN", "RmtInf/Ustrd"]
                # Slots in the order of a row's values; None where the shape lacks the part.
                self._shapes[with_bic, with_remittance] = (
                    element,
                    [element.find(path) for path in paths],
                )

    def fill(self, row: _Row) -> etree._Element:
        element, slots = self._shapes[bool(row[2]), bool(row[5])]
        for slot, text in zip(slots, row, strict=True):
            if slot is not None:
                slot.text = text
        return element


@functools.cache
def _schema(file_format: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(SCHEMAS / f"{file_format}.xsd"))


def validate_sepa(xml: bytes, file_format: str) -> None:
    """Refuse, with :class:`InvalidPaymentFile`, a file that does not follow its ISO 20022
    schema; the message gives the line and the schema's complaint."""
    if file_format not in SEPA_FORMATS:
        raise ValueError(f"Not a SEPA file format: {file_format!r}")
    # A 100,000-transfer file is past libxml2's default limits; entities are never expanded.
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        raise InvalidPaymentFile(
            gettext("The payment file is not well-formed XML (line %(line)s): %(error)s")
            % {"line": error.lineno, "error": error.msg}
        ) from error
    try:
        _schema(file_format).assertValid(document)
    except etree.DocumentInvalid as error:
        log: Any = error.error_log  # lxml-stubs leave _ErrorLog without its methods
        first = log[0]
        # Element names in the message are qualified: '{urn:iso:...:pain.001.001.09}IBAN'.
        complaint = first.message.replace(f"{{{NAMESPACE.format(file_format)}}}", "")
        raise InvalidPaymentFile(
            gettext(
                "The payment file does not follow the %(format)s schema (line %(line)s): %(error)s"
            )
            % {"format": file_format, "line": first.line, "error": complaint}
        ) from error


# -- CSV ---------------------------------------------------------------------------------------

# The fields a CSV column can hold; the labels are those of the payment's own fields.
CSV_FIELDS: dict[str, Promise] = {
    "end_to_end_id": _("end-to-end identifier"),
    "creditor_name": _("beneficiary"),
    "iban": _("IBAN"),
    "bic": _("BIC"),
    "amount": _("amount"),
    "currency": _("currency"),
    "remittance": _("payment details"),
}


def check_csv_columns(columns: object) -> None:
    """Refuse, with ``ValidationFailed(field="csv_columns")``, columns that are not a list of
    ``[header, field]`` pairs with distinct headers and fields of :data:`CSV_FIELDS`."""
    if not isinstance(columns, list | tuple) or not columns:
        raise ValidationFailed(gettext("Give at least one column."), field="csv_columns")
    headers: set[str] = set()
    for number, column in enumerate(columns, start=1):
        if (
            not isinstance(column, list | tuple)
            or len(column) != 2
            or not all(isinstance(part, str) for part in column)
        ):
            raise ValidationFailed(
                gettext("Column %(number)s must be a header and a field.") % {"number": number},
                field="csv_columns",
            )
        header, field = column
        if not header.strip():
            raise ValidationFailed(
                gettext("Column %(number)s has no header.") % {"number": number},
                field="csv_columns",
            )
        if header in headers:
            raise ValidationFailed(
                gettext("Two columns have the header “%(header)s”.") % {"header": header},
                field="csv_columns",
            )
        headers.add(header)
        if field not in CSV_FIELDS:
            raise ValidationFailed(
                gettext("Column %(number)s: “%(field)s” is not one of the fields %(fields)s.")
                % {"number": number, "field": field, "fields": ", ".join(CSV_FIELDS)},
                field="csv_columns",
            )


def check_csv_delimiter(delimiter: str) -> None:
    """Refuse, with ``ValidationFailed(field="csv_delimiter")``, a separator the csv module
    cannot write or that would be read as part of a value."""
    if len(delimiter) != 1 or delimiter.isalnum() or delimiter in "\"'\r\n":
        raise ValidationFailed(
            gettext("The separator must be one character other than a letter, a digit or a quote."),
            field="csv_delimiter",
        )


def build_csv(
    transfers: Iterable[Transfer], columns: list[list[str]], delimiter: str, decimal_comma: bool
) -> bytes:
    """The batch as a CSV file: UTF-8, a header row, then one row per transfer with the
    ``columns`` chosen in the settings; amounts with two decimals."""
    check_csv_columns(columns)
    check_csv_delimiter(delimiter)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(header) for header, _field in columns])
    for position, transfer in enumerate(transfers, start=1):
        cells = []
        for _header, field in columns:
            if field == "amount":
                text = _amount_text(transfer.amount)
                if text is None:
                    problem = _not_an_amount(transfer.amount)
                    raise InvalidPaymentFile(_in_transfer(position, transfer, problem))
                cells.append(text.replace(".", ",") if decimal_comma else text)
            else:
                cells.append(spreadsheet_cell(getattr(transfer, field)))
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8")


def file_name(reference: str, file_format: str) -> str:
    """The file's name: the batch's reference and what the file is, e.g.
    ``P-7K3M-9Q2F.pain.001.001.09.xml``."""
    if file_format in SEPA_FORMATS:
        return f"{reference}.{file_format}.xml"
    if file_format == FileFormat.CSV:
        return f"{reference}.csv"
    raise ValueError(f"Unknown payment file format: {file_format!r}")
