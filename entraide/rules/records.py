"""The evidence of one person, as plain records (the columns of FORMATS.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Declaration:
    siret: str
    naf: str
    idcc: str
    contract_type: str
    start: dt.date
    end: dt.date
    hours: Decimal | None
    cachets: int | None
    gross_pay: Decimal


@dataclass(frozen=True)
class Rights:
    annex: str
    opened_on: dt.date
    ends_on: dt.date
    status: str
    reason: str = ""


@dataclass(frozen=True)
class Benefit:
    scheme: str
    start: dt.date
    end: dt.date | None  # None: still paid


@dataclass(frozen=True)
class Cancellation:
    siret: str
    date: dt.date
    cachets: int = 1
    signed_on: dt.date | None = None


@dataclass(frozen=True)
class PersonEvidence:
    declarations: tuple[Declaration, ...] = field(default=())
    rights: tuple[Rights, ...] = field(default=())
    benefits: tuple[Benefit, ...] = field(default=())
    cancellations: tuple[Cancellation, ...] = field(default=())
