"""Reading banks' returns (pain.002, camt.054) and explaining their reason codes.

The files in ``data/`` are synthetic, written by hand after the banks' layouts; the small
documents below each show one rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from entraide.payments import reasons
from entraide.payments.returns import (
    CAMT_054,
    PAIN_002,
    InvalidBankReturn,
    Outcome,
    ParsedReturn,
    Rejection,
    TransactionStatus,
    parse_bank_return,
)

DATA = Path(__file__).parent / "data"
PAIN_002_10 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"
CAMT_054_08 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


def parse_file(name: str) -> ParsedReturn:
    return parse_bank_return((DATA / name).read_bytes())


def status_report(body: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{PAIN_002_10}">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>PSR-1</MsgId><CreDtTm>2025-03-15T08:00:00</CreDtTm></GrpHdr>
{body}
  </CstmrPmtStsRpt>
</Document>
""".encode()


def notification(entries: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{CAMT_054_08}">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>NTF-1</MsgId><CreDtTm>2025-03-18T06:00:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>NTF-1-1</Id>
{entries}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
""".encode()


def at_line(lines: list[str], line: int | None) -> str:
    assert line is not None
    return lines[line - 1]


def brief(parsed: ParsedReturn) -> list[tuple[str, str, str]]:
    return [(s.end_to_end_id, s.outcome, s.reason_code) for s in parsed.statuses]


# -- pain.002 ----------------------------------------------------------------------------------


def test_pain002_v3_confirms_accepted_transfers_and_fails_rejected_ones_with_their_reasons():
    parsed = parse_file("pain.002.001.03-mixed.xml")

    assert parsed.kind == PAIN_002
    assert parsed.message_id == "STS-20250314-000042"
    assert parsed.original_message_id == "PB-7K3M-9Q2F"
    assert parsed.problems == []
    assert parsed.rejections == []
    assert brief(parsed) == [
        ("A-4HXD-2RWT-1", Outcome.CONFIRMED, ""),
        ("A-9JPC-6MNB-1", Outcome.FAILED, "AC01"),
        ("A-3VQL-8SZE-2", Outcome.FAILED, "AC04"),
        ("A-6TGK-1FYA-1", Outcome.FAILED, "AM04"),
        ("A-2BWR-5UQC-1", Outcome.FAILED, "MS03"),
    ]


def test_pain002_status_keeps_the_amount_the_additional_information_and_the_line():
    content = (DATA / "pain.002.001.03-mixed.xml").read_bytes()
    parsed = parse_bank_return(content)
    lines = content.decode().splitlines()

    closed = parsed.statuses[2]
    assert closed == TransactionStatus(
        end_to_end_id="A-3VQL-8SZE-2",
        outcome=Outcome.FAILED,
        reason_code="AC04",
        reason_detail="COMPTE CLOTURE DEPUIS LE 2025-01-31",
        amount=Decimal("400.00"),
        currency="EUR",
        line=closed.line,
    )
    assert lines[closed.line - 1].strip() == "<TxInfAndSts>"
    assert "A-3VQL-8SZE-2" in lines[closed.line + 1]


def test_pain002_v10_group_rejection_fails_the_whole_original_message():
    parsed = parse_file("pain.002.001.10-group-rejected.xml")

    assert parsed.statuses == []
    assert parsed.original_message_id == "PB-5DLN-3XHV"
    assert parsed.group_rejection == Rejection(
        original_message_id="PB-5DLN-3XHV",
        payment_information_id="",
        reason_code="FF01",
        reason_detail="Schema validation failed at line 12",
        line=parsed.group_rejection.line,
    )
    assert parsed.group_rejection.for_transaction("A-8MZQ-4WRD-1") == TransactionStatus(
        end_to_end_id="A-8MZQ-4WRD-1",
        outcome=Outcome.FAILED,
        reason_code="FF01",
        reason_detail="Schema validation failed at line 12",
        amount=None,
        currency="",
        line=parsed.group_rejection.line,
    )
    # Which payments that fails is the fund's to say (the service knows the batch).
    assert parsed.problems == []


def test_group_rejection_fails_every_listed_transaction_with_the_group_reason():
    parsed = parse_bank_return(
        status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
      <GrpSts>RJCT</GrpSts>
      <StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-1</OrgnlPmtInfId>
      <TxInfAndSts><OrgnlEndToEndId>A-1</OrgnlEndToEndId></TxInfAndSts>
      <TxInfAndSts>
        <OrgnlEndToEndId>A-2</OrgnlEndToEndId><TxSts>RJCT</TxSts>
        <StsRsnInf><Rsn><Cd>AC06</Cd></Rsn></StsRsnInf>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>""")
    )

    assert brief(parsed) == [("A-1", Outcome.FAILED, "AM04"), ("A-2", Outcome.FAILED, "AC06")]
    assert parsed.group_rejection is not None
    assert parsed.problems == []


