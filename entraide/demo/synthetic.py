"""Synthetic identities (French, and British for the UK partner fund), employment records and
crew rosters: valid keys, no real person."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from faker import Faker
from schwifty import IBAN
from stdnum import luhn
from stdnum.fr import nir as stdnum_nir

from entraide.applications.identity import NINO

AUDIOVISUAL_EMPLOYERS = (
    ("59.11A", "2642"),
    ("59.11C", "3097"),
    ("59.11B", "2412"),
    ("59.12Z", "2642"),
)


def make_nir(rng: random.Random, birth_date: dt.date, sex: int) -> str:
    """A NIR whose birth year and month match ``birth_date``, with its key from python-stdnum."""
    department = f"{rng.randint(1, 95):02d}"
    if department == "20":  # Corsica is 2A/2B since 1976; keep the generator simple
        department = "75"
    body = (
        f"{sex}{birth_date.year % 100:02d}{birth_date.month:02d}"
        f"{department}{rng.randint(1, 990):03d}{rng.randint(1, 999):03d}"
    )
    nir = body + stdnum_nir.calc_check_digits(body)
    return str(stdnum_nir.validate(nir))


# Bank and branch codes of French retail banks, so the demo IBANs look like real ones.
FRENCH_BANKS = (("30006", "00001"), ("20041", "01005"), ("30004", "00828"), ("10278", "06041"))


def make_iban(rng: random.Random) -> str:
    """A French IBAN with valid RIB and IBAN keys (schwifty computes both)."""
    bank, branch = rng.choice(FRENCH_BANKS)
    return str(
        IBAN.generate(
            "FR", bank_code=bank, branch_code=branch, account_code=f"{rng.randrange(10**11):011d}"
        ).compact
    )


def make_siret(rng: random.Random) -> str:
    """A SIRET whose SIREN and whole 14 digits both pass Luhn, as python-stdnum checks."""
    siren_body = f"{rng.randint(10_000_000, 99_999_999)}"
    siren = siren_body + luhn.calc_check_digit(siren_body)
    nic_body = siren + f"{rng.randint(1, 9999):04d}"
    return nic_body + luhn.calc_check_digit(nic_body)


@dataclass(frozen=True)
class SyntheticPerson:
    first_name: str
    last_name: str
    email: str
    birth_date: dt.date
    nir: str
    profession: str
    annual_resources: Decimal
    phone: str
    address_line: str
    postcode: str
    city: str
    country: str
    iban: str


def make_people(count: int, seed: int = 2020) -> list[SyntheticPerson]:
    rng = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    people = []
    for index in range(count):
        sex = rng.choice((1, 2))
        first = fake.first_name_male() if sex == 1 else fake.first_name_female()
        last = fake.last_name()
        birth = fake.date_of_birth(minimum_age=20, maximum_age=65)
        people.append(
            SyntheticPerson(
                first_name=first,
                last_name=last,
                email=f"applicant{index + 1:04d}@demo.entraide.invalid",
                birth_date=birth,
                nir=make_nir(rng, birth, sex),
                profession=rng.choice(("technician", "artist")),
                annual_resources=Decimal(rng.randrange(4_000_00, 32_000_00)) / 100,
                phone=fake.phone_number(),
                address_line=fake.street_address(),
                postcode=fake.postcode(),
                city=fake.city(),
                country="FR",
                iban=make_iban(rng),
            )
        )
    return people


def make_look_alikes(people: list[SyntheticPerson], seed: int = 2021) -> list[SyntheticPerson]:
    """Applications for the integrity checks to find among ``people`` (none among fewer than
    12): a second application of one person with a typo and another e-mail and NIR, another
    with first and last names swapped, and a partner of a third on their joint account."""
    if len(people) < 12:
        return []
    rng = random.Random(seed)
    typo, swapped, partnered = people[3], people[7], people[11]
    last = typo.last_name
    partner_birth = partnered.birth_date - dt.timedelta(days=1130)
    return [
        dataclasses.replace(
            typo,
            last_name=last[:2] + last[3] + last[2] + last[4:] if len(last) > 4 else last + "e",
            email="second." + typo.email,
            nir=make_nir(rng, typo.birth_date, int(typo.nir[0])),
        ),
        dataclasses.replace(
            swapped,
            first_name=swapped.last_name,
            last_name=swapped.first_name,
            email="swapped." + swapped.email,
            nir=make_nir(rng, swapped.birth_date, int(swapped.nir[0])),
            iban=make_iban(rng),
        ),
        dataclasses.replace(
            partnered,
            first_name="Alex" if partnered.first_name != "Alex" else "Sacha",
            email="partner." + partnered.email,
            birth_date=partner_birth,
            nir=make_nir(rng, partner_birth, 1),
            phone="",
        ),
    ]


# Bank codes and sort codes of British retail banks, so the UK IBANs look like real ones.
BRITISH_BANKS = (("NWBK", "601613"), ("BARC", "200000"), ("LOYD", "309634"), ("HBUK", "400515"))


def make_uk_iban(rng: random.Random) -> str:
    """A British IBAN with a valid key (schwifty computes it)."""
    bank, sort_code = rng.choice(BRITISH_BANKS)
    return str(
        IBAN.generate(
            "GB", bank_code=bank, branch_code=sort_code, account_code=f"{rng.randrange(10**8):08d}"
        ).compact
    )


def make_nino(rng: random.Random) -> str:
    """A National Insurance number in HMRC's format, as the portal checks it (identity.NINO):
    drawn again until its prefix is one that HMRC allocates."""
    while True:
        nino = (
            "".join(rng.choices(string.ascii_uppercase, k=2))
            + f"{rng.randrange(10**6):06d}"
            + rng.choice("ABCD")
        )
        if NINO.fullmatch(nino):
            return nino


@dataclass(frozen=True)
class SyntheticUkPerson(SyntheticPerson):
    """A freelancer of UK film and TV with their answers to the UK fund's questions
    (rulesets/uk-film-tv-hardship.yaml); ``nir`` holds their National Insurance number."""

    residence_country: str
    engagement: str
    screen_months: int
    work_stopped: bool
    monthly_income: Decimal
    essential_outgoings: Decimal
    savings: Decimal


def make_uk_people(count: int, seed: int = 2020) -> list[SyntheticUkPerson]:
    """About two in three meet the UK fund's rules; each of the others lives abroad, has a
    permanent contract, worked too few months, has no shortfall or too much savings."""
    rng = random.Random(seed)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    people = []
    for index in range(count):
        first, last = fake.first_name(), fake.last_name()
        income = Decimal(rng.randrange(0, 2_400, 50))
        # Above the income by up to £2,000 a month (from £1,000: the higher need's grants).
        shortfall = rng.randrange(50, 2_000, 50) if rng.random() > 0.1 else -rng.randrange(500)
        people.append(
            SyntheticUkPerson(
                first_name=first,
                last_name=last,
                email=f"uk.applicant{index + 1:03d}@demo.entraide.invalid",
                birth_date=fake.date_of_birth(minimum_age=20, maximum_age=65),
                nir=make_nino(rng),
                profession=rng.choice(("technician", "artist")),
                annual_resources=income * 12,
                phone=fake.phone_number(),
                address_line=" ".join(fake.street_address().split()),
                postcode=fake.postcode(),
                city=fake.city(),
                country="GB",
                iban=make_uk_iban(rng),
                residence_country="IE" if rng.random() < 0.03 else "GB",
                engagement=rng.choices(("freelance", "fixed_term", "employee"), (6, 3, 0.5))[0],
                screen_months=rng.randint(6, 12) if rng.random() > 0.1 else rng.randint(0, 5),
                work_stopped=rng.random() > 0.03,
                monthly_income=income,
                essential_outgoings=income + shortfall,
                savings=Decimal(
                    rng.randrange(0, 5_000, 100)
                    if rng.random() > 0.1
                    else rng.randrange(5_100, 20_000, 100)
                ),
            )
        )
    return people


def make_declarations(rng: random.Random, nir: str, profession: str) -> list[dict[str, object]]:
    """Contracts between September 2019 and February 2020 (the window of Fund A's rule 3)."""
    rows: list[dict[str, object]] = []
    for _ in range(rng.randint(0, 6)):
        naf, idcc = rng.choice(AUDIOVISUAL_EMPLOYERS)
        start = dt.date(2019, 9, 1) + dt.timedelta(days=rng.randint(0, 170))
        days = rng.randint(1, 10)
        rows.append(
            {
                "nir": nir,
                "siret": make_siret(rng),
                "naf": naf,
                "idcc": idcc,
                "contract_type": "CDDU",
                "start": start,
                "end": start + dt.timedelta(days=days - 1),
                "hours": Decimal(days * 8) if profession == "technician" else None,
                "cachets": days if profession == "artist" else None,
                "gross_pay": Decimal(days * rng.randint(150, 400)),
            }
        )
    return rows


def make_rights(rng: random.Random, nir: str, profession: str) -> list[dict[str, object]]:
    if rng.random() < 0.4:
        return []
    opened = dt.date(2018, 6, 1) + dt.timedelta(days=rng.randint(0, 500))
    ended = opened + dt.timedelta(days=365)
    return [
        {
            "nir": nir,
            "annex": "8" if profession == "technician" else "10",
            "opened_on": opened,
            "ends_on": ended,
            "status": "ended" if ended < dt.date(2020, 4, 15) else "open",
            "reason": "",
        }
    ]


def make_benefits(rng: random.Random, nir: str, profession: str) -> list[dict[str, object]]:
    """Benefits paid (FORMATS.md ``benefits``): about a quarter of the people still receive an
    intermittent's allowance (no end date), which the Netflix × Audiens rules exclude; some had
    a general-scheme benefit that ended in 2019, which changes nothing."""
    draw = rng.random()
    if draw < 0.25:
        start = dt.date(2020, 3, 1) + dt.timedelta(days=rng.randint(0, 40))
        scheme = "annex8" if profession == "technician" else "annex10"
        return [{"nir": nir, "scheme": scheme, "from": start, "to": None}]
    if draw < 0.40:
        start = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 200))
        end = min(start + dt.timedelta(days=rng.randint(30, 150)), dt.date(2019, 12, 31))
        return [{"nir": nir, "scheme": "general", "from": start, "to": end}]
    return []


