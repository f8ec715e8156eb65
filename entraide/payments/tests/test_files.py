from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from entraide.core.errors import ValidationFailed
from entraide.payments.files import (
    CSV_FIELDS,
    Debtor,
    FileHeader,
    InvalidPaymentFile,
    Transfer,
    build_csv,
    build_sepa,
    check_csv_columns,
    check_csv_delimiter,
    file_name,
    sepa_text,
    validate_sepa,
)
from entraide.payments.models import FileFormat, default_csv_columns

SEPA = [FileFormat.PAIN_001_001_09, FileFormat.PAIN_001_001_03]
IBANS = ["FR7630006000011234567890189", "FR7620041010050500013M02606", "DE89370400440532013000"]


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def make_header(**changes: Any) -> FileHeader:
    debtor = Debtor(
        name="Fonds d'urgence Netflix × Audiens",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        initiating_party="Audiens",
        initiating_party_id="77567227200029",
    )
    header = FileHeader(
        message_id="P-7K3M-9Q2F",
        created_at=dt.datetime(2020, 5, 4, 9, 30, tzinfo=dt.UTC),
        execution_date=dt.date(2020, 5, 5),
        debtor=debtor,
        currency="EUR",
    )
    return dataclasses.replace(header, **changes)


def make_transfer(number: int = 1, **changes: Any) -> Transfer:
    transfer = Transfer(
        end_to_end_id=f"A-7K3M-{number:04d}-1",
        amount=Decimal("500.00"),
        currency="EUR",
        creditor_name="Camille Martin",
        iban=IBANS[number % len(IBANS)],
        bic="BNPAFRPP",
        remittance=f"Aide d'urgence Netflix x Audiens A-7K3M-{number:04d}",
    )
    return dataclasses.replace(transfer, **changes)


def read(xml: bytes) -> etree._Element:
    return etree.fromstring(xml, etree.XMLParser(huge_tree=True))


def texts(element: etree._Element, path: str) -> list[str]:
    """The texts at ``path`` (tags without their namespace, / between them)."""
    return [
        str(found.text)
        for found in element.iterfind("/".join(f"{{*}}{t}" for t in path.split("/")))
    ]


# -- the schema --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_format", "bic_tag"),
    [(FileFormat.PAIN_001_001_09, "BICFI"), (FileFormat.PAIN_001_001_03, "BIC")],
)
def test_both_formats_validate_against_the_schema_in_the_repository(
    file_format: str, bic_tag: str
) -> None:
    xml = build_sepa(make_header(), [make_transfer(1), make_transfer(2, bic="")], file_format)
    validate_sepa(xml, file_format)
    document = read(xml)
    assert document.tag == f"{{urn:iso:std:iso:20022:tech:xsd:{file_format}}}Document"
    assert texts(document, f"CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf/CdtrAgt/FinInstnId/{bic_tag}") == [
        "BNPAFRPP"
    ]


def test_a_file_is_refused_with_the_line_of_the_transfer_and_the_schemas_complaint() -> None:
    transfers = [make_transfer(n) for n in range(1, 4)]
    xml = build_sepa(make_header(), transfers, FileFormat.PAIN_001_001_09)
    broken = xml.replace(transfers[1].iban.encode(), b"FR76 NOT AN IBAN", 1)
    with pytest.raises(InvalidPaymentFile) as refused:
        validate_sepa(broken, FileFormat.PAIN_001_001_09)
    message = str(refused.value)
    # Transfer n is on line 6 + n: the second one.
    assert "(line 8)" in message
    assert "Element 'IBAN'" in message
    assert "FR76 NOT AN IBAN" in message
    assert "urn:iso" not in message


def test_building_refuses_a_file_the_schema_refuses() -> None:
    transfers = [make_transfer(1), make_transfer(2, iban="FR76 3000 6000")]
    with pytest.raises(InvalidPaymentFile, match=r"\(line 8\): Element 'IBAN'"):
        build_sepa(make_header(), transfers, FileFormat.PAIN_001_001_03)


def test_a_file_that_is_not_xml_is_refused() -> None:
    xml = build_sepa(make_header(), [make_transfer()], FileFormat.PAIN_001_001_09)
    with pytest.raises(InvalidPaymentFile, match=r"not well-formed XML \(line \d+\)"):
        validate_sepa(xml[:-30], FileFormat.PAIN_001_001_09)


def test_a_file_of_one_version_does_not_pass_for_the_other() -> None:
    xml = build_sepa(make_header(), [make_transfer()], FileFormat.PAIN_001_001_09)
    with pytest.raises(InvalidPaymentFile, match=r"pain\.001\.001\.03 schema"):
        validate_sepa(xml, FileFormat.PAIN_001_001_03)


