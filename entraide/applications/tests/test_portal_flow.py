"""Applying in steps: each step saved (even when wrong), resumable, and one submission making
exactly one application whatever the clicks, tabs and back buttons."""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application, ApplicationDraft
from entraide.applications.tests.factories import ApplicationFactory
from entraide.applications.tests.portal_factories import (
    IBAN,
    NIR,
    PNG,
    FundDocumentRequirementFactory,
    step_values,
)
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.rules.tests.factories import RuleSetVersionFactory

Step = ApplicationDraft.Step
FORM_STEPS = ["identity", "contact", "situation", "bank"]


@pytest.fixture
def fund(db: None) -> Fund:
    fund = FundFactory.create(slug="open-fund", name="Open fund")
    RuleSetVersionFactory.create(rule_set__fund=fund)  # asks annual_resources and days
    FundDocumentRequirementFactory.create(fund=fund, code="payslip", label_en="Last payslip")
    FundDocumentRequirementFactory.create(
        fund=fund, code="rib", label_en="Bank details", required=False
    )
    return fund


@pytest.fixture
def applicant(client: Client, db: None) -> Any:
    user = UserFactory.create(email="camille@example.org")
    client.force_login(user)
    return user


def url(fund: Fund, step: str | None = None) -> str:
    if step is None:
        return reverse("apply", kwargs={"slug": fund.slug})
    return reverse("apply_step", kwargs={"slug": fund.slug, "step": step})


def draft_of(user: Any) -> ApplicationDraft:
    return ApplicationDraft.objects.get(applicant=user)


def fill_steps(client: Client, fund: Fund, steps: list[str] | None = None, **overrides: Any):
    client.get(url(fund))
    values = step_values(**overrides)
    for step in steps if steps is not None else FORM_STEPS:
        response = client.post(url(fund, step), values[step])
        assert response.status_code == 302, (step, response.context["form"].errors)


def add_payslip(client: Client, fund: Fund) -> Any:
    upload = SimpleUploadedFile("payslip.png", PNG, content_type="image/png")
    return client.post(url(fund, "documents"), {"document_payslip": upload})


def complete(client: Client, fund: Fund) -> ApplicationDraft:
    fill_steps(client, fund)
    assert add_payslip(client, fund).status_code == 302
    draft = ApplicationDraft.objects.get(fund=fund)
    assert draft.completed_steps == [*FORM_STEPS, "documents"]
    return draft


def send(client: Client, fund: Fund, key: Any, consent: bool = True) -> Any:
    data = {"idempotency_key": str(key), "send": ""}
    if consent:
        data["consent"] = "on"
    return client.post(url(fund, "review"), data)


def text(response: Any) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


# --------------------------------------------------------------------------------------------
# Starting and resuming
# --------------------------------------------------------------------------------------------


def test_applying_needs_an_account(client: Client, fund: Fund) -> None:
    response = client.get(url(fund))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_applying_starts_a_draft_on_the_first_step(
    client: Client, fund: Fund, applicant: Any
) -> None:
    response = client.get(url(fund))

    assert response.status_code == 302
    assert response["Location"] == url(fund, "identity")
    assert draft_of(applicant).completed_steps == []
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    # The step indicator names every step and marks the current one.
    assert 'aria-label="Steps of your application"' in html
    assert re.search(r'<a href="[^"]+/identity/" aria-current="step">', html)
    assert html.count('aria-current="step"') == 1


def test_the_contact_step_offers_the_accounts_e_mail_address(
    client: Client, fund: Fund, applicant: Any
) -> None:
    client.get(url(fund))

    response = client.get(url(fund, "contact"))

    assert response.context["form"]["email"].value() == "camille@example.org"


def test_resuming_after_logging_out_and_in_again_lands_on_the_first_step_left(
    client: Client, fund: Fund, applicant: Any
) -> None:
    fill_steps(client, fund, ["identity", "contact"])
    client.logout()
    client.force_login(applicant)

    response = client.get(url(fund))

    assert response["Location"] == url(fund, "situation")
    identity = client.get(url(fund, "identity"))
    assert 'value="Camille"' in identity.content.decode()
    assert not identity.context["form"].is_bound


