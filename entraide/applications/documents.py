"""Storing the files applicants send: checked by their content, images decoded and written again
(no metadata, nothing appended), encrypted at rest outside the web root under random names,
scanned for viruses by the worker when the operator configured a scanner.

Nothing the sender chose is a path: the file is stored as 128 random bits with the extension of
its sniffed type; the name it was sent with is kept for display only, cleaned
(:func:`display_name`). The bytes on disk are a Fernet token (``entraide.core.crypto``): a copy
of the documents folder tells nothing without ``ENTRAIDE_ENCRYPTION_KEYS``, and every read
(:func:`read`, :func:`scan`) decrypts.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import shlex
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from entraide.applications.models import ApplicationDocument
from entraide.core.crypto import decrypt_bytes, encrypt_bytes
from entraide.core.errors import ValidationFailed
from entraide.core.files import clean_file_name

# What the content must be, whatever the file name says.
ACCEPTED_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}
# Images are decoded and encoded again in their own format.
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# A phone's photo of a payslip is 12 to 50 megapixels; beyond, a small file that decodes into
# gigabytes (a decompression bomb) is refused before it is decoded.
MAX_IMAGE_PIXELS = 60_000_000
# A PDF ends with %%EOF, give or take the trailing bytes readers tolerate.
PDF_TAIL_BYTES = 2048
# What a browser sniffing the start of a file would take for a page, or what a PDF reader would
# run: a payslip or an attestation has none of it (a PDF that is also an HTML page is refused).
FORBIDDEN_IN_PDF_HEAD = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|object|embed|meta|a\s|img|style)",
    re.IGNORECASE,
)
FORBIDDEN_IN_PDF = (b"/JavaScript", b"/Launch")


# Staff see images inside the application page. Never a PDF (its reader is not ours to trust
# in our origin: PDFs are downloads), never SVG or HTML.
PREVIEWABLE_TYPES = frozenset(IMAGE_FORMATS)
# Not infected, not waiting for the scanner: as the download, a file is shown when no scanner is
# configured.
PREVIEWABLE_SCANS = frozenset(
    {ApplicationDocument.Scan.CLEAN, ApplicationDocument.Scan.NOT_SCANNED}
)


def previewable(document: ApplicationDocument) -> bool:
    return document.content_type in PREVIEWABLE_TYPES and document.scan in PREVIEWABLE_SCANS


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    content_type: str
    size: int  # of the clear content (after images were encoded again)
    sha256: str  # of the clear content
    original_name: str  # cleaned, for display


def directory() -> Path:
    return Path(settings.DOCUMENTS_DIR)


def path_of(stored_name: str) -> Path:
    # Two levels of fan-out keep directories small when a fund receives tens of thousands.
    return directory() / stored_name[:2] / stored_name


def display_name(name: str | None, extension: str) -> str:
    """The name a file was sent with, safe to show and to offer as a download's name
    (:func:`entraide.core.files.clean_file_name`: ``../../etc/passwd.pdf`` is ``passwd.pdf``),
    with the extension of its real type."""
    base = clean_file_name(name, default="")
    stem = base.rsplit(".", 1)[0].rstrip(" .") if "." in base else base
    return f"{stem or 'document'}.{extension}"


def store(upload: UploadedFile) -> StoredFile:
    """Check, clean, encrypt and write one upload; raise :class:`ValidationFailed` with a
    clear reason."""
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationFailed(_("This file is empty."), field="file")
    if upload.size > limit:
        raise ValidationFailed(
            _("This file is too large: the limit is %(limit)s.") % {"limit": filesizeformat(limit)},
            field="file",
        )
    upload.seek(0)
    content = upload.read(limit + 1)
    kind = filetype.guess(content[:8192])
    if kind is None or kind.mime not in ACCEPTED_TYPES or len(content) > limit:
        raise _not_accepted()
    if kind.mime in IMAGE_FORMATS:
        content = _encoded_again(content, IMAGE_FORMATS[kind.mime])
    else:
        _check_pdf(content)
    extension = ACCEPTED_TYPES[kind.mime]
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    target = path_of(stored_name)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with target.open("xb") as handle:
        handle.write(encrypt_bytes(content))
    return StoredFile(
        stored_name,
        kind.mime,
        len(content),
        hashlib.sha256(content).hexdigest(),
        display_name(upload.name, extension),
    )


def _not_accepted() -> ValidationFailed:
    return ValidationFailed(
        _("This file is not a PDF, JPEG or PNG document (its content was checked)."),
        field="file",
    )


def _check_pdf(content: bytes) -> None:
    if (
        not content.startswith(b"%PDF-")
        or b"%%EOF" not in content[-PDF_TAIL_BYTES:]
        or FORBIDDEN_IN_PDF_HEAD.search(content[:1024])
        or any(marker in content for marker in FORBIDDEN_IN_PDF)
    ):
        raise _not_accepted()


def _encoded_again(content: bytes, image_format: str) -> bytes:
    """The image decoded and written again: turned upright as its EXIF orientation says, every
    metadata dropped (EXIF with its GPS position, XMP, comments, PNG text), whatever followed
    the image in the file dropped. What does not decode is refused."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content), formats=[image_format]) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise ValidationFailed(
                        _("This image is too large: at most %(count)s million pixels.")
                        % {"count": MAX_IMAGE_PIXELS // 1_000_000},
                        field="file",
                    )
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                if image_format == "JPEG" and upright.mode not in {"RGB", "L", "CMYK"}:
                    upright = upright.convert("RGB")
                # Pillow writes some of what it read back (a JPEG's comment, a PNG's profile):
                # keep only a palette's transparency.
                kept = {k: v for k, v in upright.info.items() if k == "transparency"}
                upright = upright.copy()
                upright.info = kept
                output = io.BytesIO()
                if image_format == "JPEG":
                    upright.save(output, "JPEG", quality=90)
                else:
                    upright.save(output, "PNG")
        except (
            OSError,
            SyntaxError,
            ValueError,
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
        ):
            raise _not_accepted() from None
    return output.getvalue()


def read(stored_name: str) -> bytes:
    """The clear content of a stored document (``FileNotFoundError`` if it is gone)."""
    return decrypt_bytes(path_of(stored_name).read_bytes())


def discard(stored_name: str) -> None:
    path_of(stored_name).unlink(missing_ok=True)


def scan(stored_name: str) -> bool | None:
    """Run the configured scanner (e.g. ``clamdscan --no-summary --fdpass``) on a decrypted
    copy of the file, deleted right after: True when clean, False when infected, None when no
    scanner is configured. Exit code 1 means infected, as ClamAV and most scanners report it;
    any other failure raises so the task retries.

    The copy is readable by this process's user only: a scanning daemon running as another
    user needs the file's descriptor passed (clamdscan ``--fdpass``) or streamed (``--stream``).
    """
    command = settings.DOCUMENT_SCANNER
    if not command:
        return None
    content = read(stored_name)
    scratch = directory() / "scanning"
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=Path(stored_name).suffix) as copy:
        copy.write(content)
        copy.flush()
        completed = subprocess.run(  # noqa: S603 - the operator's own configured command
            [*shlex.split(command), copy.name],
            capture_output=True,
            check=False,
            timeout=120,
        )
    if completed.returncode in (0, 1):
        return completed.returncode == 0
    raise RuntimeError(f"virus scanner exited with {completed.returncode}")
