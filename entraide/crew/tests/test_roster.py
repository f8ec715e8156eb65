"""Reading a roster: encodings, separators, header names, values, each problem on its line and
column, the lines checked together, and the identity of a person."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from entraide.crew import roster
from entraide.crew.roster import (
    Known,
    ProductionFacts,
    RosterFileError,
    StoredPerson,
    normalised_name,
    person_key,
    read_roster,
)
from entraide.crew.tests.rosters import HEADER, SAMPLE, birth_date_of, crew_row, roster_file
from entraide.demo.synthetic import make_nir


def codes(problems: list[roster.Problem]) -> list[tuple[int, str, str]]:
    return [(p.line, p.field, p.code) for p in problems]


def check(content: bytes, known: Known | None = None) -> roster.Checked:
    return read_roster(content).check(known or Known())


# -- the file ---------------------------------------------------------------------------------


def test_the_sample_of_the_documentation_reads_without_a_problem() -> None:
    checked = check(SAMPLE.read_bytes())

    assert checked.problems == []
    assert [line.line for line in checked.lines] == [2, 3, 4, 5, 6]
    first, *_, last = checked.lines
    assert first.national_id == "284028063517935"
    assert first.iban == "FR7610278060416419126461086"
    assert first.bic  # found from the IBAN
    # The same person, with and without her national identifier, on two productions.
    assert first.person_key == last.person_key
    assert last.production == ProductionFacts(
        "FILM-UK-07", "Northern Line", "GB", dt.date(2020, 3, 17), "GBP"
    )
    assert (last.day_rate, last.weekly_rate, last.language) == (Decimal("280.00"), None, "en")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_utf8_with_or_without_bom_and_windows_1252_read_the_same_with_either_separator(
    encoding: str, delimiter: str
) -> None:
    rows = [crew_row(1, first_name="Hélène", last_name="Lefèvre-D'Arcy", role="Électricienne")]

    (line,) = check(roster_file(rows, delimiter=delimiter, encoding=encoding)).lines

    assert (line.first_name, line.last_name, line.role) == (
        "Hélène",
        "Lefèvre-D'Arcy",
        "Électricienne",
    )


def test_header_names_are_read_in_any_case_with_accents_and_french_aliases() -> None:
    names = (
        "Production",
        "Titre",
        "PAYS",
        "Date de suspension",
        "Prénom",
        "Nom",
        "Date de naissance",
        "Courriel",
        "NIR",
        "Poste",
        "Taux hebdomadaire",
        "Taux journalier",
        "Devise",
        "IBAN",
        "BIC",
        "Titulaire du compte",
        "Langue",
    )
    content = roster_file([crew_row(1)], names=names, delimiter=";", encoding="cp1252")

    (line,) = check(content).lines

    assert line.first_name == crew_row(1)["first_name"]
    assert line.weekly_rate == Decimal("1200.00")


def test_optional_columns_may_be_left_out() -> None:
    header = [c for c in HEADER if c not in ("email", "national_id", "day_rate", "bic", "language")]

    (line,) = check(roster_file([crew_row(1)], header=header)).lines

    assert (line.email, line.national_id, line.day_rate, line.language) == ("", "", None, "fr")


def test_decimal_comma_spaces_between_thousands_and_french_dates() -> None:
    row = crew_row(1, weekly_rate="", day_rate="1\u202f200,5", suspended_on="16/03/2020")
    row["birth_date"] = birth_date_of(1).strftime("%d/%m/%Y")

    (line,) = check(roster_file([row])).lines

    assert line.day_rate == Decimal("1200.50")
    assert line.production.suspended_on == dt.date(2020, 3, 16)
    assert line.birth_date == birth_date_of(1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-03-16", dt.date(2020, 3, 16)),
        ("16/03/2020", dt.date(2020, 3, 16)),
        ("6/3/2020", dt.date(2020, 3, 6)),
    ],
)
def test_dates_are_iso_or_day_month_year(text: str, expected: dt.date) -> None:
    assert roster.parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["2020-02-30", "03/16/2020", "16.03.2020", "2020/03/16", "16 mars 2020"]
)
def test_other_dates_are_refused(text: str) -> None:
    problems = check(roster_file([crew_row(1, suspended_on=text)])).problems

    assert codes(problems) == [(2, "suspended_on", "invalid_date")]


def test_lines_are_numbered_as_a_spreadsheet_shows_them() -> None:
    # A blank line is skipped but counted; a quoted value over two lines is one line.
    content = roster_file([crew_row(1), crew_row(2, role="Chef\nmachiniste"), crew_row(3)])
    content = content.replace(b"\r\nPROD-1", b"\r\n\r\nPROD-1", 1)
    bad = roster_file([crew_row(4, iban="FR00")], header=HEADER).split(b"\r\n", 1)[1]

    read = read_roster(content + bad)

    assert [line.line for line in read.lines] == [3, 4, 5]
    assert codes(read.problems) == [(6, "iban", "invalid_iban")]
    assert read.rows == 4


def test_blank_lines_before_the_header_are_counted() -> None:
    for delimiter in (",", ";"):
        blank = f"\r\n{delimiter * 3}\r\n".encode()
        (line,) = check(blank + roster_file([crew_row(1)], delimiter=delimiter)).lines

        assert line.line == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\r\n\r\n", "The file is empty."),
        (",".join(HEADER).encode() + b"\r\n", "The file has a header but no crew member."),
        (
            roster_file([crew_row(1)], header=[c for c in HEADER if c not in ("iban", "role")]),
            "Missing column(s): role, iban.",
        ),
        (
            roster_file([crew_row(1)], header=[c for c in HEADER if "rate" not in c]),
            "The file needs a weekly_rate or a day_rate column.",
        ),
        (
            roster_file([crew_row(1)], header=[*HEADER, "phone"]),
            "Unknown column(s): phone. The columns are: production, title,",
        ),
        (
            roster_file([crew_row(1)], names=[*HEADER[:-1], "prenom"]),
            "Column(s) given twice: first_name.",
        ),
        (roster_file([crew_row(1)], encoding="utf-16"), "is not CSV text in UTF-8 or Windows"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "is not CSV text in UTF-8 or Windows"),
        (
            roster_file([crew_row(1, role="x" * 200_000)]),
            "The file cannot be read as CSV after line 2 (field larger than field limit",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(content: bytes, message: str) -> None:
    with translation.override("en"), pytest.raises(RosterFileError) as raised:
        read_roster(content)

    assert message in str(raised.value)
    assert raised.value.field == "file"


def test_a_file_beyond_the_limit_is_refused_before_it_is_read(monkeypatch: Any) -> None:
    content = roster_file([crew_row(1)])
    monkeypatch.setattr(roster, "MAX_ROSTER_BYTES", len(content) - 1)

    with translation.override("en"), pytest.raises(RosterFileError, match="too large"):
        read_roster(content)


# -- each value -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"production": ""}, "production", "required"),
        ({"production": "P" * 61}, "production", "too_long"),
        ({"title": " "}, "title", "required"),
        ({"country": "FRA"}, "country", "invalid_country"),
        ({"country": "EU"}, "country", "invalid_country"),
        ({"suspended_on": "2020-13-01"}, "suspended_on", "invalid_date"),
        ({"first_name": "-"}, "first_name", "invalid_name"),
        ({"last_name": "X" * 101}, "last_name", "too_long"),
        ({"birth_date": "1899-12-31"}, "birth_date", "invalid_birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date", "invalid_birth_date"),
        ({"email": "not-an-address"}, "email", "invalid_email"),
        ({"national_id": "1 85 06 75 123 456 00"}, "national_id", "invalid_nir"),
        ({"birth_date": "1990-01-01"}, "birth_date", "birth_date_not_nir"),
        ({"country": "GB", "currency": "GBP", "national_id": "QQ-12_34"}, "national_id",
         "invalid_national_id"),
        ({"role": ""}, "role", "required"),
        ({"weekly_rate": ""}, "weekly_rate", "rate_required"),
        ({"day_rate": "250"}, "day_rate", "two_rates"),
        ({"weekly_rate": "0,00"}, "weekly_rate", "rate_not_positive"),
        ({"weekly_rate": "-12"}, "weekly_rate", "invalid_rate"),
        ({"weekly_rate": "12.345"}, "weekly_rate", "invalid_rate"),
        ({"weekly_rate": "1,200.50"}, "weekly_rate", "invalid_rate"),
        ({"weekly_rate": "12345678901"}, "weekly_rate", "invalid_rate"),
        # Its week of pay (times up to 7 days) would not fit a payout's amount.
        ({"weekly_rate": "", "day_rate": "2000000000"}, "day_rate", "invalid_rate"),
        ({"currency": "CHF"}, "currency", "invalid_currency"),
        ({"iban": "FR76 3000 6000 0112 3456 7890 180"}, "iban", "invalid_iban"),
        ({"bic": "NOTABIC"}, "bic", "invalid_bic"),
        ({"account_holder": "H" * 141}, "account_holder", "invalid_account_holder"),
        ({"language": "de"}, "language", "invalid_choice"),
    ],
)  # fmt: skip
def test_each_bad_value_is_reported_on_its_line_and_column_and_the_line_left_out(
    values: dict[str, str], field: str, code: str
) -> None:
    rows = [crew_row(1), crew_row(2, **values), crew_row(3)]

    with translation.override("en"):
        checked = check(roster_file(rows))

    assert [line.line for line in checked.lines] == [2, 4]
    assert codes(checked.problems) == [(3, field, code)]
    assert checked.problems[0].message


def test_every_problem_of_a_line_is_reported_in_the_order_of_the_columns() -> None:
    row = crew_row(1, country="XX", first_name="", weekly_rate="abc", currency="usd")
    content = roster_file([row]).replace(b"\r\n", b",extra\r\n").replace(b",extra", b"", 1)

    assert codes(read_roster(content).problems) == [
        (2, "", "too_many_values"),
        (2, "country", "invalid_country"),
        (2, "first_name", "required"),
        (2, "weekly_rate", "invalid_rate"),
    ]


def test_messages_are_in_the_active_language_and_say_what_is_expected() -> None:
    rows = [crew_row(1, currency="CHF")]

    with translation.override("en"):
        (problem,) = check(roster_file(rows)).problems

    assert problem.message == "Not a currency the platform pays in (EUR, GBP, INR, USD)."


def test_codes_and_identifiers_are_stored_normalised() -> None:
    row = crew_row(1, country="fr", currency="eur", language="EN", bic="")
    row["iban"] = " ".join(row["iban"][i : i + 4] for i in range(0, 27, 4)).lower()
    row["national_id"] = " ".join(row["national_id"][i : i + 3] for i in range(0, 15, 3))

    (line,) = check(roster_file([row])).lines

    assert (line.production.country, line.production.currency, line.language) == ("FR", "EUR", "en")
    assert line.iban == crew_row(1)["iban"]
    assert line.national_id == crew_row(1)["national_id"]


def test_another_countrys_identifier_is_kept_compact_and_unchecked() -> None:
    row = crew_row(1, country="GB", currency="GBP", national_id="qq 12 34 56 c")

    (line,) = check(roster_file([row])).lines

    assert line.national_id == "QQ123456C"


# -- the lines together -----------------------------------------------------------------------


def test_a_person_listed_twice_on_a_production_is_refused_at_the_second_line() -> None:
    twice = crew_row(1, first_name=crew_row(1)["first_name"].upper(), role="Chef")
    rows = [crew_row(1), crew_row(2), twice, crew_row(1, production="PROD-2")]

    with translation.override("en"):
        checked = check(roster_file(rows))

    assert [line.line for line in checked.lines] == [2, 3, 5]
    assert codes(checked.problems) == [(4, "", "person_repeated")]
    assert checked.problems[0].message == (
        "This person is already on this production's roster, on line 2."
    )


@pytest.mark.parametrize(
    ("fact", "value", "shown"),
    [
        ("title", "Autre titre", "title Les Nuits de Marseille"),
        ("country", "BE", "country FR"),
        ("suspended_on", "17/03/2020", "suspension date 2020-03-16"),
        ("currency", "USD", "currency EUR"),
    ],
)
def test_a_line_whose_production_facts_differ_from_its_first_line_is_refused(
    fact: str, value: str, shown: str
) -> None:
    rows = [
        crew_row(1),
        crew_row(2, **{fact: value}),
        crew_row(3, production="PROD-2", **{fact: value}),
    ]

    with translation.override("en"):
        checked = check(roster_file(rows))

    assert [line.line for line in checked.lines] == [2, 4]
    assert codes(checked.problems) == [(3, fact, "production_differs")]
    assert checked.problems[0].message == f"Production PROD-1 has the {shown} on line 2."


def test_a_line_whose_production_facts_differ_from_the_stored_production_is_refused() -> None:
    stored = ProductionFacts("PROD-1", "Les Nuits de Marseille", "FR", dt.date(2020, 3, 16), "GBP")

    with translation.override("en"):
        checked = check(roster_file([crew_row(1)]), Known(productions={"PROD-1": stored}))

    assert checked.lines == []
    assert codes(checked.problems) == [(2, "currency", "production_differs_stored")]
    assert checked.problems[0].message == (
        "Production PROD-1 was imported before with the currency GBP."
    )


def _stored(n: int, **values: Any) -> StoredPerson:
    line = crew_row(n)
    person = StoredPerson(
        production="PROD-1",
        person_key=person_key(
            line["first_name"], line["last_name"], dt.date.fromisoformat(line["birth_date"])
        ),
        country="FR",
        national_id=line["national_id"],
        file_name="march.csv",
    )
    return dataclasses.replace(person, **values)


def test_a_person_already_on_the_production_from_an_earlier_roster_is_refused() -> None:
    rows = [crew_row(1), crew_row(2, national_id="")]
    known = Known(people=[_stored(2, national_id="")])

    with translation.override("en"):
        checked = check(roster_file(rows), known)

    assert [line.line for line in checked.lines] == [2]
    assert codes(checked.problems) == [(3, "", "person_repeated_stored")]
    assert checked.problems[0].message == (
        "This person is already on this production's roster, imported from march.csv."
    )


def test_a_person_of_an_earlier_roster_is_kept_on_another_production() -> None:
    known = Known(people=[_stored(1, production="PROD-0")])

    checked = check(roster_file([crew_row(1), crew_row(1, production="PROD-2")]), known)

    assert checked.problems == []


def test_the_same_names_and_birth_date_with_another_national_identifier_are_refused() -> None:
    other_nir = make_nir(random.Random(99), birth_date_of(1), 1)
    rows = [crew_row(1), crew_row(1, production="PROD-2", national_id=other_nir)]

    with translation.override("en"):
        checked = check(roster_file(rows))
        stored = check(roster_file(rows[1:]), Known(people=[_stored(1, production="PROD-0")]))

    assert codes(checked.problems) == [(3, "national_id", "other_national_id")]
    assert checked.problems[0].message == (
        "The same names and date of birth have another national identifier on line 2."
    )
    assert codes(stored.problems) == [(2, "national_id", "other_national_id_stored")]


def test_a_national_identifier_given_for_another_person_is_refused() -> None:
    rows = [crew_row(1), crew_row(1, production="PROD-2", first_name="Quelqu'un d'autre")]

    with translation.override("en"):
        checked = check(roster_file(rows))
        stored = check(roster_file(rows[1:]), Known(people=[_stored(1)]))

    assert codes(checked.problems) == [(3, "national_id", "national_id_of_other")]
    assert checked.problems[0].message == (
        "This national identifier is given for another name or date of birth on line 2."
    )
    assert codes(stored.problems) == [(2, "national_id", "national_id_of_other_stored")]


def test_a_national_identifier_of_another_country_is_no_contradiction() -> None:
    uk = crew_row(1, production="PROD-UK", country="GB", currency="GBP", national_id="QQ123456C")

    checked = check(roster_file([crew_row(1), uk]))

    assert checked.problems == []


def test_only_the_problems_of_the_first_lines_refused_are_listed(monkeypatch: Any) -> None:
    monkeypatch.setattr(roster, "MAX_LISTED_LINES", 2)
    rows = [crew_row(n, country="XX", currency="CHF") for n in range(1, 5)]

    problems = roster.listed(check(roster_file(rows)).problems)

    assert codes(problems) == [
        (2, "country", "invalid_country"),
        (2, "currency", "invalid_currency"),
        (3, "country", "invalid_country"),
        (3, "currency", "invalid_currency"),
    ]


# -- the identity of a person -----------------------------------------------------------------


def test_the_identity_key_ignores_accents_case_and_separators() -> None:
    day = dt.date(1984, 2, 11)
    key = person_key("Jean-Édouard", "Lefèvre D'Arcy", day)

    assert person_key("JEAN EDOUARD", "lefevre-darcy", day) == key
    assert person_key(" jean   édouard ", "LEFÈVRE  D’ARCY", day) == key
    assert len(key) == 64
    assert int(key, 16) >= 0


def test_the_identity_key_differs_for_another_name_or_birth_date() -> None:
    day = dt.date(1984, 2, 11)
    keys = {
        person_key("Jean", "Martin", day),
        person_key("Jeanne", "Martin", day),
        person_key("Jean", "Martins", day),
        person_key("Martin", "Jean", day),
        person_key("Jean", "Martin", day + dt.timedelta(days=1)),
    }

    assert len(keys) == 5


def test_the_identity_key_is_keyed_by_the_sites_secret(settings: Any) -> None:
    day = dt.date(1984, 2, 11)
    key = person_key("Jean", "Martin", day)
    settings.SECRET_KEY = "another secret"

    assert person_key("Jean", "Martin", day) != key


def test_the_identity_key_does_not_depend_on_the_order_of_the_lines() -> None:
    rows = [crew_row(n) for n in range(1, 6)]

    forward = {line.line: line.person_key for line in check(roster_file(rows)).lines}
    backward = check(roster_file(rows[::-1])).lines

    assert sorted(line.person_key for line in backward) == sorted(forward.values())


LATIN = "abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöûüùçñ"


@given(
    st.text(alphabet=LATIN + LATIN.upper() + " -'", min_size=1, max_size=30).filter(
        lambda name: any(char.isalpha() for char in name)
    )
)
def test_a_name_is_the_same_whatever_its_case_accents_and_separators(name: str) -> None:
    plain = normalised_name(name)

    assert normalised_name(name.upper()) == plain
    assert normalised_name(name.replace(" ", "-")) == plain
    assert normalised_name(f" {name}' ") == plain
    assert plain.isascii()
    assert plain.isalnum()


def test_the_documentation_names_every_column_and_alias() -> None:
    documented = (Path(__file__).resolve().parents[3] / "docs" / "crew.md").read_text()

    for column in roster.COLUMNS:
        assert f"| `{column.name}` |" in documented
        for alias in column.aliases:
            assert f"`{alias}`" in documented