def test_csv_is_not_a_sepa_format() -> None:
    with pytest.raises(ValueError, match="Not a SEPA file format"):
        build_sepa(make_header(), [make_transfer()], FileFormat.CSV)


# -- totals and determinism --------------------------------------------------------------------

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
transfer_values = st.tuples(
    amounts,
    st.text(max_size=100),
    st.sampled_from(["", "BNPAFRPP", "AGRIFRPPXXX"]),
    st.text(max_size=200),
)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(transfer_values, min_size=1, max_size=50), file_format=st.sampled_from(SEPA))
def test_header_totals_are_those_of_the_transactions_and_the_file_is_always_the_same(
    values: list[tuple[Decimal, str, str, str]], file_format: str
) -> None:
    transfers = [
        make_transfer(n, amount=amount, creditor_name=f"Nom {name}", bic=bic, remittance=details)
        for n, (amount, name, bic, details) in enumerate(values, start=1)
    ]
    xml = build_sepa(make_header(), transfers, file_format)
    document = read(xml)
    amounts_written = [Decimal(a) for a in texts(document, "*/*/CdtTrfTxInf/Amt/InstdAmt")]
    assert amounts_written == [transfer.amount for transfer in transfers]
    for block in ("CstmrCdtTrfInitn/GrpHdr", "CstmrCdtTrfInitn/PmtInf"):
        assert texts(document, f"{block}/NbOfTxs") == [str(len(transfers))]
        assert [Decimal(s) for s in texts(document, f"{block}/CtrlSum")] == [sum(amounts_written)]
    ids = texts(document, "*/*/CdtTrfTxInf/PmtId/EndToEndId")
    assert sorted(ids) == sorted(transfer.end_to_end_id for transfer in transfers)
    assert len(set(ids)) == len(ids)
    assert build_sepa(make_header(), transfers, file_format) == xml


def test_the_header_carries_the_batchs_reference_release_and_execution_date() -> None:
    header = make_header(
        created_at=dt.datetime(2020, 5, 4, 11, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    )
    document = read(build_sepa(header, [make_transfer()], FileFormat.PAIN_001_001_09))
    assert texts(document, "*/GrpHdr/MsgId") == ["P-7K3M-9Q2F"]
    assert texts(document, "*/PmtInf/PmtInfId") == ["P-7K3M-9Q2F"]
    assert texts(document, "*/GrpHdr/CreDtTm") == ["2020-05-04T11:30:05+02:00"]
    assert texts(document, "*/PmtInf/ReqdExctnDt/Dt") == ["2020-05-05"]
    assert texts(document, "*/GrpHdr/InitgPty/Nm") == ["Audiens"]
    assert texts(document, "*/GrpHdr/InitgPty/Id/OrgId/Othr/Id") == ["77567227200029"]
    assert texts(document, "*/PmtInf/Dbtr/Nm") == ["Fonds d'urgence Netflix x Audiens"]
    assert texts(document, "*/PmtInf/DbtrAgt/FinInstnId/BICFI") == ["AGRIFRPP"]


@pytest.mark.parametrize("file_format", SEPA)
def test_without_bics_nor_payment_details_the_optional_parts_are_left_out(
    file_format: str,
) -> None:
    debtor = dataclasses.replace(make_header().debtor, bic="", initiating_party_id="")
    header = make_header(debtor=debtor)
    document = read(build_sepa(header, [make_transfer(bic="", remittance="")], file_format))
    # The EPC's way of saying "IBAN only" for the fund's bank.
    assert texts(document, "*/PmtInf/DbtrAgt/FinInstnId/Othr/Id") == ["NOTPROVIDED"]
    assert texts(document, "*/GrpHdr/InitgPty/Id") == []
    assert texts(document, "*/PmtInf/CdtTrfTxInf/CdtrAgt") == []
    assert texts(document, "*/PmtInf/CdtTrfTxInf/RmtInf") == []


# -- SEPA text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("Élodie Œuvray & Fils", "Elodie OEuvray Fils"),
        ("Zoë  O’Brien-Müller", "Zoe O'Brien-Muller"),
        ("Иван Петров", "Ivan Petrov"),
        (
            "Aide d'urgence Netflix × Audiens (A-7K3M-9Q2F)",
            "Aide d'urgence Netflix x Audiens (A-7K3M-9Q2F)",
        ),
        ("50% <à> payer; merci!", "50 a payer merci"),
    ],
)
def test_text_is_written_in_sepas_latin_characters(text: str, written: str) -> None:
    assert sepa_text(text, 140) == written


