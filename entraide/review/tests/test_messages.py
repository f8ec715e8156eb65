"""Messages to applicants: the platform's wording, the fund's own, the operator's pages to edit
them, and the e-mail that tells the applicant the decision."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications.models import Application
from entraide.applications.selectors import status_url
from entraide.applications.tests.factories import ApplicationFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.core.money import format_money
from entraide.funds.models import Award, Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.review import messages, services
from entraide.review.models import Decision, MessageTemplate
from entraide.review.tasks import notify_applicant
from entraide.review.template_services import reset_message_template, save_message_template
from entraide.rules.tests.factories import ApplicationEvaluationFactory, RuleSetVersionFactory

Kind = MessageTemplate.Kind
Role = FundRole.Role
LANGUAGES = ("fr", "en")


def staff(fund: Fund, role: str) -> Any:
    return FundRoleFactory.create(fund=fund, role=role).user


def custom(fund: Fund, kind: str, language: str, subject: str, body: str) -> MessageTemplate:
    return MessageTemplate.objects.create(
        fund=fund,
        kind=kind,
        language=language,
        subject=subject,
        body=body,
        updated_at=timezone.now(),
    )


def decide(application: Application, outcome: str, **fields: Any) -> Decision:
    return Decision.objects.create(
        application=application,
        fund=application.fund,
        outcome=outcome,
        currency=application.fund.currency,
        decided_by=UserFactory.create(),
        decided_at=timezone.now(),
        **fields,
    )


# --------------------------------------------------------------------------------------------
# The wording
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", Kind.values)
def test_every_message_has_a_default_in_each_language_that_fills_its_placeholders(
    db: None, kind: str, language: str
) -> None:
    application = ApplicationFactory.create(language=language, first_name="Dominique")
    extra = {"amount": "AMOUNT", "reasons": "REASONS"}

    subject, body = messages.render_message(application, kind, extra=extra)

    default_subject, default_body = messages.default_texts(kind, language)
    assert messages.placeholder_problems(default_subject, kind) == []
    assert messages.placeholder_problems(default_body, kind) == []
    assert "{" not in subject + body
    assert application.reference in subject
    assert "Dominique" in body
    assert application.fund.name in body
    if "amount" in messages.PLACEHOLDERS_OF[kind]:
        assert "AMOUNT" in subject + body
    if kind == Kind.REJECTED:
        assert "REASONS" in body


def test_a_message_fills_every_placeholder_it_may_use(db: None) -> None:
    application = ApplicationFactory.create(
        language="en", first_name="Dominique", last_name="Roux", fund__contact_email="aide@x.fr"
    )
    template = " ".join(f"{{{name}}}" for name in messages.PLACEHOLDERS_OF[Kind.APPROVED])
    custom(application.fund, Kind.APPROVED, "en", "{reference}", template)

    subject, body = messages.render_message(application, Kind.APPROVED, extra={"amount": "€9"})

    assert subject == application.reference
    assert body == (
        f"Dominique Roux {application.reference} {application.fund.name} "
        f"{status_url(application)} aide@x.fr €9"
    )


def test_without_a_contact_address_the_message_points_to_the_fund_page(db: None) -> None:
    application = ApplicationFactory.create(fund__contact_email="")

    values = messages.values_of(application)

    assert values["contact"].endswith(reverse("fund_page", kwargs={"slug": application.fund.slug}))


def test_the_fund_wording_wins_in_its_language_only(db: None) -> None:
    fund = FundFactory.create()
    french = ApplicationFactory.create(fund=fund, language="fr")
    english = ApplicationFactory.create(fund=fund, language="en")
    elsewhere = ApplicationFactory.create(language="fr")
    custom(fund, Kind.WAITLISTED, "fr", "Liste d’attente {reference}", "Patience, {first_name}.")

    assert messages.render_message(french, Kind.WAITLISTED) == (
        f"Liste d’attente {french.reference}",
        f"Patience, {french.first_name}.",
    )
    assert messages.render_message(english, Kind.WAITLISTED)[0] == (
        f"Your application {english.reference} is on the waiting list"
    )
    assert "Patience" not in messages.render_message(elsewhere, Kind.WAITLISTED)[1]


def test_a_placeholder_that_slipped_through_stays_visible(db: None) -> None:
    application = ApplicationFactory.create(language="fr")
    custom(application.fund, Kind.APPROVED, "fr", "{nickname}\nsur deux lignes", "{oops")

    subject, body = messages.render_message(application, Kind.APPROVED)

    assert (subject, body) == ("{nickname} sur deux lignes", "{oops")


@pytest.mark.parametrize(
    ("kind", "text", "named"),
    [
        (Kind.APPROVED, "Bonjour {prenom}", "{prenom}"),
        (Kind.APPROVED, "Le motif : {reasons}", "{reasons}"),
        (Kind.REJECTED, "Montant : {amount}", "{amount}"),
        (Kind.APPROVED, "Bonjour {first_name", "brace"),
        (Kind.APPROVED, "Bonjour first_name}", "brace"),
        (Kind.APPROVED, "Bonjour {}", "{}"),
        (Kind.APPROVED, "{amount:>99}", "{amount:>99}"),
        (Kind.APPROVED, "{first_name.__class__}", "{first_name.__class__}"),
    ],
)
def test_a_wrong_placeholder_is_named(kind: str, text: str, named: str) -> None:
    [problem] = messages.placeholder_problems(text, kind)

    assert named in problem


def test_braces_written_twice_are_text() -> None:
    assert messages.placeholder_problems("{{first_name}} {first_name}", Kind.APPROVED) == []
    assert messages.fill("{{x}} {first_name}", {"first_name": "Ana"}) == "{x} Ana"


# --------------------------------------------------------------------------------------------
# Saving and resetting
# --------------------------------------------------------------------------------------------


def test_the_operator_saves_a_wording_once_and_it_is_audited(db: None) -> None:
    fund = FundFactory.create()
    admin = staff(fund, Role.OPERATOR_ADMIN)

    template = save_message_template(
        actor=admin,
        fund=fund,
        kind=Kind.APPROVED,
        language="en",
        subject="  Yes,   {first_name} ",
        body="Granted: {amount}\n",
    )
    again = save_message_template(
        actor=admin,
        fund=fund,
        kind=Kind.APPROVED,
        language="en",
        subject="Yes, {first_name}",
        body="Granted: {amount}",
    )

    assert template is not None
    assert again is not None
    assert again.pk == template.pk
    assert (template.subject, template.body, template.updated_by) == (
        "Yes, {first_name}",
        "Granted: {amount}",
        admin,
    )
    [event] = AuditEvent.objects.filter(action="message_template.saved")
    assert event.changes["body"] == {"before": None, "after": "Granted: {amount}"}
    assert event.fund_id == fund.pk


def test_saving_the_default_wording_keeps_following_the_default(db: None) -> None:
    fund = FundFactory.create()
    admin = staff(fund, Role.OPERATOR_ADMIN)
    custom(fund, Kind.REJECTED, "fr", "Non", "Non, {first_name}.")
    subject, body = messages.default_texts(Kind.REJECTED, "fr")

    saved = save_message_template(
        actor=admin, fund=fund, kind=Kind.REJECTED, language="fr", subject=subject, body=body
    )

    assert saved is None
    assert not MessageTemplate.objects.filter(fund=fund).exists()
    assert AuditEvent.objects.filter(action="message_template.reset").count() == 1


def test_reset_goes_back_to_the_default_and_is_audited(db: None) -> None:
    fund = FundFactory.create()
    admin = staff(fund, Role.OPERATOR_ADMIN)
    custom(fund, Kind.APPROVED, "en", "Yes", "Yes.")

    reset_message_template(actor=admin, fund=fund, kind=Kind.APPROVED, language="en")
    reset_message_template(actor=admin, fund=fund, kind=Kind.APPROVED, language="en")

    assert not MessageTemplate.objects.exists()
    [event] = AuditEvent.objects.filter(action="message_template.reset")
    assert event.changes["subject"] == {"before": "Yes", "after": None}


def test_the_service_refuses_a_wrong_placeholder_on_its_field(db: None) -> None:
    fund = FundFactory.create()

    with pytest.raises(ValidationFailed) as refused:
        save_message_template(
            actor=staff(fund, Role.OPERATOR_ADMIN),
            fund=fund,
            kind=Kind.APPROVED,
            language="fr",
            subject="Oui",
            body="{surnom}",
        )

    assert refused.value.field == "body"
    assert "{surnom}" in str(refused.value.message)
    assert not MessageTemplate.objects.exists()


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.AUDITOR])
def test_only_the_operator_admin_words_the_messages(db: None, role: str) -> None:
    fund = FundFactory.create()
    user = staff(fund, role)
    custom(fund, Kind.APPROVED, "fr", "Oui", "Oui.")

    with pytest.raises(PermissionDenied):
        save_message_template(
            actor=user, fund=fund, kind=Kind.APPROVED, language="fr", subject="A", body="B"
        )
    with pytest.raises(PermissionDenied):
        reset_message_template(actor=user, fund=fund, kind=Kind.APPROVED, language="fr")
    assert MessageTemplate.objects.get().subject == "Oui"


# --------------------------------------------------------------------------------------------
# The operator's pages
# --------------------------------------------------------------------------------------------


def list_url(fund: Fund) -> str:
    return reverse("message_templates", kwargs={"slug": fund.slug})


def edit_url(fund: Fund, kind: str = Kind.APPROVED, language: str = "fr") -> str:
    return reverse(
        "message_template_edit", kwargs={"slug": fund.slug, "kind": kind, "language": language}
    )


def reset_url(fund: Fund, kind: str = Kind.APPROVED, language: str = "fr") -> str:
    return reverse(
        "message_template_reset", kwargs={"slug": fund.slug, "kind": kind, "language": language}
    )


@pytest.mark.parametrize("n_custom", [0, 8])
def test_the_list_shows_the_eight_messages_in_a_fixed_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any, n_custom: int
) -> None:
    fund = FundFactory.create()
    for kind in Kind.values[: n_custom // 2]:
        for language in LANGUAGES:
            template = custom(fund, kind, language, "S", "B")
            template.updated_by = UserFactory.create(first_name=kind, last_name=language)
            template.save()
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))

    with django_assert_max_num_queries(7):
        response = client.get(list_url(fund))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert len(rows) == 8
    assert sum(row["custom"] is not None for row in rows) == n_custom
    if n_custom:
        assert "approved fr" in response.content.decode()


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("reviewer", 404),
        ("approver", 404),
        ("auditor", 404),
        ("finance", 404),
        ("other_fund_admin", 404),
        ("applicant", 403),
        ("anonymous", 302),
    ],
)
def test_only_the_fund_operator_admin_opens_the_message_pages(
    client: Client, db: None, actor: str, expected: int
) -> None:
    fund = FundFactory.create()
    custom(fund, Kind.APPROVED, "fr", "Oui", "Oui.")
    users = {
        "other_fund_admin": staff(FundFactory.create(), Role.OPERATOR_ADMIN),
        "applicant": UserFactory.create(),
        "anonymous": None,
    }
    user = users[actor] if actor in users else staff(fund, actor)
    if user is not None:
        client.force_login(user)

    answers = [
        client.get(list_url(fund)),
        client.get(edit_url(fund)),
        client.post(edit_url(fund), {"subject": "Pirate", "body": "Pirate", "save": ""}),
        client.post(reset_url(fund)),
    ]

    assert [answer.status_code for answer in answers] == [expected] * 4
    assert MessageTemplate.objects.get().subject == "Oui"


def test_the_edit_page_starts_from_the_current_wording_and_previews_it(
    client: Client, db: None
) -> None:
    fund = FundFactory.create(standard_amount=Decimal("650.00"))
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))

    response = client.get(edit_url(fund, Kind.WAITLISTED, "en"))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == dict(
        zip(("subject", "body"), messages.default_texts(Kind.WAITLISTED, "en"), strict=True)
    )
    subject, body = response.context["preview"]
    assert subject == "Your application A-7K3M-9Q2F is on the waiting list"
    assert "Hello Camille," in body
    assert "€650.00" in body
    assert "{amount}" in response.content.decode()  # the placeholders are listed


def test_preview_shows_the_typed_text_without_saving_it(client: Client, db: None) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))

    response = client.post(
        edit_url(fund, Kind.REJECTED, "fr"),
        {"subject": "Refus {reference}", "body": "Motifs :\n{reasons}", "preview": ""},
    )

    assert response.status_code == 200
    assert response.context["preview"][0] == "Refus A-7K3M-9Q2F"
    assert response.context["preview"][1].startswith("Motifs :\n- ")
    assert not MessageTemplate.objects.exists()


def test_saving_on_the_page_stores_the_wording_and_the_sent_message_uses_it(
    client: Client, db: None
) -> None:
    fund = FundFactory.create()
    admin = staff(fund, Role.OPERATOR_ADMIN)
    client.force_login(admin)

    response = client.post(
        edit_url(fund, Kind.APPROVED, "fr"),
        {"subject": "Accordé : {amount}", "body": "Bonjour {first_name}", "save": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == list_url(fund)
    template = MessageTemplate.objects.get(fund=fund, kind=Kind.APPROVED, language="fr")
    assert (template.subject, template.updated_by) == ("Accordé : {amount}", admin)


def test_a_wrong_placeholder_is_a_form_error_that_keeps_the_typed_text(
    client: Client, db: None
) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))
    typed = {"subject": "Bravo {prenom}", "body": "Montant : {amount", "save": ""}

    response = client.post(edit_url(fund), typed)

    assert response.status_code == 200
    form = response.context["form"]
    assert "{prenom}" in form.errors["subject"][0]
    assert "brace" in form.errors["body"][0]
    assert response.context["preview"] is None
    page = response.content.decode()
    assert 'value="Bravo {prenom}"' in page
    assert "Montant : {amount</textarea>" in page
    assert not MessageTemplate.objects.exists()


def test_the_reset_button_removes_the_fund_wording(client: Client, db: None) -> None:
    fund = FundFactory.create()
    custom(fund, Kind.APPROVED, "fr", "Oui", "Oui.")
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))
    assert "Go back to the default wording" in client.get(edit_url(fund)).content.decode()

    response = client.post(reset_url(fund))

    assert response.status_code == 302
    assert not MessageTemplate.objects.exists()
    assert "Go back to the default wording" not in client.get(edit_url(fund)).content.decode()


@pytest.mark.parametrize(("kind", "language"), [("praise", "fr"), ("approved", "de")])
def test_an_unknown_message_is_not_found(
    client: Client, db: None, kind: str, language: str
) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))

    assert client.get(edit_url(fund, kind, language)).status_code == 404
    assert client.post(reset_url(fund, kind, language)).status_code == 404


def test_the_fund_dashboard_links_to_the_messages_for_the_operator_admin_only(
    client: Client, db: None
) -> None:
    fund = FundFactory.create()
    client.force_login(staff(fund, Role.OPERATOR_ADMIN))
    assert (
        list_url(fund) in client.get(reverse("fund_dashboard", args=[fund.slug])).content.decode()
    )

    client.force_login(staff(fund, Role.REVIEWER))
    assert (
        list_url(fund)
        not in client.get(reverse("fund_dashboard", args=[fund.slug])).content.decode()
    )


# --------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------


def test_an_approval_is_sent_in_the_applicant_language_with_the_amount_written_in_it(
    db: None,
) -> None:
    application = ApplicationFactory.create(language="fr")
    decide(application, Decision.Outcome.APPROVED, amount=Decimal("900.00"))
    custom(application.fund, Kind.APPROVED, "fr", "Aide {reference}", "Montant : {amount}")
    custom(application.fund, Kind.APPROVED, "en", "Grant {reference}", "Amount: {amount}")

    notify_applicant.call(application.pk, Kind.APPROVED)

    [sent] = mail.outbox
    assert sent.to == [application.email]
    assert sent.subject == f"Aide {application.reference}"
    assert sent.body == f"Montant : {format_money(Decimal('900.00'), 'EUR', 'fr')}"
    assert "900,00" in sent.body


def test_a_rejection_gives_the_criteria_in_the_applicant_language_and_the_reviewer_text(
    db: None,
) -> None:
    application = ApplicationFactory.create(language="en")
    version = RuleSetVersionFactory.create(rule_set__fund=application.fund)
    decide(
        application,
        Decision.Outcome.REJECTED,
        reasons=["worked", "receives_benefits"],
        reason="Your contracts end in 2018.",
        rule_version=version,
    )

    notify_applicant.call(application.pk, Kind.REJECTED)

    [sent] = mail.outbox
    assert sent.subject == f"Our answer to your application {application.reference}"
    assert "- Worked 12 days\n- Receives benefits\n\nYour contracts end in 2018." in sent.body
    assert "A travaillé" not in sent.body


def test_the_waiting_list_message_gives_the_award_amount(db: None) -> None:
    application = ApplicationFactory.create(language="en")
    Award.objects.create(
        application=application,
        fund=application.fund,
        nir_index=application.nir_index,
        amount=Decimal("1500.00"),
        currency="EUR",
        status=Award.Status.WAITLISTED,
        approved_by=UserFactory.create(),
        queued_at=timezone.now(),
        created_at=timezone.now(),
    )

    notify_applicant.call(application.pk, Kind.WAITLISTED)

    [sent] = mail.outbox
    assert "a grant of €1,500.00" in sent.body


def test_rejecting_tells_the_applicant_why(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    evaluation = ApplicationEvaluationFactory.create(eligible=False, application__language="fr")
    application = evaluation.application
    custom(application.fund, Kind.REJECTED, "fr", "Refus", "Pourquoi :\n{reasons}")

    with django_capture_on_commit_callbacks(execute=True):
        services.reject_application(
            actor=staff(application.fund, Role.REVIEWER),
            application=application,
            reasons=["worked"],
            reason="Trop peu de jours.",
        )

    [sent] = mail.outbox
    assert sent.body == "Pourquoi :\n- A travaillé 12 jours\n\nTrop peu de jours."


def test_an_unknown_kind_of_message_is_not_sent(db: None) -> None:
    application = ApplicationFactory.create()

    with pytest.raises(ValueError, match="praise"):
        notify_applicant.call(application.pk, "praise")
    assert mail.outbox == []


# --------------------------------------------------------------------------------------------
# Asking for information
# --------------------------------------------------------------------------------------------


def test_the_message_form_starts_from_the_fund_request_for_information(
    client: Client, db: None
) -> None:
    application = ApplicationFactory.create(language="fr", first_name="Lou")
    custom(
        application.fund,
        Kind.INFO_REQUESTED,
        "fr",
        "Infos",
        "Bonjour {first_name}, il nous faut votre contrat ({reference}).",
    )
    client.force_login(staff(application.fund, Role.REVIEWER))
    url = reverse(
        "staff_application",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )

    response = client.get(url)

    expected = f"Bonjour Lou, il nous faut votre contrat ({application.reference})."
    assert response.context["message_form"].initial["body"] == expected
    assert expected in response.content.decode()


def test_the_typed_request_for_information_is_what_is_sent(client: Client, db: None) -> None:
    application = ApplicationFactory.create(language="en")
    client.force_login(staff(application.fund, Role.REVIEWER))
    url = reverse(
        "staff_application_message",
        kwargs={"slug": application.fund.slug, "reference": application.reference},
    )

    client.post(url, {"body": "Send your last payslip, please.", "request_information": "on"})

    [message] = application.messages.all()
    assert message.body == "Send your last payslip, please."
