from __future__ import annotations

import datetime as dt
import decimal
import io
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from babel.numbers import get_currency_precision
from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from hypothesis import example, given
from hypothesis import strategies as st

from entraide.accounts.models import User
from entraide.accounts.services import fund_operators_group
from entraide.accounts.tests.factories import UserFactory
from entraide.audit import services as audit
from entraide.audit.models import AuditEvent
from entraide.core.errors import PermissionDenied, ValidationFailed
from entraide.programmes import rates
from entraide.programmes.models import ExchangeRate, RateImport
from entraide.programmes.rates import Conversion, NoRate, RateProblem

DATA = Path(__file__).parent / "data"
APRIL_1 = dt.date(2020, 4, 1)  # a Wednesday
APRIL_2 = dt.date(2020, 4, 2)
APRIL_3 = dt.date(2020, 4, 3)  # a Friday
ECB = ExchangeRate.Source.ECB
MANUAL = ExchangeRate.Source.MANUAL


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def stored(currency: str, day: dt.date, rate: str, source: str = ECB) -> ExchangeRate:
    return ExchangeRate.objects.create(
        currency=currency,
        day=day,
        rate=Decimal(rate),
        source=source,
        recorded_at=timezone.now(),
        note="by hand" if source == MANUAL else "",
    )


@pytest.fixture
def operator() -> User:
    user: User = UserFactory()
    user.groups.add(fund_operators_group())
    return user


@pytest.fixture
def outsider() -> User:
    user: User = UserFactory()
    return user


@pytest.fixture
def april_first() -> dict[str, ExchangeRate]:
    """Round ECB rates whose conversions can be worked out by hand."""
    return {
        currency: stored(currency, APRIL_1, rate)
        for currency, rate in {
            "USD": "1.25",
            "GBP": "0.8",
            "CHF": "1.2",
            "PLN": "4.096",
            "JPY": "117",
        }.items()
    }


# -- parsing the ECB's four files ----------------------------------------------------------------


def test_the_daily_csv_parses_with_its_long_date_and_trailing_commas() -> None:
    parsed = rates.parse_ecb(data("eurofxref.csv"), "eurofxref.csv")
    assert parsed.problems == []
    assert parsed.days == {
        APRIL_3: {
            "USD": Decimal("1.0800"),
            "JPY": Decimal("117.83"),
            "BGN": Decimal("1.9558"),
            "CZK": Decimal("27.312"),
            "DKK": Decimal("7.4628"),
            "GBP": Decimal("0.87800"),
            "CHF": Decimal("1.0565"),
            "PLN": Decimal("4.5520"),
        }
    }


def test_the_history_csv_skips_na_and_reports_a_broken_rate_with_its_line() -> None:
    with translation.override("en"):
        parsed = rates.parse_ecb(data("eurofxref-hist.csv"), "eurofxref-hist.csv")
    assert parsed.problems == [RateProblem(line=4, reason="Not a rate for JPY: 1.17.8.")]
    assert list(parsed.days) == [dt.date(2008, 1, 2), APRIL_1, APRIL_2, APRIL_3]
    assert parsed.days[APRIL_1] == {
        "USD": Decimal("1.0956"),
        "BGN": Decimal("1.9558"),
        "CZK": Decimal("27.050"),
        "GBP": Decimal("0.88073"),
        "CHF": Decimal("1.0575"),
    }
    assert parsed.days[dt.date(2008, 1, 2)]["CYP"] == Decimal("0.5842")
    assert "CYP" not in parsed.days[APRIL_3]
    assert parsed.rate_count == 24


def test_the_daily_xml_parses() -> None:
    parsed = rates.parse_ecb(data("eurofxref-daily.xml"), "eurofxref-daily.xml")
    assert parsed.problems == []
    assert parsed.days == {
        APRIL_3: {
            "USD": Decimal("1.0800"),
            "JPY": Decimal("117.83"),
            "GBP": Decimal("0.87800"),
            "CHF": Decimal("1.0565"),
        }
    }


def test_the_history_xml_reports_bad_rates_and_days_with_their_lines() -> None:
    with translation.override("en"):
        parsed = rates.parse_ecb(data("eurofxref-hist.xml"), "eurofxref-hist.xml")
    assert parsed.problems == [
        RateProblem(line=14, reason="Not a rate for GBP: -0.88."),
        RateProblem(line=16, reason="Not a date: 2020-02-30."),
    ]
    assert parsed.days == {
        APRIL_1: {"USD": Decimal("1.0956"), "GBP": Decimal("0.88073")},
        APRIL_2: {"USD": Decimal("1.0950")},
        APRIL_3: {"USD": Decimal("1.0800"), "GBP": Decimal("0.87800")},
    }


