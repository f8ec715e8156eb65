"""Evidence files uploaded through the pages or the API, waiting for the import task.

Each waits in a folder of its own under ``EVIDENCE_INBOX_DIR`` (private, outside the web root)
under its own name, which the batch keeps; the task deletes it when it ends, the records and the
batch's hash being all that is kept of it.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from entraide.core.errors import ValidationFailed


@dataclass(frozen=True)
class ReceivedFile:
    name: str  # "<folder>/<file name>", relative to the inbox
    file_name: str
    size: int
    sha256: str


def directory() -> Path:
    return Path(settings.EVIDENCE_INBOX_DIR)


def path_of(name: str) -> Path:
    """The file of an inbox name; refuses a name that would lead out of the inbox."""
    inbox = directory().resolve()
    path = (inbox / name).resolve()
    if path.parent.parent != inbox:
        raise SuspiciousFileOperation(f"not an evidence inbox file: {name!r}")
    return path


def receive(upload: UploadedFile) -> ReceivedFile:
    """Write the upload into the inbox chunk by chunk (whatever its size, it is never held in
    memory whole), hashing it on the way."""
    if not upload.size:
        raise ValidationFailed(_("This file is empty."), field="file")
    try:
        file_name = get_valid_filename(Path(upload.name or "").name)
    except SuspiciousFileOperation:
        file_name = "evidence"
    name = f"{secrets.token_hex(16)}/{file_name}"
    target = path_of(name)
    target.parent.mkdir(parents=True)
    digest = hashlib.sha256()
    upload.seek(0)
    with target.open("xb") as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
    return ReceivedFile(name, file_name, upload.size, digest.hexdigest())


def discard(name: str) -> None:
    shutil.rmtree(path_of(name).parent, ignore_errors=True)
