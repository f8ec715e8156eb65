"""Exchange rates: the ECB's reference rates imported from its files, rates recorded by hand,
and conversions that say which rates they used.

A stored rate is how many units of a currency one euro bought on a day (the ECB's quotation).
Two currencies other than the euro convert through it. Every figure is a ``Decimal``: a rate
between two currencies is kept to 8 decimals (``ROUND_HALF_EVEN``), an amount to the minor unit
of its currency (``ROUND_HALF_UP``, as people round money by hand).

The ECB publishes the same data four ways, all read here, told apart by their content:
``eurofxref.csv`` (a header ``Date, USD, JPY, …`` and one row dated ``01 April 2020``),
``eurofxref-hist.csv`` (ISO dates, newest first, ``N/A`` where a currency had no rate), and
``eurofxref-daily.xml`` / ``eurofxref-hist.xml`` (a ``gesmes:Envelope`` of
``<Cube time="…"><Cube currency="USD" rate="1.0876"/>``). A row or rate that cannot be read is
reported with its line and skipped; the rest of the file still imports.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import format_decimal, get_currency_precision, is_currency
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, ManyToManyRel, Value, When
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from lxml import etree

from entraide.audit import services as audit
from entraide.core.errors import DomainError, InvalidTransition, PermissionDenied, ValidationFailed
from entraide.core.money import current_locale
from entraide.programmes.models import ExchangeRate, RateImport

EURO = "EUR"
RATE_PLACES = 8  # decimals of a rate between two currencies (Allocation.rate)
# A stored rate per euro: at most 6 decimals and 12 digits before the point (ExchangeRate.rate).
STORED_PLACES = 6
STORED_LIMIT = Decimal(10) ** 12
# Dividing two stored rates (each a multiple of 1e-6 below 1e12) never lands within 1e-27 of a
# rounding midpoint at 8 decimals unless it is one exactly: 50 significant digits keep the
# quotient closer than that, so rounding it once more to 8 decimals is exact.
RATE_CONTEXT = decimal.Context(prec=50, rounding=ROUND_HALF_EVEN)
# The euro's first day of reference rates: none before it.
FIRST_DAY = dt.date(1999, 1, 4)
INSERT_BATCH = 1000
RATE_PATTERN = re.compile(r"\d{1,12}(\.\d+)?", re.ASCII)
CODE_PATTERN = re.compile(r"[A-Z]{3}")
# The daily CSV dates its row like "01 April 2020", in English whatever the reader's locale.
MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES.split(), start=1)}
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)
LONG_DATE = re.compile(r"(\d{1,2}) ([A-Za-z]+) (\d{4})", re.ASCII)
MISSING = ("", "N/A")  # no rate that day (the history's currencies that came or went)


class NoRate(DomainError):
    code = "no_rate"

    def __init__(self, currency: str, day: dt.date, max_age_days: int) -> None:
        self.currency = currency
        self.day = day
        super().__init__(
            _("No exchange rate for %(currency)s on %(day)s or in the %(days)s days before.")
            % {"currency": currency, "day": day.isoformat(), "days": max_age_days}
        )


@dataclass(frozen=True)
class RateProblem:
    line: int  # 1 = the first line of the file
    reason: str


@dataclass(frozen=True)
class ParsedRates:
    days: dict[dt.date, dict[str, Decimal]]  # units of the currency per euro, by day
    problems: list[RateProblem]

    @property
    def rate_count(self) -> int:
        return sum(len(rates) for rates in self.days.values())


# -- reading the ECB's files -------------------------------------------------------------------


def _not_a_rates_file() -> ValidationFailed:
    return ValidationFailed(
        _("This is not a file of the ECB's reference rates (CSV or XML)."), field="file"
    )


def _rate(text: str, currency: str) -> tuple[Decimal | None, str]:
    """The rate written ``text``, or the reason it is not one that can be stored."""
    if not RATE_PATTERN.fullmatch(text):
        return None, gettext("Not a rate for %(currency)s: %(value)s.") % {
            "currency": currency,
            "value": text[:40],
        }
    rate = Decimal(text)
    if rate <= 0:
        return None, gettext("The rate for %(currency)s must be more than zero.") % {
            "currency": currency
        }
    if rate != rate.quantize(Decimal(1).scaleb(-STORED_PLACES)):
        return None, gettext("The rate for %(currency)s has more than 6 decimals.") % {
            "currency": currency
        }
    return rate, ""


def _currency_problem(code: str) -> str:
    if not CODE_PATTERN.fullmatch(code) or not is_currency(code):
        return gettext("Not a currency code: %(value)s.") % {"value": code[:40]}
    return ""


def _iso_day(text: str) -> dt.date | None:
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # like 2020-02-30
        return None


def _day(text: str) -> dt.date | None:
    """A day written as the history does (2020-04-01) or as the daily file (01 April 2020)."""
    if (day := _iso_day(text)) is not None:
        return day
    match = LONG_DATE.fullmatch(text)
    if match is None or match[2].lower() not in MONTHS:
        return None
    try:
        return dt.date(int(match[3]), MONTHS[match[2].lower()], int(match[1]))
    except ValueError:
        return None


def _not_a_day(text: str) -> str:
    return gettext("Not a date: %(value)s.") % {"value": text[:40]}


class _Collector:
    """The rates read so far: one set per day (a day given twice keeps the first)."""

    def __init__(self) -> None:
        self.days: dict[dt.date, dict[str, Decimal]] = {}
        self.day_lines: dict[dt.date, int] = {}
        self.problems: list[RateProblem] = []

    def problem(self, line: int, reason: str) -> None:
        self.problems.append(RateProblem(line=line, reason=reason))

    def start_day(self, day: dt.date, line: int) -> dict[str, Decimal] | None:
        if day in self.day_lines:
            self.problem(
                line,
                gettext("%(day)s was already given on line %(line)s.")
                % {"day": day.isoformat(), "line": self.day_lines[day]},
            )
            return None
        self.day_lines[day] = line
        return self.days.setdefault(day, {})

    def result(self) -> ParsedRates:
        days = {day: rates for day, rates in sorted(self.days.items()) if rates}
        return ParsedRates(days=days, problems=sorted(self.problems, key=lambda p: p.line))


def _parse_csv(text: str) -> ParsedRates:
    found = _Collector()
    reader = csv.reader(text.splitlines())
    header = next(reader, [])
    if not header or header[0].strip().lower() != "date":
        raise _not_a_rates_file()
    columns: dict[int, str] = {}  # position → currency
    width = 1  # cells up to the last named column (the ECB ends its lines with a comma)
    for position, cell in enumerate(header[1:], start=1):
        code = cell.strip()
        if code:
            width = position + 1
        if not code or code == EURO:
            continue
        if problem := _currency_problem(code):
            found.problem(1, problem)
        elif code in columns.values():
            found.problem(1, gettext("%(currency)s is given twice.") % {"currency": code})
        else:
            columns[position] = code
    if not columns:
        raise _not_a_rates_file()
    for cells in reader:
        line = reader.line_num
        values = [cell.strip() for cell in cells]
        if not any(values):
            continue
        day = _day(values[0])
        if day is None:
            found.problem(line, _not_a_day(values[0]))
            continue
        rates = found.start_day(day, line)
        if rates is None:
            continue
        if any(values[width:]):
            found.problem(line, gettext("The line has more values than the header."))
        for position, code in columns.items():
            value = values[position] if position < len(values) else ""
            if value in MISSING:
                continue
            rate, problem = _rate(value, code)
            if rate is None:
                found.problem(line, problem)
            else:
                rates[code] = rate
    return found.result()


def _line(element: etree._Element) -> int:
    line = element.sourceline
    return line if isinstance(line, int) else 0


def _parse_xml(content: bytes) -> ParsedRates:
    # No DTD, no entities, no network: a rates file needs none of them.
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError:
        raise _not_a_rates_file() from None
    if (
        root.getroottree().docinfo.internalDTD is not None
        or etree.QName(root).localname != "Envelope"
    ):
        raise _not_a_rates_file()
    found = _Collector()
    days = [cube for cube in root.iter("{*}Cube") if cube.get("time") is not None]
    if not days:
        raise _not_a_rates_file()
    for day_cube in days:
        time = (day_cube.get("time") or "").strip()
        day = _iso_day(time)
        if day is None:
            found.problem(_line(day_cube), _not_a_day(time))
            continue
        rates = found.start_day(day, _line(day_cube))
        if rates is None:
            continue
        for cube in day_cube.iterchildren("{*}Cube"):
            line = _line(cube)
            code = (cube.get("currency") or "").strip()
            if code == EURO:
                continue
            if problem := _currency_problem(code):
                found.problem(line, problem)
                continue
            if code in rates:
                found.problem(line, gettext("%(currency)s is given twice.") % {"currency": code})
                continue
            rate, problem = _rate((cube.get("rate") or "").strip(), code)
            if rate is None:
                found.problem(line, problem)
            else:
                rates[code] = rate
    return found.result()


def parse_ecb(content: bytes, file_name: str) -> ParsedRates:
    """The rates of one of the ECB's files, whichever of its formats (found from the content,
    not ``file_name``, which only names the file in messages)."""
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"<"):
        return _parse_xml(start)
    try:
        text = start.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(
            _("%(file)s is not UTF-8 text.") % {"file": file_name}, field="file"
        ) from None
    try:
        return _parse_csv(text)
    except csv.Error:  # a cell beyond the csv module's limit: no file of the ECB's
        raise ValidationFailed(
            _("%(file)s is not one of the ECB's rates files.") % {"file": file_name},
            field="file",
        ) from None


# -- storing them -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateConflict:
    """A rate of the file that differs from the ECB rate an earlier file stored for that day
    and currency: the stored one is kept (conversions may have read it), and the import says so."""

    day: dt.date
    currency: str
    stored: Decimal
    in_file: Decimal


@dataclass(frozen=True)
class Imported:
    rate_import: RateImport
    created: bool  # False: the same file was imported before, nothing changed
    problems: list[RateProblem]
    new_rates: int = 0  # stored by this import: the file's rates less those already known
    conflicts: list[RateConflict] = field(default_factory=list)


def _conflicts(parsed: ParsedRates, rate_import: RateImport) -> list[RateConflict]:
    """The file's rates that earlier imports stored with another value, by day and currency."""
    stored = ExchangeRate.objects.filter(
        source=ExchangeRate.Source.ECB,
        day__gte=min(parsed.days),
        day__lte=max(parsed.days),
    ).exclude(imported_from=rate_import)
    conflicts = []
    for day, currency, rate in stored.values_list("day", "currency", "rate").order_by(
        "day", "currency"
    ):
        in_file = parsed.days.get(day, {}).get(currency)
        if in_file is not None and in_file != rate:
            conflicts.append(RateConflict(day=day, currency=currency, stored=rate, in_file=in_file))
    return conflicts


