"""The operator edits the fund's public page: texts in both languages, the window's times, the
documents asked for and the FAQ (formsets that work without JavaScript), in one audited action."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.funds.models import Fund, FundDocumentRequirement, FundQuestion, FundRole
from entraide.funds.services import DocumentRequirementInput, FaqEntry, update_public_page
from entraide.funds.tests.factories import (
    FundDocumentRequirementFactory,
    FundFactory,
    FundQuestionFactory,
    FundRoleFactory,
)

pytestmark = pytest.mark.django_db
Role = FundRole.Role


@pytest.fixture
def admin() -> FundRole:
    return FundRoleFactory.create(role=Role.OPERATOR_ADMIN)


def url(fund: Fund) -> str:
    return reverse("fund_public_page_edit", kwargs={"slug": fund.slug})


def management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def row(prefix: str, index: int, **values: Any) -> dict[str, str]:
    return {f"{prefix}-{index}-{name}": str(value) for name, value in values.items()}


def page_data(**overrides: str) -> dict[str, str]:
    data = {
        "summary_fr": "Pour les techniciens du cinéma.",
        "summary_en": "For film technicians.",
        "operator_name": "Audiens",
        "contact_email": "fonds@audiens.example",
        "opening_time": "09:00",
        "closing_time": "18:00",
        "privacy_notice_fr": "",
        "privacy_notice_en": "",
        **management("documents", 3),
        **row("documents", 0, code="rib", label_fr="RIB", label_en="Bank details", ORDER=2),
        **row(
            "documents",
            1,
            code="statement",
            label_fr="Relevé France Travail",
            label_en="France Travail statement",
            help_en="The latest one.",
            help_fr="Le dernier.",
            required="on",
            ORDER=1,
        ),
        # an empty row left as the browser sends it: its "required" box is ticked by default
        **row("documents", 2, required="on"),
        **management("faq", 2),
        **row(
            "faq",
            0,
            question_fr="Quand suis-je payé ?",
            question_en="When am I paid?",
            answer_fr="Sous quinze jours.",
            answer_en="Within a fortnight.",
        ),
    }
    data.update(overrides)
    return data


# -- the page ------------------------------------------------------------------------------------


def test_the_form_shows_what_the_page_says_now(client: Client, admin: FundRole) -> None:
    fund = admin.fund
    fund.summary_en = "For crews."
    fund.summary_fr = "Pour les équipes."
    fund.save()
    FundDocumentRequirementFactory.create(fund=fund, code="rib", label_en="Bank details")
    client.force_login(admin.user)

    response = client.get(url(fund))

    assert response.status_code == 200
    page = response.content.decode()
    assert "For crews." in page
    assert 'value="rib"' in page
    assert 'value="00:00"' in page
    assert 'value="23:59"' in page
    documents = response.context["documents"]
    assert documents.initial_form_count() == 1
    assert documents.total_form_count() == 3  # two empty rows to add documents without scripts


def test_saving_replaces_the_texts_times_documents_and_faq_and_is_audited(
    client: Client, admin: FundRole
) -> None:
    fund = admin.fund
    FundQuestionFactory.create(fund=fund, question_en="Old question?")
    client.force_login(admin.user)

    response = client.post(url(fund), page_data())

    assert response.status_code == 302
    assert response["Location"] == url(fund)
    fund.refresh_from_db()
    assert (fund.summary_en, fund.operator_name, fund.opening_time, fund.closing_time) == (
        "For film technicians.",
        "Audiens",
        dt.time(9, 0),
        dt.time(18, 0),
    )
    documents = list(FundDocumentRequirement.objects.filter(fund=fund))
    assert [(d.code, d.required, d.position) for d in documents] == [
        ("statement", True, 1),
        ("rib", False, 2),
    ]
    assert [q.question_en for q in FundQuestion.objects.filter(fund=fund)] == ["When am I paid?"]
    event = AuditEvent.objects.get(action="fund.public_page_updated")
    assert event.fund_id == fund.pk
    assert event.actor_id == admin.user.pk
    assert event.changes["summary_en"] == {"before": "", "after": "For film technicians."}
    assert event.changes["opening_time"] == {"before": "00:00:00", "after": "09:00:00"}
    assert [d["code"] for d in event.changes["documents"]["after"]] == ["statement", "rib"]
    assert event.changes["faq"]["before"][0]["question_en"] == "Old question?"
    assert "privacy_notice_en" not in event.changes  # unchanged
    # and the public page now says it
    public = client.get(reverse("fund_page", kwargs={"slug": fund.slug})).content.decode()
    assert "For film technicians." in public
    assert "France Travail statement" in public


def test_rows_ticked_for_removal_go_and_the_rest_keep_their_order(
    client: Client, admin: FundRole
) -> None:
    fund = admin.fund
    FundDocumentRequirementFactory.create(fund=fund, code="a", position=1)
    FundDocumentRequirementFactory.create(fund=fund, code="b", position=2)
    client.force_login(admin.user)
    data = {
        **page_data(),
        **management("documents", 4, initial=2),
        **row("documents", 0, code="a", label_fr="A", label_en="A", ORDER=1, DELETE="on"),
        **row("documents", 1, code="b", label_fr="B", label_en="B", ORDER=2, required="on"),
        **row("documents", 2, code="c", label_fr="C", label_en="C", ORDER=""),
        **row("documents", 3, code="", label_fr="", label_en="", ORDER="", required="on"),
    }

    assert client.post(url(fund), data).status_code == 302

    assert list(fund.document_requirements.values_list("code", "position")) == [
        ("b", 1),
        ("c", 2),  # added without a position: last
    ]


def test_a_broken_form_keeps_what_was_typed_and_saves_nothing(
    client: Client, admin: FundRole
) -> None:
    client.force_login(admin.user)
    data = page_data(summary_en="")
    data.update(row("faq", 1, question_fr="Sans réponse ?", question_en="No answer?"))

    response = client.post(url(admin.fund), data)

    assert response.status_code == 200
    faq = response.context["faq"]
    assert faq.errors[1] == {
        "answer_fr": ["This field is required."],
        "answer_en": ["This field is required."],
    }
    page = response.content.decode()
    assert "Pour les techniciens du cinéma." in page  # the main form
    assert 'value="statement"' in page
    assert 'value="Relevé France Travail"' in page
    assert 'value="No answer?"' in page
    assert 'id="id_faq-1-answer_fr_error"' in page
    assert 'aria-describedby="id_faq-1-answer_fr_error"' in page
    assert "Some rows below need correcting." in page
    assert not AuditEvent.objects.filter(action="fund.public_page_updated").exists()
    assert not FundDocumentRequirement.objects.exists()


def test_a_text_in_one_language_only_is_refused_on_the_blank_one(
    client: Client, admin: FundRole
) -> None:
    client.force_login(admin.user)

    response = client.post(url(admin.fund), page_data(summary_en=""))

    assert response.context["form"].errors == {
        "summary_en": ["Write this text in both languages, or leave both blank."]
    }
    assert 'value="rib"' in response.content.decode()
    admin.fund.refresh_from_db()
    assert admin.fund.summary_fr == ""


def test_two_documents_with_one_code_are_refused(client: Client, admin: FundRole) -> None:
    client.force_login(admin.user)
    data = page_data()
    data.update(row("documents", 1, code="rib", label_fr="RIB 2", label_en="Bank details 2"))

    response = client.post(url(admin.fund), data)

    assert response.context["form"].non_field_errors() == [
        "Each document needs its own code; used more than once: rib."
    ]
    assert not FundDocumentRequirement.objects.exists()


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.APPROVER, Role.FINANCE, Role.AUDITOR])
def test_staff_who_do_not_manage_the_fund_cannot_change_its_page(
    client: Client, admin: FundRole, role: str
) -> None:
    colleague = FundRoleFactory.create(fund=admin.fund, role=role).user
    client.force_login(colleague)

    assert client.post(url(admin.fund), page_data()).status_code == 404
    admin.fund.refresh_from_db()
    assert admin.fund.summary_en == ""
    with pytest.raises(PermissionDenied):
        update_public_page(actor=colleague, fund=admin.fund, summary_fr="x", summary_en="y")


def test_the_dashboard_links_the_page_for_each_role(client: Client, admin: FundRole) -> None:
    edit = url(admin.fund)
    public = reverse("fund_page", kwargs={"slug": admin.fund.slug})
    dashboard = reverse("fund_dashboard", kwargs={"slug": admin.fund.slug})
    client.force_login(admin.user)
    assert edit in client.get(dashboard).content.decode()
    client.force_login(FundRoleFactory.create(fund=admin.fund, role=Role.REVIEWER).user)
    page = client.get(dashboard).content.decode()
    assert edit not in page
    assert f'href="{public}"' in page


# -- the service -----------------------------------------------------------------------------


def test_saving_what_is_already_there_records_nothing(admin: FundRole) -> None:
    values: dict[str, Any] = {
        "summary_fr": "Pour tous.",
        "summary_en": "For everyone.",
        "documents": [DocumentRequirementInput(code="rib", label_fr="RIB", label_en="Bank")],
        "faq": [FaqEntry("Q ?", "Q?", "R.", "A.")],
    }
    update_public_page(actor=admin.user, fund=admin.fund, **values)
    first = FundDocumentRequirement.objects.get()

    update_public_page(actor=admin.user, fund=admin.fund, **values)

    assert AuditEvent.objects.filter(action="fund.public_page_updated").count() == 1
    assert FundDocumentRequirement.objects.get().pk == first.pk


def test_a_one_day_window_cannot_close_before_it_opens(admin: FundRole) -> None:
    fund = admin.fund
    fund.closes_on = fund.opens_on
    fund.save()

    with pytest.raises(ValidationFailed) as refused:
        update_public_page(
            actor=admin.user,
            fund=fund,
            opening_time=dt.time(14, 0),
            closing_time=dt.time(9, 0),
        )

    assert refused.value.field == "closing_time"


def test_a_superuser_may_edit_any_fund() -> None:
    fund = FundFactory.create()
    root = UserFactory.create(is_superuser=True)
    update_public_page(actor=root, fund=fund, operator_name="Audiens")
    fund.refresh_from_db()
    assert fund.operator_name == "Audiens"
