"""Hand-built applicants for the reference rule sets: one short builder per kind of record, so
that a test case reads as one line of intent (``days("2019-10-01", 12)``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from entraide.rules.document import RuleDocument, load_file
from entraide.rules.engine import CriterionResult, Evaluation, evaluate, facts_from
from entraide.rules.records import Benefit, Cancellation, Declaration, PersonEvidence, Rights

RULESETS = Path(__file__).resolve().parents[3] / "rulesets"
AUDIOVISUAL = "59.11A"
SIRETS = iter(f"{n:014d}" for n in range(10**6))

Record = Declaration | Rights | Benefit | Cancellation


@cache
def ruleset(name: str) -> RuleDocument:
    return load_file(RULESETS / f"{name}.yaml")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def contract(
    start: str,
    end: str | None = None,
    *,
    hours: str | int | None = None,
    cachets: int | None = None,
    naf: str = AUDIOVISUAL,
    idcc: str = "2642",
    contract_type: str = "CDDU",
    siret: str | None = None,
) -> Declaration:
    return Declaration(
        siret=siret or next(SIRETS),
        naf=naf,
        idcc=idcc,
        contract_type=contract_type,
        start=day(start),
        end=day(end or start),
        hours=None if hours is None else Decimal(str(hours)),
        cachets=cachets,
        gross_pay=Decimal("1000.00"),
    )


def days(start: str, count: int, **options: Any) -> Declaration:
    """A contract paid by the hour covering ``count`` consecutive days from ``start``."""
    first = day(start)
    last = first + dt.timedelta(days=count - 1)
    return contract(start, last.isoformat(), hours=7 * count, **options)


def hours(start: str, count: str | int, **options: Any) -> Declaration:
    """A one-day technician contract declaring ``count`` hours."""
    return contract(start, hours=count, **options)


def cachets(start: str, count: int, end: str | None = None, **options: Any) -> Declaration:
    """An artist's contract of ``count`` cachets."""
    return contract(start, end, cachets=count, **options)


def rights(annex: str, opened: str, ends: str, status: str = "ended", reason: str = "") -> Rights:
    return Rights(
        annex=annex, opened_on=day(opened), ends_on=day(ends), status=status, reason=reason
    )


def benefit(scheme: str, start: str, end: str | None = None) -> Benefit:
    return Benefit(scheme=scheme, start=day(start), end=day(end) if end else None)


def cancelled(
    date: str, count: int = 1, signed: str | None = None, siret: str = "80295478500028"
) -> Cancellation:
    return Cancellation(
        siret=siret, date=day(date), cachets=count, signed_on=day(signed) if signed else None
    )


def person(*records: Record) -> PersonEvidence:
    return PersonEvidence(
        declarations=tuple(r for r in records if isinstance(r, Declaration)),
        rights=tuple(r for r in records if isinstance(r, Rights)),
        benefits=tuple(r for r in records if isinstance(r, Benefit)),
        cancellations=tuple(r for r in records if isinstance(r, Cancellation)),
    )


def check(
    document: RuleDocument,
    records: tuple[Record, ...] | list[Record] = (),
    *,
    at: str,
    language: str = "fr",
    **facts: Any,
) -> Evaluation:
    """Evaluate one applicant; ``facts`` are what they declared, read as ``applicants.jsonl``
    reads them (``annual_resources="15000.01"``); a fact not given is unknown."""
    return evaluate(
        document,
        facts=facts_from(document, {"declared": facts}),
        evidence=person(*records),
        at=day(at),
        language=language,
    )


def criterion(evaluation: Evaluation, criterion_id: str) -> CriterionResult:
    return next(c for c in evaluation.criteria if c.id == criterion_id)


def plain(text: str) -> str:
    """``text`` with Babel's no-break spaces (15 000 €) turned into ordinary spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")
