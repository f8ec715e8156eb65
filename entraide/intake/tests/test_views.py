"""The back office's partners page of a fund: listing partners and tokens, issuing a token
(shown once), revoking one, showing the webhook signing secret; who may do it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from entraide.accounts.models import User
from entraide.accounts.services import fund_operators_group
from entraide.accounts.tests.factories import UserFactory
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.models import Partner, PartnerToken
from entraide.intake.services import hash_token, issue_token, revoke_token
from entraide.intake.tests.factories import PartnerFactory, issued_token

Role = FundRole.Role
pytestmark = pytest.mark.django_db
LIST_MAX_QUERIES = 8


@pytest.fixture
def client() -> Client:
    """Pages in English, whatever the catalogs say."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def fund() -> Fund:
    return FundFactory.create(slug="fund-a")


@pytest.fixture
def admin(fund: Fund) -> User:
    return FundRoleFactory.create(fund=fund, role=Role.OPERATOR_ADMIN).user


@pytest.fixture
def operator_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


def url(name: str, fund: Fund, **kwargs: Any) -> str:
    return reverse(name, kwargs={"slug": fund.slug, **kwargs})


def new_partner_form(**overrides: str) -> dict[str, str]:
    return {
        "partner": "",
        "name": "Syndicat des techniciens",
        "slug": "syndicat-tech",
        "webhook_url": "https://partner.example/hooks/entraide",
        "token_name": "production server",
        "submission": "form-1",
        **overrides,
    }


def api_fund(client: Client, fund: Fund, raw: str) -> int:
    response = client.get(f"/api/v1/funds/{fund.slug}", headers={"Authorization": f"Bearer {raw}"})
    return int(response.status_code)


def partner_events() -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith="partner").values_list("action", flat=True)
    )


# --------------------------------------------------------------------------------------------
# Who may see and act
# --------------------------------------------------------------------------------------------

IN = "302 to login"


def _actor(kind: str, fund: Fund) -> tuple[User | None, int | str]:
    """A person of each kind that must not manage the fund's partners, and their answer."""
    if kind == "anonymous":
        return None, IN
    if kind == "applicant":  # no back-office access at all: 403, as on every staff page
        applicant = UserFactory.create()
        ApplicationFactory.create(fund=fund, applicant=applicant)
        return applicant, 403
    if kind == "admin_of_other_fund":
        return FundRoleFactory.create(role=Role.OPERATOR_ADMIN).user, 404
    if kind == "fund_operator":  # may create funds, has no role on this one
        user = UserFactory.create()
        user.groups.add(fund_operators_group())
        return user, 404
    return FundRoleFactory.create(fund=fund, role=kind).user, 404  # the fund's other staff


REFUSED = [
    "anonymous",
    "applicant",
    Role.REVIEWER,
    Role.APPROVER,
    Role.FINANCE,
    Role.AUDITOR,
    "admin_of_other_fund",
    "fund_operator",
]


@pytest.mark.parametrize("kind", REFUSED)
def test_only_the_funds_operator_admin_sees_or_acts_on_its_partners(
    client: Client, fund: Fund, kind: str
) -> None:
    token, raw = issued_token(fund=fund)
    user, expected = _actor(kind, fund)
    if user is not None:
        client.force_login(user)
    events_before = partner_events()
    requests = [
        ("get", url("intake_partners", fund), {}),
        ("get", url("intake_token_new", fund), {}),
        ("post", url("intake_token_new", fund), new_partner_form()),
        ("post", url("intake_token_new", fund), new_partner_form(partner=token.partner.slug)),
        ("get", url("intake_token_revoke", fund, token_id=token.pk), {}),
        ("post", url("intake_token_revoke", fund, token_id=token.pk), {}),
        ("post", url("intake_partner_secret", fund, partner=token.partner.slug), {}),
    ]
    for method, address, data in requests:
        response = getattr(client, method)(address, data)
        if expected == IN:
            assert response.status_code == 302, (method, address)
            assert response["Location"].startswith(reverse("account_login") + "?next=")
        else:
            assert response.status_code == expected, (method, address)
        assert raw not in response.content.decode()
        assert token.partner.webhook_secret not in response.content.decode()

    assert PartnerToken.objects.count() == 1
    assert not Partner.objects.filter(slug="syndicat-tech").exists()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert partner_events() == events_before
    assert api_fund(Client(), fund, raw) == 200


