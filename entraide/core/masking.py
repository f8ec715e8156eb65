"""How a personal identifier is shown where it must not be read in full: pages, audit events,
logs, error reports. An IBAN keeps its country and check digits and its last four characters
(``FR76 •••• 1234``: enough to tell two accounts apart with the applicant on the phone);
anything else, its last four."""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "••••"
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def mask_identifier(value: Any) -> str:
    text = "".join(str(value or "").split()).upper()
    if not text:
        return ""
    if _IBAN.fullmatch(text):
        return f"{text[:4]} {HIDDEN} {text[-4:]}"
    return f"{HIDDEN} {text[-4:]}" if len(text) > 4 else HIDDEN
