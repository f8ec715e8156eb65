from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from entraide.accounts.services import fund_operators_group
from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.models import Partner, PartnerToken
from entraide.intake.services import (
    PartnerExists,
    PartnerNotOfFund,
    TokenAlreadyRevoked,
    authenticate,
    create_partner,
    hash_token,
    issue_token,
    reveal_webhook_secret,
    revoke_token,
)
from entraide.intake.tests.factories import PartnerFactory, issued_token

pytestmark = pytest.mark.django_db


def test_a_partner_is_created_with_its_own_signing_secret_and_audited() -> None:
    first = create_partner(actor=None, name=" Syndicat X ", slug="Syndicat-X")
    second = create_partner(
        actor=None, name="Caisse Y", slug="caisse-y", webhook_url="https://y.example/hook"
    )
    assert (first.name, first.slug) == ("Syndicat X", "syndicat-x")
    assert len(first.webhook_secret) == 64
    assert first.webhook_secret != second.webhook_secret
    event = AuditEvent.objects.get(action="partner.created", object_id=str(first.pk))
    assert event.actor_label == "system"
    assert first.webhook_secret not in str(event.changes)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "", "slug": "x"}, "name"),
        ({"name": "X", "slug": "not a slug"}, "slug"),
        ({"name": "X", "slug": "x", "webhook_url": "ftp://x.example/"}, "webhook_url"),
    ],
)
def test_a_partner_needs_a_name_a_slug_and_an_http_webhook(
    values: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as error:
        create_partner(actor=None, **values)
    assert error.value.field == field


def test_two_partners_cannot_share_a_slug() -> None:
    create_partner(actor=None, name="X", slug="x")
    with pytest.raises(PartnerExists):
        create_partner(actor=None, name="Other X", slug="x")


def test_only_someone_who_may_create_funds_creates_a_partner() -> None:
    with pytest.raises(PermissionDenied):
        create_partner(actor=UserFactory(), name="X", slug="x")


def test_a_token_is_given_once_and_only_its_hash_is_kept() -> None:
    partner, fund = PartnerFactory(), FundFactory()
    token, raw = issue_token(actor=None, partner=partner, fund=fund, name="production")
    assert raw.startswith("ent_")
    assert len(raw) > 40
    assert token.prefix == raw[:12]
    assert token.token_hash == hash_token(raw)
    stored = PartnerToken.objects.filter(pk=token.pk).values()[0]
    assert raw not in str(stored)
    event = AuditEvent.objects.get(action="partner_token.issued")
    assert event.fund_id == fund.pk
    assert event.changes["prefix"]["after"] == token.prefix
    assert raw not in str(event.changes)
    assert token.token_hash not in str(event.changes)


def test_the_funds_operator_may_issue_a_token_other_roles_may_not() -> None:
    admin = FundRoleFactory(role=FundRole.Role.OPERATOR_ADMIN)
    token, _raw = issue_token(actor=admin.user, partner=PartnerFactory(), fund=admin.fund)
    assert token.created_by == admin.user
    for role in FundRole.Role:
        if role == FundRole.Role.OPERATOR_ADMIN:
            continue
        staff = FundRoleFactory(role=role, fund=admin.fund)
        with pytest.raises(PermissionDenied):
            issue_token(actor=staff.user, partner=PartnerFactory(), fund=admin.fund)
        with pytest.raises(PermissionDenied):
            revoke_token(actor=staff.user, token=token)


def test_authenticate_finds_the_active_token_only() -> None:
    token, raw = issued_token()
    found = authenticate(raw)
    assert found == token
    assert authenticate(raw + "x") is None
    assert authenticate("not-even-the-prefix") is None
    revoke_token(actor=None, token=token)
    assert authenticate(raw) is None
    event = AuditEvent.objects.get(action="partner_token.revoked")
    assert event.fund_id == token.fund_id


def test_a_token_is_revoked_once() -> None:
    token, _raw = issued_token()
    revoke_token(actor=None, token=token)
    with pytest.raises(TokenAlreadyRevoked):
        revoke_token(actor=None, token=token)


def test_last_use_is_written_at_most_once_a_minute(
    django_assert_num_queries: object,
) -> None:
    token, raw = issued_token()
    with django_assert_num_queries(2):  # type: ignore[operator]
        authenticate(raw)
    with django_assert_num_queries(1):  # type: ignore[operator]
        authenticate(raw)
    PartnerToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - dt.timedelta(seconds=61)
    )
    with django_assert_num_queries(2):  # type: ignore[operator]
        authenticate(raw)


def test_the_operator_admin_of_a_fund_registers_a_partner_for_it() -> None:
    admin = FundRoleFactory(role=FundRole.Role.OPERATOR_ADMIN)
    partner = create_partner(actor=admin.user, fund=admin.fund, name="Syndicat X", slug="x")
    event = AuditEvent.objects.get(action="partner.created", object_id=str(partner.pk))
    assert (event.actor, event.fund_id) == (admin.user, admin.fund.pk)


def test_registering_a_partner_for_a_fund_takes_managing_that_fund() -> None:
    fund = FundFactory()
    refused = [
        FundRoleFactory(role=role, fund=fund).user
        for role in FundRole.Role
        if role != FundRole.Role.OPERATOR_ADMIN
    ]
    refused.append(FundRoleFactory(role=FundRole.Role.OPERATOR_ADMIN).user)  # another fund's
    creator = UserFactory()
    creator.groups.add(fund_operators_group())  # may create funds, no role on this one
    refused.append(creator)
    for user in refused:
        with pytest.raises(PermissionDenied):
            create_partner(actor=user, fund=fund, name="X", slug="x")
    assert not Partner.objects.exists()


def test_the_signing_secret_goes_to_the_operator_of_a_fund_the_partner_works_with() -> None:
    admin = FundRoleFactory(role=FundRole.Role.OPERATOR_ADMIN)
    token, _raw = issued_token(fund=admin.fund)
    partner = token.partner
    assert reveal_webhook_secret(actor=admin.user, partner=partner, fund=admin.fund) == (
        partner.webhook_secret
    )
    event = AuditEvent.objects.get(action="partner.webhook_secret_shown")
    assert (event.actor, event.fund_id, event.object_id) == (
        admin.user,
        admin.fund.pk,
        str(partner.pk),
    )
    assert partner.webhook_secret not in str(event.changes)
    reviewer = FundRoleFactory(role=FundRole.Role.REVIEWER, fund=admin.fund).user
    with pytest.raises(PermissionDenied):
        reveal_webhook_secret(actor=reviewer, partner=partner, fund=admin.fund)
    # Not for a partner of another fund only, nor once its tokens for this fund are revoked.
    with pytest.raises(PartnerNotOfFund):
        reveal_webhook_secret(actor=admin.user, partner=issued_token()[0].partner, fund=admin.fund)
    revoke_token(actor=None, token=token)
    with pytest.raises(PartnerNotOfFund):
        reveal_webhook_secret(actor=admin.user, partner=partner, fund=admin.fund)
    assert AuditEvent.objects.filter(action="partner.webhook_secret_shown").count() == 1
