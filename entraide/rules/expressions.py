"""The rule expression language: a small typed AST, evaluated in Python and compiled to SQL.

Expressions use a subset of Python's syntax, parsed with :mod:`ast` and checked node by node
(never evaluated by Python): names, numbers, strings, ``True``/``False``, comparisons,
``and``/``or``/``not``, ``+ - *``, ``in [..]`` and the functions ``date("YYYY-MM-DD")``,
``min``, ``max`` and ``abs``. Division is left out on purpose: amounts and thresholds stay
exact decimals in both evaluators.

Missing values follow SQL's three-valued logic in both evaluators, so that the per-applicant
engine and the batch engine always agree: a comparison with an unknown value is unknown, and a
criterion passes only when its test is true.
"""

from __future__ import annotations

import ast
import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


class Type(enum.StrEnum):
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    TEXT = "text"


class ExpressionError(ValueError):
    """An expression that cannot be parsed or is ill-typed; ``str()`` says why."""


@dataclass(frozen=True)
class Const:
    value: Decimal | dt.date | bool | str | None
    type: Type | None


@dataclass(frozen=True)
class Name:
    name: str
    type: Type


@dataclass(frozen=True)
class Compare:
    op: str  # one of == != < <= > >=
    left: Node
    right: Node


@dataclass(frozen=True)
class InList:
    item: Node
    options: tuple[Const, ...]
    negated: bool


@dataclass(frozen=True)
class BoolOp:
    op: str  # and / or
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Arith:
    op: str  # + - *
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Func:
    name: str  # min / max / abs
    args: tuple[Node, ...]


Node = Const | Name | Compare | InList | BoolOp | Not | Arith | Neg | Func

COMPARISONS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


def node_type(node: Node) -> Type | None:
    match node:
        case Const(type=type_) | Name(type=type_):
            return type_
        case Compare() | InList() | BoolOp() | Not():
            return Type.BOOLEAN
        case Arith() | Neg():
            return Type.NUMBER
        case Func(args=args):
            return node_type(args[0])
    raise AssertionError(node)


