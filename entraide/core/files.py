"""Names of uploaded files: shown and offered back, never used as paths."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_LENGTH = 150


def clean_file_name(name: str | None, default: str = "file") -> str:
    """The name a file was sent with, safe to show and to name a download: no folder
    (``../../etc/passwd`` is ``passwd``), no control or direction characters (a right-to-left
    override makes ``payslip\u202efdp.exe`` look like a PDF), none of the characters file
    systems refuse, no leading or trailing dots and spaces; ``default`` if nothing is left."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(c for c in base if not unicodedata.category(c).startswith("C"))
    base = re.sub(r'[<>:"|?*]', "_", base)
    base = " ".join(base.split()).strip(" .")
    if len(base) > MAX_NAME_LENGTH:
        stem, dot, extension = base.rpartition(".")
        keep = MAX_NAME_LENGTH - len(extension) - 1
        base = (
            f"{stem[:keep]}.{extension}"
            if dot and 0 < len(extension) <= 10
            else base[:MAX_NAME_LENGTH]
        )
    return base or default
