"""The rule expression language: what parses, what is refused and why, and the three-valued
evaluation in Python (SQL's logic: an unknown value makes a comparison unknown)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from entraide.rules.expressions import (
    BoolOp,
    Compare,
    Const,
    ExpressionError,
    Func,
    InList,
    Name,
    Type,
    evaluate,
    names_in,
    node_type,
    parse,
    to_sql,
)

NAMES = {
    "days": Type.NUMBER,
    "hours": Type.NUMBER,
    "resources": Type.NUMBER,
    "opened": Type.DATE,
    "ended": Type.DATE,
    "evaluation_date": Type.DATE,
    "abroad": Type.BOOLEAN,
    "insured": Type.BOOLEAN,
    "country": Type.TEXT,
    "profession": Type.TEXT,
}


def value_of(source: str, **values: Any) -> Any:
    return evaluate(parse(source, NAMES), values)


def refusal(source: str) -> str:
    with pytest.raises(ExpressionError) as raised:
        parse(source, NAMES)
    return str(raised.value)


# -- what parses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected_type"),
    [
        ("days >= 12", Type.BOOLEAN),
        ("days", Type.NUMBER),
        ("days + hours * 2 - 1", Type.NUMBER),
        ("-days", Type.NUMBER),
        ("abs(days - 12)", Type.NUMBER),
        ("min(days, hours, 3)", Type.NUMBER),
        ("max(opened, ended)", Type.DATE),
        ('date("2020-02-29")', Type.DATE),
        ("opened >= date('2019-01-01') and opened <= date('2019-12-31')", Type.BOOLEAN),
        ("abroad", Type.BOOLEAN),
        ("abroad == True", Type.BOOLEAN),
        ("not abroad or insured", Type.BOOLEAN),
        ('country == "FR"', Type.BOOLEAN),
        ('country in ["FR", "BE"]', Type.BOOLEAN),
        ('profession not in ("artist",)', Type.BOOLEAN),
        ("days in [-1, 0, 1.5]", Type.BOOLEAN),
        ("'artist'", Type.TEXT),
        ("  days >= 12  ", Type.BOOLEAN),
    ],
)
def test_well_formed_expressions_parse_with_their_type(source: str, expected_type: Type) -> None:
    assert node_type(parse(source, NAMES)) == expected_type


def test_numbers_are_exact_decimals() -> None:
    assert parse("days > 0.1", NAMES) == Compare(
        ">", Name("days", Type.NUMBER), Const(Decimal("0.1"), Type.NUMBER)
    )
    assert value_of("0.1 + 0.2 == 0.3") is True


def test_negative_numbers_can_be_listed_after_in() -> None:
    node = parse("days in [-1, 2]", NAMES)

    assert node == InList(
        Name("days", Type.NUMBER),
        (Const(Decimal(-1), Type.NUMBER), Const(Decimal(2), Type.NUMBER)),
        negated=False,
    )


def test_names_in_lists_every_name_once() -> None:
    node = parse("days >= 12 and (min(days, hours) > 3 or not abroad) and -resources < 0", NAMES)

    assert names_in(node) == {"days", "hours", "abroad", "resources"}


def test_and_or_keep_all_their_operands() -> None:
    node = parse("abroad and insured and days > 1", NAMES)

    assert isinstance(node, BoolOp)
    assert (node.op, len(node.operands)) == ("and", 3)
    assert parse("min(days, 1)", NAMES) == Func(
        "min", (Name("days", Type.NUMBER), Const(Decimal(1), Type.NUMBER))
    )


# -- what is refused -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param("days.real", "Attribute is not allowed in a rule expression", id="attribute"),
        pytest.param(
            "country.upper() == 'FR'",
            "only date(), min(), max() and abs() may be called",
            id="method-call",
        ),
        pytest.param("open('/etc/passwd')", "unknown function open()", id="call-to-open"),
        pytest.param("__import__('os')", "unknown function __import__()", id="dunder-import"),
        pytest.param("eval('1')", "unknown function eval()", id="call-to-eval"),
        pytest.param("len(country) > 1", "unknown function len()", id="call-to-len"),
        pytest.param(
            "(lambda: 1)()", "only date(), min(), max() and abs() may be called", id="lambda-call"
        ),
        pytest.param("lambda: True", "Lambda is not allowed in a rule expression", id="lambda"),
        pytest.param(
            "country[0] == 'F'", "Subscript is not allowed in a rule expression", id="subscript"
        ),
        pytest.param("days / 2 > 1", "only +, - and * are allowed in arithmetic", id="division"),
        pytest.param(
            "days // 2 > 1", "only +, - and * are allowed in arithmetic", id="floor-division"
        ),
        pytest.param("days % 2 == 0", "only +, - and * are allowed in arithmetic", id="modulo"),
        pytest.param("days ** 2 > 1", "only +, - and * are allowed in arithmetic", id="power"),
        pytest.param(
            "0 < days < 12", "write chained comparisons with 'and': a < b and b < c", id="chained"
        ),
        pytest.param("abroad is True", "unsupported comparison", id="is"),
        pytest.param(
            "days if abroad else 0", "IfExp is not allowed in a rule expression", id="if-expression"
        ),
        pytest.param(
            "[d for d in [1]]", "ListComp is not allowed in a rule expression", id="comprehension"
        ),
        pytest.param(
            "f'{days}' == '1'", "JoinedStr is not allowed in a rule expression", id="f-string"
        ),
        pytest.param(
            "(days := 1) > 0", "NamedExpr is not allowed in a rule expression", id="walrus"
        ),
        pytest.param("~days", "only 'not' and '-' may stand before a value", id="bit-inversion"),
        pytest.param("+days", "only 'not' and '-' may stand before a value", id="unary-plus"),
        pytest.param("days & 1", "only +, - and * are allowed in arithmetic", id="bitwise-and"),
        pytest.param("None", "constant None is not allowed", id="none"),
        pytest.param("b'FR' == country", "constant b'FR' is not allowed", id="bytes"),
        pytest.param("1j", "constant 1j is not allowed", id="complex"),
        pytest.param("days < 1e999", "Infinity is not a number that rules can use", id="infinity"),
        pytest.param("days > 0.00001", "0.00001 has more than 4 decimal places", id="too-fine"),
        pytest.param(
            "days < 100000000000000",
            "100000000000000 is too large (at most 14 digits before the decimal point)",
            id="too-large",
        ),
        pytest.param("bogus > 1", "unknown name 'bogus'", id="unknown-name"),
        pytest.param("days >=", "syntax error at column 0: 'days >='", id="incomplete"),
        pytest.param("days => 12", "syntax error at column 6: 'days => 12'", id="wrong-operator"),
        pytest.param(
            "days > 1; import os", "syntax error at column 9: 'days > 1; import os'", id="statement"
        ),
    ],
)
def test_forbidden_syntax_is_refused_with_a_reason(source: str, message: str) -> None:
    assert refusal(source) == message


@pytest.mark.parametrize(
    ("source", "message"),
    [
        pytest.param(
            "days == 'twelve'", "cannot compare a number with a text", id="number-vs-text"
        ),
        pytest.param("opened > 2020", "cannot compare a date with a number", id="date-vs-number"),
        pytest.param(
            "abroad == 1", "cannot compare a boolean with a number", id="boolean-vs-number"
        ),
        pytest.param(
            "abroad < insured", "booleans can only be compared with == or !=", id="ordered-booleans"
        ),
        pytest.param("not days", "expected a boolean but got a number: days", id="not-a-number"),
        pytest.param(
            "days and abroad", "expected a boolean but got a number: days", id="number-in-and"
        ),
        pytest.param(
            "abroad or country", "expected a boolean but got a text: country", id="text-in-or"
        ),
        pytest.param(
            "-abroad", "expected a number but got a boolean: abroad", id="negated-boolean"
        ),
        pytest.param(
            "country + 'x' == 'FRx'",
            "expected a number but got a text: country",
            id="text-arithmetic",
        ),
        pytest.param(
            "opened + 1 > opened", "expected a number but got a date: opened", id="date-arithmetic"
        ),
        pytest.param("abs(opened)", "expected a number but got a date: opened", id="abs-of-a-date"),
        pytest.param("abs(days, 1)", "abs() takes one number", id="abs-of-two"),
        pytest.param("min(days)", "min() takes two values or more", id="min-of-one"),
        pytest.param(
            "max(days, opened)", "max() takes numbers or dates of one kind", id="max-mixed"
        ),
        pytest.param(
            "min(abroad, insured)", "min() takes numbers or dates of one kind", id="min-booleans"
        ),
        pytest.param(
            "min(country, 'FR')", "min() takes numbers or dates of one kind", id="min-texts"
        ),
        pytest.param(
            "min(days, key=1)", "only date(), min(), max() and abs() may be called", id="keyword"
        ),
        pytest.param(
            "date(country)", 'date() takes one text: date("2020-03-01")', id="date-of-a-name"
        ),
        pytest.param("date()", 'date() takes one text: date("2020-03-01")', id="date-of-nothing"),
        pytest.param("date('2020-02-30')", "not a date: '2020-02-30'", id="no-30-february"),
        pytest.param("date('01/03/2020')", "not a date: '01/03/2020'", id="french-order"),
        pytest.param("days in days", "'in' needs a list of values: x in [1, 2]", id="in-a-name"),
        pytest.param("days in {1, 2}", "'in' needs a list of values: x in [1, 2]", id="in-a-set"),
        pytest.param("days in []", "'in' needs at least one value: x in [1, 2]", id="in-empty"),
        pytest.param("days in [hours]", "a list after 'in' holds constants only", id="in-names"),
        pytest.param(
            "days in [1 + 1]", "a list after 'in' holds constants only", id="in-arithmetic"
        ),
        pytest.param("country in ['FR', 1]", "cannot compare a text with a number", id="in-mixed"),
    ],
)
def test_ill_typed_expressions_are_refused_with_a_reason(source: str, message: str) -> None:
    assert refusal(source) == message


# -- three-valued evaluation -----------------------------------------------------------------------

TRUTH = [True, False, None]


def kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


@pytest.mark.parametrize(("a", "b"), list(itertools.product(TRUTH, TRUTH)))
def test_and_or_follow_the_three_valued_truth_tables(a: bool | None, b: bool | None) -> None:
    assert value_of("abroad and insured", abroad=a, insured=b) is kleene_and(a, b)
    assert value_of("abroad or insured", abroad=a, insured=b) is kleene_or(a, b)


@pytest.mark.parametrize(("a", "expected"), [(True, False), (False, True), (None, None)])
def test_not_of_unknown_is_unknown(a: bool | None, expected: bool | None) -> None:
    assert value_of("not abroad", abroad=a) is expected


def test_false_wins_over_unknown_in_and_true_in_or() -> None:
    assert value_of("days > 1 and abroad", days=Decimal(0)) is False
    assert value_of("days > 1 or abroad", days=Decimal(5)) is True
    assert value_of("days > 1 and abroad and insured", days=Decimal(5), abroad=True) is None


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        pytest.param("days >= 12", {"days": Decimal(12)}, True, id="at-threshold"),
        pytest.param("days >= 12", {"days": Decimal(11)}, False, id="below-threshold"),
        pytest.param("days >= 12", {}, None, id="unknown-compared"),
        pytest.param("days == days", {}, None, id="unknown-equals-nothing-not-even-itself"),
        pytest.param("days != 3", {}, None, id="unknown-not-equal"),
        pytest.param("country in ['FR', 'BE']", {"country": "BE"}, True, id="in"),
        pytest.param("country in ['FR', 'BE']", {"country": "DE"}, False, id="not-in-list"),
        pytest.param("country in ['FR', 'BE']", {}, None, id="unknown-in"),
        pytest.param("country not in ['FR']", {"country": "DE"}, True, id="not-in"),
        pytest.param("country not in ['FR']", {"country": "FR"}, False, id="not-in-listed"),
        pytest.param("country not in ['FR']", {}, None, id="unknown-not-in"),
        pytest.param(
            "min(days, hours)", {"days": Decimal(3), "hours": Decimal(2)}, Decimal(2), id="min"
        ),
        pytest.param(
            "max(days, hours)", {"days": Decimal(3), "hours": Decimal(2)}, Decimal(3), id="max"
        ),
        pytest.param("min(days, hours)", {"hours": Decimal(2)}, Decimal(2), id="min-skips-unknown"),
        pytest.param(
            "max(days, hours, 1)", {"days": Decimal(-4)}, Decimal(1), id="max-skips-unknown"
        ),
        pytest.param("min(days, hours)", {}, None, id="min-of-unknowns"),
        pytest.param(
            "max(opened, ended)",
            {"opened": dt.date(2020, 3, 1), "ended": dt.date(2019, 3, 1)},
            dt.date(2020, 3, 1),
            id="max-of-dates",
        ),
        pytest.param("abs(days - 12)", {"days": Decimal(9)}, Decimal(3), id="abs"),
        pytest.param("abs(days)", {}, None, id="abs-of-unknown"),
        pytest.param("days + hours", {"days": Decimal(1)}, None, id="sum-with-unknown"),
        pytest.param(
            "days * 12 - hours",
            {"days": Decimal(2), "hours": Decimal("0.5")},
            Decimal("23.5"),
            id="arithmetic",
        ),
        pytest.param("-days", {"days": Decimal(3)}, Decimal(-3), id="negation"),
        pytest.param("-days", {}, None, id="negation-of-unknown"),
        pytest.param(
            "resources * 0.5 <= 7500", {"resources": Decimal(15000)}, True, id="exact-half"
        ),
        pytest.param(
            "opened >= date('2019-01-01') and opened <= date('2019-12-31')",
            {"opened": dt.date(2019, 12, 31)},
            True,
            id="date-window-last-day",
        ),
        pytest.param(
            "opened >= date('2019-01-01') and opened <= date('2019-12-31')",
            {"opened": dt.date(2020, 1, 1)},
            False,
            id="date-window-day-after",
        ),
        pytest.param(
            "ended <= evaluation_date",
            {"ended": dt.date(2020, 4, 15), "evaluation_date": dt.date(2020, 4, 15)},
            True,
            id="evaluation-date",
        ),
        pytest.param("abroad == True", {"abroad": False}, False, id="boolean-equality"),
        pytest.param("abroad != insured", {"abroad": True}, None, id="boolean-unknown"),
    ],
)
def test_evaluation(source: str, values: dict[str, Any], expected: Any) -> None:
    assert value_of(source, **values) == expected
    assert type(value_of(source, **values)) is type(expected)


# -- the same logic in SQL -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "abroad and insured",
        "abroad or insured",
        "not abroad",
        "not (abroad or insured) and days >= 12",
        "days in [1, 12] or abroad",
        "days not in [1, 12]",
        "min(days, 5) >= 5",
        "max(days, -1) < 0",
        "abs(days - 12) * 2 <= 4",
    ],
)
def test_sql_compilation_agrees_on_unknown_values(source: str) -> None:
    """The batch engine runs the same expressions in DuckDB: the truth tables must agree."""
    node = parse(source, NAMES)
    sql_type = {"abroad": "BOOLEAN", "insured": "BOOLEAN", "days": "DECIMAL(18,4)"}
    columns = ", ".join(f"CAST($col{i} AS {t}) AS {n}" for i, (n, t) in enumerate(sql_type.items()))
    connection = duckdb.connect()
    for abroad, insured, days in itertools.product(TRUTH, TRUTH, [None, Decimal(1), Decimal(12)]):
        values = {"abroad": abroad, "insured": insured, "days": days}
        query = f"SELECT {to_sql(node, lambda name: name)} FROM (SELECT {columns})"  # noqa: S608
        params = {f"col{i}": values[name] for i, name in enumerate(sql_type)}
        row = connection.execute(query, params).fetchone()
        assert row is not None
        assert row[0] == evaluate(node, values), values
