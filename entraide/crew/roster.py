"""Reading a production roster (CSV, docs/crew.md): one line per crew member per production.

Two steps, without the database, so that every rule is tested on its own:

- :func:`read_roster` decodes the file (UTF-8 with or without BOM, else Windows-1252, which
  covers Latin-1's text), finds its separator (``,`` or ``;``) from the header, maps the header's
  names (any case, accents, French aliases) to the columns, and checks each line's values. A
  file that cannot be read at all raises :class:`RosterFileError`; a bad value is a
  :class:`Problem` of its line and column, and the line is left out.
- :meth:`Roster.check` then checks the good lines against each other and against what the
  programme already holds (:class:`Known`): a production's facts that differ from its first
  line's or from the stored production's, a person listed twice on a production, a national
  identifier that contradicts another line's or roster's.

Lines are counted as a spreadsheet shows them: the header is line 1, each record one line (a
quoted value spanning lines stays one record).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from text_unidecode import unidecode

from entraide.applications.identity import IDENTIFIERS
from entraide.core.errors import ValidationFailed
from entraide.core.money import CURRENCY_CHOICES
from entraide.crew.models import Production
from entraide.evidence.imports import ROW_PROBLEMS, ImportFileError
from entraide.payments.bank_details import clean_bank_details
from entraide.rules.declared import COUNTRY_CODES

# A roster is a few thousand lines (a few hundred kilobytes): 20 MB is far beyond any.
MAX_ROSTER_BYTES = 20 * 1024 * 1024
# An import keeps the problems of its first refused lines only; the others are counted.
MAX_LISTED_LINES = 1000
PERSON_KEY_PURPOSE = "entraide.crew.person_key"
CURRENCIES = frozenset(code for code, _label in CURRENCY_CHOICES)
FRANCE = "FR"
NIR = IDENTIFIERS["fr-nir"]
OLDEST_BIRTH_DATE = dt.date(1900, 1, 1)

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})", re.ASCII)
# Up to 9 digits before the decimal separator: a day rate times up to 7 days is a week of pay
# that a payout holds (Payout.weekly_pay: 12 digits, 2 decimals; PostgreSQL refuses more).
RATE = re.compile(r"(\d{1,9})(?:[.,](\d{1,2}))?", re.ASCII)
# Spaces between thousands: plain, no-break and narrow no-break (as French spreadsheets write).
THOUSANDS_SPACES = str.maketrans("", "", " \u00a0\u202f")
NATIONAL_ID = re.compile(r"[A-Z0-9]{1,30}", re.ASCII)


class RosterFileError(ImportFileError):
    """The file cannot be imported at all: nothing of it is kept."""

    def __init__(self, message: Any) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    aliases: tuple[str, ...] = ()
    max_length: int = 0  # text columns


# In the order of the documented format; aliases are written as header names are compared:
# without accents, in lower case, words joined by "_".
COLUMNS = (
    Column(
        "production",
        True,
        ("production_reference", "production_ref", "reference_production", "code_production"),
        max_length=60,
    ),
    Column("title", True, ("production_title", "titre", "titre_production"), max_length=200),
    Column("country", True, ("production_country", "pays", "pays_production")),
    Column(
        "suspended_on",
        True,
        ("suspension_date", "date_suspension", "date_de_suspension", "suspendue_le"),
    ),
    Column("first_name", True, ("firstname", "given_name", "prenom"), max_length=100),
    Column("last_name", True, ("lastname", "surname", "family_name", "nom", "nom_de_famille"), 100),
    Column(
        "birth_date",
        True,
        ("date_of_birth", "birthdate", "date_naissance", "date_de_naissance"),
    ),
    Column("email", False, ("e_mail", "mail", "courriel", "adresse_email"), max_length=254),
    Column(
        "national_id",
        False,
        ("nir", "ssn", "numero_securite_sociale", "numero_de_securite_sociale"),
    ),
    Column("role", True, ("job", "position", "poste", "fonction"), max_length=100),
    Column(
        "weekly_rate",
        False,
        ("rate_per_week", "taux_hebdomadaire", "salaire_hebdomadaire", "tarif_semaine"),
    ),
    Column(
        "day_rate",
        False,
        ("daily_rate", "rate_per_day", "taux_journalier", "salaire_journalier", "tarif_jour"),
    ),
    Column("currency", True, ("devise", "monnaie")),
    Column("iban", True),
    Column("bic", False, ("swift", "bic_swift")),
    Column("account_holder", True, ("holder", "titulaire", "titulaire_du_compte")),
    Column("language", False, ("langue",)),
)
COLUMN_ORDER = {column.name: position for position, column in enumerate(COLUMNS)}
RATE_COLUMNS = ("weekly_rate", "day_rate")


def header_name(text: str) -> str:
    """A header cell as names are compared: no accents, lower case, words joined by ``_``."""
    return "_".join(re.findall(r"[a-z0-9]+", unidecode(text).casefold()))


HEADER_NAMES = {
    header_name(name): column.name for column in COLUMNS for name in (column.name, *column.aliases)
}


# -- what is found ------------------------------------------------------------------------------

MESSAGES: dict[str, Any] = {
    **{code: ROW_PROBLEMS[code] for code in ("required", "too_long", "invalid_choice")},
    "too_many_values": _("The line has more values than the header has columns."),
    "invalid_date": _("Not a date (YYYY-MM-DD or DD/MM/YYYY)."),
    "invalid_birth_date": _("Not a possible date of birth."),
    "invalid_country": _("Not a country code (ISO 3166, 2 letters, like FR)."),
    "invalid_currency": _("Not a currency the platform pays in (%(currencies)s)."),
    "invalid_rate": _(
        "Not an amount (digits, with a decimal point or comma and at most 2 decimals)."
    ),
    "rate_not_positive": _("The rate must be more than zero."),
    "rate_required": _("Give a weekly rate or a day rate."),
    "two_rates": _("Give a weekly rate or a day rate, not both."),
    "invalid_name": _("A name needs at least one letter or digit."),
    "invalid_email": _("Not an e-mail address."),
    "invalid_national_id": _("Not an identifier (at most 30 letters and digits)."),
    "production_differs": _(
        "Production %(production)s has the %(fact)s %(value)s on line %(line)s."
    ),
    "production_differs_stored": _(
        "Production %(production)s was imported before with the %(fact)s %(value)s."
    ),
    "person_repeated": _("This person is already on this production's roster, on line %(line)s."),
    "person_repeated_stored": _(
        "This person is already on this production's roster, imported from %(file)s."
    ),
    "other_national_id": _(
        "The same names and date of birth have another national identifier on line %(line)s."
    ),
    "other_national_id_stored": _(
        "The same names and date of birth have another national identifier on the roster %(file)s."
    ),
    "national_id_of_other": _(
        "This national identifier is given for another name or date of birth on line %(line)s."
    ),
    "national_id_of_other_stored": _(
        "This national identifier is given for another name or date of birth on the roster "
        "%(file)s."
    ),
}
FACT_NAMES: dict[str, Any] = {
    "title": pgettext_lazy("production", "title"),
    "country": pgettext_lazy("production", "country"),
    "suspended_on": pgettext_lazy("production", "suspension date"),
    "currency": pgettext_lazy("production", "currency"),
}


@dataclass(frozen=True)
class Problem:
    """Why a line is refused: its column (empty: the line as a whole), a stable code and the
    message in the language active when it was found."""

    line: int
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "code": self.code, "message": self.message}


def _problem(number: int, column: str, code: str, message: Any = None, **values: Any) -> Problem:
    text = MESSAGES[code] if message is None else message
    return Problem(number, column, code, str(text % values if values else text))


@dataclass(frozen=True)
class ProductionFacts:
    code: str
    title: str
    country: str
    suspended_on: dt.date
    currency: str

    @classmethod
    def of(cls, production: Production) -> ProductionFacts:
        return cls(
            production.code,
            production.title,
            production.country,
            production.suspended_on,
            production.currency,
        )


@dataclass(frozen=True)
class CrewLine:
    """A line whose values are all valid, normalised as they are stored."""

    line: int
    production: ProductionFacts
    first_name: str
    last_name: str
    birth_date: dt.date
    email: str
    national_id: str
    role: str
    weekly_rate: Decimal | None
    day_rate: Decimal | None
    iban: str
    bic: str
    account_holder: str
    language: str
    person_key: str


@dataclass(frozen=True)
class StoredPerson:
    """A person already on a roster of the programme, as the checks read them."""

    production: str  # the production's reference
    person_key: str
    country: str  # the production's
    national_id: str
    file_name: str  # of the roster that brought them


@dataclass(frozen=True)
class Known:
    """What the programme holds already, of the productions and people a roster names."""

    productions: dict[str, ProductionFacts] = field(default_factory=dict)
    people: Sequence[StoredPerson] = ()


@dataclass(frozen=True)
class Checked:
    lines: list[CrewLine]  # kept
    problems: list[Problem]  # every problem of the file, in the order of its lines and columns


# -- the identity of a person -----------------------------------------------------------------


def normalised_name(name: str) -> str:
    """A name as identities compare it: transliterated to ASCII, case folded, its letters and
    digits only ("Lefèvre-D'Arcy" and "LEFEVRE DARCY" are the same)."""
    return "".join(char for char in unidecode(name).casefold() if char.isalnum())


def person_key(first_name: str, last_name: str, birth_date: dt.date) -> str:
    """The same for a person on every roster of the programme, whatever the accents, case and
    separators of their names: a keyed digest (HMAC-SHA256 with the site's secret) of the
    normalised last and first names and the date of birth. The national identifier is not
    part of it (docs/crew.md): it only refuses lines that contradict each other."""
    value = (
        f"name:{normalised_name(last_name)}|{normalised_name(first_name)}|{birth_date.isoformat()}"
    )
    return salted_hmac(PERSON_KEY_PURPOSE, value, algorithm="sha256").hexdigest()


# -- reading the file -------------------------------------------------------------------------


def decode(content: bytes) -> str:
    """The file's text: UTF-8 (a BOM is dropped), else Windows-1252."""
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "cp1252"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # UTF-16, a spreadsheet's binary file, an image…
            return text
        break
    raise RosterFileError(
        _("This file is not CSV text in UTF-8 or Windows-1252 (Latin-1): save it as CSV.")
    )


def separator(text: str) -> str:
    """``;`` when the header has more of them than commas (as French spreadsheets write CSV),
    else ``,``."""
    header = next((line for line in io.StringIO(text) if line.strip(" \t\r\n,;")), "")
    return ";" if header.count(";") > header.count(",") else ","


def _columns(header: Sequence[str]) -> list[str | None]:
    """The column of each cell of the header (None: an empty cell, whose values are left
    out), or RosterFileError naming the names not known, repeated or missing."""
    columns: list[str | None] = []
    unknown = []
    for cell in header:
        name = header_name(cell)
        if not name:
            columns.append(None)
        elif name in HEADER_NAMES:
            columns.append(HEADER_NAMES[name])
        else:
            unknown.append(cell.strip())
    if unknown:
        raise RosterFileError(
            _("Unknown column(s): %(unknown)s. The columns are: %(columns)s.")
            % {"unknown": ", ".join(unknown), "columns": ", ".join(c.name for c in COLUMNS)}
        )
    named = [name for name in columns if name is not None]
    repeated = sorted(
        {name for name in named if named.count(name) > 1}, key=COLUMN_ORDER.__getitem__
    )
    if repeated:
        raise RosterFileError(
            _("Column(s) given twice: %(columns)s.") % {"columns": ", ".join(repeated)}
        )
    missing = [c.name for c in COLUMNS if c.required and c.name not in named]
    if missing:
        raise RosterFileError(
            _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)}
        )
    if not any(name in named for name in RATE_COLUMNS):
        raise RosterFileError(_("The file needs a weekly_rate or a day_rate column."))
    return columns


