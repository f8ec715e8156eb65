"""The personal identifier a fund asks its applicants for, as its rule document names it
(``identifier``): how it is labelled, explained, checked, normalised and, where it encodes the
date of birth, checked against the declared one. One registry, :data:`IDENTIFIERS`; the rule
document's schema lists the same ids.

Whatever its kind, the identifier is stored compact and in capitals in ``Application.nir``
(the column's name is historical): one application and one award per identifier per fund or
programme."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from stdnum.es import dni as stdnum_dni
from stdnum.es import nie as stdnum_nie
from stdnum.exceptions import InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir
from stdnum.it import codicefiscale as stdnum_codicefiscale
from stdnum.util import clean

from entraide.core.errors import ValidationFailed
from entraide.rules.document import DEFAULT_IDENTIFIER, RuleDocument

if TYPE_CHECKING:  # django-stubs' type of a lazy translation, for the forms' labels
    from django_stubs_ext import StrPromise

# The UK National Insurance number, as HMRC's National Insurance Manual describes it (NIM39110,
# "What a NINO looks like"): two prefix letters, six digits, a suffix A, B, C or D. Neither
# prefix letter is D, F, I, Q, U or V, the second is not O, and the prefixes BG, GB, KN, NK, NT,
# TN and ZZ are not allocated (ZZ is Faker's and test systems' prefix). There is no check
# character: the format is all that can be checked. python-stdnum has no NINO module, and no
# validator on PyPI is worth a dependency for one regular expression.
NINO = re.compile(r"(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]")


def _nino(raw: str) -> str:
    number = clean(raw, " -").upper()
    if len(number) != 9:
        raise InvalidLength()
    if not NINO.fullmatch(number):
        raise InvalidFormat()
    return number


def _codice_fiscale(raw: str) -> str:
    number = stdnum_codicefiscale.compact(raw)
    # stdnum also takes the 11 digits of a company's number: a person's code has 16 characters.
    if len(number) != 16:
        raise InvalidLength()
    return str(stdnum_codicefiscale.validate(number))


def _dni_or_nie(raw: str) -> str:
    # Written 12.345.678-Z as often as 12345678Z.
    number = clean(raw, " -.").upper()
    module = stdnum_nie if number[:1] in ("X", "Y", "Z") else stdnum_dni
    return str(module.validate(number))


def check_birth_date_matches(nir: str, birth_date: dt.date) -> None:
    """Characters 2-3 of the NIR are the year of birth, 4-5 the month (20 and above: unknown)."""
    year, month = int(nir[1:3]), int(nir[3:5])
    if year != birth_date.year % 100 or (month <= 12 and month != birth_date.month):
        raise ValidationFailed(
            _("The date of birth does not match the social security number."), field="birth_date"
        )


def _codice_fiscale_birth_date(code: str, birth_date: dt.date) -> None:
    """Characters 7-11 are the year (two digits), the month and the day of birth."""
    encoded = stdnum_codicefiscale.get_birth_date(code)
    if (encoded.year % 100, encoded.month, encoded.day) != (
        birth_date.year % 100,
        birth_date.month,
        birth_date.day,
    ):
        raise ValidationFailed(
            _("The date of birth does not match the codice fiscale."), field="birth_date"
        )


@dataclass(frozen=True)
class PersonalIdentifier:
    id: str
    # The country that issues it (ISO 3166): an applicant's country when they name none.
    country: str
    label: StrPromise
    help_text: StrPromise
    # Above the form's step: why the fund asks for it.
    purpose: StrPromise
    invalid: StrPromise
    # As typed, separators included; stored compact, it fits Application.nir.
    max_length: int
    # Compact and checked, or a python-stdnum ValidationError.
    validate: Callable[[str], str]
    # Raises ValidationFailed on ``birth_date``; None: the identifier encodes no date.
    birth_date_check: Callable[[str, dt.date], None] | None = None

    def normalise(self, raw: str) -> str:
        """The identifier compact and in capitals, or :class:`ValidationFailed` on ``nir``."""
        try:
            return self.validate(raw).upper()
        except StdnumError as exc:
            raise ValidationFailed(self.invalid, field="nir") from exc

    def check_birth_date(self, value: str, birth_date: dt.date) -> None:
        """Refuse a declared date of birth that the (normalised) identifier contradicts."""
        if self.birth_date_check is not None:
            self.birth_date_check(value, birth_date)


ONLY_ONCE = _(
    "The fund asks for this number to make sure that each person applies once. After you send "
    "your application, it is only shown by its last four characters."
)

IDENTIFIERS: dict[str, PersonalIdentifier] = {
    identifier.id: identifier
    for identifier in (
        PersonalIdentifier(
            id="fr-nir",
            country="FR",
            label=_("Social security number"),
            help_text=_(
                "15 characters including the 2-digit key, as on your Carte Vitale or your social "
                "security certificate. Spaces are allowed."
            ),
            purpose=_(
                "Your social security number lets the fund check your situation with the records "
                "it has, and makes sure that each person applies once. After you send your "
                "application, it is only shown by its last four characters."
            ),
            invalid=_(
                "This social security number is not valid: check the 15 characters and the key."
            ),
            max_length=25,
            validate=stdnum_nir.validate,
            birth_date_check=check_birth_date_matches,
        ),
        PersonalIdentifier(
            id="it-codice-fiscale",
            country="IT",
            label=_("Codice fiscale"),
            help_text=_(
                "16 letters and digits, as on your health insurance card (tessera sanitaria). "
                "Spaces are allowed."
            ),
            purpose=ONLY_ONCE,
            invalid=_(
                "This codice fiscale is not valid: check the 16 letters and digits, the last one "
                "included."
            ),
            max_length=20,
            validate=_codice_fiscale,
            birth_date_check=_codice_fiscale_birth_date,
        ),
        PersonalIdentifier(
            id="es-dni-nie",
            country="ES",
            label=_("DNI or NIE"),
            help_text=_(
                "Your DNI: 8 digits and a letter. If you are a foreign resident, your NIE: X, Y or "
                "Z, 7 digits and a letter."
            ),
            purpose=ONLY_ONCE,
            invalid=_("This DNI or NIE is not valid: check the digits and the letter at the end."),
            max_length=14,
            validate=_dni_or_nie,
        ),
        PersonalIdentifier(
            id="gb-nino",
            country="GB",
            label=_("National Insurance number"),
            help_text=_(
                "2 letters, 6 digits and a final letter from A to D, as on your payslips or your "
                "P60, for example QQ 12 34 56 C. Spaces are allowed."
            ),
            purpose=ONLY_ONCE,
            invalid=_(
                "This National Insurance number is not valid: it has 2 letters, 6 digits and a "
                "final letter from A to D."
            ),
            max_length=13,
            validate=_nino,
        ),
    )
}
# The longest identifier anyone may type, whatever the fund (the partners' API's bound).
MAX_TYPED_LENGTH = max(identifier.max_length for identifier in IDENTIFIERS.values())


def identifier_of(document: RuleDocument | None) -> PersonalIdentifier:
    """The identifier the rules ask for; a fund without rules in force asks for the NIR."""
    return IDENTIFIERS[document.identifier if document is not None else DEFAULT_IDENTIFIER]


def identifier_of_value(value: str) -> PersonalIdentifier:
    """The kind of a stored identifier, told by its form: the kinds' forms never overlap (15
    digits and a key; 16 characters; 8 digits or X, Y, Z and 7 digits, then a letter; 2 letters,
    6 digits and a letter), so showing one needs no query for the rules it was asked under. The
    NIR for a value that none of them accepts."""
    for identifier in IDENTIFIERS.values():
        try:
            identifier.validate(value)
        except StdnumError:
            continue
        return identifier
    return IDENTIFIERS[DEFAULT_IDENTIFIER]
