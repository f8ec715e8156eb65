from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory
from entraide.integrity.models import LinkageRun
from entraide.integrity.tests.helpers import second_application, stranger
from entraide.payments.tests.helpers import member_of

pytestmark = pytest.mark.django_db


def test_check_runs_the_full_check_and_report_prints_it() -> None:
    fund = FundFactory()
    reviewer = member_of(fund, FundRole.Role.REVIEWER)
    first = stranger(fund)
    second_application(first)
    stranger(fund)
    out = io.StringIO()
    call_command("integrity", "check", "--fund", fund.slug, "--as", reviewer.email, stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["status"] == LinkageRun.Status.DONE
    assert (summary["applications"], summary["links_created"], summary["flags_raised"]) == (3, 1, 2)

    out = io.StringIO()
    with translation.override("en"):
        call_command("integrity", "report", "--fund", fund.slug, stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    duplicates = next(line for line in lines if line.get("flag", "").startswith("Possibly"))
    assert (duplicates["raised"], duplicates["open"]) == (2, 2)


def test_check_refuses_who_may_not_and_unknown_funds() -> None:
    fund = FundFactory()
    finance = member_of(fund, FundRole.Role.FINANCE)
    with pytest.raises(CommandError):
        call_command("integrity", "check", "--fund", fund.slug, "--as", finance.email)
    with pytest.raises(CommandError):
        call_command("integrity", "report", "--fund", "no-such-fund")
    assert not LinkageRun.objects.exists()