def test_the_format_comes_from_the_content_not_the_name() -> None:
    parsed = rates.parse_ecb(b"\xef\xbb\xbf" + data("eurofxref-daily.xml"), "rates.csv")
    assert list(parsed.days) == [APRIL_3]


def test_each_bad_row_is_a_problem_and_the_rest_still_imports() -> None:
    content = (
        b"Date,USD,ZZZ,EUR,GBP,\n"
        b"2020-04-03,1.08,1,1,0.1234567,\n"
        b"someday,1.09,1,1,0.88,\n"
        b"2020-04-02,0,1,1,0.88,\n"
        b"2020-04-03,1.07,1,1,0.87,\n"
        b"2020-04-01,1.0956,1,1,0.88073,4.2\n"
    )
    with translation.override("en"):
        parsed = rates.parse_ecb(content, "rates.csv")
    assert parsed.problems == [
        RateProblem(1, "Not a currency code: ZZZ."),
        RateProblem(2, "The rate for GBP has more than 6 decimals."),
        RateProblem(3, "Not a date: someday."),
        RateProblem(4, "The rate for USD must be more than zero."),
        RateProblem(5, "2020-04-03 was already given on line 2."),
        RateProblem(6, "The line has more values than the header."),
    ]
    assert parsed.days == {
        APRIL_1: {"USD": Decimal("1.0956"), "GBP": Decimal("0.88073")},
        APRIL_2: {"GBP": Decimal("0.88")},
        APRIL_3: {"USD": Decimal("1.08")},
    }


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello",
        b"Name,Amount\nAda,12\n",
        b"Date,\n2020-04-01,\n",
        b"\xff\xfeD\x00a\x00t\x00e\x00",
        b"<html><body>rates</body></html>",
        b"<gesmes:Envelope xmlns:gesmes='http://www.gesmes.org/xml/2002-08-01'/>",
        b"<gesmes:Envelope xmlns:gesmes='http://www.gesmes.org/xml/2002-08-01'><Cube>",
    ],
)
def test_a_file_in_neither_format_is_refused(content: bytes) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rates.parse_ecb(content, "rates.txt")
    assert refused.value.field == "file"


def test_an_xml_file_with_a_dtd_is_refused_without_reading_its_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("1.5")
    content = (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY s SYSTEM "file://{secret}">]>'
        "<Envelope><Cube><Cube time='2020-04-01'><Cube currency='USD' rate='1.2'>&s;</Cube>"
        "</Cube></Cube></Envelope>"
    ).encode()
    with pytest.raises(ValidationFailed):
        rates.parse_ecb(content, "rates.xml")