def test_payment_information_status_applies_to_its_own_transactions_only():
    parsed = parse_bank_return(
        status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-1</OrgnlPmtInfId>
      <PmtInfSts>RJCT</PmtInfSts>
      <StsRsnInf><Rsn><Cd>AM04</Cd></Rsn><AddtlInf>Provision insuffisante</AddtlInf></StsRsnInf>
      <TxInfAndSts><OrgnlEndToEndId>A-1</OrgnlEndToEndId></TxInfAndSts>
    </OrgnlPmtInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-2</OrgnlPmtInfId>
      <PmtInfSts>ACSC</PmtInfSts>
      <TxInfAndSts><OrgnlEndToEndId>A-2</OrgnlEndToEndId></TxInfAndSts>
    </OrgnlPmtInfAndSts>""")
    )

    assert brief(parsed) == [("A-1", Outcome.FAILED, "AM04"), ("A-2", Outcome.CONFIRMED, "")]
    assert parsed.statuses[0].reason_detail == "Provision insuffisante"
    [rejection] = parsed.rejections
    assert rejection.payment_information_id == "PB-1-1"
    assert parsed.group_rejection is None


def test_rejected_payment_information_without_transactions_is_a_problem():
    parsed = parse_bank_return(
        status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-1</OrgnlPmtInfId>
      <PmtInfSts>RJCT</PmtInfSts>
      <StsRsnInf><Rsn><Cd>DNOR</Cd></Rsn></StsRsnInf>
    </OrgnlPmtInfAndSts>""")
    )

    assert parsed.problems == []
    [rejection] = parsed.rejections
    assert (rejection.payment_information_id, rejection.reason_code) == ("PB-1-1", "DNOR")


def test_transaction_accepted_in_a_rejected_message_is_a_problem_not_a_status():
    parsed = parse_bank_return(
        status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
      <GrpSts>RJCT</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-1</OrgnlPmtInfId>
      <TxInfAndSts><OrgnlEndToEndId>A-1</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts>
    </OrgnlPmtInfAndSts>""")
    )

    assert parsed.statuses == []
    [problem] = parsed.problems
    assert problem.path.endswith("/TxInfAndSts[1]/TxSts")


def test_pending_unknown_and_missing_transaction_statuses():
    parsed = parse_bank_return(
        status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-1</OrgnlPmtInfId>
      <TxInfAndSts><OrgnlEndToEndId>A-1</OrgnlEndToEndId><TxSts>PDNG</TxSts></TxInfAndSts>
      <TxInfAndSts><OrgnlEndToEndId>A-2</OrgnlEndToEndId><TxSts>WHAT</TxSts></TxInfAndSts>
      <TxInfAndSts><OrgnlEndToEndId>A-3</OrgnlEndToEndId></TxInfAndSts>
    </OrgnlPmtInfAndSts>""")
    )

    assert brief(parsed) == [("A-1", Outcome.PENDING, "")]
    assert [p.path.rpartition("/OrgnlPmtInfAndSts[1]/")[2] for p in parsed.problems] == [
        "TxInfAndSts[2]/TxSts",
        "TxInfAndSts[3]/TxSts",
    ]
    assert "WHAT" in parsed.problems[0].reason
    # "partially accepted" says nothing of a transaction that gives no status of its own
    assert parsed.problems[1].reason == "The bank gives no status for the transaction."


