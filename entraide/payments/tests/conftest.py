"""The payments' fixtures: a fund paying by SEPA, and two people of finance."""

from __future__ import annotations

from decimal import Decimal

import pytest

from entraide.accounts.models import User
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.payments import services
from entraide.payments.models import FileFormat
from entraide.payments.tests.helpers import DEBTOR_IBAN, member_of


@pytest.fixture
def fund() -> Fund:
    fund: Fund = FundFactory(budget=Decimal("100000.00"), name="Netflix-Audiens")
    admin = member_of(fund, FundRole.Role.OPERATOR_ADMIN)
    services.save_payment_settings(
        actor=admin,
        fund=fund,
        values={
            "file_format": FileFormat.PAIN_001_001_09,
            "debtor_name": "Fonds Netflix-Audiens",
            "debtor_iban": DEBTOR_IBAN,
            "debtor_bic": "",
            "initiating_party": "Audiens",
            "initiating_party_id": "",
            "execution_days": 1,
            "remittance_template": "Aide d'urgence {fund} {reference}",
            "csv_columns": [["reference", "end_to_end_id"], ["amount", "amount"]],
            "csv_delimiter": ",",
            "csv_decimal_comma": False,
        },
    )
    return fund


@pytest.fixture
def preparer(fund: Fund) -> User:
    return member_of(fund, FundRole.Role.FINANCE)


@pytest.fixture
def releaser(fund: Fund) -> User:
    return member_of(fund, FundRole.Role.FINANCE)