def test_the_answers_of_the_self_check_fill_in_the_situation_step(
    client: Client, fund: Fund, applicant: Any
) -> None:
    session = client.session
    session[f"self_check:{fund.slug}"] = {"annual_resources": "12000.00", "days": 20}
    session.save()

    client.get(url(fund))
    response = client.get(url(fund, "situation"))

    form = response.context["form"]
    assert not form.is_bound  # not a save of the step: no error shown
    assert form["annual_resources"].value() == "12000.00"
    assert form["days"].value() == 20
    assert "Your answers to the eligibility check are already filled in." in text(response)


def test_a_draft_in_progress_is_listed_with_a_link_to_resume_it(
    client: Client, fund: Fund, applicant: Any
) -> None:
    fill_steps(client, fund, ["identity"])

    response = client.get(reverse("my_applications"))

    html = text(response)
    assert "Applications in progress" in html
    assert "1 of 5 steps done." in html
    assert f'href="{url(fund)}"' in html


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", FORM_STEPS)
def test_a_valid_step_is_saved_complete_and_leads_to_the_next(
    client: Client, fund: Fund, applicant: Any, step: str
) -> None:
    client.get(url(fund))
    typed = step_values()[step]

    response = client.post(url(fund, step), {**typed, "continue": ""})

    following = {"identity": "contact", "contact": "situation", "situation": "bank"}
    assert response["Location"] == url(fund, following.get(step, "documents"))
    draft = draft_of(applicant)
    assert draft.completed_steps == [step]
    saved = draft.data[step]
    if step == "situation":
        assert saved == {
            "profession": "technician",
            "declared": {"annual_resources": "13250.50", "days": "14"},
        }
    else:
        assert saved == typed


INVALID = [
    pytest.param(
        "identity",
        {"nir": NIR[:13] + f"{(int(NIR[13:]) % 97) + 1:02d}"},
        {"nir": ["This social security number is not valid: check the 15 characters and the key."]},
        id="nir-key",
    ),
    pytest.param(
        "identity",
        {"birth_date": "1990-11-23"},
        {"birth_date": ["The date of birth does not match the social security number."]},
        id="birth-date-not-the-nirs",
    ),
    pytest.param(
        "contact",
        {"email": "camille-at-example.org", "city": ""},
        {"email": ["Enter a valid email address."], "city": ["This field is required."]},
        id="contact",
    ),
    pytest.param(
        "situation",
        {"annual_resources": "lots", "days": ""},
        {"annual_resources": ["Enter a number."], "days": ["Answer this question."]},
        id="answers",
    ),
    pytest.param(
        "bank",
        {"iban": "FR76 3000 6000 0112 3456 7890 180"},
        {"iban": ["This IBAN is not valid: check the country code, the length and the key."]},
        id="iban-key",
    ),
]


@pytest.mark.parametrize(("step", "wrong", "errors"), INVALID)
def test_a_wrong_step_is_saved_incomplete_and_shown_again_with_its_errors(
    client: Client,
    fund: Fund,
    applicant: Any,
    step: str,
    wrong: dict[str, str],
    errors: dict[str, list[str]],
) -> None:
    client.get(url(fund))
    typed = {**step_values()[step], **wrong}

    response = client.post(url(fund, step), {**typed, "continue": ""})

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == errors
    html = response.content.decode()
    for name in errors:
        assert f'id="id_{name}_error"' in html
        assert f'href="#id_{name}"' in html  # the summary at the top links to the field
    for name, value in typed.items():
        if value and name != "profession":
            assert f'value="{value}"' in html, name
    draft = draft_of(applicant)
    assert step not in draft.completed_steps
    saved = draft.data[step]
    if step == "situation":
        assert saved["declared"] == {"annual_resources": "lots"}
    else:
        assert saved == typed
    # Coming back later shows the same mistakes beside what was typed.
    again = client.get(url(fund, step))
    assert again.context["form"].errors == errors


def test_save_and_finish_later_keeps_what_was_typed_even_when_wrong(
    client: Client, fund: Fund, applicant: Any
) -> None:
    client.get(url(fund))

    response = client.post(
        url(fund, "identity"), {"first_name": "Camille", "nir": "123", "finish_later": ""}
    )

    assert response["Location"] == reverse("my_applications")
    draft = draft_of(applicant)
    assert draft.data["identity"]["first_name"] == "Camille"
    assert draft.completed_steps == []
    page = client.get(response["Location"])
    assert "Your application to Open fund is saved." in text(page)