def make_cancellations(rng: random.Random, nir: str) -> list[dict[str, object]]:
    """Shooting days or performances cancelled between March and August 2020 (the lockdown)."""
    if rng.random() < 0.65:
        return []
    employer = make_siret(rng)
    signed = dt.date(2019, 12, 1) + dt.timedelta(days=rng.randint(0, 80))
    first = dt.date(2020, 3, 16) + dt.timedelta(days=rng.randint(0, 120))
    return [
        {
            "nir": nir,
            "siret": employer,
            "date": first + dt.timedelta(days=offset),
            "cachets": 1,
            "signed_on": signed,
        }
        for offset in sorted(rng.sample(range(30), rng.randint(1, 6)))
    ]


def status_report(
    original: str, transactions: list[tuple[str, str, str]], message_id: str = "STATUS-1"
) -> bytes:
    """A bank's pain.002.001.03 status report on the fund's message ``original``: (end-to-end
    id, status such as ACSC or RJCT, reason code such as AC04) per transfer."""
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


# -- crew rosters (read by entraide.crew.roster; the format: docs/crew.md) ---------------------

ROSTER_HEADER = (
    "production",
    "title",
    "country",
    "suspended_on",
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "national_id",
    "role",
    "weekly_rate",
    "day_rate",
    "currency",
    "iban",
    "bic",
    "account_holder",
    "language",
)