def test_the_operator_admin_of_another_fund_cannot_reach_this_funds_tokens_through_theirs(
    client: Client, fund: Fund
) -> None:
    token, _raw = issued_token(fund=fund)
    other_admin = FundRoleFactory.create(role=Role.OPERATOR_ADMIN)
    issued_token(fund=other_admin.fund, partner=PartnerFactory.create())
    client.force_login(other_admin.user)

    revoke = url("intake_token_revoke", other_admin.fund, token_id=token.pk)
    assert client.get(revoke).status_code == 404
    assert client.post(revoke).status_code == 404
    secret = url("intake_partner_secret", other_admin.fund, partner=token.partner.slug)
    assert client.post(secret).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AuditEvent.objects.filter(action="partner.webhook_secret_shown").exists()


def test_the_dashboard_links_to_the_partners_for_the_operator_admin_only(
    operator_client: Client, fund: Fund
) -> None:
    partners = url("intake_partners", fund)
    assert partners in operator_client.get(url("fund_dashboard", fund)).content.decode()
    reviewer = Client()
    reviewer.force_login(FundRoleFactory.create(fund=fund, role=Role.REVIEWER).user)
    assert partners not in reviewer.get(url("fund_dashboard", fund)).content.decode()


# --------------------------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------------------------


def test_the_list_shows_this_funds_partners_their_tokens_for_it_and_their_applications(
    operator_client: Client, fund: Fund, admin: User
) -> None:
    other_fund = FundFactory.create()
    partner = PartnerFactory.create(name="Syndicat X", webhook_url="https://x.example/hook")
    token, raw = issue_token(actor=admin, partner=partner, fund=fund, name="production server")
    revoked, _ = issue_token(actor=None, partner=partner, fund=fund, name="old server")
    revoke_token(actor=None, token=revoked)
    elsewhere, _ = issued_token(fund=other_fund, partner=partner, name="other fund's token")
    stranger, _ = issued_token(fund=other_fund, partner=PartnerFactory.create(name="Caisse Y"))
    ApplicationFactory.create_batch(3, fund=fund, partner=partner, applicant=None)
    ApplicationFactory.create(fund=other_fund, partner=partner, applicant=None)
    ApplicationFactory.create(fund=fund)  # made on the portal

    response = operator_client.get(url("intake_partners", fund))

    assert response.status_code == 200
    assert [row.partner for row in response.context["partners"]] == [partner]
    (row,) = response.context["partners"]
    assert row.tokens == [revoked, token]
    assert row.submitted == 3
    assert row.has_active_token
    page = response.content.decode()
    for text in (
        "Syndicat X",
        "https://x.example/hook",
        f"{token.prefix}…",
        f"{revoked.prefix}…",
        "production server",
        str(admin),
        "Revoked on",
        url("intake_token_revoke", fund, token_id=token.pk),
        url("intake_partner_secret", fund, partner=partner.slug),
    ):
        assert text in page, text
    assert url("intake_token_revoke", fund, token_id=revoked.pk) not in page
    for hidden in (
        raw,
        partner.webhook_secret,
        elsewhere.prefix,
        stranger.prefix,
        "Caisse Y",
        "other fund's token",
    ):
        assert hidden not in page, hidden


def test_a_partner_whose_tokens_are_all_revoked_has_no_secret_to_show(
    operator_client: Client, fund: Fund
) -> None:
    token, _raw = issued_token(fund=fund)
    revoke_token(actor=None, token=token)
    response = operator_client.get(url("intake_partners", fund))
    (row,) = response.context["partners"]
    assert not row.has_active_token
    secret = url("intake_partner_secret", fund, partner=token.partner.slug)
    assert secret not in response.content.decode()
    assert operator_client.post(secret).status_code == 404
    assert not AuditEvent.objects.filter(action="partner.webhook_secret_shown").exists()


def _list_queries(client: Client, fund: Fund, max_queries: int, assert_max: Any) -> int:
    with CaptureQueriesContext(connection) as queries, assert_max(max_queries):
        response = client.get(url("intake_partners", fund))
    assert response.status_code == 200
    return len(queries)