# -- importing ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_import_stores_the_ecb_rates_once_and_is_audited(operator: User) -> None:
    imported = rates.import_rates(
        actor=operator, file_name="eurofxref-hist.csv", content=data("eurofxref-hist.csv")
    )
    assert imported.created
    assert [problem.line for problem in imported.problems] == [4]
    rate_import = imported.rate_import
    assert (rate_import.days, rate_import.rates) == (4, 24)
    assert (rate_import.first_day, rate_import.last_day) == (dt.date(2008, 1, 2), APRIL_3)
    assert rate_import.imported_by == operator
    assert ExchangeRate.objects.filter(imported_from=rate_import, source=ECB).count() == 24
    assert ExchangeRate.objects.get(currency="GBP", day=APRIL_1).rate == Decimal("0.88073")
    event = AuditEvent.objects.get(action="rates.imported")
    assert event.actor == operator
    assert event.changes["days"]["after"] == 4
    assert event.changes["rates"]["after"] == 24
    assert event.changes["new_rates"]["after"] == 24
    assert event.changes["first_day"]["after"] == "2008-01-02"
    assert event.changes["last_day"]["after"] == "2020-04-03"


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing(operator: User) -> None:
    first = rates.import_rates(
        actor=operator, file_name="eurofxref.xml", content=data("eurofxref-daily.xml")
    )
    counts = (RateImport.objects.count(), ExchangeRate.objects.count(), AuditEvent.objects.count())
    again = rates.import_rates(
        actor=operator, file_name="renamed.xml", content=data("eurofxref-daily.xml")
    )
    assert not again.created
    assert again.rate_import == first.rate_import
    assert again.rate_import.file_name == "eurofxref.xml"
    assert counts == (
        RateImport.objects.count(),
        ExchangeRate.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_an_ecb_rate_already_stored_is_left_as_it_is(operator: User) -> None:
    first = rates.import_rates(
        actor=operator, file_name="eurofxref.csv", content=data("eurofxref.csv")
    )
    later = rates.import_rates(
        actor=operator,
        file_name="other.csv",
        content=b"Date,USD,SEK,EUR\n2020-04-03,1.2000,10.9,1.0000\n",
    )
    usd = ExchangeRate.objects.get(currency="USD", day=APRIL_3)
    assert (usd.rate, usd.imported_from) == (Decimal("1.08"), first.rate_import)
    assert ExchangeRate.objects.get(currency="SEK").imported_from == later.rate_import
    assert not ExchangeRate.objects.filter(currency="EUR").exists()
    assert later.rate_import.rates == 2
    assert later.new_rates == 1
    # The stored rate differs from the file's: kept, and the import says so.
    assert later.conflicts == [
        rates.RateConflict(
            day=APRIL_3, currency="USD", stored=Decimal("1.08"), in_file=Decimal("1.2000")
        )
    ]
    event = AuditEvent.objects.filter(action="rates.imported").latest("sequence")
    assert event.changes["new_rates"]["after"] == 1
    assert event.changes["conflicts"]["after"] == 1


@pytest.mark.django_db
def test_a_stored_rate_given_again_with_the_same_value_is_no_conflict(operator: User) -> None:
    rates.import_rates(actor=operator, file_name="eurofxref.csv", content=data("eurofxref.csv"))
    again = rates.import_rates(
        actor=operator, file_name="usd.csv", content=b"Date,USD\n2020-04-03,1.0800\n"
    )
    assert (again.new_rates, again.conflicts) == (0, [])


@pytest.mark.django_db
def test_a_file_without_a_readable_rate_is_refused(operator: User) -> None:
    with pytest.raises(ValidationFailed) as refused, translation.override("en"):
        rates.import_rates(
            actor=operator, file_name="bad.csv", content=b"Date,USD\n2020-04-01,N/A\n"
        )
    with translation.override("en"):
        assert str(refused.value.message) == "The file holds no exchange rate."
    with pytest.raises(ValidationFailed, match="line 2"), translation.override("en"):
        rates.import_rates(actor=operator, file_name="bad.csv", content=b"Date,USD\n1 Mai,1\n")
    assert not RateImport.objects.exists()


@pytest.mark.django_db
def test_only_fund_operators_import_or_record_rates(outsider: User) -> None:
    with pytest.raises(PermissionDenied):
        rates.import_rates(actor=outsider, file_name="r.csv", content=data("eurofxref.csv"))
    with pytest.raises(PermissionDenied):
        rates.record_rate(
            actor=outsider, currency="GBP", day=APRIL_1, rate=Decimal("0.8785"), note="bank"
        )
    assert not RateImport.objects.exists()
    assert not ExchangeRate.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["rates.imported", "rate.recorded"]).exists()


# -- rates recorded by hand ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rate_recorded_by_hand_wins_on_its_day_and_is_audited(operator: User) -> None:
    stored("GBP", APRIL_1, "0.88073")
    manual = rates.record_rate(
        actor=operator, currency="gbp", day=APRIL_1, rate=Decimal("0.8785"), note="Bank's rate"
    )
    assert (manual.currency, manual.source, manual.recorded_by) == ("GBP", MANUAL, operator)
    conv = rates.conversion("EUR", "GBP", APRIL_1)
    assert conv.rate == Decimal("0.8785")
    assert conv.rates == (manual,)
    event = AuditEvent.objects.get(action="rate.recorded")
    assert event.changes["rate"] == {"before": None, "after": "0.8785"}
    assert event.changes["note"] == {"before": None, "after": audit.pseudonym("Bank's rate")}

    again = rates.record_rate(
        actor=operator, currency="GBP", day=APRIL_1, rate=Decimal("0.879"), note="Corrected"
    )
    assert again.pk == manual.pk
    assert ExchangeRate.objects.filter(source=MANUAL).count() == 1
    latest = AuditEvent.objects.filter(action="rate.recorded").latest("sequence")
    assert latest.changes == {
        "note": {"before": audit.pseudonym("Bank's rate"), "after": audit.pseudonym("Corrected")},
        "rate": {"before": "0.878500", "after": "0.879"},
    }
    assert rates.conversion("EUR", "GBP", APRIL_1).rate == Decimal("0.879")