@pytest.mark.parametrize("file_format", SEPA)
def test_accented_and_long_names_are_transliterated_and_truncated_yet_valid(
    file_format: str,
) -> None:
    name = "Marie-Hélène Françoise Œuvray de La Tour d'Auvergne-Lauraguais et de Sainte-Hermine"
    details = "Aide d'urgence « Fonds spécial » " + "pour les intermittents du spectacle " * 6
    xml = build_sepa(
        make_header(), [make_transfer(creditor_name=name, remittance=details)], file_format
    )
    document = read(xml)
    (written_name,) = texts(document, "*/*/CdtTrfTxInf/Cdtr/Nm")
    (written_details,) = texts(document, "*/*/CdtTrfTxInf/RmtInf/Ustrd")
    assert written_name == "Marie-Helene Francoise OEuvray de La Tour d'Auvergne-Lauraguais et de"
    assert len(written_name) <= 70
    assert written_details.startswith("Aide d'urgence Fonds special pour les intermittents")
    assert len(written_details) <= 140
    assert xml.isascii()


def test_a_name_with_nothing_left_in_sepas_characters_is_refused() -> None:
    with pytest.raises(InvalidPaymentFile, match=r"Transfer 2 \(A-7K3M-0002-1\).*name is empty"):
        build_sepa(
            make_header(),
            [make_transfer(1), make_transfer(2, creditor_name="☃ !")],
            FileFormat.PAIN_001_001_09,
        )


@pytest.mark.parametrize(
    "amount",
    [Decimal("10.005"), Decimal("0.00"), Decimal("-5.00"), Decimal("NaN"), Decimal("1E+9")],
)
def test_an_amount_that_is_not_a_positive_number_of_cents_is_refused(amount: Decimal) -> None:
    with pytest.raises(InvalidPaymentFile, match="at most two decimals"):
        build_sepa(make_header(), [make_transfer(amount=amount)], FileFormat.PAIN_001_001_09)


def test_amounts_are_written_to_the_cent_without_rounding() -> None:
    transfers = [make_transfer(1, amount=Decimal("0.1")), make_transfer(2, amount=Decimal("1500"))]
    document = read(build_sepa(make_header(), transfers, FileFormat.PAIN_001_001_03))
    assert texts(document, "*/*/CdtTrfTxInf/Amt/InstdAmt") == ["0.10", "1500.00"]
    assert texts(document, "*/GrpHdr/CtrlSum") == ["1500.10"]


def test_a_batch_not_in_euros_is_refused() -> None:
    transfer = make_transfer(currency="CHF")
    with pytest.raises(InvalidPaymentFile, match="in euros; this batch is in CHF"):
        build_sepa(make_header(currency="CHF"), [transfer], FileFormat.PAIN_001_001_09)


def test_a_transfer_in_another_currency_than_the_batch_is_refused() -> None:
    with pytest.raises(InvalidPaymentFile, match="in USD, the batch is in EUR"):
        build_sepa(make_header(), [make_transfer(currency="USD")], FileFormat.PAIN_001_001_09)


def test_an_end_to_end_identifier_used_twice_is_refused() -> None:
    transfers = [make_transfer(1), make_transfer(1, amount=Decimal("900.00"))]
    with pytest.raises(InvalidPaymentFile, match=r"Transfer 2 .*already in the file"):
        build_sepa(make_header(), transfers, FileFormat.PAIN_001_001_09)


@pytest.mark.parametrize(
    "identifier", ["", "A" * 36, "A-7K3M 9Q2F", "/A-7K3M", "A//7K3M", "A_7K3M"]
)
def test_an_identifier_the_bank_would_alter_is_refused(identifier: str) -> None:
    transfers = [make_transfer(1), make_transfer(2, end_to_end_id=identifier)]
    with pytest.raises(
        InvalidPaymentFile, match=r"Transfer 2 .*The end-to-end id .* is not a SEPA"
    ):
        build_sepa(make_header(), transfers, FileFormat.PAIN_001_001_09)
    with pytest.raises(InvalidPaymentFile, match=r"The message id .* is not a SEPA identifier"):
        build_sepa(
            make_header(message_id=identifier), [make_transfer()], FileFormat.PAIN_001_001_09
        )
    if identifier:  # an empty initiating party id is no id: the file goes without it
        debtor = dataclasses.replace(make_header().debtor, initiating_party_id=identifier)
        with pytest.raises(InvalidPaymentFile, match=r"The initiating party id .* is not a SEPA"):
            build_sepa(make_header(debtor=debtor), [make_transfer()], FileFormat.PAIN_001_001_09)


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(InvalidPaymentFile, match="at least one transfer"):
        build_sepa(make_header(), [], FileFormat.PAIN_001_001_09)


def test_a_creation_time_without_time_zone_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_sepa(
            make_header(created_at=dt.datetime(2020, 5, 4, 9, 30)),
            [make_transfer()],
            FileFormat.PAIN_001_001_09,
        )


# -- CSV ---------------------------------------------------------------------------------------


def read_csv(content: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline=""), delimiter=delimiter))


