"""What two applications share exactly, and what it means for a reviewer: the platform's flag
codes (labelled in entraide.review.flags.CODE_LABELS) and the reasons of a link."""

from __future__ import annotations

import re

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from entraide.integrity.records import IDENTIFIER_FIELDS, ApplicantRecord

POSSIBLE_DUPLICATE = "possible_duplicate"
SAME_PERSON = "same_person"
SHARED_ACCOUNT = "shared_account"
SHARED_CONTACT = "shared_contact"
SHARED_ORIGIN = "shared_origin"
# The codes this app raises, and so the flags its decisions close.
LINK_CODES = (POSSIBLE_DUPLICATE, SHARED_ACCOUNT, SHARED_CONTACT)

# The identifiers two applications may share, in the order they are shown.
REASONS = ("nir", "iban", "email", "phone")
REASON_LABELS: dict[str, Promise] = {
    "nir": pgettext_lazy("integrity reason", "same social security number"),
    "iban": pgettext_lazy("integrity reason", "same bank account"),
    "email": pgettext_lazy("integrity reason", "same e-mail address"),
    "phone": pgettext_lazy("integrity reason", "same telephone"),
}

_NOT_DIGITS = re.compile(r"\D")
_FRENCH_NUMBER = re.compile(r"^(?:00)?330?(\d{9})$")


def normalised(reason: str, value: str) -> str:
    """The value as exact links compare it (as :mod:`entraide.integrity.exact` does in
    columns): a NIR or an IBAN is its blind index (of the value without spaces in upper case)
    and stays as it is, an e-mail trimmed in lower case, a telephone as its national digits."""
    if reason in {"nir", "iban"}:
        return value
    if reason == "email":
        return value.strip().lower()
    if reason == "phone":
        return _FRENCH_NUMBER.sub(r"0\1", _NOT_DIGITS.sub("", value))
    raise ValueError(f"no exact link on {reason!r}")


def shared_identifiers(left: ApplicantRecord, right: ApplicantRecord) -> list[str]:
    """The identifiers (:data:`REASONS`) the two records share; blanks share nothing."""
    shared = []
    for reason in REASONS:
        field = IDENTIFIER_FIELDS[reason]
        value = normalised(reason, getattr(left, field))
        if value and value == normalised(reason, getattr(right, field)):
            shared.append(reason)
    return shared


def codes_of_link(reasons: list[str], *, duplicate: bool) -> list[str]:
    """The flags a link raises: a possible duplicate says it all; otherwise what different
    people share that they should not."""
    if duplicate or "nir" in reasons:
        return [POSSIBLE_DUPLICATE]
    codes = []
    if "iban" in reasons:
        codes.append(SHARED_ACCOUNT)
    if "email" in reasons or "phone" in reasons:
        codes.append(SHARED_CONTACT)
    return codes