@pytest.mark.django_db
def test_a_rate_by_hand_wins_only_on_its_own_day(operator: User) -> None:
    stored("USD", APRIL_1, "1.0956")
    stored("USD", APRIL_2, "1.0950")
    rates.record_rate(
        actor=operator, currency="USD", day=APRIL_1, rate=Decimal("1.1"), note="Bank's rate"
    )
    assert rates.conversion("EUR", "USD", APRIL_2).rate == Decimal("1.095")
    assert rates.conversion("EUR", "USD", APRIL_1).rate == Decimal("1.1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("currency", "rate", "note", "field"),
    [
        ("EUR", "1", "why", "currency"),
        ("ZZZ", "1", "why", "currency"),
        ("US", "1", "why", "currency"),
        ("GBP", "0", "why", "rate"),
        ("GBP", "-0.88", "why", "rate"),
        ("GBP", "0.1234567", "why", "rate"),
        ("GBP", "1E+40", "why", "rate"),
        ("GBP", "NaN", "why", "rate"),
        ("GBP", "0.88", "  ", "note"),
    ],
)
def test_a_rate_by_hand_is_checked(
    operator: User, currency: str, rate: str, note: str, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        rates.record_rate(
            actor=operator, currency=currency, day=APRIL_1, rate=Decimal(rate), note=note
        )
    assert refused.value.field == field
    assert not ExchangeRate.objects.exists()


# -- conversions ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "target", "rate"),
    [
        ("EUR", "USD", "1.25"),
        ("USD", "EUR", "0.8"),  # 1 / 1.25
        ("USD", "GBP", "0.64"),  # 0.8 / 1.25
        ("GBP", "USD", "1.5625"),  # 1.25 / 0.8
        ("GBP", "CHF", "1.5"),  # 1.2 / 0.8
        ("CHF", "GBP", "0.66666667"),  # 0.8 / 1.2 = 0.666…, to 8 decimals
        ("PLN", "EUR", "0.24414062"),  # 1 / 4.096 = 0.244140625: half to even
        ("USD", "JPY", "93.6"),  # 117 / 1.25
    ],
)
def test_conversion_rates_to_from_and_through_the_euro(
    april_first: dict[str, ExchangeRate], source: str, target: str, rate: str
) -> None:
    conv = rates.conversion(source, target, APRIL_1)
    assert conv.rate == Decimal(rate)
    assert conv.rate.as_tuple().exponent == -8
    assert conv.day == APRIL_1
    assert conv.rates == tuple(april_first[c] for c in (source, target) if c != "EUR")


def test_the_same_currency_needs_no_rate() -> None:
    conv = rates.conversion("gbp", "GBP", APRIL_1)  # no database: nothing is read
    assert (conv.rate, conv.day, conv.rates) == (Decimal(1), APRIL_1, ())
    assert rates.convert(Decimal("12.34"), conv) == Decimal("12.34")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "source", "target", "converted"),
    [
        ("100.00", "CHF", "GBP", "66.67"),  # 66.666667
        ("0.02", "EUR", "USD", "0.03"),  # 0.025: half up
        ("0.01", "EUR", "USD", "0.01"),  # 0.0125
        ("1000.00", "PLN", "EUR", "244.14"),  # 244.14062
        ("12.34", "EUR", "JPY", "1444"),  # 1443.78, the yen has no minor unit
        ("0.50", "EUR", "JPY", "59"),  # 58.5: half up
        ("-0.02", "EUR", "USD", "-0.03"),  # a refund rounds like a payment
    ],
)
def test_conversion_rounds_to_the_minor_unit_of_the_target(
    april_first: dict[str, ExchangeRate], amount: str, source: str, target: str, converted: str
) -> None:
    result = rates.convert(Decimal(amount), rates.conversion(source, target, APRIL_1))
    assert result == Decimal(converted)
    assert result.as_tuple().exponent == -get_currency_precision(target)
    assert get_currency_precision("JPY") == 0


