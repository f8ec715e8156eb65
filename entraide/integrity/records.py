"""The record of an applicant that duplicate detection compares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApplicantRecord:
    """What an application says about its applicant (the fields of applications.Application
    that duplicate detection reads, applications.selectors.IDENTITY_FIELDS): the NIR and the
    IBAN by their blind indexes only (entraide.core.crypto.blind_index), never in clear."""

    record_id: int
    nir_index: str
    first_name: str
    last_name: str
    birth_date: dt.date
    email: str
    phone: str
    address_line: str
    postcode: str
    city: str
    iban_index: str
    account_holder: str


# The identifiers that link two records exactly (integrity.signals.REASONS), by the field of a
# record that holds each: equal NIRs (spaces and case aside) have equal blind indexes.
IDENTIFIER_FIELDS: dict[str, str] = {
    "nir": "nir_index",
    "iban": "iban_index",
    "email": "email",
    "phone": "phone",
}
