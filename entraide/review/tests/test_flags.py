"""Flags for attention: raised by a reviewer (with a note) or by the platform's checks, resolved
by someone who decides, on the application page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from entraide.applications.models import Application
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit import selectors as audit_selectors
from entraide.audit import services as audit
from entraide.audit.models import AuditEvent
from entraide.core.errors import InvalidTransition, PermissionDenied, ValidationFailed
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import flags
from entraide.review.models import Flag
from entraide.review.tests.factories import FlagFactory

Role = FundRole.Role


def staff(fund: Fund, role: str = Role.REVIEWER) -> Any:
    return FundRoleFactory.create(fund=fund, role=role).user


# --------------------------------------------------------------------------------------------
# The services
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER])
def test_a_reviewer_flags_an_application_with_a_note_in_its_history(role: str) -> None:
    application = ApplicationFactory.create()
    reviewer = staff(application.fund, role)

    flag = flags.raise_flag(
        actor=reviewer, application=application, code="reviewer", note="  Edited payslip? "
    )

    assert (flag.code, flag.note, flag.raised_by, flag.fund) == (
        "reviewer",
        "Edited payslip?",
        reviewer,
        application.fund,
    )
    assert list(flags.open_flags(application)) == [flag]
    event = audit_selectors.events_for(application).get()
    assert event.action == "flag.raised"
    assert event.changes == {
        "flag": flag.pk,
        "code": "reviewer",
        "note": audit.pseudonym("Edited payslip?"),
    }


@pytest.mark.django_db
def test_a_person_says_why_and_raises_reviewer_flags_only() -> None:
    application = ApplicationFactory.create()
    reviewer = staff(application.fund)

    with pytest.raises(ValidationFailed) as no_note:
        flags.raise_flag(actor=reviewer, application=application, code="reviewer", note=" ")
    with pytest.raises(ValidationFailed) as platform_code:
        flags.raise_flag(actor=reviewer, application=application, code="duplicate", note="Dup.")

    assert (no_note.value.field, platform_code.value.field) == ("note", "code")
    assert not Flag.objects.exists()


@pytest.mark.django_db
def test_the_platform_flags_once_per_code_however_often_its_checks_run() -> None:
    application = ApplicationFactory.create()

    first = flags.raise_flag(actor=None, application=application, code="duplicate", note="")
    again = flags.raise_flag(actor=None, application=application, code="duplicate", note="")
    other = flags.raise_flag(actor=None, application=application, code="iban-shared", note="")

    assert again == first
    assert first.raised_by is None
    assert other != first
    assert AuditEvent.objects.filter(action="flag.raised", actor_id=None).count() == 2
    assert flags.code_label("duplicate") == "duplicate"
    with pytest.raises(ValidationFailed):
        flags.raise_flag(actor=None, application=application, code="Not a slug", note="")


@pytest.mark.django_db
def test_resolving_needs_a_resolution_closes_the_flag_once_and_is_audited() -> None:
    flag = FlagFactory.create()
    reviewer = staff(flag.fund)

    with pytest.raises(ValidationFailed) as empty:
        flags.resolve_flag(actor=reviewer, flag=flag, resolution="  ")
    resolved = flags.resolve_flag(actor=reviewer, flag=flag, resolution="Payslip checked.")
    with pytest.raises(InvalidTransition):
        flags.resolve_flag(actor=reviewer, flag=flag, resolution="Again.")

    assert empty.value.field == "resolution"
    assert (resolved.resolved_by, resolved.resolution) == (reviewer, "Payslip checked.")
    assert resolved.resolved_at is not None
    assert not flags.open_flags(flag.application).exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.object_id) == ("flag.resolved", str(flag.application_id))
    assert event.changes["resolution"] == audit.pseudonym("Payslip checked.")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.FINANCE, Role.AUDITOR, "other_fund"])
def test_only_those_who_decide_on_the_fund_raise_or_resolve_flags(role: str) -> None:
    flag = FlagFactory.create()
    fund = FundFactory.create() if role == "other_fund" else flag.fund
    actor = staff(fund, Role.REVIEWER if role == "other_fund" else role)

    with pytest.raises(PermissionDenied):
        flags.raise_flag(actor=actor, application=flag.application, code="reviewer", note="Why?")
    with pytest.raises(PermissionDenied):
        flags.resolve_flag(actor=actor, flag=flag, resolution="Fine.")

    assert Flag.objects.get() == flag
    assert flags.open_flags(flag.application).get() == flag


# --------------------------------------------------------------------------------------------
# On the application page
# --------------------------------------------------------------------------------------------


def detail_url(application: Application) -> str:
    return reverse(
        "staff_application",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


def flag_url(application: Application) -> str:
    return reverse(
        "staff_application_flag",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )


def resolve_url(flag: Flag, application: Application | None = None) -> str:
    application = application or flag.application
    return reverse(
        "staff_application_flag_resolve",
        kwargs={
            "slug": application.fund.slug,
            "reference": application.reference,
            "flag_id": flag.pk,
        },
    )


def said(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_a_reviewer_flags_from_the_page_and_sees_the_flag_with_a_resolve_form(
    client: Client,
) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application.fund))

    response = client.post(flag_url(application), {"note": "Two different IBANs."})

    assert response.status_code == 302
    assert response["Location"] == detail_url(application) + "#desk"
    assert said(response) == ["The application is flagged for attention."]
    flag = Flag.objects.get()
    page = client.get(detail_url(application)).content.decode()
    assert "Flagged by a reviewer" in page
    assert "Two different IBANs." in page
    assert f'id="id_flag{flag.pk}_resolution"' in page
    assert "No open flag." not in page


@pytest.mark.django_db
def test_a_flag_without_a_note_is_a_message_not_a_flag(client: Client) -> None:
    application = ApplicationFactory.create()
    client.force_login(staff(application.fund))

    response = client.post(flag_url(application), {"note": ""})

    assert response.status_code == 302
    assert said(response) == ["What needs attention: This field is required."]
    assert not Flag.objects.exists()


@pytest.mark.django_db
def test_a_reviewer_resolves_a_flag_from_the_page(client: Client) -> None:
    flag = FlagFactory.create()
    client.force_login(staff(flag.fund))

    response = client.post(resolve_url(flag), {"resolution": "Called the applicant."})
    again = client.post(resolve_url(flag), {"resolution": "Twice."})

    assert response.status_code == 302
    assert said(response) == ["The flag is resolved."]
    assert again.status_code == 302
    assert said(again)[-1] == "This flag has already been resolved."
    flag.refresh_from_db()
    assert flag.resolution == "Called the applicant."
    assert "No open flag." in client.get(detail_url(flag.application)).content.decode()


@pytest.mark.django_db
def test_a_flag_is_resolved_only_through_its_own_application(client: Client) -> None:
    flag = FlagFactory.create()
    neighbour = ApplicationFactory.create(fund=flag.fund)
    client.force_login(staff(flag.fund))

    response = client.post(resolve_url(flag, neighbour), {"resolution": "Fine."})

    assert response.status_code == 404
    assert flags.open_flags(flag.application).get() == flag


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OPERATOR_ADMIN, Role.FINANCE, Role.AUDITOR])
def test_those_who_only_read_see_the_flags_without_forms(client: Client, role: str) -> None:
    flag = FlagFactory.create(note="Look at the dates.")
    client.force_login(staff(flag.fund, role))

    page = client.get(detail_url(flag.application)).content.decode()

    assert "Look at the dates." in page
    assert "Resolve</button>" not in page
    assert "Flag for attention" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["flag", "resolve"])
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        (Role.OPERATOR_ADMIN, 403),
        (Role.FINANCE, 403),
        (Role.AUDITOR, 403),
        ("other_fund", 404),
    ],
)
def test_the_flag_actions_are_refused_to_those_who_may_not_use_them(
    client: Client, view: str, who: str, expected: int
) -> None:
    flag = FlagFactory.create()
    if who == "other_fund":
        client.force_login(staff(FundFactory.create()))
    elif who != "anonymous":
        client.force_login(staff(flag.fund, who))
    url = flag_url(flag.application) if view == "flag" else resolve_url(flag)

    response = client.post(url, {"note": "Why?", "resolution": "Fine."})

    assert response.status_code == expected
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    assert Flag.objects.get() == flag
    assert flags.open_flags(flag.application).get() == flag
    assert not AuditEvent.objects.exists()