@pytest.mark.django_db
def test_the_latest_rate_of_the_week_serves_the_weekend() -> None:
    stored("USD", APRIL_2, "1.0950")
    friday = stored("USD", APRIL_3, "1.0800")
    stored("USD", dt.date(2020, 4, 6), "1.0900")  # Monday: after the day asked for
    conv = rates.conversion("EUR", "USD", dt.date(2020, 4, 5))
    assert (conv.rate, conv.day, conv.rates) == (Decimal("1.08"), APRIL_3, (friday,))


@pytest.mark.django_db
def test_through_the_euro_the_day_is_the_older_rates() -> None:
    stored("USD", APRIL_3, "1.25")
    stored("GBP", APRIL_2, "0.8")
    conv = rates.conversion("USD", "GBP", dt.date(2020, 4, 4))
    assert (conv.rate, conv.day) == (Decimal("0.64"), APRIL_2)


@pytest.mark.django_db
def test_no_rate_when_it_is_too_old_or_missing() -> None:
    stored("USD", APRIL_1, "1.0956")
    assert rates.conversion("EUR", "USD", dt.date(2020, 4, 8)).day == APRIL_1  # 7 days
    with pytest.raises(NoRate) as missing, translation.override("en"):
        rates.conversion("EUR", "USD", dt.date(2020, 4, 9))
    assert missing.value.code == "no_rate"
    assert str(missing.value.message) == (
        "No exchange rate for USD on 2020-04-09 or in the 7 days before."
    )
    with pytest.raises(NoRate):
        rates.conversion("EUR", "USD", dt.date(2020, 4, 8), max_age_days=3)
    with pytest.raises(NoRate) as unknown:
        rates.conversion("USD", "GBP", APRIL_1)
    assert unknown.value.currency == "GBP"
    with pytest.raises(NoRate):
        rates.conversion("EUR", "USD", dt.date(2020, 3, 31))  # before any rate


@pytest.mark.django_db
def test_a_conversion_says_which_rates_it_used(
    operator: User, april_first: dict[str, ExchangeRate]
) -> None:
    with translation.override("en"):
        assert rates.conversion("USD", "GBP", APRIL_1).describe() == (
            "1 USD = 0.64 GBP, ECB reference rates of 2020-04-01"
        )
        assert rates.conversion("EUR", "JPY", APRIL_1).describe() == (
            "1 EUR = 117 JPY, ECB reference rate of 2020-04-01"
        )
        rates.record_rate(
            actor=operator, currency="GBP", day=APRIL_2, rate=Decimal("0.8"), note="Bank's rate"
        )
        assert rates.conversion("GBP", "EUR", APRIL_2).describe() == (
            "1 GBP = 1.25 EUR, rate of 2020-04-02 recorded by hand"
        )
        assert rates.conversion("CHF", "GBP", APRIL_2).describe() == (
            "1 CHF = 0.66666667 GBP, EUR/CHF: ECB reference rate of 2020-04-01; "
            "EUR/GBP: rate of 2020-04-02 recorded by hand"
        )
        assert rates.conversion("USD", "USD", APRIL_1).describe() == ("USD to USD: no conversion.")
    with translation.override("fr"):
        assert rates.conversion("USD", "JPY", APRIL_1).describe().startswith("1 USD = 93,6 JPY")


# -- no floats, and rounding within half a minor unit ---------------------------------------------

AMOUNTS = st.decimals(
    min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2
)
STORED_RATES = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("999999999999.999999"), places=6
)
CROSS_RATES = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("9999"), places=8)


@given(
    amount=AMOUNTS,
    source_per_euro=STORED_RATES,
    target_per_euro=STORED_RATES,
    target=st.sampled_from(["EUR", "USD", "JPY", "KWD", "GBP"]),
)
@example(  # a tie below zero
    amount=Decimal("-10210.50"),
    source_per_euro=Decimal(1),
    target_per_euro=Decimal(1),
    target="JPY",
)
def test_converting_is_the_exact_amount_rounded_once_and_never_uses_floats(
    amount: Decimal, source_per_euro: Decimal, target_per_euro: Decimal, target: str
) -> None:
    conv = Conversion(
        source="XXX",
        target=target,
        rate=rates.per_unit(source_per_euro, target_per_euro),
        day=APRIL_1,
        rates=(),
        source_per_euro=source_per_euro,
        target_per_euro=target_per_euro,
    )
    with decimal.localcontext() as context:
        context.traps[decimal.FloatOperation] = True  # a float anywhere raises
        result = rates.convert(amount, conv)
    assert type(result) is Decimal
    places = get_currency_precision(target)
    assert result.as_tuple().exponent == -places
    # Through the euro exactly (not at the rate rounded to 8 decimals), rounded half up once.
    exact = Fraction(amount) * Fraction(target_per_euro) / Fraction(source_per_euro)
    error = Fraction(result) - exact
    half = Fraction(1, 2 * 10**places)
    assert abs(error) <= half
    if abs(error) == half:  # a tie goes away from zero
        assert abs(Fraction(result)) > abs(exact)