def test_the_account_holder_defaults_to_the_applicants_name_and_the_bic_to_the_ibans_bank(
    client: Client, fund: Fund, applicant: Any
) -> None:
    fill_steps(client, fund, ["identity", "contact", "situation", "bank"])
    draft = draft_of(applicant)
    draft.data["bank"]["account_holder"] = ""
    draft.save()

    response = client.get(url(fund, "bank"))

    assert response.context["form"]["account_holder"].value() == "Camille Rivière"
    assert response.context["derived_bic"]  # schwifty knows the French test banks
    assert response.context["derived_bic"] in text(response)


def test_an_unknown_step_is_a_404(client: Client, fund: Fund, applicant: Any) -> None:
    client.get(url(fund))

    assert client.get(url(fund, "payment")).status_code == 404


# --------------------------------------------------------------------------------------------
# Check and send
# --------------------------------------------------------------------------------------------


def test_the_review_shows_every_step_with_a_link_to_change_it(
    client: Client, fund: Fund, applicant: Any
) -> None:
    draft = complete(client, fund)

    response = client.get(url(fund, "review"))

    html = text(response)
    for step in [*FORM_STEPS, "documents"]:
        assert f'href="{url(fund, step)}">Change' in html
    assert "Rivière" in html
    assert "13250.50" in html or "13,250.5" in html
    assert "payslip.png" in html
    assert f'value="{draft.idempotency_key}"' in html


def test_sending_makes_one_application_with_its_documents_and_a_receipt(
    client: Client,
    fund: Fund,
    applicant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    draft = complete(client, fund)

    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, fund, draft.idempotency_key)

    application = Application.objects.get()
    assert response["Location"] == reverse(
        "application_status", kwargs={"reference": application.reference}
    )
    assert (application.nir, application.iban) == (NIR, IBAN)
    assert application.declared == {"annual_resources": "13250.50", "days": 14}
    assert application.bic  # found from the IBAN, as the bank step said
    assert application.language == "en"
    assert [d.original_name for d in application.documents.all()] == ["payslip.png"]
    assert not ApplicationDraft.objects.exists()
    [receipt] = mail.outbox
    assert application.reference in receipt.subject
    assert f"•••• {IBAN[-4:]}" in receipt.body
    assert IBAN not in receipt.body
    assert NIR not in receipt.body
    assert "payslip.png" in receipt.body
    assert f"/me/applications/{application.reference}/" in receipt.body


def test_sending_twice_makes_one_application(client: Client, fund: Fund, applicant: Any) -> None:
    draft = complete(client, fund)

    first = send(client, fund, draft.idempotency_key)
    second = send(client, fund, draft.idempotency_key)

    assert Application.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_two_tabs_sending_the_same_draft_make_one_application(
    client: Client, fund: Fund, applicant: Any
) -> None:
    complete(client, fund)
    keys = [
        client.get(url(fund, "review")).context["form"]["idempotency_key"].value()
        for _tab in range(2)
    ]

    responses = [send(client, fund, key) for key in keys]

    assert Application.objects.count() == 1
    assert {r["Location"] for r in responses} == {
        reverse("application_status", kwargs={"reference": Application.objects.get().reference})
    }


def test_sending_again_once_the_draft_is_gone_leads_to_the_application(
    client: Client, fund: Fund, applicant: Any
) -> None:
    draft = complete(client, fund)
    send(client, fund, draft.idempotency_key)
    application = Application.objects.get()

    # Back button, then send: the draft no longer exists.
    again = send(client, fund, draft.idempotency_key)
    # A stale page without the key is told the person already applied.
    stale = client.post(url(fund, "review"), {"consent": "on"})

    assert again["Location"] == reverse(
        "application_status", kwargs={"reference": application.reference}
    )
    assert stale.status_code == 200
    assert "You have already applied to Open fund" in text(stale)
    assert Application.objects.count() == 1


def test_sending_needs_the_consent(client: Client, fund: Fund, applicant: Any) -> None:
    draft = complete(client, fund)

    response = send(client, fund, draft.idempotency_key, consent=False)

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "consent": ["Please confirm that what you declare is accurate."]
    }
    assert not Application.objects.exists()


def test_sending_with_steps_left_lists_them_with_links(
    client: Client, fund: Fund, applicant: Any
) -> None:
    fill_steps(client, fund, ["identity", "contact"])
    draft = draft_of(applicant)

    response = send(client, fund, draft.idempotency_key)

    assert response.status_code == 200
    assert [(p.step, p.url) for p in response.context["problems"]] == [
        (step, url(fund, step)) for step in ("situation", "bank", "documents")
    ]
    assert not Application.objects.exists()


