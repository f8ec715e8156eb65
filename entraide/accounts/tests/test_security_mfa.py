"""Two-factor authentication for whoever may approve or pay: required in the back office,
asked at every login once set up, and never turned off by such a person."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from entraide.accounts import sessions
from entraide.accounts.mfa import EntraideMFAAdapter, current_totp_code
from entraide.accounts.middleware import SessionSecurityMiddleware
from entraide.accounts.models import User
from entraide.accounts.selectors import (
    mfa_fund_roles,
    requires_mfa,
    security_profile,
)
from entraide.accounts.services import fund_operators_group
from entraide.accounts.tests.factories import (
    TEST_TOTP_SECRET,
    UserFactory,
    with_authenticator_app,
)
from entraide.applications.tests.factories import ApplicationFactory
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.intake.api import api
from entraide.programmes.models import ProgrammeRole
from entraide.programmes.tests.factories import ProgrammeRoleFactory
from entraide.review.models import Decision

# People log in as they are: no authenticator app given on the way (entraide/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.without_test_authenticator]
Role = FundRole.Role
PASSWORD = "correct-horse-battery"


def staff_of(fund: Fund, role: str, *, mfa: bool) -> User:
    granted: FundRole = FundRoleFactory(fund=fund, role=role, mfa=mfa)
    return granted.user


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# -- who ---------------------------------------------------------------------------------------


def test_the_roles_that_approve_or_pay_are_read_from_the_capabilities() -> None:
    # Reviewers approve within the rules; operator admins fund the waiting list and grant
    # roles; approvers confirm; finance pays. Auditors only read.
    assert set(mfa_fund_roles()) == {
        Role.OPERATOR_ADMIN,
        Role.REVIEWER,
        Role.APPROVER,
        Role.FINANCE,
    }


def fund_operator() -> User:
    user: User = UserFactory()
    user.groups.add(fund_operators_group())
    return user


def programme_creator() -> User:
    user: User = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="add_programme"))
    return user


def evidence_importer() -> User:
    user: User = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_evidencebatch"))
    return user


@pytest.mark.parametrize(
    ("make", "required", "staff"),
    [
        pytest.param(lambda: UserFactory(), False, False, id="applicant"),
        pytest.param(lambda: FundRoleFactory(role=Role.AUDITOR).user, False, True, id="auditor"),
        pytest.param(lambda: FundRoleFactory(role=Role.REVIEWER).user, True, True, id="reviewer"),
        pytest.param(lambda: FundRoleFactory(role=Role.APPROVER).user, True, True, id="approver"),
        pytest.param(lambda: FundRoleFactory(role=Role.FINANCE).user, True, True, id="finance"),
        pytest.param(
            lambda: FundRoleFactory(role=Role.OPERATOR_ADMIN).user, True, True, id="operator_admin"
        ),
        pytest.param(
            lambda: ProgrammeRoleFactory(role=ProgrammeRole.Role.MANAGER).user,
            True,
            True,
            id="programme_manager",
        ),
        pytest.param(
            lambda: ProgrammeRoleFactory(role=ProgrammeRole.Role.DONOR).user,
            False,
            True,
            id="donor",
        ),
        pytest.param(fund_operator, True, True, id="fund_operator"),
        pytest.param(programme_creator, True, True, id="programme_creator"),
        pytest.param(evidence_importer, False, True, id="evidence_importer"),
        pytest.param(lambda: UserFactory(is_staff=True), True, True, id="admin_site_staff"),
        pytest.param(lambda: UserFactory(is_superuser=True), True, True, id="superuser"),
    ],
)
def test_who_must_use_a_second_factor(
    make: Any, required: bool, staff: bool, django_assert_num_queries: Any
) -> None:
    user = User.objects.get(pk=make().pk)  # nothing cached
    with django_assert_num_queries(1):
        assert requires_mfa(user) is required
        assert security_profile(user).staff is staff  # kept for the rest of the request


def test_the_factories_give_an_authenticator_app_to_whoever_needs_one() -> None:
    approver = FundRoleFactory(role=Role.APPROVER).user
    auditor = FundRoleFactory(role=Role.AUDITOR).user
    manager = ProgrammeRoleFactory(role=ProgrammeRole.Role.MANAGER).user
    assert security_profile(approver).mfa_enrolled
    assert security_profile(manager).mfa_enrolled
    assert not security_profile(auditor).mfa_enrolled
    assert not security_profile(FundRoleFactory(role=Role.FINANCE, mfa=False).user).mfa_enrolled


# -- the back office without a second factor ---------------------------------------------------


def test_an_approver_without_a_second_factor_reaches_no_back_office_page(client: Client) -> None:
    fund = FundFactory()
    application = ApplicationFactory(fund=fund)
    client.force_login(staff_of(fund, Role.APPROVER, mfa=False))
    activate = reverse("mfa_activate_totp")
    pages = [
        reverse("staff_home"),
        reverse("fund_dashboard", args=[fund.slug]),
        reverse("staff_application", args=[fund.slug, application.reference]),
        reverse("admin:index"),
    ]
    for url in pages:
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, activate), url
    # Nor does a decision posted straight to the page.
    posted = client.post(pages[2], {"outcome": "approve"})
    assert (posted.status_code, posted["Location"]) == (302, activate)
    assert not Decision.objects.exists()
    # The set-up pages and logging out stay open.
    with translation.override("en"):
        page = client.get(pages[0], follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert any("two-factor authentication" in message for message in messages_of(page))
    assert client.get(reverse("mfa_index")).status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_setting_up_an_authenticator_app_opens_the_back_office_at_once(client: Client) -> None:
    approver = staff_of(FundFactory(), Role.APPROVER, mfa=False)
    client.force_login(approver)
    assert client.get(reverse("staff_home")).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    activate = reverse("mfa_activate_totp")
    secret = client.get(activate).context["form"].secret
    response = client.post(activate, {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=approver, type=Authenticator.Type.TOTP).exists()
    assert client.get(reverse("staff_home")).status_code == 200


def test_those_who_neither_approve_nor_pay_work_without_one(client: Client) -> None:
    fund = FundFactory()
    client.force_login(staff_of(fund, Role.AUDITOR, mfa=False))
    assert client.get(reverse("staff_home")).status_code == 200
    assert client.get(reverse("fund_dashboard", args=[fund.slug])).status_code == 200


def test_a_role_granted_after_the_login_is_enforced_within_a_minute(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    fund = FundFactory()
    auditor = staff_of(fund, Role.AUDITOR, mfa=False)
    client.force_login(auditor)
    assert client.get(reverse("staff_home")).status_code == 200
    FundRoleFactory(fund=fund, user=auditor, role=Role.APPROVER, mfa=False)
    later = sessions.now() + sessions.RECHECK_SECONDS
    monkeypatch.setattr(sessions, "now", lambda: later)
    response = client.get(reverse("staff_home"))
    assert (response.status_code, response["Location"]) == (302, reverse("mfa_activate_totp"))


def test_a_back_office_page_costs_no_query_for_the_check(rf: Any) -> None:
    """Within a minute of the last check the session says all: no query more per page."""
    approver = FundRoleFactory(role=Role.APPROVER).user
    request = rf.get(reverse("staff_home"))
    request.session = SessionStore()
    request.user = approver
    sessions.start(request, approver)
    middleware = SessionSecurityMiddleware(lambda request: HttpResponse("ok"))
    with CaptureQueriesContext(connection) as queries:
        assert middleware(request).status_code == 200
    assert len(queries) == 0


# -- logging in ----------------------------------------------------------------------------------


def test_a_person_with_an_authenticator_app_is_asked_for_a_code_at_login(client: Client) -> None:
    approver = staff_of(FundFactory(), Role.APPROVER, mfa=True)
    response = client.post(
        reverse("account_login"), {"login": approver.email, "password": PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, reverse("mfa_authenticate"))
    assert "_auth_user_id" not in client.session  # not logged in yet
    assert client.get(reverse("staff_home")).status_code == 302  # to the login page

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    done = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(TEST_TOTP_SECRET)})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(approver.pk)
    assert client.get(reverse("staff_home")).status_code == 200


def test_the_admin_site_logs_in_through_allauth(client: Client) -> None:
    """Its own form would skip the second step and the lockout."""
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# -- keeping it ----------------------------------------------------------------------------------


def test_whoever_must_use_a_second_factor_cannot_turn_it_off() -> None:
    adapter = EntraideMFAAdapter()
    approver = FundRoleFactory(role=Role.APPROVER).user
    auditor = with_authenticator_app(FundRoleFactory(role=Role.AUDITOR).user)
    totp = Authenticator.Type.TOTP
    assert not adapter.can_delete_authenticator(Authenticator.objects.get(user=approver, type=totp))
    assert adapter.can_delete_authenticator(Authenticator.objects.get(user=auditor, type=totp))


def test_turning_it_off_is_refused_through_allauths_page(client: Client) -> None:
    approver = FundRoleFactory(role=Role.APPROVER).user
    client.force_login(approver)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 200  # the form, with allauth's refusal
    assert Authenticator.objects.filter(user=approver, type=Authenticator.Type.TOTP).exists()


def test_the_staff_api_can_neither_approve_nor_pay() -> None:
    """Personal API tokens act as their person without a second factor: they may only import
    evidence. An operation that approves or pays must first refuse the tokens of people
    without one (accounts.selectors.security_profile)."""
    staff_operations = {
        (method.upper(), path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method, operation in operations.items()
        if {"StaffBearer": []} in operation.get("security", [])
    }
    assert staff_operations == {
        ("POST", "/api/v1/evidence/imports"),
        ("GET", "/api/v1/evidence/imports/{task_id}"),
        ("GET", "/api/v1/evidence/batches/{batch_id}/errors"),
    }
