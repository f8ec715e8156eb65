"""Synthetic applicants with known duplicates and look-alikes, to measure duplicate detection.

:func:`make_population` makes records of which about ``duplicate_rate`` are second (rarely
third) applications of an earlier person, each made with variations drawn at random and recorded
(:data:`VARIATIONS`), among people of whom some look alike without being the same person
(couples on one joint account, namesakes, twins): the truth that a linkage's pairs are measured
against (:mod:`entraide.integrity.evaluation`). The records say what applicants type, NIR and
IBAN in clear (to be stored as applications); :attr:`Population.compared` gives them as
duplicate detection reads them, NIR and IBAN by their blind indexes. Names come from Faker's
fr_FR lists, read once rather than through a Faker object per record; NIR keys come from
python-stdnum (through entraide.demo.synthetic) and French IBANs' keys are computed as schwifty
does, so every identifier is valid. Nothing is a real person's, and the same seed gives the same
population."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from faker.providers.address.fr_FR import Provider as AddressProvider
from faker.providers.person.fr_FR import Provider as PersonProvider
from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir

from entraide.applications.search import fold
from entraide.core.crypto import blind_index
from entraide.demo.synthetic import FRENCH_BANKS, make_nir
from entraide.integrity.evaluation import Pair, pairs_of_clusters
from entraide.integrity.records import ApplicantRecord

# What a later application of the same person may change, in the order they are applied.
VARIATIONS = (
    "married_name",  # a maiden/married last name ("Dupont" -> "Martin" or "Dupont-Martin")
    "hyphenation",  # "Jean-Pierre" <-> "Jean Pierre", "Da Silva" <-> "Da-Silva"
    "accents",  # accents removed ("Hélène" -> "Helene") or added ("Helene" -> "Helène")
    "typo_substitution",
    "typo_deletion",
    "typo_insertion",
    "transposition",  # two neighbouring letters swapped
    "swapped_names",  # first name typed as last name and the other way round
    "new_email",
    "new_phone",
    "new_address",  # another address in the same town
    "second_nir",  # another valid NIR for the same birth month and sex (a fraudster's second)
    "nir_digit",  # one digit of the commune or order number changed, the key recomputed
    "new_iban",
)
# The chance that a later application carries each variation, drawn independently (at least one
# is applied): most people applying twice keep their NIR and account.
VARIATION_RATES: dict[str, float] = {
    "married_name": 0.10,  # of the women
    "hyphenation": 0.40,  # of the people with a compound first or last name
    "accents": 0.10,
    "typo_substitution": 0.12,
    "typo_deletion": 0.08,
    "typo_insertion": 0.08,
    "transposition": 0.08,
    "swapped_names": 0.06,
    "new_email": 0.40,
    "new_phone": 0.25,
    "new_address": 0.12,
    "second_nir": 0.15,  # second_nir and nir_digit exclude each other
    "nir_digit": 0.10,
    "new_iban": 0.30,
}
NIR_VARIATIONS = ("second_nir", "nir_digit")
# Who types another NIR means not to be recognised: they mostly change their contacts too.
DISGUISED_RATES = VARIATION_RATES | {"new_email": 0.80, "new_phone": 0.60, "new_iban": 0.50}
NAME_TYPOS = ("typo_substitution", "typo_deletion", "typo_insertion", "transposition")
# Of the later applications, the share that is a person's third.
THIRD_APPLICATION_SHARE = 0.05
# Look-alikes (different people), as shares of the records that are not duplicates.
COUPLE_RATE = 0.006  # a partner of an earlier applicant: same address, same joint account
NAMESAKE_RATE = 0.006  # an earlier applicant's first and last names, another birth date
TWIN_RATE = 0.002  # an earlier applicant's last name, birth date and address
HARD_NEGATIVE_KINDS = ("couple", "namesake", "twin")

COMPOUND_FIRST_NAME_RATE = 0.12
DOUBLE_LAST_NAME_RATE = 0.05
BLANK_PHONE_RATE = 0.05
RECASED_EMAIL_RATE = 0.10
TOWNS = 4_000
EARLIEST_BIRTH = dt.date(1955, 1, 1)
BIRTH_DAYS = (dt.date(2000, 12, 31) - EARLIEST_BIRTH).days + 1
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "courriel.example")

FIRST_NAMES = {1: PersonProvider.first_names_male, 2: PersonProvider.first_names_female}
COMPOUND_STARTS = {1: ("Jean", "Pierre", "Louis"), 2: ("Marie", "Anne")}
LAST_NAMES: tuple[str, ...] = PersonProvider.last_names
# Faker lists French last names from the most common down: weigh them so (Zipf-like), which
# makes namesakes as common among applicants as they are in France.
_LAST_NAME_CUM_WEIGHTS = list(itertools.accumulate(1 / (rank + 10) for rank in range(400)))

_AZERTY_ROWS = ("azertyuiop", "qsdfghjklm", "wxcvbn")
NEIGHBOUR_KEYS = {
    row[i]: (row[i - 1] if i else "") + (row[i + 1] if i + 1 < len(row) else "")
    for row in _AZERTY_ROWS
    for i in range(len(row))
}
ACCENTED = {"e": "éèë", "a": "àâ", "i": "îï", "o": "ô", "u": "ûü", "c": "ç"}


@dataclass(frozen=True, slots=True)
class Applicant:
    """What one synthetic application says, as its applicant typed it: NIR and IBAN in clear."""

    record_id: int
    nir: str
    first_name: str
    last_name: str
    birth_date: dt.date
    email: str
    phone: str
    address_line: str
    postcode: str
    city: str
    iban: str
    account_holder: str

    def compared(self) -> ApplicantRecord:
        """The record as duplicate detection reads it from an application: NIR and IBAN by
        their blind indexes (as the database keeps them beside the encrypted values)."""
        return ApplicantRecord(
            record_id=self.record_id,
            nir_index=blind_index("nir", self.nir),
            first_name=self.first_name,
            last_name=self.last_name,
            birth_date=self.birth_date,
            email=self.email,
            phone=self.phone,
            address_line=self.address_line,
            postcode=self.postcode,
            city=self.city,
            iban_index=blind_index("iban", self.iban),
            account_holder=self.account_holder,
        )


@dataclass(frozen=True)
class Population:
    """Records with their truth: who each one is, how later applications differ from the first
    one, and which pairs of different people look alike (with the look-alike's first record)."""

    records: list[Applicant]
    person_of: dict[int, int]
    variations: dict[int, tuple[str, ...]]
    hard_negatives: dict[Pair, str]

    def duplicate_pairs(self) -> set[Pair]:
        """The pairs of records of the same person: what a perfect linkage finds."""
        records_of: dict[int, list[int]] = defaultdict(list)
        for record_id, person_id in self.person_of.items():
            records_of[person_id].append(record_id)
        return pairs_of_clusters(records_of.values())

    @cached_property
    def compared(self) -> list[ApplicantRecord]:
        """The records as duplicate detection compares them (NIR and IBAN by their blind
        indexes), in the same order; computed once."""
        return [record.compared() for record in self.records]


def make_population(count: int, duplicate_rate: float = 0.03, seed: int = 2020) -> Population:
    """``count`` records of which ``round(count * duplicate_rate)`` repeat an earlier person."""
    if count < 0:
        raise ValueError("count must not be negative")
    if not 0 <= duplicate_rate < 1:
        raise ValueError("duplicate_rate must be at least 0 and below 1")
    return _Generator(seed).population(count, duplicate_rate)


@dataclass(slots=True)
class _Person:
    person_id: int
    sex: int
    first: Applicant  # their first application, which later ones vary
    applications: int = 1


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
        self.towns = [self._town() for _ in range(TOWNS)]
        self.used_nirs: set[str] = set()
        self.used_ibans: set[str] = set()
        self.used_phones: set[str] = set()
        self.email_serial = itertools.count(1)
        self.people: list[_Person] = []
        self.applied_twice: list[_Person] = []
        self.partnered: set[int] = set()
        self.records: list[Applicant] = []
        self.person_of: dict[int, int] = {}
        self.variations: dict[int, tuple[str, ...]] = {}
        self.hard_negatives: dict[Pair, str] = {}

    def population(self, count: int, duplicate_rate: float) -> Population:
        rng = self.rng
        duplicates = min(round(count * duplicate_rate), max(count - 1, 0))
        # The first record cannot repeat anyone.
        duplicate_ids = set(rng.sample(range(2, count + 1), duplicates))
        for record_id in range(1, count + 1):
            if record_id in duplicate_ids:
                self._add_duplicate(record_id)
                continue
            draw = rng.random() if self.people else 1.0
            if draw < COUPLE_RATE:
                self._add_partner(record_id, self._single())
            elif draw < COUPLE_RATE + NAMESAKE_RATE:
                self._add_namesake(record_id, rng.choice(self.people))
            elif draw < COUPLE_RATE + NAMESAKE_RATE + TWIN_RATE:
                self._add_twin(record_id, rng.choice(self.people))
            else:
                self._add_person(self._fresh_record(record_id, sex=rng.choice((1, 2))))
        return Population(
            records=self.records,
            person_of=self.person_of,
            variations=self.variations,
            hard_negatives=self.hard_negatives,
        )

    # People -----------------------------------------------------------------------------

    def _add_person(self, record: Applicant) -> _Person:
        sex = 1 if record.nir[0] == "1" else 2
        person = _Person(len(self.people) + 1, sex, record)
        self.people.append(person)
        self._keep(record, person)
        return person

    def _keep(self, record: Applicant, person: _Person) -> None:
        self.records.append(record)
        self.person_of[record.record_id] = person.person_id

    def _fresh_record(
        self,
        record_id: int,
        *,
        sex: int,
        first_name: str | None = None,
        last_name: str | None = None,
        birth_date: dt.date | None = None,
    ) -> Applicant:
        first_name = first_name or self._first_name(sex)
        last_name = last_name or self._last_name()
        birth_date = birth_date or self._birth_date()
        postcode, city = self.rng.choice(self.towns)
        return Applicant(
            record_id=record_id,
            nir=self._unique_nir(lambda: make_nir(self.rng, birth_date, sex)),
            first_name=first_name,
            last_name=last_name,
            birth_date=birth_date,
            email=self._email(first_name, last_name),
            phone=self._format_phone(self._phone_digits()),
            address_line=self._address_line(),
            postcode=postcode,
            city=city,
            iban=self._unique_iban(),
            account_holder=f"{first_name} {last_name}",
        )

    def _single(self) -> _Person:
        while (person := self.rng.choice(self.people)).person_id in self.partnered:
            pass
        return person

    def _add_partner(self, record_id: int, partner: _Person) -> None:
        rng = self.rng
        sex = 3 - partner.sex if rng.random() < 0.9 else partner.sex
        shared = partner.first
        last_name = shared.last_name if rng.random() < 0.5 else self._last_name()
        birth_date = self._birth_date()
        while birth_date == shared.birth_date:
            birth_date = self._birth_date()
        own = self._fresh_record(record_id, sex=sex, last_name=last_name, birth_date=birth_date)
        record = dataclasses.replace(
            own,
            address_line=shared.address_line,
            postcode=shared.postcode,
            city=shared.city,
            iban=shared.iban,
            account_holder=f"{shared.account_holder} ou {own.first_name} {own.last_name}",
        )
        self.partnered.update((partner.person_id, self._add_person(record).person_id))
        self.hard_negatives[(shared.record_id, record_id)] = "couple"

    def _add_namesake(self, record_id: int, other: _Person) -> None:
        earlier = other.first
        birth_date = self._birth_date()
        while birth_date == earlier.birth_date:
            birth_date = self._birth_date()
        record = self._fresh_record(
            record_id,
            sex=other.sex,
            first_name=earlier.first_name,
            last_name=earlier.last_name,
            birth_date=birth_date,
        )
        self._add_person(record)
        self.hard_negatives[(earlier.record_id, record_id)] = "namesake"

    def _add_twin(self, record_id: int, sibling: _Person) -> None:
        earlier = sibling.first
        sex = self.rng.choice((1, 2))
        first_name = self._first_name(sex)
        while first_name == earlier.first_name:
            first_name = self._first_name(sex)
        own = self._fresh_record(
            record_id,
            sex=sex,
            first_name=first_name,
            last_name=earlier.last_name,
            birth_date=earlier.birth_date,
        )
        # Born in the same commune on the same day: the NIRs differ from the order number on.
        birth_place = f"{sex}{earlier.nir[1:10]}"
        record = dataclasses.replace(
            own,
            nir=self._unique_nir(lambda: _with_key(f"{birth_place}{self.rng.randint(1, 999):03d}")),
            address_line=earlier.address_line,
            postcode=earlier.postcode,
            city=earlier.city,
        )
        self._add_person(record)
        self.hard_negatives[(earlier.record_id, record_id)] = "twin"

    # Later applications -----------------------------------------------------------------

    def _add_duplicate(self, record_id: int) -> None:
        rng = self.rng
        if self.applied_twice and rng.random() < THIRD_APPLICATION_SHARE:
            person = self.applied_twice.pop(rng.randrange(len(self.applied_twice)))
        else:
            while (person := rng.choice(self.people)).applications > 1:
                pass
            self.applied_twice.append(person)
        person.applications += 1
        record, kinds = self._vary(person, record_id)
        self._keep(record, person)
        self.variations[record_id] = kinds

    def _vary(self, person: _Person, record_id: int) -> tuple[Applicant, tuple[str, ...]]:
        rng = self.rng
        base = person.first
        kinds = self._draw_variations(person)
        names = [base.first_name, base.last_name]
        if "married_name" in kinds:
            names[1] = self._married_name(names[1])
        if "hyphenation" in kinds:
            compound = [i for i in (0, 1) if _is_compound(names[i])]
            if compound:
                i = rng.choice(compound)
                names[i] = _rehyphenate(names[i])
            else:  # the married name replaced the only compound one
                kinds.remove("hyphenation")
        if "accents" in kinds:
            i = rng.randrange(2)
            changed = _toggle_accents(rng, names[i])
            if changed == names[i]:
                i = 1 - i
                changed = _toggle_accents(rng, names[i])
            names[i] = changed
        for typo in NAME_TYPOS:
            if typo in kinds:
                long_enough = [i for i in (0, 1) if len(_letter_positions(names[i])) >= 3]
                i = rng.choice(long_enough or [1])
                names[i] = TYPOS[typo](rng, names[i])
        if "swapped_names" in kinds:
            names.reverse()
        first_name, last_name = names

        email = base.email
        if "new_email" in kinds:
            email = self._email(first_name, last_name)
        elif rng.random() < RECASED_EMAIL_RATE:
            local, domain = email.split("@")
            email = ".".join(part.capitalize() for part in local.split(".")) + "@" + domain
        # Each application types the telephone its own way.
        if "new_phone" in kinds:
            phone_digits = self._phone_digits(blank_rate=0.0)
        else:
            phone_digits = _national_digits(base.phone)
        nir = base.nir
        if "second_nir" in kinds:
            nir = self._unique_nir(lambda: make_nir(rng, base.birth_date, person.sex))
        elif "nir_digit" in kinds:
            nir = self._unique_nir(lambda: _one_digit_changed(rng, base.nir))
        iban, holder = base.iban, base.account_holder
        if "new_iban" in kinds:
            iban, holder = self._unique_iban(), f"{first_name} {last_name}"
        record = dataclasses.replace(
            base,
            record_id=record_id,
            nir=nir,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=self._format_phone(phone_digits),
            address_line=self._address_line() if "new_address" in kinds else base.address_line,
            iban=iban,
            account_holder=holder,
        )
        return record, tuple(kinds)

    def _draw_variations(self, person: _Person) -> list[str]:
        rng = self.rng
        draw = rng.random()
        nir_kinds: list[str] = []
        if draw < VARIATION_RATES["second_nir"]:
            nir_kinds = ["second_nir"]
        elif draw < VARIATION_RATES["second_nir"] + VARIATION_RATES["nir_digit"]:
            nir_kinds = ["nir_digit"]
        rates = DISGUISED_RATES if nir_kinds else VARIATION_RATES
        applicable = [kind for kind in VARIATIONS if _applies(kind, person)]
        kinds = [
            kind for kind in applicable if kind not in NIR_VARIATIONS and rng.random() < rates[kind]
        ]
        if not kinds and not nir_kinds:
            others = [kind for kind in applicable if kind not in NIR_VARIATIONS]
            kinds = rng.choices(others, weights=[rates[kind] for kind in others])
        return sorted(kinds + nir_kinds, key=VARIATIONS.index)

    # Values -----------------------------------------------------------------------------

    def _town(self) -> tuple[str, str]:
        rng = self.rng
        department = rng.randint(1, 95)
        if department == 20:  # Corsica's postcodes are 20xxx but its departments 2A/2B
            department = 75
        last, other = rng.choice(LAST_NAMES), rng.choice(LAST_NAMES)
        city = rng.choice(
            (
                f"{rng.choice(AddressProvider.city_prefixes)} {rng.choice(FIRST_NAMES[1])}",
                last,
                last,
                f"{last}{rng.choice(AddressProvider.city_suffixes)}",
                f"{last}-sur-{other}",
            )
        )
        return f"{department:02d}{rng.randrange(1000):03d}", city

    def _address_line(self) -> str:
        rng = self.rng
        return (
            f"{rng.randint(1, 199)} {rng.choice(AddressProvider.street_prefixes)} "
            f"{rng.choice(LAST_NAMES)}"
        )

    def _first_name(self, sex: int) -> str:
        rng = self.rng
        name = rng.choice(FIRST_NAMES[sex])
        if rng.random() < COMPOUND_FIRST_NAME_RATE:
            start = rng.choice(COMPOUND_STARTS[sex])
            if start != name:
                return f"{start}-{name}"
        return name

    def _last_name(self) -> str:
        rng = self.rng
        name = rng.choices(LAST_NAMES, cum_weights=_LAST_NAME_CUM_WEIGHTS)[0]
        if rng.random() < DOUBLE_LAST_NAME_RATE:
            other = rng.choice(LAST_NAMES)
            if other != name:
                return f"{name}-{other}"
        return name

    def _married_name(self, last_name: str) -> str:
        spouse = self._last_name()
        while spouse == last_name:
            spouse = self._last_name()
        return f"{last_name}-{spouse}" if self.rng.random() < 0.5 else spouse

    def _birth_date(self) -> dt.date:
        return EARLIEST_BIRTH + dt.timedelta(days=self.rng.randrange(BIRTH_DAYS))

    def _email(self, first_name: str, last_name: str) -> str:
        rng = self.rng
        first, last = _letters(first_name), _letters(last_name)
        local = rng.choice((f"{first}.{last}", f"{first[:1]}{last}", f"{last}.{first}"))
        return f"{local}{next(self.email_serial)}@{rng.choice(EMAIL_DOMAINS)}"

    def _phone_digits(self, blank_rate: float = BLANK_PHONE_RATE) -> str:
        rng = self.rng
        if rng.random() < blank_rate:
            return ""
        while (digits := f"0{rng.choice('67')}{rng.randrange(10**8):08d}") in self.used_phones:
            pass
        self.used_phones.add(digits)
        return digits

    def _format_phone(self, digits: str) -> str:
        """As people type them: "06 12 34 56 78", "+33612345678", "06.12.34.56.78"…"""
        if not digits:
            return ""
        pairs = [digits[i : i + 2] for i in range(0, 10, 2)]
        style = self.rng.random()
        if style < 0.45:
            return " ".join(pairs)
        if style < 0.65:
            return digits
        if style < 0.80:
            return f"+33 {digits[1]} " + " ".join(pairs[1:])
        if style < 0.90:
            return f"+33{digits[1:]}"
        return ".".join(pairs)

    def _unique_nir(self, make: Callable[[], str]) -> str:
        while (nir := make()) in self.used_nirs:
            pass
        self.used_nirs.add(nir)
        return nir

    def _unique_iban(self) -> str:
        while (iban := _french_iban(self.rng)) in self.used_ibans:
            pass
        self.used_ibans.add(iban)
        return iban


def _applies(kind: str, person: _Person) -> bool:
    if kind == "hyphenation":
        return _is_compound(person.first.first_name) or _is_compound(person.first.last_name)
    if kind == "married_name":
        return person.sex == 2
    return True


def _french_iban(rng: random.Random) -> str:
    """A French IBAN as entraide.demo.synthetic.make_iban makes them, without schwifty's
    ``IBAN.generate`` (27 µs each: half of the time of a population). The RIB key (the Banque
    de France's formula, which no library here exposes) is computed; the IBAN's by stdnum."""
    bank, branch = rng.choice(FRENCH_BANKS)
    account = f"{rng.randrange(10**11):011d}"
    rib_key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    bban = f"{bank}{branch}{account}{rib_key:02d}"
    return f"FR{stdnum_iban.calc_check_digits('FR00' + bban)}{bban}"


def _national_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return "0" + digits[2:] if digits.startswith("33") else digits


def _with_key(body: str) -> str:
    return str(stdnum_nir.validate(body + stdnum_nir.calc_check_digits(body)))


def _one_digit_changed(rng: random.Random, nir: str) -> str:
    """``nir`` with one digit of its commune (7-9) or order number (10-12) changed: birth year,
    month and department stay consistent with the applicant."""
    while True:
        position = rng.randint(7, 12)
        digit = rng.choice([d for d in "0123456789" if d != nir[position]])
        body = nir[:position] + digit + nir[position + 1 : 13]
        if body[7:10] != "000" and body[10:13] != "000":
            return _with_key(body)


@cache
def _letters(name: str) -> str:
    """The letters of a name for an e-mail address: "Hélène-Marie" -> "helenemarie"."""
    return re.sub(r"[^a-z]", "", fold(name))


def _is_compound(name: str) -> bool:
    return "-" in name or " " in name


def _rehyphenate(name: str) -> str:
    return name.replace("-", " ") if "-" in name else name.replace(" ", "-")


def _strip_accents(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def _toggle_accents(rng: random.Random, name: str) -> str:
    """Without its accents if it has some, else with one: what differs is how it is typed."""
    stripped = _strip_accents(name)
    if stripped != name:
        return stripped
    positions = [i for i, c in enumerate(name) if c.lower() in ACCENTED]
    if not positions:
        return name
    i = rng.choice(positions)
    accented = rng.choice(ACCENTED[name[i].lower()])
    return name[:i] + (accented.upper() if name[i].isupper() else accented) + name[i + 1 :]


def _letter_positions(name: str) -> list[int]:
    """Where a typo may fall: letters after the first (people rarely mistype the initial)."""
    return [i for i in range(1, len(name)) if name[i].isalpha()]


def _keyboard_neighbour(rng: random.Random, letter: str) -> str:
    neighbours = NEIGHBOUR_KEYS.get(fold(letter)) or "aeinrst"
    typed = rng.choice([c for c in neighbours if c != letter.lower()])
    return typed.upper() if letter.isupper() else typed


def _substitute(rng: random.Random, name: str) -> str:
    i = rng.choice(_letter_positions(name))
    return name[:i] + _keyboard_neighbour(rng, name[i]) + name[i + 1 :]


def _delete(rng: random.Random, name: str) -> str:
    i = rng.choice(_letter_positions(name))
    return name[:i] + name[i + 1 :]


def _insert(rng: random.Random, name: str) -> str:
    """A letter typed twice, or its neighbour on the keyboard typed with it."""
    i = rng.choice(_letter_positions(name))
    extra = name[i] if rng.random() < 0.5 else _keyboard_neighbour(rng, name[i])
    return name[: i + 1] + extra + name[i + 1 :]


def _transpose(rng: random.Random, name: str) -> str:
    positions = [
        i
        for i in _letter_positions(name)[:-1]
        if name[i + 1].isalpha() and name[i].lower() != name[i + 1].lower()
    ]
    if not positions:  # "Anne": no two different letters after the initial; swap the first two
        return name[1].upper() + name[0].lower() + name[2:]
    i = rng.choice(positions)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


TYPOS: dict[str, Callable[[random.Random, str], str]] = {
    "typo_substitution": _substitute,
    "typo_deletion": _delete,
    "typo_insertion": _insert,
    "transposition": _transpose,
}
