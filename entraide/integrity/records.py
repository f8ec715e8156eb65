"""The record of an applicant that duplicate detection compares."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ApplicantRecord:
    """What an application says about its applicant (the fields of applications.Application
    that duplicate detection reads)."""

    record_id: int
    nir: str
    first_name: str
    last_name: str
    birth_date: dt.date
    email: str
    phone: str
    address_line: str
    postcode: str
    city: str
    iban: str
    account_holder: str
