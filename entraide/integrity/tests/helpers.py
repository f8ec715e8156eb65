"""Helpers of the integrity tests: applicants who differ in everything, or in little."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from typing import Any

from faker.providers.person.fr_FR import Provider as PersonProvider

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.demo.synthetic import make_iban, make_nir
from entraide.funds.models import Fund

_rng = random.Random(11)
_serial = itertools.count(1)
FIRST_NAMES = list(PersonProvider.first_names)
# Each stranger its own last name (in an order where neighbours do not look alike).
STREETS = ("rue des Lilas", "avenue Foch", "place du Marché", "chemin des Vignes", "quai Voltaire")
LAST_NAMES = random.Random(3).sample(list(dict.fromkeys(PersonProvider.last_names)), 300)


def stranger(fund: Fund, **overrides: Any) -> Application:
    """An application sharing nothing with the others made here: its own name, date of birth,
    NIR, IBAN, e-mail, telephone and address."""
    n = next(_serial)
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=97 * n)
    values: dict[str, Any] = {
        "fund": fund,
        "first_name": _rng.choice(FIRST_NAMES),
        "last_name": LAST_NAMES[n % len(LAST_NAMES)],
        "birth_date": birth,
        "nir": make_nir(_rng, birth, 1 + n % 2),
        "iban": make_iban(_rng),
        "email": f"personne{n}@example.org",
        "phone": f"+33 6 {n:02d} {n % 97:02d} 00 {n % 89:02d}",
        "address_line": f"{n} {_rng.choice(STREETS)}",
        "postcode": f"{10000 + 37 * n}",
        "city": "Lyon",
    }
    values.update(overrides)
    values.setdefault("account_holder", f"{values['first_name']} {values['last_name']}")
    application: Application = ApplicationFactory(**values)
    return application


def second_application(first: Application, fund: Fund | None = None, **changes: Any) -> Application:
    """The same person applying again: a typo in the last name, another e-mail and telephone,
    unless ``changes`` say otherwise. Same NIR only in another fund (one per fund)."""
    values: dict[str, Any] = {
        "fund": fund or first.fund,
        "first_name": first.first_name,
        "last_name": first.last_name[:-1] + "z",
        "birth_date": first.birth_date,
        "nir": make_nir(_rng, first.birth_date, 1),
        "iban": first.iban,
        "email": "autre." + first.email,
        "phone": "",
        "address_line": first.address_line,
        "postcode": first.postcode,
        "city": first.city,
    }
    values.update(changes)
    return stranger(values.pop("fund"), **values)
