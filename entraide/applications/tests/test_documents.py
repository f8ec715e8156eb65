"""Documents: recognised by their content, kept outside the web root under random names, and
served only to their owner and to the staff of the fund."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from entraide.accounts.tests.factories import UserFactory
from entraide.applications import documents as document_store
from entraide.applications.models import Application, ApplicationDocument, ApplicationDraft
from entraide.applications.tasks import scan_documents
from entraide.applications.tests.portal_factories import (
    PDF,
    PNG,
    FundDocumentRequirementFactory,
    step_values,
)
from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules.tests.factories import RuleSetVersionFactory


@pytest.fixture
def fund(db: None) -> Fund:
    fund = FundFactory.create(slug="open-fund")
    RuleSetVersionFactory.create(rule_set__fund=fund)
    FundDocumentRequirementFactory.create(fund=fund, code="payslip", label_en="Last payslip")
    return fund


@pytest.fixture
def applicant(client: Client, db: None) -> Any:
    user = UserFactory.create()
    client.force_login(user)
    return user


def documents_url(fund: Fund) -> str:
    return reverse("apply_step", kwargs={"slug": fund.slug, "step": "documents"})


def download_url(document: ApplicationDocument) -> str:
    return reverse("document_download", kwargs={"document_id": document.pk})


def upload(client: Client, fund: Fund, name: str, content: bytes, **extra: str) -> Any:
    client.get(reverse("apply", kwargs={"slug": fund.slug}))
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(documents_url(fund), {"document_payslip": file, **extra})


def errors_of(response: Any) -> dict[str, list[str]]:
    return dict(response.context["form"].errors)


def submitted_document(client: Client, fund: Fund) -> ApplicationDocument:
    """A document sent with a complete application."""
    client.get(reverse("apply", kwargs={"slug": fund.slug}))
    for step, values in step_values().items():
        client.post(reverse("apply_step", kwargs={"slug": fund.slug, "step": step}), values)
    upload(client, fund, "payslip.pdf", PDF)
    draft = ApplicationDraft.objects.get()
    response = client.post(
        reverse("apply_step", kwargs={"slug": fund.slug, "step": "review"}),
        {"consent": "on", "idempotency_key": str(draft.idempotency_key)},
    )
    assert response.status_code == 302, response.context["problems"]
    return ApplicationDocument.objects.get(application__isnull=False)


# --------------------------------------------------------------------------------------------
# Adding
# --------------------------------------------------------------------------------------------


def test_a_file_is_recognised_by_its_content_not_its_name(
    client: Client, fund: Fund, applicant: Any
) -> None:
    response = upload(client, fund, "scan.pdf", PNG)  # a photo named as a PDF

    assert response.status_code == 302
    document = ApplicationDocument.objects.get()
    assert document.content_type == "image/png"
    assert document.stored_name.endswith(".png")
    assert document.original_name == "scan.png"  # named as what it is
    assert document.requirement == "payslip"
    assert document.draft == ApplicationDraft.objects.get()
    assert "documents" in document.draft.completed_steps


def test_a_text_file_named_as_a_pdf_is_refused_on_its_field(
    client: Client, fund: Fund, applicant: Any
) -> None:
    response = upload(client, fund, "payslip.pdf", b"Just some text, not a PDF at all.\n" * 4)

    assert response.status_code == 200
    assert errors_of(response) == {
        "document_payslip": [
            "This file is not a PDF, JPEG or PNG document (its content was checked)."
        ]
    }
    assert not ApplicationDocument.objects.exists()
    assert "documents" not in ApplicationDraft.objects.get().completed_steps


def test_a_file_above_the_limit_is_refused_and_the_limit_is_shown(
    client: Client, fund: Fund, applicant: Any, settings: Any
) -> None:
    settings.DOCUMENT_MAX_BYTES = 1024

    response = upload(client, fund, "big.pdf", PDF + b"0" * 2048)

    assert errors_of(response) == {
        "document_payslip": ["This file is too large: the limit is 1.0\xa0KB."]
    }
    assert "PDF, JPEG or PNG, up to 1.0\xa0KB." in html.unescape(response.content.decode())
    assert not ApplicationDocument.objects.exists()


def test_a_required_document_must_be_added_to_continue(
    client: Client, fund: Fund, applicant: Any
) -> None:
    client.get(reverse("apply", kwargs={"slug": fund.slug}))

    response = client.post(documents_url(fund), {"continue": ""})

    assert response.status_code == 200
    assert errors_of(response) == {"document_payslip": ["Please add this document."]}
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_a_file_is_stored_outside_the_web_root_under_a_random_name(
    client: Client, fund: Fund, applicant: Any
) -> None:
    upload(client, fund, "payslip.pdf", PDF)

    document = ApplicationDocument.objects.get()
    path = document_store.path_of(document.stored_name)
    assert document_store.read(document.stored_name) == PDF  # encrypted on disk
    assert path.is_relative_to(Path(settings.DOCUMENTS_DIR))
    for web_root in (settings.STATIC_ROOT, settings.MEDIA_ROOT):
        assert not path.resolve().is_relative_to(Path(web_root).resolve())
    assert "payslip" not in document.stored_name
    assert len(document.stored_name.split(".")[0]) == 32  # 128 random bits


def test_a_document_can_be_removed_from_the_draft(
    client: Client, fund: Fund, applicant: Any
) -> None:
    upload(client, fund, "payslip.pdf", PDF)
    document = ApplicationDocument.objects.get()
    path = document_store.path_of(document.stored_name)
    page = client.get(documents_url(fund))
    assert f'name="remove" value="{document.pk}"' in page.content.decode()

    response = client.post(documents_url(fund), {"remove": str(document.pk)})

    assert response["Location"] == documents_url(fund)
    assert not ApplicationDocument.objects.exists()
    assert not path.exists()
    assert "documents" not in ApplicationDraft.objects.get().completed_steps


def test_a_document_of_another_draft_cannot_be_removed(
    client: Client, fund: Fund, applicant: Any
) -> None:
    other = Client()
    other.force_login(UserFactory.create())
    upload(other, fund, "theirs.pdf", PDF)
    theirs = ApplicationDocument.objects.get()
    client.get(reverse("apply", kwargs={"slug": fund.slug}))

    client.post(documents_url(fund), {"remove": str(theirs.pk)})

    assert ApplicationDocument.objects.filter(pk=theirs.pk).exists()


# --------------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------------


def test_the_owner_downloads_a_document_as_an_attachment_of_its_sniffed_type(
    client: Client, fund: Fund, applicant: Any
) -> None:
    upload(client, fund, "scan.pdf", PNG)
    document = ApplicationDocument.objects.get()

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="scan.png"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "role", [FundRole.Role.REVIEWER, FundRole.Role.FINANCE, FundRole.Role.AUDITOR]
)
def test_the_funds_staff_download_the_documents_of_its_applications(
    client: Client, fund: Fund, applicant: Any, role: str
) -> None:
    document = submitted_document(client, fund)
    staff = Client()
    staff.force_login(FundRoleFactory.create(fund=fund, role=role).user)
    # Not before the worker's virus scan has looked at it (no scanner: "not scanned").
    assert staff.get(download_url(document)).status_code == 404
    scan_documents.call(document.application_id)

    response = staff.get(download_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


def test_another_applicant_gets_404(client: Client, fund: Fund, applicant: Any) -> None:
    document = submitted_document(client, fund)
    someone = Client()
    someone.force_login(UserFactory.create())

    assert someone.get(download_url(document)).status_code == 404


def test_staff_of_another_fund_get_404(client: Client, fund: Fund, applicant: Any) -> None:
    document = submitted_document(client, fund)
    staff = Client()
    staff.force_login(FundRoleFactory.create(fund=FundFactory.create()).user)

    assert staff.get(download_url(document)).status_code == 404


def test_staff_cannot_download_a_document_of_a_draft(
    client: Client, fund: Fund, applicant: Any
) -> None:
    upload(client, fund, "payslip.pdf", PDF)
    staff = Client()
    staff.force_login(FundRoleFactory.create(fund=fund).user)

    assert staff.get(download_url(ApplicationDocument.objects.get())).status_code == 404


def test_an_infected_document_is_never_served(client: Client, fund: Fund, applicant: Any) -> None:
    document = submitted_document(client, fund)
    ApplicationDocument.objects.filter(pk=document.pk).update(scan="infected")
    staff = Client()
    staff.force_login(FundRoleFactory.create(fund=fund).user)

    assert client.get(download_url(document)).status_code == 404
    assert staff.get(download_url(document)).status_code == 404
    assert Application.objects.count() == 1


def test_downloading_needs_to_log_in(client: Client, fund: Fund, applicant: Any) -> None:
    upload(client, fund, "payslip.pdf", PDF)
    client.logout()

    response = client.get(download_url(ApplicationDocument.objects.get()))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