def test_transactions_listed_right_under_the_report_are_read():
    parsed = parse_bank_return(
        status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.02</OrgnlMsgNmId>
      <GrpSts>ACTC</GrpSts>
    </OrgnlGrpInfAndSts>
    <TxInfAndSts><OrgnlEndToEndId>A-1</OrgnlEndToEndId></TxInfAndSts>""")
    )

    assert brief(parsed) == [("A-1", Outcome.CONFIRMED, "")]


def test_missing_end_to_end_id_is_reported_with_its_line_and_the_rest_still_parses():
    content = status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-1</OrgnlPmtInfId>
      <TxInfAndSts><OrgnlEndToEndId>A-1</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>
      <TxInfAndSts><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AC01</Cd></Rsn></StsRsnInf></TxInfAndSts>
      <TxInfAndSts><OrgnlEndToEndId>NOTPROVIDED</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>
      <TxInfAndSts><OrgnlEndToEndId>A-4</OrgnlEndToEndId><TxSts>ACCP</TxSts></TxInfAndSts>
    </OrgnlPmtInfAndSts>""")
    lines = content.decode().splitlines()

    parsed = parse_bank_return(content)

    assert brief(parsed) == [("A-1", Outcome.CONFIRMED, ""), ("A-4", Outcome.CONFIRMED, "")]
    missing, not_provided = parsed.problems
    assert "<TxSts>RJCT</TxSts>" in at_line(lines, missing.line)
    assert missing.path == (
        "/Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts[1]/TxInfAndSts[2]/OrgnlEndToEndId"
    )
    assert "end-to-end identifier" in missing.reason
    assert "NOTPROVIDED" in at_line(lines, not_provided.line)
    assert "NOTPROVIDED" in not_provided.reason


def test_unreadable_amount_is_a_problem_at_the_amount_and_the_rest_still_parses():
    content = status_report("""
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>PB-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>PB-1-1</OrgnlPmtInfId>
      <TxInfAndSts>
        <OrgnlEndToEndId>A-1</OrgnlEndToEndId><TxSts>ACCP</TxSts>
        <OrgnlTxRef><Amt><InstdAmt Ccy="EUR">12,50</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>
      <TxInfAndSts>
        <OrgnlEndToEndId>A-2</OrgnlEndToEndId><TxSts>ACCP</TxSts>
        <OrgnlTxRef><Amt><InstdAmt>12.50</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>
      <TxInfAndSts>
        <OrgnlEndToEndId>A-3</OrgnlEndToEndId><TxSts>ACCP</TxSts>
        <OrgnlTxRef><Amt><InstdAmt Ccy="EUR">12.5</InstdAmt></Amt></OrgnlTxRef>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>""")
    lines = content.decode().splitlines()

    parsed = parse_bank_return(content)

    assert [(s.end_to_end_id, s.amount, s.currency) for s in parsed.statuses] == [
        ("A-3", Decimal("12.50"), "EUR")
    ]
    not_a_number, no_currency = parsed.problems
    assert "12,50" in at_line(lines, not_a_number.line)
    assert not_a_number.path.endswith("/TxInfAndSts[1]/OrgnlTxRef/Amt/InstdAmt")
    assert "A-1" in not_a_number.reason
    assert no_currency.path.endswith("/TxInfAndSts[2]/OrgnlTxRef/Amt/InstdAmt")