def birth_date_of(n: int) -> dt.date:
    """Different for each n below 420, so that no two crew members share an identity."""
    return dt.date(1960 + n % 30, 1 + n % 12, 1 + n % 28)


def crew_row(n: int, **values: str) -> dict[str, str]:
    """Person number ``n`` on production PROD-1 (French, in euros), with a NIR and a weekly
    rate; ``values`` replace columns. The same ``n`` is the same person on every production."""
    rng = random.Random(n)
    fake = Faker("fr_FR")
    fake.seed_instance(n)
    first_name, last_name = fake.first_name(), fake.last_name()
    birth = birth_date_of(n)
    row = {
        "production": "PROD-1",
        "title": "Les Nuits de Marseille",
        "country": "FR",
        "suspended_on": "2020-03-16",
        "first_name": first_name,
        "last_name": last_name,
        "birth_date": birth.isoformat(),
        "email": f"crew{n}@example.org",
        "national_id": make_nir(rng, birth, 1 + n % 2),
        "role": "Électricien",
        "weekly_rate": "1200.00",
        "day_rate": "",
        "currency": "EUR",
        "iban": make_iban(rng),
        "bic": "",
        "account_holder": f"{first_name} {last_name}",
        "language": "fr",
    }
    row.update(values)
    return row


def roster_file(
    rows: Sequence[dict[str, str]],
    *,
    header: Sequence[str] = ROSTER_HEADER,
    names: Sequence[str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> bytes:
    """The CSV of ``rows`` (their ``header`` columns), the header written as ``names``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(names or header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return buffer.getvalue().encode(encoding)


# The demo programme's suspended productions, French and paid in euros: reference, title,
# suspension day, crew lines.
CREW_PRODUCTIONS = (
    ("SER-2020-01", "Les Nuits de Marseille", "2020-03-16", 26),
    ("FILM-2020-04", "La Dernière Bobine", "2020-03-13", 20),
    ("SER-2020-07", "Brigade du littoral", "2020-03-17", 14),
)
# A shoot's roles, paid by the week or by the day (the column), lowest and highest in euros.
# Each production has one director of photography, whose two weeks of pay pass the demo's cap.
DIRECTOR_OF_PHOTOGRAPHY = ("Chef opérateur", "weekly_rate", 2400, 3000)
CREW_ROLES = (
    ("Cheffe électricienne", "weekly_rate", 1300, 1600),
    ("Électricien", "day_rate", 200, 260),
    ("Machiniste", "day_rate", 190, 250),
    ("Cheffe décoratrice", "weekly_rate", 1700, 2100),
    ("Constructeur de décors", "day_rate", 180, 240),
    ("Maquilleuse", "weekly_rate", 1100, 1400),
    ("Coiffeur", "day_rate", 190, 240),
    ("Costumière", "weekly_rate", 1100, 1400),
    ("Ingénieur du son", "weekly_rate", 1600, 2000),
    ("Assistante réalisatrice", "weekly_rate", 1500, 1900),
    ("Régisseur", "day_rate", 180, 230),
)


def make_crew_roster(seed: int = 2020) -> bytes:
    """The roster of the demo's productions (:data:`CREW_PRODUCTIONS`): one person is on the
    first and the last production (paid once: the programme's rule), and one line of the first
    has an IBAN whose key is wrong (the import refuses that line and keeps the others)."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for code, title, suspended_on, size in CREW_PRODUCTIONS:
        for index in range(size):
            n = len(rows) + 1
            role, column, lowest, highest = (
                DIRECTOR_OF_PHOTOGRAPHY if index == 0 else rng.choice(CREW_ROLES)
            )
            values = {
                "weekly_rate": "",
                "day_rate": "",
                column: f"{rng.randrange(lowest, highest + 1, 10)}.00",
            }
            rows.append(
                crew_row(
                    n,
                    production=code,
                    title=title,
                    suspended_on=suspended_on,
                    role=role,
                    email=f"crew{n:02d}@demo.entraide.invalid",
                    language="en" if rng.random() < 0.2 else "fr",
                    **values,
                )
            )
    code, title, suspended_on, _size = CREW_PRODUCTIONS[-1]
    rows.append(dict(rows[2], production=code, title=title, suspended_on=suspended_on))
    rows[1]["iban"] = "FR00" + rows[1]["iban"][4:]  # 00: never an IBAN's check digits
    return roster_file(rows)
