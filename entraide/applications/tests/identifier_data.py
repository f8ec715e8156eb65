"""Synthetic personal identifiers of the countries outside France, and funds that ask for them
(the partner rule sets of ``rulesets/``), for the tests of the portal and the partners' API.

Faker's ``it_IT`` codici fiscali and ``es_ES`` DNI (``nif``) and NIE are valid; its ``en_GB``
National Insurance numbers are not, on purpose (the reserved prefix ZZ and suffix T): the UK's
are written here, in HMRC's format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from faker import Faker
from stdnum.it import codicefiscale

from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.rules.document import load_file
from entraide.rules.tests.factories import RuleSetVersionFactory

RULESETS = Path(settings.BASE_DIR) / "rulesets"
UK_RULES = "uk-film-tv-hardship"
ITALY_RULES = "italia-fondo-emergenza"
SPAIN_RULES = "espana-fondo-ayuda"

# Valid in HMRC's format; typed as on a payslip, and as stored.
NINO = "AB 12 34 56 C"
NINO_STORED = "AB123456C"
OTHER_NINO = "JG 10 29 66 A"
# A codice fiscale from python-stdnum's documentation, and the date of birth it encodes.
CODICE_FISCALE = "RCCMNL83S18D969H"
CODICE_FISCALE_BIRTH = dt.date(1983, 11, 18)
# IBANs of the examples of each country's banking standard (their keys are right).
GB_IBAN = "GB82 WEST 1234 5698 7654 32"
IT_IBAN = "IT60 X054 2811 1010 0000 0123 456"


def faker(locale: str, seed: int) -> Faker:
    generator = Faker(locale)
    generator.seed_instance(seed)
    return generator


def codice_fiscale(seed: int) -> tuple[str, dt.date]:
    """A codice fiscale and the date of birth it encodes (in the last century)."""
    code = str(faker("it_IT", seed).ssn())
    return code, codicefiscale.get_birth_date(code, minyear=1900)


def fund_with_rules(ruleset: str, **fund: Any) -> Fund:
    """An open fund in the currency of ``rulesets/<ruleset>.yaml``, with it published."""
    document = load_file(RULESETS / f"{ruleset}.yaml")
    created: Fund = FundFactory.create(currency=document.currency, **fund)
    RuleSetVersionFactory.create(
        rule_set__fund=created,
        source=(RULESETS / f"{ruleset}.yaml").read_text(encoding="utf-8"),
    )
    return created


# What an eligible applicant answers to each partner fund's questions, as a form sends them.
UK_ANSWERS = {
    "profession": "technician",
    "residence_country": "GB",
    "engagement": "freelance",
    "screen_months": "8",
    "work_stopped": "yes",
    "monthly_income": "900",
    "essential_outgoings": "1500",
    "savings": "1200",
}
ITALY_DECLARED = {
    "residence_country": "IT",
    "fpls_member": True,
    "contribution_days_2019": 45,
    "has_pension": False,
    "permanent_contract": False,
}