# -- camt.054 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message_id"),
    [
        ("camt.054.001.02-debits-and-return.xml", "NTF-20250318-0007"),
        ("camt.054.001.08-debits-and-return.xml", "CAMT054-2025-03-18-115"),
    ],
)
def test_camt054_booked_debits_are_confirmed_and_a_returned_credit_failed(name, message_id):
    parsed = parse_file(name)

    assert parsed.kind == CAMT_054
    assert parsed.message_id == message_id
    assert parsed.problems == []
    assert [
        (s.end_to_end_id, s.outcome, s.reason_code, s.reason_detail, s.amount, s.currency)
        for s in parsed.statuses
    ] == [
        ("A-7NCW-3JTE-1", Outcome.CONFIRMED, "", "", Decimal("850.00"), "EUR"),
        ("A-1PVH-9GDK-1", Outcome.CONFIRMED, "", "", Decimal("600.00"), "EUR"),
        ("A-5SWF-2LQB-1", Outcome.FAILED, "AC04", "ACCOUNT CLOSED", Decimal("700.00"), "EUR"),
    ]


def test_camt054_pending_entry_and_single_transaction_amount_from_the_entry():
    parsed = parse_bank_return(
        notification("""
      <Ntry>
        <Amt Ccy="EUR">300.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
        <NtryDtls><TxDtls><Refs><EndToEndId>A-1</EndToEndId></Refs></TxDtls></NtryDtls>
      </Ntry>""")
    )

    assert parsed.statuses == [
        TransactionStatus(
            end_to_end_id="A-1",
            outcome=Outcome.PENDING,
            reason_code="",
            reason_detail="",
            amount=Decimal("300.00"),
            currency="EUR",
            line=parsed.statuses[0].line,
        )
    ]


def test_camt054_credit_reversing_a_debit_fails_the_transfer():
    parsed = parse_bank_return(
        notification("""
      <Ntry>
        <Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <NtryDtls><TxDtls><Refs><EndToEndId>A-1</EndToEndId></Refs></TxDtls></NtryDtls>
      </Ntry>""")
    )

    assert brief(parsed) == [("A-1", Outcome.FAILED, "")]


def test_camt054_money_the_fund_receives_or_sends_back_is_not_one_of_its_transfers():
    parsed = parse_bank_return(
        notification("""
      <Ntry>
        <Amt Ccy="EUR">90.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <NtryDtls>
          <TxDtls><Refs><EndToEndId>GIFT-1</EndToEndId></Refs><RtrInf><Rsn><Cd>AC04</Cd></Rsn>
          </RtrInf></TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">90.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <NtryDtls><TxDtls><Refs><EndToEndId>GIFT-1</EndToEndId></Refs></TxDtls></NtryDtls>
      </Ntry>""")
    )

    assert parsed.statuses == []
    assert parsed.problems == []


def test_camt054_debit_reversing_a_credit_is_a_problem():
    parsed = parse_bank_return(
        notification("""
      <Ntry>
        <Amt Ccy="EUR">300.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <NtryDtls><TxDtls><Refs><EndToEndId>A-1</EndToEndId></Refs></TxDtls></NtryDtls>
      </Ntry>""")
    )

    assert parsed.statuses == []
    [problem] = parsed.problems
    assert problem.path.endswith("/Ntry[1]/NtryDtls[1]/TxDtls[1]")


def test_camt054_debit_without_transaction_details_is_a_problem():
    parsed = parse_bank_return(
        notification("""
      <Ntry>
        <Amt Ccy="EUR">1450.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <NtryDtls><Btch><PmtInfId>PB-1-1</PmtInfId><NbOfTxs>2</NbOfTxs></Btch></NtryDtls>
      </Ntry>""")
    )

    assert parsed.statuses == []
    [problem] = parsed.problems
    assert problem.path == "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn[1]/Ntry[1]/NtryDtls"


def test_camt054_return_without_end_to_end_id_is_reported_with_its_line():
    content = notification("""
      <Ntry>
        <Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <NtryDtls>
          <TxDtls><Refs><TxId>RTN-1</TxId></Refs><RtrInf><Rsn><Cd>AC01</Cd></Rsn></RtrInf></TxDtls>
        </NtryDtls>
      </Ntry>""")
    lines = content.decode().splitlines()

    parsed = parse_bank_return(content)

    [problem] = parsed.problems
    assert "RTN-1" in at_line(lines, problem.line)
    assert problem.path.endswith("/Ntry[1]/NtryDtls[1]/TxDtls[1]/Refs/EndToEndId")


