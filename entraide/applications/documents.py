"""Storing the files applicants send: checked by their content, kept outside the web root under
random names, scanned for viruses by the worker when the operator configured a scanner."""

from __future__ import annotations

import hashlib
import secrets
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from entraide.applications.models import ApplicationDocument
from entraide.core.errors import ValidationFailed

# What the content must be, whatever the file name says.
ACCEPTED_TYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}


# What staff may see inside the page rather than download: never SVG or HTML, whose scripts
# would run in our origin.
PREVIEWABLE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp"})
# Not infected, not waiting for the scanner: as the download, a file is shown when no scanner is
# configured (the browser's PDF viewer and image decoder run without access to our pages).
PREVIEWABLE_SCANS = frozenset(
    {ApplicationDocument.Scan.CLEAN, ApplicationDocument.Scan.NOT_SCANNED}
)


def previewable(document: ApplicationDocument) -> bool:
    return document.content_type in PREVIEWABLE_TYPES and document.scan in PREVIEWABLE_SCANS


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    content_type: str
    size: int
    sha256: str


def directory() -> Path:
    return Path(settings.DOCUMENTS_DIR)


def path_of(stored_name: str) -> Path:
    # Two levels of fan-out keep directories small when a fund receives tens of thousands.
    return directory() / stored_name[:2] / stored_name


def store(upload: UploadedFile) -> StoredFile:
    """Check and write one upload; raise :class:`ValidationFailed` with a clear reason."""
    limit = settings.DOCUMENT_MAX_BYTES
    if upload.size is None or upload.size == 0:
        raise ValidationFailed(_("This file is empty."), field="file")
    if upload.size > limit:
        raise ValidationFailed(
            _("This file is too large: the limit is %(limit)s.") % {"limit": filesizeformat(limit)},
            field="file",
        )
    upload.seek(0)
    head = upload.read(8192)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in ACCEPTED_TYPES:
        raise ValidationFailed(
            _("This file is not a PDF, JPEG or PNG document (its content was checked)."),
            field="file",
        )
    stored_name = f"{secrets.token_hex(16)}.{ACCEPTED_TYPES[kind.mime]}"
    target = path_of(stored_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    upload.seek(0)
    with target.open("xb") as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
    return StoredFile(stored_name, kind.mime, upload.size, digest.hexdigest())


def discard(stored_name: str) -> None:
    path_of(stored_name).unlink(missing_ok=True)


def scan(stored_name: str) -> bool | None:
    """Run the configured scanner (e.g. ``clamdscan --no-summary``) on the file: True when clean,
    False when infected, None when no scanner is configured. Exit code 1 means infected, as
    ClamAV and most scanners report it; any other failure raises so the task retries."""
    command = settings.DOCUMENT_SCANNER
    if not command:
        return None
    completed = subprocess.run(  # noqa: S603 - the operator's own configured command
        [*shlex.split(command), str(path_of(stored_name))],
        capture_output=True,
        check=False,
        timeout=120,
    )
    if completed.returncode in (0, 1):
        return completed.returncode == 0
    raise RuntimeError(f"virus scanner exited with {completed.returncode}")