def _require_operator(actor: Any) -> None:
    if not actor.has_perm("programmes.add_programme"):
        raise PermissionDenied()


def import_rates(*, actor: Any, file_name: str, content: bytes) -> Imported:
    """Store the ECB rates of a file once (by its SHA-256). A rate the ECB already gave for a
    currency and day stays as it was stored; rates recorded by hand are never touched."""
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic(durable=True):
        _require_operator(actor)
        parsed = parse_ecb(content, file_name)
        earlier = RateImport.objects.filter(sha256=digest).first()
        if earlier is not None:
            return Imported(rate_import=earlier, created=False, problems=parsed.problems)
        if not parsed.days:
            message: Any = _("The file holds no exchange rate.")
            if parsed.problems:
                first = parsed.problems[0]
                message = _(
                    "The file holds no exchange rate that can be read (line %(line)s: %(reason)s)"
                ) % {"line": first.line, "reason": first.reason}
            raise ValidationFailed(message, field="file")
        now = timezone.now()
        try:
            with transaction.atomic():
                rate_import = RateImport.objects.create(
                    file_name=file_name[:200],
                    sha256=digest,
                    imported_by=actor,
                    imported_at=now,
                    days=len(parsed.days),
                    rates=parsed.rate_count,
                    first_day=min(parsed.days),
                    last_day=max(parsed.days),
                )
        except IntegrityError:  # the same file, imported at the same moment by someone else
            earlier = RateImport.objects.get(sha256=digest)
            return Imported(rate_import=earlier, created=False, problems=parsed.problems)
        ExchangeRate.objects.bulk_create(
            (
                ExchangeRate(
                    day=day,
                    currency=currency,
                    rate=rate,
                    source=ExchangeRate.Source.ECB,
                    imported_from=rate_import,
                    recorded_at=now,
                )
                for day, rates in parsed.days.items()
                for currency, rate in rates.items()
            ),
            batch_size=INSERT_BATCH,
            ignore_conflicts=True,
        )
        new_rates = ExchangeRate.objects.filter(imported_from=rate_import).count()
        conflicts = _conflicts(parsed, rate_import)
        audit.record(
            actor=actor,
            action="rates.imported",
            obj=rate_import,
            changes=audit.created(
                {
                    **audit.snapshot(
                        rate_import,
                        ("file_name", "sha256", "days", "rates", "first_day", "last_day"),
                    ),
                    "new_rates": new_rates,
                    "problems": len(parsed.problems),
                    "conflicts": len(conflicts),
                }
            ),
        )
    return Imported(
        rate_import=rate_import,
        created=True,
        problems=parsed.problems,
        new_rates=new_rates,
        conflicts=conflicts,
    )