def parse(source: str, names: Mapping[str, Type]) -> Node:
    """Parse and type-check ``source``; ``names`` gives the type of every name it may use."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"syntax error at column {error.offset}: {source!r}") from None
    return _Builder(names).build(tree.body)


class _Builder:
    def __init__(self, names: Mapping[str, Type]) -> None:
        self.names = names

    def build(self, node: ast.expr) -> Node:
        if isinstance(node, ast.Constant):
            return self.constant(node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise ExpressionError(f"unknown name {node.id!r}")
            return Name(node.id, self.names[node.id])
        if isinstance(node, ast.BoolOp):
            operands = tuple(self.boolean(value) for value in node.values)
            return BoolOp("and" if isinstance(node.op, ast.And) else "or", operands)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Not(self.boolean(node.operand))
            if isinstance(node.op, ast.USub):
                return Neg(self.number(node.operand))
            raise ExpressionError("only 'not' and '-' may stand before a value")
        if isinstance(node, ast.BinOp):
            op = ARITHMETIC.get(type(node.op))
            if op is None:
                raise ExpressionError("only +, - and * are allowed in arithmetic")
            return Arith(op, self.number(node.left), self.number(node.right))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise ExpressionError(f"{type(node).__name__} is not allowed in a rule expression")

    def constant(self, value: object) -> Const:
        if isinstance(value, bool):
            return Const(value, Type.BOOLEAN)
        if isinstance(value, int | float):
            number = Decimal(str(value))
            problem = number_problem(number)
            if problem:
                raise ExpressionError(problem)
            return Const(number, Type.NUMBER)
        if isinstance(value, str):
            return Const(value, Type.TEXT)
        raise ExpressionError(f"constant {value!r} is not allowed")

    def typed(self, node: ast.expr, expected: Type) -> Node:
        built = self.build(node)
        actual = node_type(built)
        if actual is not None and actual != expected:
            raise ExpressionError(f"expected a {expected} but got a {actual}: {ast.unparse(node)}")
        return built

    def boolean(self, node: ast.expr) -> Node:
        return self.typed(node, Type.BOOLEAN)

    def number(self, node: ast.expr) -> Node:
        return self.typed(node, Type.NUMBER)

    def compare(self, node: ast.Compare) -> Node:
        if len(node.ops) != 1:
            raise ExpressionError("write chained comparisons with 'and': a < b and b < c")
        op, right = node.ops[0], node.comparators[0]
        left = self.build(node.left)
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, ast.List | ast.Tuple):
                raise ExpressionError("'in' needs a list of values: x in [1, 2]")
            if not right.elts:
                raise ExpressionError("'in' needs at least one value: x in [1, 2]")
            options = tuple(self.constant_of(element) for element in right.elts)
            for option in options:
                _check_comparable(left, option)
            return InList(left, options, negated=isinstance(op, ast.NotIn))
        symbol = COMPARISONS.get(type(op))
        if symbol is None:
            raise ExpressionError("unsupported comparison")
        right_node = self.build(right)
        _check_comparable(left, right_node)
        if symbol not in ("==", "!=") and Type.BOOLEAN in (node_type(left), node_type(right_node)):
            raise ExpressionError("booleans can only be compared with == or !=")
        return Compare(symbol, left, right_node)

    def constant_of(self, node: ast.expr) -> Const:
        built = self.build(node)
        if isinstance(built, Neg) and isinstance(built.operand, Const):
            # -1 is a unary minus before the constant 1 in Python's syntax
            assert isinstance(built.operand.value, Decimal)
            return Const(-built.operand.value, Type.NUMBER)
        if not isinstance(built, Const):
            raise ExpressionError("a list after 'in' holds constants only")
        return built

    def call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise ExpressionError("only date(), min(), max() and abs() may be called")
        name = node.func.id
        if name == "date":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant):
                raise ExpressionError('date() takes one text: date("2020-03-01")')
            try:
                return Const(dt.date.fromisoformat(str(node.args[0].value)), Type.DATE)
            except ValueError:
                raise ExpressionError(f"not a date: {node.args[0].value!r}") from None
        if name == "abs":
            if len(node.args) != 1:
                raise ExpressionError("abs() takes one number")
            return Func("abs", (self.number(node.args[0]),))
        if name in ("min", "max"):
            if len(node.args) < 2:
                raise ExpressionError(f"{name}() takes two values or more")
            args = tuple(self.build(arg) for arg in node.args)
            kinds = {node_type(arg) for arg in args} - {None}
            if len(kinds) > 1 or Type.BOOLEAN in kinds or Type.TEXT in kinds:
                raise ExpressionError(f"{name}() takes numbers or dates of one kind")
            return Func(name, args)
        raise ExpressionError(f"unknown function {name}()")


def number_problem(number: Decimal) -> str | None:
    """Why a constant number cannot be used, or None: both evaluators must hold it exactly
    (the SQL type is DECIMAL(18,4): 14 digits before the point, 4 after)."""
    if not number.is_finite():
        return f"{number} is not a number that rules can use"
    if number.copy_abs() >= Decimal(10) ** 14:  # abs() would overflow the context
        return f"{number} is too large (at most 14 digits before the decimal point)"
    if number != number.quantize(Decimal("0.0001")):
        return f"{number} has more than 4 decimal places"
    return None


def _check_comparable(left: Node, right: Node) -> None:
    left_type, right_type = node_type(left), node_type(right)
    if left_type is not None and right_type is not None and left_type != right_type:
        raise ExpressionError(f"cannot compare a {left_type} with a {right_type}")


def names_in(node: Node) -> set[str]:
    match node:
        case Name(name=name):
            return {name}
        case Const():
            return set()
        case Compare(left=left, right=right) | Arith(left=left, right=right):
            return names_in(left) | names_in(right)
        case InList(item=item):
            return names_in(item)
        case BoolOp(operands=operands) | Func(args=operands):
            return set().union(*(names_in(operand) for operand in operands))
        case Not(operand=operand) | Neg(operand=operand):
            return names_in(operand)
    raise AssertionError(node)


# -- Python evaluation (three-valued) ----------------------------------------------------------

_PY_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def evaluate(node: Node, values: Mapping[str, Any]) -> Any:
    match node:
        case Const(value=value):
            return value
        case Name(name=name):
            return values.get(name)
        case Compare(op=op, left=left, right=right):
            a, b = evaluate(left, values), evaluate(right, values)
            return None if a is None or b is None else _PY_COMPARE[op](a, b)
        case InList(item=item, options=options, negated=negated):
            value = evaluate(item, values)
            if value is None:
                return None
            return (value in [option.value for option in options]) != negated
        case BoolOp(op="and", operands=operands):
            results = [evaluate(operand, values) for operand in operands]
            if any(result is False for result in results):
                return False
            return None if any(result is None for result in results) else True
        case BoolOp(operands=operands):
            results = [evaluate(operand, values) for operand in operands]
            if any(result is True for result in results):
                return True
            return None if any(result is None for result in results) else False
        case Not(operand=operand):
            result = evaluate(operand, values)
            return None if result is None else not result
        case Arith(op=op, left=left, right=right):
            a, b = evaluate(left, values), evaluate(right, values)
            if a is None or b is None:
                return None
            result = a + b if op == "+" else a - b if op == "-" else a * b
            # SQL casts every result to DECIMAL(18,4), which rounds half away from zero.
            return result.quantize(SCALE, rounding=ROUND_HALF_UP)
        case Neg(operand=operand):
            value = evaluate(operand, values)
            return None if value is None else -value
        case Func(name="abs", args=(arg,)):
            value = evaluate(arg, values)
            return None if value is None else abs(value)
        case Func(name=name, args=args):
            # LEAST/GREATEST in DuckDB and PostgreSQL skip unknown values.
            known = [v for v in (evaluate(arg, values) for arg in args) if v is not None]
            if not known:
                return None
            return min(known) if name == "min" else max(known)
    raise AssertionError(node)


# -- SQL compilation (DuckDB) ------------------------------------------------------------------

NUMERIC_SQL = "DECIMAL(18,4)"
SCALE = Decimal("0.0001")  # the 4 decimal places of NUMERIC_SQL


def sql_literal(value: Decimal | dt.date | bool | str | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return f"CAST('{value}' AS {NUMERIC_SQL})"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + value.replace("'", "''") + "'"


def to_sql(node: Node, column: Callable[[str], str]) -> str:
    """SQL for ``node``; ``column(name)`` gives the SQL that reads a name."""
    match node:
        case Const(value=value):
            return sql_literal(value)
        case Name(name=name):
            return column(name)
        case Compare(op=op, left=left, right=right):
            symbol = {"==": "=", "!=": "<>"}.get(op, op)
            return f"({to_sql(left, column)} {symbol} {to_sql(right, column)})"
        case InList(item=item, options=options, negated=negated):
            listed = ", ".join(sql_literal(option.value) for option in options)
            return f"({to_sql(item, column)} {'NOT IN' if negated else 'IN'} ({listed}))"
        case BoolOp(op=op, operands=operands):
            joined = f" {op.upper()} ".join(to_sql(operand, column) for operand in operands)
            return f"({joined})"
        case Not(operand=operand):
            return f"(NOT {to_sql(operand, column)})"
        case Arith(op=op, left=left, right=right):
            # DuckDB multiplies two DECIMAL(18,x) in 64 bits and fails beyond 10^10: widen first.
            left_sql = to_sql(left, column)
            if op == "*":
                left_sql = f"CAST({left_sql} AS DECIMAL(38,4))"
            return f"CAST({left_sql} {op} {to_sql(right, column)} AS {NUMERIC_SQL})"
        case Neg(operand=operand):
            return f"(- {to_sql(operand, column)})"
        case Func(name="abs", args=(arg,)):
            return f"ABS({to_sql(arg, column)})"
        case Func(name=name, args=args):
            function = "LEAST" if name == "min" else "GREATEST"
            return f"{function}({', '.join(to_sql(arg, column) for arg in args)})"
    raise AssertionError(node)