def test_problems_found_on_sending_link_to_the_field_of_their_step(
    client: Client, fund: Fund, applicant: Any
) -> None:
    draft = complete(client, fund)
    # Changed behind the form's back (or by rules changed since): the submission decides.
    draft.data["bank"]["iban"] = "FR00 1234"
    draft.data["situation"]["declared"]["days"] = "-1"
    draft.save()

    response = send(client, fund, draft.idempotency_key)

    assert response.status_code == 200
    assert [(p.step, p.url) for p in response.context["problems"]] == [
        ("bank", url(fund, "bank") + "#id_iban"),
        ("situation", url(fund, "situation") + "#id_days"),
    ]
    page = text(response)
    assert "Your application could not be sent yet:" in page
    assert "Bank details — IBAN: This IBAN is not valid" in page
    assert not Application.objects.exists()
    draft.refresh_from_db()
    assert draft.completed_steps == ["identity", "contact", "documents"]
    # The step shows the problem again, on its field.
    assert list(client.get(url(fund, "bank")).context["form"].errors) == ["iban"]


def test_a_required_document_missing_on_sending_links_to_its_field(
    client: Client, fund: Fund, applicant: Any
) -> None:
    draft = complete(client, fund)
    draft.documents.all().delete()

    response = send(client, fund, draft.idempotency_key)

    assert [(p.step, p.url, p.message) for p in response.context["problems"]] == [
        (
            "documents",
            url(fund, "documents") + "#id_document_payslip",
            "Please add this document: Last payslip.",
        )
    ]
    assert not Application.objects.exists()


def test_a_number_already_used_for_this_fund_is_refused_on_sending(
    client: Client, fund: Fund, applicant: Any
) -> None:
    draft = complete(client, fund)
    ApplicationFactory.create(fund=fund, nir=NIR, birth_date=dt.date(1988, 11, 23))

    response = send(client, fund, draft.idempotency_key)

    assert response.status_code == 200
    assert "has already been made to this fund" in text(response)
    assert Application.objects.count() == 1


def test_the_page_language_is_the_applications_language(
    client: Client, fund: Fund, applicant: Any
) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    draft = complete(client, fund)

    send(client, fund, draft.idempotency_key)

    assert Application.objects.get().language == "fr"


# --------------------------------------------------------------------------------------------
# Who may apply, when
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opens_in", "closes_in", "message"),
    [
        (-30, -2, "Applications closed on"),
        (5, 30, "Applications open on"),
    ],
    ids=["closed", "not-yet-open"],
)
def test_outside_the_window_the_form_is_replaced_by_a_clear_message(
    client: Client, applicant: Any, opens_in: int, closes_in: int, message: str
) -> None:
    today = timezone.now().date()
    fund = FundFactory.create(
        opens_on=today + dt.timedelta(days=opens_in), closes_on=today + dt.timedelta(days=closes_in)
    )

    page = client.get(url(fund))
    posted = client.post(url(fund, "identity"), step_values()["identity"])

    for response in (page, posted):
        assert response.status_code == 200
        assert "Applications to this fund are not open at the moment." in text(response)
        assert message in text(response)
        assert "form" not in response.context
    assert not ApplicationDraft.objects.exists()


def test_someone_who_applied_already_is_shown_their_application(
    client: Client, fund: Fund, applicant: Any
) -> None:
    application = ApplicationFactory.create(fund=fund, applicant=applicant)

    response = client.get(url(fund))

    assert response.status_code == 200
    html = text(response)
    assert "You have already applied to Open fund" in html
    assert reverse("application_status", kwargs={"reference": application.reference}) in html
    assert not ApplicationDraft.objects.exists()


# --------------------------------------------------------------------------------------------
# The receipt, the status and the applicant's list
# --------------------------------------------------------------------------------------------


def test_the_status_page_is_a_receipt_of_what_was_sent_with_identifiers_masked(
    client: Client, fund: Fund, applicant: Any
) -> None:
    draft = complete(client, fund)
    response = client.get(send(client, fund, draft.idempotency_key)["Location"])

    application = Application.objects.get()
    html = text(response)
    assert f'<p class="reference">{application.reference}</p>' in html
    assert "Your application was received." in html
    assert "The fund has your application." in html  # what the status means
    assert NIR not in html
    assert IBAN not in html
    assert f"•••• {NIR[-4:]}" in html
    assert f"•••• {IBAN[-4:]}" in html
    assert "Days worked from September to February</dt><dd>14" in html
    document = application.documents.get()
    assert reverse("document_download", kwargs={"document_id": document.pk}) in html


