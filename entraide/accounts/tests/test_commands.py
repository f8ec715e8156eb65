from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from entraide.accounts.models import User
from entraide.audit.models import AuditEvent
from entraide.funds.permissions import can_create_funds

pytestmark = pytest.mark.django_db


def test_create_operator_makes_a_verified_fund_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRAIDE_PASSWORD", "a-long-and-unusual-passphrase")
    call_command("accounts", "create-operator", "--email", "Head@Fund.example")
    user = User.objects.get(email="head@fund.example")
    assert user.check_password("a-long-and-unusual-passphrase")
    assert can_create_funds(user)
    assert EmailAddress.objects.get(user=user).verified
    assert AuditEvent.objects.get(action="account.created").actor is None


def test_create_operator_refuses_a_weak_password_and_a_taken_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENTRAIDE_PASSWORD", "123")
    with pytest.raises(CommandError):
        call_command("accounts", "create-operator", "--email", "head@fund.example")
    assert not User.objects.exists()
    monkeypatch.setenv("ENTRAIDE_PASSWORD", "a-long-and-unusual-passphrase")
    call_command("accounts", "create-operator", "--email", "head@fund.example")
    with pytest.raises(CommandError, match="already exists"):
        call_command("accounts", "create-operator", "--email", "head@fund.example")
