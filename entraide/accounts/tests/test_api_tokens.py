"""Personal API tokens of staff members: issued and revoked by the operator's command, only
their hash stored, recognised while active."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from entraide.accounts.models import ApiToken
from entraide.accounts.services import authenticate_api_token
from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.core.tokens import hash_token

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("accounts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_a_new_token_once_and_stores_only_its_hash() -> None:
    clerk = UserFactory.create(email="clerk@fund.example")

    out, err = run("token", "Clerk@Fund.example", "--name", "nightly import")

    raw = out.strip()
    assert raw.startswith("ents_")
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.token_hash) == (clerk, "nightly import", hash_token(raw))
    assert raw.startswith(token.prefix)
    assert "cannot be shown again" in err
    assert authenticate_api_token(raw) == clerk
    event = AuditEvent.objects.get(action="api_token.issued")
    assert event.actor is None
    assert event.changes["prefix"]["after"] == token.prefix
    assert raw not in str(event.changes)
    assert token.token_hash not in str(event.changes)


def test_a_revoked_token_is_refused() -> None:
    UserFactory.create(email="clerk@fund.example")
    raw = run("token", "clerk@fund.example")[0].strip()

    out, _err = run("revoke-token", raw)  # the whole token works as well as its prefix

    assert "revoked" in out
    assert authenticate_api_token(raw) is None
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1
    with pytest.raises(CommandError):  # already revoked
        run("revoke-token", raw[:13])


@pytest.mark.parametrize("args", [("token", "nobody@fund.example"), ("revoke-token", "ents_x")])
def test_the_command_says_what_is_wrong(args: tuple[str, ...]) -> None:
    UserFactory.create(email="clerk@fund.example", is_active=False)
    with pytest.raises(CommandError):
        run(*args)
    with pytest.raises(CommandError, match="no active account"):
        run("token", "clerk@fund.example")
    assert not ApiToken.objects.exists()


def test_a_token_stops_working_when_its_account_is_deactivated() -> None:
    clerk = UserFactory.create(email="clerk@fund.example")
    raw = run("token", "clerk@fund.example")[0].strip()
    clerk.is_active = False
    clerk.save()

    assert authenticate_api_token(raw) is None
    assert authenticate_api_token("ent_" + raw[5:]) is None  # not a partner's token either


def test_the_last_use_is_written_at_most_once_a_minute() -> None:
    UserFactory.create(email="clerk@fund.example")
    raw = run("token", "clerk@fund.example")[0].strip()

    authenticate_api_token(raw)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    authenticate_api_token(raw)
    assert ApiToken.objects.get().last_used_at == first
    long_ago = timezone.now() - dt.timedelta(minutes=2)
    ApiToken.objects.update(last_used_at=long_ago)
    authenticate_api_token(raw)
    last_used_at = ApiToken.objects.get().last_used_at
    assert last_used_at is not None
    assert last_used_at > long_ago + dt.timedelta(minutes=1)