def test_csv_has_the_chosen_columns_separator_and_decimal_comma() -> None:
    transfers = [
        make_transfer(1, amount=Decimal("1500.00"), creditor_name="Élodie Dupont; Martin"),
        make_transfer(2, amount=Decimal("0.1"), bic=""),
    ]
    columns = [["Montant", "amount"], ["Bénéficiaire", "creditor_name"], ["BIC", "bic"]]
    content = build_csv(transfers, columns, ";", decimal_comma=True)
    assert not content.startswith(b"\xef\xbb\xbf")
    assert read_csv(content, ";") == [
        ["Montant", "Bénéficiaire", "BIC"],
        ["1500,00", "Élodie Dupont; Martin", "BNPAFRPP"],
        ["0,10", "Camille Martin", ""],
    ]
    assert content.splitlines()[1] == '1500,00;"Élodie Dupont; Martin";BNPAFRPP'.encode()


def test_csv_with_the_default_columns_has_every_field_and_decimal_points() -> None:
    transfer = make_transfer(amount=Decimal("1234.5"), remittance="Aide, urgence")
    rows = read_csv(build_csv([transfer], default_csv_columns(), ",", decimal_comma=False), ",")
    assert rows == [
        ["reference", "beneficiary", "iban", "bic", "amount", "currency", "payment_details"],
        [
            transfer.end_to_end_id,
            "Camille Martin",
            transfer.iban,
            "BNPAFRPP",
            "1234.50",
            "EUR",
            "Aide, urgence",
        ],
    ]


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_made_text() -> None:
    names = ['=HYPERLINK("http://example.org")', "+33 6 12 34 56 78", "-1+1", "@SUM(A1)", "\tTab"]
    transfers = [make_transfer(n, creditor_name=name) for n, name in enumerate(names, start=1)]
    rows = read_csv(
        build_csv(transfers, [["=cmd", "creditor_name"]], ",", decimal_comma=False), ","
    )
    assert rows == [["'=cmd"]] + [["'" + name] for name in names]


def test_csv_refuses_an_amount_that_would_need_rounding() -> None:
    with pytest.raises(InvalidPaymentFile, match=r"Transfer 1 .*10\.005"):
        build_csv(
            [make_transfer(amount=Decimal("10.005"))], [["a", "amount"]], ",", decimal_comma=False
        )


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ([], "at least one column"),
        ("iban", "at least one column"),
        ([["IBAN"]], "Column 1 must be a header and a field"),
        ([["IBAN", "iban"], ["x", 3]], "Column 2 must be a header and a field"),
        ([[" ", "iban"]], "Column 1 has no header"),
        ([["IBAN", "iban"], ["IBAN", "bic"]], "Two columns have the header “IBAN”"),
        ([["Date", "execution_date"]], "“execution_date” is not one of the fields end_to_end_id"),
    ],
)
def test_bad_column_settings_are_refused(columns: Any, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message) as refused:
        check_csv_columns(columns)
    assert refused.value.field == "csv_columns"
    with pytest.raises(ValidationFailed):
        build_csv([make_transfer()], columns, ",", decimal_comma=False)


@pytest.mark.parametrize("delimiter", ["", ";;", "a", "1", '"', "\n"])
def test_a_separator_that_would_break_the_file_is_refused(delimiter: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_csv_delimiter(delimiter)
    assert refused.value.field == "csv_delimiter"


def test_every_field_of_a_transfer_can_be_a_column_and_the_default_columns_are_valid() -> None:
    assert set(CSV_FIELDS) == {field.name for field in dataclasses.fields(Transfer)}
    check_csv_columns(default_csv_columns())


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file_format", "name"),
    [
        (FileFormat.PAIN_001_001_09, "P-7K3M-9Q2F.pain.001.001.09.xml"),
        (FileFormat.PAIN_001_001_03, "P-7K3M-9Q2F.pain.001.001.03.xml"),
        (FileFormat.CSV, "P-7K3M-9Q2F.csv"),
    ],
)
def test_a_files_name_is_the_batchs_reference_and_its_format(file_format: str, name: str) -> None:
    assert file_name("P-7K3M-9Q2F", file_format) == name


@pytest.mark.parametrize("file_format", [FileFormat.PAIN_001_001_09, FileFormat.PAIN_001_001_03])
def test_a_beneficiary_bic_the_schema_refuses_is_left_out_not_the_whole_file(
    file_format: str,
) -> None:
    # A test BIC (a 1 in place 7) passes schwifty but not the .03 schema: IBAN only suffices.
    xml = build_sepa(
        make_header(),
        [make_transfer(1, bic="BNPAFR1P"), make_transfer(2, bic="BNPAFRPP")],
        file_format,
    )
    assert b"BNPAFR1P" not in xml
    assert b"BNPAFRPP" in xml