def test_the_list_uses_a_fixed_number_of_queries(
    operator_client: Client, fund: Fund, admin: User, django_assert_max_num_queries: Any
) -> None:
    def add_partner() -> None:
        partner = PartnerFactory.create()
        for _ in range(3):
            issue_token(actor=admin, partner=partner, fund=fund)
        ApplicationFactory.create_batch(2, fund=fund, partner=partner, applicant=None)

    add_partner()
    with_one = _list_queries(operator_client, fund, LIST_MAX_QUERIES, django_assert_max_num_queries)
    for _ in range(5):
        add_partner()
    with_six = _list_queries(operator_client, fund, LIST_MAX_QUERIES, django_assert_max_num_queries)
    assert with_six == with_one
    assert len(operator_client.get(url("intake_partners", fund)).context["partners"]) == 6


# --------------------------------------------------------------------------------------------
# Issuing a token
# --------------------------------------------------------------------------------------------


def test_a_new_partner_gets_a_token_shown_once_whose_hash_is_stored(
    operator_client: Client, fund: Fund, admin: User
) -> None:
    response = operator_client.post(url("intake_token_new", fund), new_partner_form())

    assert response.status_code == 200  # rendered, not redirected: nothing in a URL
    assert "Location" not in response
    assert "no-store" in response["Cache-Control"]
    partner = Partner.objects.get(slug="syndicat-tech")
    assert (partner.name, partner.webhook_url) == (
        "Syndicat des techniciens",
        "https://partner.example/hooks/entraide",
    )
    token = PartnerToken.objects.get()
    assert (token.partner, token.fund, token.name, token.created_by) == (
        partner,
        fund,
        "production server",
        admin,
    )
    raw = response.context["raw_token"]
    assert token.token_hash == hash_token(raw)
    page = response.content.decode()
    assert f'<code id="token">{raw}</code>' in page
    assert "it will not be shown again" in page
    # A new partner's signing secret goes with its first token.
    assert f'<code id="webhook-secret">{partner.webhook_secret}</code>' in page
    assert api_fund(Client(), fund, raw) == 200

    created = AuditEvent.objects.get(action="partner.created")
    issued = AuditEvent.objects.get(action="partner_token.issued")
    assert (created.actor, created.fund_id) == (admin, fund.pk)
    assert (issued.actor, issued.fund_id, issued.object_id) == (admin, fund.pk, str(token.pk))
    for event in (created, issued):
        assert raw not in str(event.changes)
        assert partner.webhook_secret not in str(event.changes)

    # Never again: not on the list, not in the session.
    listing = operator_client.get(url("intake_partners", fund)).content.decode()
    assert raw not in listing
    assert partner.webhook_secret not in listing
    session = Session.objects.get(session_key=operator_client.session.session_key)
    assert raw not in str(session.get_decoded())


def test_an_existing_partner_gets_a_token_for_this_fund_without_its_secret(
    operator_client: Client, fund: Fund
) -> None:
    partner = PartnerFactory.create(name="Caisse Y")  # registered for another fund
    issued_token(partner=partner)
    form = new_partner_form(partner=partner.slug, name="", slug="", webhook_url="")

    response = operator_client.post(url("intake_token_new", fund), form)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = PartnerToken.objects.get(fund=fund)
    assert token.partner == partner
    assert token.token_hash == hash_token(response.context["raw_token"])
    assert Partner.objects.count() == 1
    assert partner.webhook_secret not in response.content.decode()
    assert not AuditEvent.objects.filter(action="partner.created").exists()


def test_the_form_preselects_the_partner_of_the_issue_another_token_link(
    operator_client: Client, fund: Fund
) -> None:
    partner = PartnerFactory.create()
    response = operator_client.get(url("intake_token_new", fund), {"partner": partner.slug})
    page = response.content.decode()
    assert f'<option value="{partner.slug}" selected>' in page
    assert 'name="submission"' in page


