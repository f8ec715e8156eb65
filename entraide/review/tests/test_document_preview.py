"""Documents shown inside the application page: images the scanner did not block (decoded and
encoded again on upload), sent so that nothing in them can run in our origin, to the same people
as the download. PDFs are downloads only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entraide.accounts.tests.factories import UserFactory
from entraide.applications import documents as document_store
from entraide.applications.models import Application, ApplicationDocument
from entraide.applications.tests.factories import ApplicationFactory
from entraide.applications.tests.portal_factories import PNG
from entraide.applications.views import DOWNLOAD_POLICY
from entraide.core.crypto import encrypt_bytes
from entraide.funds.models import FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory

Role = FundRole.Role
Scan = ApplicationDocument.Scan


@pytest.fixture(autouse=True)
def _documents_dir(settings: Any, tmp_path: Any) -> None:
    settings.DOCUMENTS_DIR = tmp_path / "documents"


def document(
    application: Application,
    *,
    content_type: str = "application/pdf",
    scan: str = Scan.CLEAN,
    content: bytes = b"%PDF-1.7\n",
) -> ApplicationDocument:
    extension = content_type.rsplit("/", 1)[-1]
    assert application.applicant is not None
    stored = ApplicationDocument.objects.create(
        fund=application.fund,
        owner=application.applicant,
        application=application,
        original_name=f"payslip.{extension}",
        stored_name=f"{ApplicationDocument.objects.count():032d}.{extension}",
        content_type=content_type,
        size=len(content),
        sha256="0" * 64,
        scan=scan,
        uploaded_at=timezone.now(),
    )
    path = document_store.path_of(stored.stored_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encrypt_bytes(content))
    return stored


def inline_url(stored: ApplicationDocument) -> str:
    return reverse("document_download", args=[stored.pk]) + "?inline=1"


def reviewer_of(application: Application) -> Any:
    return FundRoleFactory.create(fund=application.fund, role=Role.REVIEWER).user


@pytest.mark.parametrize("scan", [Scan.CLEAN, Scan.NOT_SCANNED])
def test_a_pdf_is_never_shown_inline(client: Client, db: None, scan: str) -> None:
    application = ApplicationFactory.create()
    pdf = document(application, scan=scan)
    client.force_login(reviewer_of(application))

    assert client.get(inline_url(pdf)).status_code == 404


@pytest.mark.parametrize("scan", [Scan.CLEAN, Scan.NOT_SCANNED])
def test_an_image_is_shown_inline_in_a_sandbox(client: Client, db: None, scan: str) -> None:
    application = ApplicationFactory.create()
    png = document(application, content_type="image/png", content=PNG, scan=scan)
    client.force_login(reviewer_of(application))

    response = client.get(inline_url(png))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "img-src 'self'" in policy
    assert "sandbox" in policy
    assert "script-src" not in policy


def test_without_inline_the_document_is_a_sandboxed_download(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    pdf = document(application)
    client.force_login(reviewer_of(application))

    response = client.get(reverse("document_download", args=[pdf.pk]))

    assert b"".join(response.streaming_content) == b"%PDF-1.7\n"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"] == DOWNLOAD_POLICY
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("content_type", "scan"),
    [
        ("application/pdf", Scan.CLEAN),
        ("image/png", Scan.INFECTED),
        ("image/png", Scan.PENDING),
        ("image/svg+xml", Scan.CLEAN),
        ("text/html", Scan.CLEAN),
    ],
)
def test_blocked_unscanned_or_scriptable_files_are_never_shown_inline(
    client: Client, db: None, content_type: str, scan: str
) -> None:
    application = ApplicationFactory.create()
    stored = document(application, content_type=content_type, scan=scan, content=b"<svg/>")

    for user in (reviewer_of(application), application.applicant):
        client.force_login(user)
        assert client.get(inline_url(stored)).status_code == 404


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("other_fund_reviewer", 404), ("applicant", 404), ("anonymous", 302), ("auditor", 200)],
)
def test_the_preview_is_for_the_same_people_as_the_download(
    client: Client, db: None, actor: str, expected: int
) -> None:
    application = ApplicationFactory.create()
    png = document(application, content_type="image/png", content=PNG)
    users = {
        "other_fund_reviewer": FundRoleFactory.create(
            fund=FundFactory.create(), role=Role.REVIEWER
        ).user,
        "applicant": UserFactory.create(),
        "auditor": FundRoleFactory.create(fund=application.fund, role=Role.AUDITOR).user,
        "anonymous": None,
    }
    user = users[actor]
    if user is not None:
        client.force_login(user)

    response = client.get(inline_url(png))

    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith(reverse("account_login"))
    response.close()


def test_the_application_page_previews_what_may_be_shown_lazily(client: Client, db: None) -> None:
    application = ApplicationFactory.create()
    pdf = document(application)
    png = document(application, content_type="image/png", content=PNG)
    infected = document(application, content_type="image/png", content=PNG, scan=Scan.INFECTED)
    client.force_login(reviewer_of(application))

    response = client.get(
        reverse(
            "staff_application",
            kwargs={"slug": application.fund.slug, "reference": application.reference},
        )
    )

    page = response.content.decode()
    assert inline_url(pdf) not in page
    assert "<iframe" not in page
    assert f'<img class="document-image" src="{inline_url(png)}"' in page
    assert inline_url(infected) not in page
    assert page.count('loading="lazy"') == 1