@pytest.mark.parametrize(
    ("status", "explanation"),
    [
        ("under_review", "A member of the fund's team is checking your application."),
        ("info_requested", "The fund needs more information before it can decide."),
        ("waitlisted", "Your application meets the fund's conditions, but its budget"),
        ("approved", "Your application was approved."),
        ("paid", "The grant was paid into the bank account you gave."),
        ("rejected", "Your application was not approved. The reasons are below."),
    ],
)
def test_the_status_page_explains_each_status(
    client: Client, applicant: Any, status: str, explanation: str
) -> None:
    application = ApplicationFactory.create(applicant=applicant, status=status)

    response = client.get(
        reverse("application_status", kwargs={"reference": application.reference})
    )

    assert explanation in text(response)
    assert ("Answer the fund" in text(response)) == (status == "info_requested")


@pytest.mark.parametrize("n_documents", [1, 10])
def test_the_status_page_uses_a_fixed_number_of_queries(
    client: Client,
    applicant: Any,
    django_assert_max_num_queries: Any,
    n_documents: int,
) -> None:
    from entraide.applications.models import ApplicationDocument, ApplicationMessage

    application = ApplicationFactory.create(applicant=applicant)
    RuleSetVersionFactory.create(rule_set__fund=application.fund)
    FundDocumentRequirementFactory.create(fund=application.fund, code="payslip")
    for n in range(n_documents):
        message = ApplicationMessage.objects.create(
            application=application, from_staff=True, body=f"Message {n}", created_at=timezone.now()
        )
        ApplicationDocument.objects.create(
            fund=application.fund,
            owner=applicant,
            application=application,
            message=message if n % 2 else None,
            requirement="payslip",
            original_name=f"payslip-{n}.pdf",
            stored_name=f"{n:032x}.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
            scan="clean",
            uploaded_at=timezone.now(),
        )

    # Session and user (2), the menu's back-office check (3); the application and its fund,
    # the thread and its documents, the documents asked for, the decision, the rules in force,
    # the documents sent (7), the grant that an attestation would state (1): whatever their
    # number. 14 the first time a process reads the rules in force (then kept: 13)
    with django_assert_max_num_queries(14):
        response = client.get(
            reverse("application_status", kwargs={"reference": application.reference})
        )

    assert response.status_code == 200


@pytest.mark.parametrize("n", [1, 20])
def test_my_applications_with_drafts_uses_a_fixed_number_of_queries(
    client: Client, applicant: Any, django_assert_max_num_queries: Any, n: int
) -> None:
    ApplicationFactory.create_batch(n, applicant=applicant)
    for fund in FundFactory.create_batch(n):
        ApplicationDraft.objects.create(applicant=applicant, fund=fund)

    # Session and user (2), the menu's back-office check (3), the drafts, the applications.
    with django_assert_max_num_queries(7):
        response = client.get(reverse("my_applications"))

    assert len(response.context["applications"]) == len(response.context["drafts"]) == n


@pytest.mark.django_db(transaction=True)
def test_tabs_sending_at_the_same_moment_make_one_application() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL's concurrency")
    fund = FundFactory.create(slug="open-fund", name="Open fund")
    RuleSetVersionFactory.create(rule_set__fund=fund)
    FundDocumentRequirementFactory.create(fund=fund, code="payslip")
    applicant = UserFactory.create()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(applicant)
    draft = complete(client, fund)
    tabs = 4
    barrier = threading.Barrier(tabs)
    responses: list[Any] = []

    def send_from_a_tab() -> None:
        try:
            tab = Client(HTTP_ACCEPT_LANGUAGE="en")
            tab.force_login(applicant)
            barrier.wait()
            responses.append(send(tab, fund, draft.idempotency_key))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send_from_a_tab) for _ in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    application = Application.objects.get()
    assert [r.status_code for r in responses] == [302] * tabs
    assert {r["Location"] for r in responses} == {
        reverse("application_status", kwargs={"reference": application.reference})
    }
    assert application.documents.count() == 1