RECORDED_FIELDS = ("currency", "day", "rate", "source", "note")


def record_rate(
    *, actor: Any, currency: str, day: dt.date, rate: Decimal, note: str
) -> ExchangeRate:
    """A rate recorded by hand for a day (when the ECB has none, or another rate applies): it
    wins over the ECB's on that day and replaces the day's earlier hand-recorded rate."""
    currency = currency.strip().upper()
    note = note.strip()
    if currency == EURO or _currency_problem(currency):
        raise ValidationFailed(
            _("Give the ISO code of a currency other than the euro (like GBP)."), field="currency"
        )
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise ValidationFailed(_("The rate must be more than zero."), field="rate")
    if rate >= STORED_LIMIT or rate != rate.quantize(Decimal(1).scaleb(-STORED_PLACES)):
        raise ValidationFailed(
            _("The rate has at most 6 decimals and 12 digits before the decimal point."),
            field="rate",
        )
    if not note:
        raise ValidationFailed(_("Say why this rate is recorded by hand."), field="note")
    if len(note) > 200:
        raise ValidationFailed(_("The note is at most 200 characters long."), field="note")
    with transaction.atomic(durable=True):
        _require_operator(actor)
        stored = (
            ExchangeRate.objects.select_for_update()
            .filter(currency=currency, day=day, source=ExchangeRate.Source.MANUAL)
            .first()
        )
        if stored is not None and stored.rate != rate and _used(stored):
            # An allocation says it read this rate: it stays what it read.
            raise InvalidTransition(
                _("An allocation was converted at this rate: it cannot be changed.")
            )
        before = audit.snapshot(stored, RECORDED_FIELDS) if stored is not None else {}
        if stored is None:
            stored = ExchangeRate(currency=currency, day=day, source=ExchangeRate.Source.MANUAL)
        stored.rate = rate
        stored.note = note
        stored.recorded_by = actor
        stored.recorded_at = timezone.now()
        stored.save()
        audit.record(
            actor=actor,
            action="rate.recorded",
            obj=stored,
            changes=audit.diff(before, audit.snapshot(stored, RECORDED_FIELDS)),
        )
    return stored


