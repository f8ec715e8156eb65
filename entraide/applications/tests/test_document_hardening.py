"""Documents sent by applicants cannot carry anything but what they show: the type is the
content's, images are decoded and written again without their metadata, names are never paths,
the files are encrypted at rest, and a request too large is refused before it is read."""

from __future__ import annotations

import io
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import ExifTags, Image

from entraide.accounts.tests.factories import UserFactory
from entraide.applications import documents as document_store
from entraide.applications.models import ApplicationDocument
from entraide.applications.tests.portal_factories import PDF, FundDocumentRequirementFactory
from entraide.core.errors import ValidationFailed
from entraide.funds.models import Fund
from entraide.funds.tests.factories import FundFactory
from entraide.rules.tests.factories import RuleSetVersionFactory

NOT_ACCEPTED = "This file is not a PDF, JPEG or PNG document (its content was checked)."


@pytest.fixture(autouse=True)
def _documents_dir(settings: Any, tmp_path: Path) -> None:
    settings.DOCUMENTS_DIR = tmp_path / "documents"


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


def upload(client: Client, fund: Fund, name: str, content: bytes, **extra: Any) -> Any:
    client.get(reverse("apply", kwargs={"slug": fund.slug}))
    file = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(documents_url(fund), {"document_payslip": file}, **extra)


def field_errors(response: Any) -> list[str]:
    form = response.context["form"]
    return [str(error) for error in form.errors.get("document_payslip", [])]


def download(client: Client, document: ApplicationDocument) -> bytes:
    response = client.get(reverse("document_download", kwargs={"document_id": document.pk}))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def photo_with_gps(size: tuple[int, int] = (40, 20), orientation: int = 1) -> bytes:
    """A JPEG as a phone takes it: the camera, where it was taken, which side is up."""
    image = Image.new("RGB", size, (30, 120, 200))
    exif = image.getexif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 7.0)
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif, comment=b"taken at home")
    return output.getvalue()


# --------------------------------------------------------------------------------------------
# Type by content
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(
            b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n"
            b"1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n",
            id="pdf-html-polyglot",
        ),
        pytest.param(
            b"%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"
            b" endobj\ntrailer <<>>\n%%EOF\n",
            id="pdf-with-javascript",
        ),
        pytest.param(b"%PDF-1.4\n1 0 obj <<>> endobj\n", id="pdf-without-end"),
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, id="jpeg-not-decodable"),
    ],
)
def test_what_is_not_a_clean_pdf_or_a_decodable_image_is_refused_whatever_its_name(
    client: Client, fund: Fund, applicant: Any, content: bytes
) -> None:
    response = upload(client, fund, "payslip.pdf", content)

    assert response.status_code == 200
    assert field_errors(response) == [NOT_ACCEPTED]
    assert not ApplicationDocument.objects.exists()
    assert not any(Path(settings.DOCUMENTS_DIR).rglob("*.*"))


def test_an_image_that_would_decode_into_too_many_pixels_is_refused(db: None) -> None:
    output = io.BytesIO()
    Image.new("1", (9000, 9000)).save(output, "PNG")  # 81 million pixels in a few kilobytes
    assert len(output.getvalue()) < 100_000

    with pytest.raises(ValidationFailed) as refused:
        document_store.store(SimpleUploadedFile("bomb.png", output.getvalue()))

    assert "million pixels" in str(refused.value.message)


# --------------------------------------------------------------------------------------------
# Images written again
# --------------------------------------------------------------------------------------------


def test_a_photo_comes_back_without_its_gps_position_or_any_metadata(
    client: Client, fund: Fund, applicant: Any
) -> None:
    sent = photo_with_gps()
    assert Image.open(io.BytesIO(sent)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    upload(client, fund, "photo.jpg", sent)

    document = ApplicationDocument.objects.get()
    received = download(client, document)
    image = Image.open(io.BytesIO(received))
    assert image.format == "JPEG"
    assert image.size == (40, 20)
    assert not image.getexif()
    assert "exif" not in image.info
    assert "comment" not in image.info
    assert b"PhoneMaker" not in received
    assert b"taken at home" not in received
    assert document.size == len(received)


def test_a_photo_is_turned_upright_before_its_orientation_is_dropped(db: None) -> None:
    stored = document_store.store(
        SimpleUploadedFile("sideways.jpg", photo_with_gps(size=(40, 20), orientation=6))
    )

    image = Image.open(io.BytesIO(document_store.read(stored.stored_name)))
    assert image.size == (20, 40)
    assert not image.getexif()


def test_what_follows_an_image_in_its_file_is_dropped(db: None) -> None:
    output = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 0, 0)).save(output, "PNG")
    polyglot = output.getvalue() + b"<html><script>alert(1)</script></html>"

    stored = document_store.store(SimpleUploadedFile("image.png", polyglot))

    content = document_store.read(stored.stored_name)
    assert b"<script>" not in content
    assert Image.open(io.BytesIO(content)).size == (8, 8)