@given(source=STORED_RATES, target=STORED_RATES)
def test_a_rate_through_the_euro_is_the_exact_quotient_rounded_half_to_even(
    source: Decimal, target: Decimal
) -> None:
    expected = round(Fraction(target) / Fraction(source) * 10**8)  # round() is half to even
    assert rates.per_unit(source, target) == Decimal(expected).scaleb(-8)


def test_floats_are_refused() -> None:
    conv = Conversion(source="EUR", target="USD", rate=Decimal("1.25"), day=APRIL_1, rates=())
    with pytest.raises(TypeError):
        rates.convert(1.5, conv)
    with pytest.raises(TypeError):
        rates.convert(
            Decimal("1.5"),
            Conversion("EUR", "USD", Decimal("1.25"), APRIL_1, (), Decimal(1), float("1.25")),
        )


# -- the command ----------------------------------------------------------------------------------


def run(*args: str) -> list[dict[str, object]]:
    out = io.StringIO()
    call_command("programmes", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.django_db
def test_the_command_imports_records_and_converts(operator: User) -> None:
    history = str(DATA / "eurofxref-hist.xml")
    with translation.override("en"):
        *problems, summary = run("import-rates", history, "--as", operator.email)
    assert problems == [
        {"line": 14, "problem": "Not a rate for GBP: -0.88."},
        {"line": 16, "problem": "Not a date: 2020-02-30."},
    ]
    assert summary == {
        "file": "eurofxref-hist.xml",
        "already_imported": False,
        "days": 3,
        "rates": 5,
        "first_day": "2020-04-01",
        "last_day": "2020-04-03",
        "problems": 2,
        "new_rates": 5,
        "conflicts": 0,
    }
    assert run("import-rates", history, "--as", operator.email)[-1]["already_imported"] is True

    (recorded,) = run(
        "record-rate", "--currency", "GBP", "--day", "2020-04-02", "--rate", "0.8785",
        "--note", "Bank's rate", "--as", operator.email,
    )  # fmt: skip
    assert recorded == {
        "currency": "GBP",
        "day": "2020-04-02",
        "rate": "0.8785",
        "source": "manual",
        "note": "Bank's rate",
    }

    with translation.override("en"):
        (converted,) = run("convert", "1000.00", "USD", "GBP", "--day", "2020-04-02")
    assert converted == {
        "amount": "1000.00",
        "source": "USD",
        "converted": "802.28",  # 1000 × 0.8785 / 1.0950 = 802.2831…
        "target": "GBP",
        "rate": "0.80228311",
        "day": "2020-04-02",
        "rates": [
            {"currency": "USD", "day": "2020-04-02", "rate": "1.095000", "source": "ecb"},
            {"currency": "GBP", "day": "2020-04-02", "rate": "0.878500", "source": "manual"},
        ],
        "description": "1 USD = 0.80228311 GBP, EUR/USD: ECB reference rate of 2020-04-02; "
        "EUR/GBP: rate of 2020-04-02 recorded by hand",
    }


@pytest.mark.django_db
def test_the_command_turns_refusals_into_errors(outsider: User, tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        run("import-rates", str(DATA / "eurofxref.csv"), "--as", outsider.email)
    with pytest.raises(CommandError):
        run("import-rates", str(tmp_path / "missing.csv"), "--as", outsider.email)
    with pytest.raises(CommandError):
        run("import-rates", str(DATA / "eurofxref.csv"), "--as", "nobody@example.invalid")
    with pytest.raises(CommandError, match="USD"), translation.override("en"):
        run("convert", "10", "EUR", "USD", "--day", "2020-04-01")
    with pytest.raises(CommandError):
        run("convert", "ten", "EUR", "USD", "--day", "2020-04-01")
    with pytest.raises(CommandError):
        run("convert", "10", "EUR", "USD", "--day", "2020-04-31")