# -- what is not a bank return -----------------------------------------------------------------


def test_broken_xml_is_refused_with_the_line_of_the_error():
    with pytest.raises(InvalidBankReturn, match="line 4"):
        parse_bank_return(b'<?xml version="1.0"?>\n<Document>\n  <CstmrPmtStsRpt>\n</Document>')


def test_empty_file_is_refused():
    with pytest.raises(InvalidBankReturn, match="empty"):
        parse_bank_return(b"  \n")


def test_other_iso20022_message_is_refused():
    with pytest.raises(InvalidBankReturn, match="neither"):
        parse_bank_return(
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">'
            b"<CstmrCdtTrfInitn/></Document>"
        )


def test_document_without_its_message_element_is_refused():
    with pytest.raises(InvalidBankReturn, match="BkToCstmrDbtCdtNtfctn"):
        parse_bank_return(f'<Document xmlns="{CAMT_054_08}"><Other/></Document>'.encode())


def test_external_entity_is_refused_and_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("CONFIDENTIAL-4242")
    content = f"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY leak SYSTEM "file://{secret}">]>
<Document xmlns="{PAIN_002_10}">
  <CstmrPmtStsRpt>
    <GrpHdr><MsgId>&leak;</MsgId></GrpHdr>
  </CstmrPmtStsRpt>
</Document>""".encode()

    with pytest.raises(InvalidBankReturn, match="DOCTYPE") as refused:
        parse_bank_return(content)
    assert "CONFIDENTIAL" not in str(refused.value)


def test_entity_expansion_bomb_is_refused():
    content = f"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<Document xmlns="{PAIN_002_10}"><CstmrPmtStsRpt><GrpHdr><MsgId>&d;</MsgId></GrpHdr>
</CstmrPmtStsRpt></Document>""".encode()

    # libxml2 stops the amplification itself even before the DOCTYPE is looked at.
    with pytest.raises(InvalidBankReturn):
        parse_bank_return(content)


# -- reason codes ------------------------------------------------------------------------------


def test_explain_gives_the_explanation_of_a_known_code_whatever_its_case():
    assert reasons.explain("AC04") == "The beneficiary's account is closed."
    assert reasons.explain(" ac04 ") == "The beneficiary's account is closed."


def test_explain_names_an_unknown_code():
    assert reasons.explain("ZZ99") == "Reason code ZZ99 (not in our list)"


def test_explain_says_when_there_is_no_code():
    assert reasons.explain("") == "The bank gave no reason code."


@pytest.mark.parametrize(
    "code",
    [
        "AC01", "AC03", "AC04", "AC06", "AC13", "AG01", "AG02", "AM01", "AM02", "AM04", "AM05",
        "AM09", "BE04", "BE05", "CNOR", "CUST", "DNOR", "DUPL", "ED05", "FF01", "FOCR", "MD07",
        "MS02", "MS03", "NARR", "RC01", "RF01", "RR01", "RR02", "RR03", "RR04", "TM01",
    ],
)  # fmt: skip
def test_codes_banks_use_for_sepa_transfers_are_explained(code):
    assert code in reasons.REASONS
    assert reasons.explain(code) != reasons.explain("ZZ99").replace("ZZ99", code)


@pytest.mark.parametrize("code", ["AC01", "AC03", "AC04", "AC06", "AG01", "RC01", "ac04"])
def test_new_bank_details_help_when_the_account_is_wrong_closed_or_blocked(code):
    assert reasons.needs_new_bank_details(code)


@pytest.mark.parametrize("code", ["AM04", "AM05", "DUPL", "FF01", "MS03", "TM01", "ZZ99", ""])
def test_new_bank_details_do_not_help_for_amount_duplicate_technical_or_unknown(code):
    assert not reasons.needs_new_bank_details(code)