def test_posting_the_same_form_again_does_not_issue_a_second_token(
    operator_client: Client, fund: Fund
) -> None:
    first = operator_client.post(url("intake_token_new", fund), new_partner_form())
    raw = first.context["raw_token"]

    again = operator_client.post(url("intake_token_new", fund), new_partner_form())

    assert again.status_code == 200
    token = PartnerToken.objects.get()
    assert again.context["token"] == token
    assert raw not in again.content.decode()
    assert f"{token.prefix}…" in again.content.decode()
    # Another form (a new submission value) issues another token.
    other = new_partner_form(partner="syndicat-tech", name="", slug="", webhook_url="")
    operator_client.post(url("intake_token_new", fund), other | {"submission": "form-2"})
    assert PartnerToken.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "kept"),
    [
        ({"slug": "Not a slug!"}, "slug", 'value="Not a slug!"'),
        (
            {"webhook_url": "ftp://partner.example/"},
            "webhook_url",
            'value="ftp://partner.example/"',
        ),
        ({"name": ""}, "name", 'value="syndicat-tech"'),
    ],
)
def test_a_broken_form_says_what_is_wrong_on_the_field_and_keeps_what_was_typed(
    operator_client: Client, fund: Fund, changes: dict[str, str], field: str, kept: str
) -> None:
    response = operator_client.post(url("intake_token_new", fund), new_partner_form(**changes))

    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert 'aria-invalid="true"' in page
    assert kept in page
    assert 'value="production server"' in page
    assert "Cache-Control" not in response or "no-store" not in response["Cache-Control"]
    assert not PartnerToken.objects.exists()
    assert not Partner.objects.exists()


def test_a_short_name_already_taken_is_refused_on_its_field(
    operator_client: Client, fund: Fund
) -> None:
    PartnerFactory.create(slug="syndicat-tech")
    response = operator_client.post(url("intake_token_new", fund), new_partner_form())
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["slug"])
    assert 'value="Syndicat des techniciens"' in response.content.decode()
    assert not PartnerToken.objects.exists()


def test_a_registered_partner_and_a_new_one_at_once_is_refused(
    operator_client: Client, fund: Fund
) -> None:
    partner = PartnerFactory.create()
    response = operator_client.post(
        url("intake_token_new", fund), new_partner_form(partner=partner.slug)
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not PartnerToken.objects.exists()
    assert Partner.objects.count() == 1


# --------------------------------------------------------------------------------------------
# Revoking a token
# --------------------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_by_the_api_and_the_revocation_audited(
    operator_client: Client, fund: Fund, admin: User
) -> None:
    token, raw = issued_token(fund=fund)
    api = Client()
    assert api_fund(api, fund, raw) == 200
    revoke = url("intake_token_revoke", fund, token_id=token.pk)

    confirmation = operator_client.get(revoke)
    assert confirmation.status_code == 200
    assert f"{token.prefix}…" in confirmation.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # the confirmation page changes nothing

    response = operator_client.post(revoke, follow=True)

    assert response.redirect_chain == [(url("intake_partners", fund), 302)]
    assert "is revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_fund(api, fund, raw) == 401
    event = AuditEvent.objects.get(action="partner_token.revoked")
    assert (event.actor, event.fund_id, event.object_id) == (admin, fund.pk, str(token.pk))


def test_a_token_already_revoked_says_so(operator_client: Client, fund: Fund) -> None:
    token, _raw = issued_token(fund=fund)
    revoke_token(actor=None, token=token)
    revoke = url("intake_token_revoke", fund, token_id=token.pk)
    assert "was revoked on" in operator_client.get(revoke).content.decode()
    response = operator_client.post(revoke, follow=True)
    assert "already been revoked" in response.content.decode()
    assert AuditEvent.objects.filter(action="partner_token.revoked").count() == 1


# --------------------------------------------------------------------------------------------
# The webhook signing secret
# --------------------------------------------------------------------------------------------


def test_the_signing_secret_is_shown_on_request_only_and_each_showing_audited(
    operator_client: Client, fund: Fund, admin: User
) -> None:
    token, _raw = issued_token(fund=fund)
    partner = token.partner
    secret = url("intake_partner_secret", fund, partner=partner.slug)
    assert operator_client.get(secret).status_code == 405

    response = operator_client.post(secret)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert f'<code id="webhook-secret">{partner.webhook_secret}</code>' in response.content.decode()
    event = AuditEvent.objects.get(action="partner.webhook_secret_shown")
    assert (event.actor, event.fund_id, event.object_id) == (admin, fund.pk, str(partner.pk))
    assert partner.webhook_secret not in str(event.changes)
    operator_client.post(secret)
    assert AuditEvent.objects.filter(action="partner.webhook_secret_shown").count() == 2


def test_the_secret_of_a_partner_that_never_worked_with_the_fund_is_not_found(
    operator_client: Client, fund: Fund
) -> None:
    token, _raw = issued_token()  # another fund's partner
    response = operator_client.post(url("intake_partner_secret", fund, partner=token.partner.slug))
    assert response.status_code == 404
    assert token.partner.webhook_secret not in response.content.decode()
