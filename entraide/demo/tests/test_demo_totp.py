"""The demo's staff who approve or pay have an authenticator app with the demo's published
key, and ``entraide demo totp EMAIL`` prints the code it shows now."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from entraide.accounts.mfa import current_totp_code
from entraide.accounts.selectors import security_profile
from entraide.accounts.tests.factories import UserFactory
from entraide.demo.seed import APPROVER, DEMO_TOTP_SECRET, enroll_demo_authenticators
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory

pytestmark = pytest.mark.django_db
AUDITOR = "auditor@demo.entraide.invalid"


def totp(email: str) -> str:
    out = io.StringIO()
    call_command("demo", "totp", email, stdout=out)
    return out.getvalue().strip()


def test_the_demo_approver_gets_a_code_and_the_auditor_needs_none() -> None:
    fund = FundFactory()
    approver = UserFactory(email=APPROVER)
    FundRoleFactory(fund=fund, user=approver, role=FundRole.Role.APPROVER, mfa=False)
    auditor = UserFactory(email=AUDITOR)
    FundRoleFactory(fund=fund, user=auditor, role=FundRole.Role.AUDITOR)

    assert enroll_demo_authenticators() == [APPROVER]
    assert security_profile(approver).mfa_enrolled

    before = current_totp_code(DEMO_TOTP_SECRET)
    code = totp(APPROVER.upper())
    assert code in {before, current_totp_code(DEMO_TOTP_SECRET)}  # a period may end between
    assert len(code) == 6
    with pytest.raises(CommandError, match="no authenticator app"):
        totp(AUDITOR)
    with pytest.raises(CommandError, match="no account"):
        totp("nobody@demo.entraide.invalid")


def test_only_the_demo_key_is_ever_printed() -> None:
    person = FundRoleFactory(role=FundRole.Role.FINANCE).user  # the tests' own key
    with pytest.raises(CommandError, match="not the demo's"):
        totp(person.email)