def _records(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator(text))
    try:
        yield from reader
    except csv.Error as error:
        raise RosterFileError(
            _("The file cannot be read as CSV after line %(line)s (%(error)s).")
            % {"line": reader.line_num, "error": error}
        ) from None


@dataclass(frozen=True)
class Roster:
    """The lines of a file whose values are valid, and the problems of the others."""

    lines: list[CrewLine]
    problems: list[Problem]
    rows: int  # lines read, blank lines aside

    @property
    def production_codes(self) -> set[str]:
        return {line.production.code for line in self.lines}

    @property
    def person_keys(self) -> set[str]:
        return {line.person_key for line in self.lines}

    @property
    def national_ids(self) -> set[str]:
        return {line.national_id for line in self.lines if line.national_id}

    def check(self, known: Known) -> Checked:
        """The lines kept once checked against each other and ``known``, and all problems."""
        checker = _Checker(known)
        kept = [line for line in self.lines if checker.keeps(line)]
        problems = sorted(
            [*self.problems, *checker.problems],
            key=lambda p: (p.line, COLUMN_ORDER.get(p.field, -1)),
        )
        return Checked(kept, problems)


def read_roster(content: bytes) -> Roster:
    """Every line of the file, checked value by value; RosterFileError when the file cannot be
    read, lacks a column, or holds no line."""
    if len(content) > MAX_ROSTER_BYTES:
        raise RosterFileError(
            _("This file is too large: at most %(size)s MB.")
            % {"size": MAX_ROSTER_BYTES // (1024 * 1024)}
        )
    records = enumerate(_records(decode(content)), start=1)
    # The header is the first line that is not blank; the lines after it keep their numbers.
    header = next((cells for _number, cells in records if any(map(str.strip, cells))), None)
    if header is None:
        raise RosterFileError(_("The file is empty."))
    columns = _columns(header)
    lines: list[CrewLine] = []
    problems: list[Problem] = []
    rows = 0
    for number, cells in records:
        if not any(map(str.strip, cells)):
            continue
        rows += 1
        line, found = _read_line(number, columns, cells)
        if line is not None:
            lines.append(line)
        problems.extend(found)
    if not rows:
        raise RosterFileError(_("The file has a header but no crew member."))
    return Roster(lines, problems, rows)


# -- one line ---------------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, code: str, message: Any = None, **values: Any) -> None:
        self.code, self.message, self.values = code, message, values


def _text(raw: str, column: Column) -> str:
    text = " ".join(raw.split())
    if len(text) > column.max_length:
        raise _Bad("too_long")
    return text


def _name(raw: str, column: Column) -> str:
    text = _text(raw, column)
    if not normalised_name(text):
        raise _Bad("invalid_name")
    return text


def parse_date(raw: str) -> dt.date:
    """A date written 2020-03-16 or 16/03/2020."""
    try:
        if ISO_DATE.fullmatch(raw):
            return dt.date.fromisoformat(raw)
        if match := FRENCH_DATE.fullmatch(raw):
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:  # like 2020-02-30
        pass
    raise _Bad("invalid_date")


def _birth_date(raw: str) -> dt.date:
    day = parse_date(raw)
    if not OLDEST_BIRTH_DATE <= day <= timezone.localdate():
        raise _Bad("invalid_birth_date")
    return day


def parse_rate(raw: str) -> Decimal:
    """An amount written 1200, 1 200,50 or 1200.5: more than zero, at most 2 decimals."""
    match = RATE.fullmatch(raw.translate(THOUSANDS_SPACES))
    if match is None:
        raise _Bad("invalid_rate")
    rate = Decimal(f"{match[1]}.{match[2] or '0'}").quantize(Decimal("0.01"))
    if rate <= 0:
        raise _Bad("rate_not_positive")
    return rate


def _country(raw: str) -> str:
    code = raw.upper()
    if code not in COUNTRY_CODES:
        raise _Bad("invalid_country")
    return code


def _currency(raw: str) -> str:
    code = raw.upper()
    if code not in CURRENCIES:
        raise _Bad("invalid_currency", currencies=", ".join(sorted(CURRENCIES)))
    return code


def _email(raw: str, column: Column) -> str:
    text = _text(raw, column)
    try:
        validate_email(text)
    except ValidationError:
        raise _Bad("invalid_email") from None
    return text


def _language(raw: str) -> str:
    code = raw.lower()
    if code not in dict(settings.LANGUAGES):
        raise _Bad("invalid_choice")
    return code


def _national_id(raw: str, country: str | None) -> str:
    """A NIR checked by its key for a French production, else the country's identifier
    without spaces, dots, hyphens or slashes, in upper case."""
    if country == FRANCE:
        try:
            return NIR.normalise(raw)
        except ValidationFailed as error:
            raise _Bad("invalid_nir", error.message) from None
    compact = re.sub(r"[\s./-]", "", raw).upper()
    if not NATIONAL_ID.fullmatch(compact):
        raise _Bad("invalid_national_id")
    return compact


PARSERS: dict[str, Any] = {
    "production": _text,
    "title": _text,
    "country": lambda raw, column: _country(raw),
    "suspended_on": lambda raw, column: parse_date(raw),
    "first_name": _name,
    "last_name": _name,
    "birth_date": lambda raw, column: _birth_date(raw),
    "email": _email,
    "role": _text,
    "weekly_rate": lambda raw, column: parse_rate(raw),
    "day_rate": lambda raw, column: parse_rate(raw),
    "currency": lambda raw, column: _currency(raw),
    "language": lambda raw, column: _language(raw),
}
# Checked together, after the others: the identifier needs the country and the date of birth,
# the bank details are checked as one (payments.bank_details).
CHECKED_TOGETHER = frozenset({"national_id", "iban", "bic", "account_holder"})


def _read_line(
    number: int, columns: Sequence[str | None], cells: Sequence[str]
) -> tuple[CrewLine | None, list[Problem]]:
    raw = dict.fromkeys(COLUMN_ORDER, "")
    for name, cell in zip(columns, cells, strict=False):
        if name is not None:
            raw[name] = cell.strip()
    problems: list[Problem] = []
    if any(cell.strip() for cell in cells[len(columns) :]):
        problems.append(_problem(number, "", "too_many_values"))
    values: dict[str, Any] = {}
    for column in COLUMNS:
        text = raw[column.name]
        if not text:
            if column.required:
                problems.append(_problem(number, column.name, "required"))
            continue
        if column.name in CHECKED_TOGETHER:
            continue
        try:
            values[column.name] = PARSERS[column.name](text, column)
        except _Bad as bad:
            problems.append(_problem(number, column.name, bad.code, bad.message, **bad.values))
    problems.extend(_rate_problems(number, raw))
    problems.extend(_identity_problems(number, raw, values))
    problems.extend(_bank_problems(number, raw, values))
    if problems:
        return None, problems
    return _crew_line(number, values), []


def _rate_problems(number: int, raw: dict[str, str]) -> Iterable[Problem]:
    given = [name for name in RATE_COLUMNS if raw[name]]
    if not given:
        yield _problem(number, "weekly_rate", "rate_required")
    elif len(given) > 1:
        yield _problem(number, "day_rate", "two_rates")


def _identity_problems(number: int, raw: dict[str, str], values: dict[str, Any]) -> list[Problem]:
    text = raw["national_id"]
    if not text:
        values["national_id"] = ""
        return []
    try:
        national_id = _national_id(text, values.get("country"))
    except _Bad as bad:
        return [_problem(number, "national_id", bad.code, bad.message)]
    values["national_id"] = national_id
    if values.get("country") == FRANCE and "birth_date" in values:
        try:
            NIR.check_birth_date(national_id, values["birth_date"])
        except ValidationFailed as error:
            return [_problem(number, "birth_date", "birth_date_not_nir", error.message)]
    return []


def _bank_problems(number: int, raw: dict[str, str], values: dict[str, Any]) -> list[Problem]:
    if not (raw["iban"] and raw["account_holder"]):
        return []  # reported as required
    try:
        details = clean_bank_details(raw["iban"], raw["bic"], raw["account_holder"])
    except ValidationFailed as error:
        column = error.field or "iban"
        return [_problem(number, column, f"invalid_{column}", error.message)]
    values.update(iban=details.iban, bic=details.bic, account_holder=details.account_holder)
    return []


def _crew_line(number: int, values: dict[str, Any]) -> CrewLine:
    return CrewLine(
        line=number,
        production=ProductionFacts(
            values["production"],
            values["title"],
            values["country"],
            values["suspended_on"],
            values["currency"],
        ),
        first_name=values["first_name"],
        last_name=values["last_name"],
        birth_date=values["birth_date"],
        email=values.get("email", ""),
        national_id=values["national_id"],
        role=values["role"],
        weekly_rate=values.get("weekly_rate"),
        day_rate=values.get("day_rate"),
        iban=values["iban"],
        bic=values["bic"],
        account_holder=values["account_holder"],
        language=values.get("language", settings.LANGUAGE_CODE),
        person_key=person_key(values["first_name"], values["last_name"], values["birth_date"]),
    )


# -- the lines together -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Seen:
    """Where something was first given: a line of the file, or an earlier roster."""

    line: int | None = None
    file_name: str = ""
    value: Any = None


class _Checker:
    """Goes through the valid lines in order; the first line that gives a fact sets it."""

    def __init__(self, known: Known) -> None:
        self.problems: list[Problem] = []
        self.productions: dict[str, tuple[ProductionFacts, _Seen]] = {
            code: (facts, _Seen()) for code, facts in known.productions.items()
        }
        self.on_production: dict[tuple[str, str], _Seen] = {}
        # (person, country) → their national identifier; (country, identifier) → the person.
        self.identifier_of: dict[tuple[str, str], _Seen] = {}
        self.person_of: dict[tuple[str, str], _Seen] = {}
        for person in known.people:
            seen = _Seen(file_name=person.file_name)
            self.on_production.setdefault((person.production, person.person_key), seen)
            if person.national_id:
                self._identify(person.person_key, person.country, person.national_id, seen)

    def _identify(self, key: str, country: str, national_id: str, seen: _Seen) -> None:
        self.identifier_of.setdefault((key, country), _Seen(seen.line, seen.file_name, national_id))
        self.person_of.setdefault((country, national_id), _Seen(seen.line, seen.file_name, key))

    def _add(self, line: CrewLine, column: str, code: str, seen: _Seen, **values: Any) -> None:
        if seen.line is None:
            code += "_stored"
        self.problems.append(
            _problem(line.line, column, code, line=seen.line, file=seen.file_name, **values)
        )

    def keeps(self, line: CrewLine) -> bool:
        before = len(self.problems)
        facts = line.production
        first = self.productions.setdefault(facts.code, (facts, _Seen(line.line)))
        for fact in FACT_NAMES:
            expected = getattr(first[0], fact)
            if getattr(facts, fact) != expected:
                value = expected.isoformat() if isinstance(expected, dt.date) else expected
                self._add(
                    line,
                    fact,
                    "production_differs",
                    first[1],
                    production=facts.code,
                    fact=FACT_NAMES[fact],
                    value=value,
                )
        if len(self.problems) > before:
            return False
        key, country = line.person_key, facts.country
        repeated = self.on_production.get((facts.code, key))
        if repeated is not None:
            self._add(line, "", "person_repeated", repeated)
        if line.national_id:
            known_id = self.identifier_of.get((key, country))
            if known_id is not None and known_id.value != line.national_id:
                self._add(line, "national_id", "other_national_id", known_id)
            known_person = self.person_of.get((country, line.national_id))
            if known_person is not None and known_person.value != key:
                self._add(line, "national_id", "national_id_of_other", known_person)
        if len(self.problems) > before:
            return False
        seen = _Seen(line.line)
        self.on_production[(facts.code, key)] = seen
        if line.national_id:
            self._identify(key, country, line.national_id, seen)
        return True


def listed(problems: Sequence[Problem]) -> list[Problem]:
    """The problems of the first MAX_LISTED_LINES lines refused (``problems`` in line order)."""
    kept: list[Problem] = []
    lines: set[int] = set()
    for problem in problems:
        if problem.line not in lines:
            if len(lines) == MAX_LISTED_LINES:
                break
            lines.add(problem.line)
        kept.append(problem)
    return kept