def _used(rate: ExchangeRate) -> bool:
    """Whether a record kept the rate as one it read: an allocation, a crew relief payout...
    (every many-to-many relation to the rates, whichever app holds it)."""
    for relation in ExchangeRate._meta.related_objects:
        if not isinstance(relation, ManyToManyRel) or relation.through is None:
            continue
        reading = {relation.field.m2m_reverse_name(): rate.pk}
        if relation.through._default_manager.filter(**reading).exists():
            return True
    return False


# -- converting ---------------------------------------------------------------------------------


def per_unit(source_per_euro: Decimal, target_per_euro: Decimal) -> Decimal:
    """Units of the target currency for one of the source, both given per euro: to 8 decimals,
    half to even."""
    quotient = RATE_CONTEXT.divide(target_per_euro, source_per_euro)
    return quotient.quantize(Decimal(1).scaleb(-RATE_PLACES), context=RATE_CONTEXT)


@dataclass(frozen=True)
class Conversion:
    source: str
    target: str
    rate: Decimal  # units of target per unit of source, 8 decimals (what people read)
    day: dt.date  # the day of the rate (the older of two, through the euro)
    rates: tuple[ExchangeRate, ...]  # the rows read: none within a currency, 1 or 2 otherwise
    # The rates per euro read: amounts are converted with them, exactly, not with ``rate``
    # (rounded to 8 decimals, it is cents off on millions).
    source_per_euro: Decimal = Decimal(1)
    target_per_euro: Decimal = Decimal(1)

    def describe(self) -> str:
        """Which rate a converted figure used, in a sentence for people."""
        if not self.rates:
            return gettext("%(currency)s to %(currency)s: no conversion.") % {
                "currency": self.source
            }
        shown = format_decimal(self.rate, format="#,##0.########", locale=current_locale())
        return gettext("1 %(source)s = %(rate)s %(target)s, %(origin)s") % {
            "source": self.source,
            "rate": shown,
            "target": self.target,
            "origin": _origin(self.rates),
        }