# --------------------------------------------------------------------------------------------
# Names are never paths
# --------------------------------------------------------------------------------------------


def test_a_path_traversal_name_is_stored_under_a_random_name_and_shown_as_its_last_part(
    client: Client, fund: Fund, applicant: Any, tmp_path: Path
) -> None:
    response = upload(client, fund, "../../etc/passwd.pdf", PDF)

    assert response.status_code == 302
    document = ApplicationDocument.objects.get()
    assert document.original_name == "passwd.pdf"
    path = document_store.path_of(document.stored_name)
    assert path.resolve().is_relative_to(Path(settings.DOCUMENTS_DIR).resolve())
    assert "passwd" not in document.stored_name
    assert not (tmp_path / "etc").exists()
    disposition = client.get(reverse("document_download", kwargs={"document_id": document.pk}))[
        "Content-Disposition"
    ]
    assert disposition == 'attachment; filename="passwd.pdf"'


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system.ini.pdf", "system.ini.pdf"),
        ("/etc/passwd", "passwd.pdf"),
        ("payslip\u202egpj.pdf", "payslipgpj.pdf"),  # no right-to-left override
        ('march "payslip"\r\n.pdf', "march _payslip_.pdf"),
        ("..", "document.pdf"),
        ("", "document.pdf"),
        ("relevé de mars.png", "relevé de mars.pdf"),  # the extension of what it is
    ],
)
def test_names_are_cleaned_for_display(sent: str, shown: str) -> None:
    assert document_store.display_name(sent, "pdf") == shown


# --------------------------------------------------------------------------------------------
# Encrypted at rest
# --------------------------------------------------------------------------------------------


def test_the_file_on_disk_is_encrypted_and_the_download_decrypts_it(
    client: Client, fund: Fund, applicant: Any
) -> None:
    upload(client, fund, "payslip.pdf", PDF)

    document = ApplicationDocument.objects.get()
    on_disk = document_store.path_of(document.stored_name).read_bytes()
    assert PDF not in on_disk
    assert b"%PDF" not in on_disk
    assert b"endobj" not in on_disk
    assert download(client, document) == PDF


def test_the_scanner_reads_a_decrypted_copy_deleted_after_it(
    db: None, settings: Any, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    script = (
        "import pathlib, shutil, sys; "
        f"shutil.copy(sys.argv[1], {str(seen)!r}); "
        f"pathlib.Path({str(seen)!r} + '.path').write_text(sys.argv[1])"
    )
    settings.DOCUMENT_SCANNER = shlex.join([sys.executable, "-c", script])
    stored = document_store.store(SimpleUploadedFile("payslip.pdf", PDF))

    assert document_store.scan(stored.stored_name) is True

    assert seen.read_bytes() == PDF
    copy = Path((tmp_path / "seen.path").read_text())
    assert not copy.exists()
    assert copy.is_relative_to(Path(settings.DOCUMENTS_DIR))


# --------------------------------------------------------------------------------------------
# Size, before reading
# --------------------------------------------------------------------------------------------


def test_a_request_announcing_2_gb_is_refused_before_it_is_read(
    client: Client, fund: Fund, applicant: Any
) -> None:
    # The test client's body is a few bytes: reading what Content-Length announces would fail.
    response = upload(client, fund, "payslip.pdf", PDF, CONTENT_LENGTH=str(2 * 1024**3))

    assert response.status_code == 413
    assert "What was sent is too large" in response.content.decode()
    assert not ApplicationDocument.objects.exists()


def test_a_file_above_the_documents_limit_is_refused_on_its_field(
    client: Client, fund: Fund, applicant: Any, settings: Any
) -> None:
    settings.DOCUMENT_MAX_BYTES = len(PDF) - 1

    response = upload(client, fund, "payslip.pdf", PDF)

    assert response.status_code == 200
    assert field_errors(response)[0].startswith("This file is too large")
    assert not ApplicationDocument.objects.exists()