def _origin(rates: tuple[ExchangeRate, ...]) -> str:
    """Where the rates come from: one phrase when they share a source and a day."""
    sources = {(row.source, row.day) for row in rates}
    if len(sources) == 1:
        source, day = sources.pop()
        if source == ExchangeRate.Source.ECB:
            return ngettext(
                "ECB reference rate of %(day)s",
                "ECB reference rates of %(day)s",
                len(rates),
            ) % {"day": day.isoformat()}
        return ngettext(
            "rate of %(day)s recorded by hand",
            "rates of %(day)s recorded by hand",
            len(rates),
        ) % {"day": day.isoformat()}
    phrases = []
    for row in rates:
        if row.source == ExchangeRate.Source.ECB:
            phrase = gettext("EUR/%(currency)s: ECB reference rate of %(day)s")
        else:
            phrase = gettext("EUR/%(currency)s: rate of %(day)s recorded by hand")
        phrases.append(phrase % {"currency": row.currency, "day": row.day.isoformat()})
    return "; ".join(phrases)


def _latest(currency: str, day: dt.date, max_age_days: int) -> ExchangeRate:
    """The newest rate of ``currency`` per euro on or before ``day`` (at most ``max_age_days``
    before: no rate on weekends and holidays), the one recorded by hand first on its day."""
    if day < FIRST_DAY + dt.timedelta(days=max_age_days):
        raise NoRate(currency, day, max_age_days)
    row = (
        ExchangeRate.objects.filter(
            currency=currency,
            day__lte=day,
            day__gte=day - dt.timedelta(days=max_age_days),
        )
        .order_by(
            "-day",
            Case(
                When(source=ExchangeRate.Source.MANUAL, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .first()
    )
    if row is None:
        raise NoRate(currency, day, max_age_days)
    return row


def conversion(source: str, target: str, day: dt.date, *, max_age_days: int = 7) -> Conversion:
    """How ``source`` converts into ``target`` on ``day``, through the euro when neither is it."""
    source, target = source.upper(), target.upper()
    if source == target:
        return Conversion(source=source, target=target, rate=Decimal(1), day=day, rates=())
    rows: list[ExchangeRate] = []
    per_euro = {EURO: Decimal(1)}
    for currency in (source, target):
        if currency != EURO:
            row = _latest(currency, day, max_age_days)
            rows.append(row)
            per_euro[currency] = row.rate
    return Conversion(
        source=source,
        target=target,
        rate=per_unit(per_euro[source], per_euro[target]),
        day=min(row.day for row in rows),
        rates=tuple(rows),
        source_per_euro=per_euro[source],
        target_per_euro=per_euro[target],
    )


def convert(amount: Decimal, conv: Conversion) -> Decimal:
    """``amount`` of the source currency in the target's, to its minor unit (half up): the
    amount times the target's rate per euro divided by the source's, rounded once."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError("convert() takes a finite Decimal amount")
    if not isinstance(conv.source_per_euro, Decimal) or not isinstance(
        conv.target_per_euro, Decimal
    ):
        raise TypeError("a conversion's rates are Decimals")
    exact = RATE_CONTEXT.divide(
        RATE_CONTEXT.multiply(amount, conv.target_per_euro), conv.source_per_euro
    )
    places = get_currency_precision(conv.target)
    return exact.quantize(
        Decimal(1).scaleb(-places), context=decimal.Context(prec=60, rounding=ROUND_HALF_UP)
    )
