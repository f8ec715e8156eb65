"""Pages of long lists that stay fast at any depth.

A list of a million rows makes two queries slow: ``COUNT(*)`` of everything that matches, and
``OFFSET`` far into it (the database reads and throws away every row before the page). Here
the count stops at a cap ("more than 1,000"), and the next and previous pages are found from
the row at the page's edge (keyset pagination): ``WHERE (key, id) > (last key, last id)
ORDER BY key, id LIMIT n`` reads only the page from an index, however deep. Page numbers are
offered by ``OFFSET`` up to the cap only; the number a keyset page shows is carried in its
address for the reader, and does not choose the rows.

The sort keys of a list must identify a row (end with a unique column) and all go the same
way, so that a row value comparison is the order's "after".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    DateTimeField,
    F,
    Func,
    IntegerField,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.lookups import GreaterThan, LessThan

# Counting costs about as much per row as reading one: up to 1,000 keeps the count of any list
# of a million a few milliseconds (bench/backoffice.py); past it the page says "more than".
COUNT_CAP = 1_000


class _Row(Func):
    """``(a, b, …)``: a row value (compared column by column)."""

    template = "(%(expressions)s)"
    output_field = TextField()  # never read: only compared


def capped_count(queryset: QuerySet[Any], cap: int | None = None) -> tuple[int, bool]:
    """``(count, more)``: the number of rows up to ``cap``, and whether there are more."""
    cap = COUNT_CAP if cap is None else cap
    found = queryset.order_by().values("pk")[: cap + 1].count()
    return min(found, cap), found > cap


def capped_counts(
    querysets: Sequence[QuerySet[Any]], cap: int | None = None
) -> list[tuple[int, bool]]:
    """:func:`capped_count` of each queryset, all in one query."""
    cap = COUNT_CAP if cap is None else cap
    parts: list[str] = []
    params: list[Any] = []
    for queryset in querysets:
        try:
            sql, values = queryset.order_by().values("pk")[: cap + 1].query.sql_with_params()
        except EmptyResultSet:
            sql, values = "SELECT 1 WHERE 1 = 0", ()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608 (compiled SQL)
        params.extend(values)
    if not parts:
        return []
    with connections[querysets[0].db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        found = cursor.fetchone()
    return [(min(n, cap), n > cap) for n in found]


MAX_CURSOR = 512


def encode_cursor(values: Sequence[Any]) -> str:
    tagged = [["t", v.isoformat()] if isinstance(v, dt.datetime) else v for v in values]
    raw = json.dumps(tagged, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any] | None:
    """The values of a cursor made by :func:`encode_cursor`, if they are of ``types`` (a
    datetime with its time zone); else None: an address typed by hand lists from the start."""
    if len(cursor) > MAX_CURSOR:  # ours hold a few keys; a longer one is typed by hand
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tagged = json.loads(raw)
        values = [
            dt.datetime.fromisoformat(v[1]) if isinstance(v, list) and v[:1] == ["t"] else v
            for v in tagged
        ]
    except (binascii.Error, ValueError, TypeError, IndexError, RecursionError):
        return None
    if not isinstance(tagged, list) or len(values) != len(types):
        return None
    for value, kind in zip(values, types, strict=True):
        if type(value) is not kind:
            return None
        if isinstance(value, str) and "\x00" in value:  # no database text holds one
            return None
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return None
    return values


def _python_type(model: Any, path: str) -> type:
    """What a sort key holds in Python, following relations (``award__queued_at``)."""
    field: Any = None
    for name in path.split("__"):
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        model = field.related_model
    if isinstance(field, DateTimeField):
        return dt.datetime
    return int if isinstance(field, IntegerField) else str


@dataclass(frozen=True)
class KeysetPage:
    rows: list[Any]
    number: int
    size: int
    count: int  # of the whole list, up to the cap
    more: bool  # the list holds more than ``count`` rows
    has_next: bool
    has_previous: bool
    next_cursor: str  # the last row's keys (empty: no next page)
    previous_cursor: str  # the first row's keys (empty: no previous page)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def num_pages(self) -> int | None:
        """None when the list is longer than the count tells."""
        return None if self.more else max(1, math.ceil(self.count / self.size))

    @property
    def previous_is_first(self) -> bool:
        return self.number <= 2


def page_of(
    queryset: QuerySet[Any],
    keys: Sequence[str],
    *,
    descending: bool = False,
    size: int,
    number: int = 1,
    after: str = "",
    before: str = "",
    rows: Callable[[QuerySet[Any]], QuerySet[Any]] = lambda queryset: queryset,
    cap: int | None = None,
) -> KeysetPage:
    """A page of ``queryset`` in the order of ``keys``: after or before a cursor, else page
    ``number`` (at most the cap's last). ``rows`` adds what the page shows (joins, columns).

    Two queries: the capped count, and the page. The page's rows are chosen by a sub-query
    that reads only the list's own columns; what ``rows`` adds is read for those rows alone
    (joined or computed before ``LIMIT``/``OFFSET``, it would be for every row skipped)."""
    cap = COUNT_CAP if cap is None else cap
    count, more = capped_count(queryset, cap)
    forward = [F(key).desc() if descending else F(key).asc() for key in keys]
    backward = [F(key).asc() if descending else F(key).desc() for key in keys]
    types = [_python_type(queryset.model, key) for key in keys]
    boundary = decode_cursor(after or before, types) if (after or before) else None
    number = max(1, number)
    if boundary is not None:
        edge = _Row(*(Value(value) for value in boundary))
        columns = _Row(*(F(key) for key in keys))
        # After the edge in the list's order: greater when it ascends, smaller when it descends.
        if bool(after) != descending:
            condition: GreaterThan | LessThan = GreaterThan(columns, edge)
        else:
            condition = LessThan(columns, edge)
        chosen = queryset.filter(condition).order_by(*(forward if after else backward))
        start = 0
    else:
        last = max(1, math.ceil(count / size)) if not more else cap // size
        number = min(number, last)
        chosen, start = queryset.order_by(*forward), (number - 1) * size
    names = [f"cursor_{i}" for i in range(len(keys))]
    found = list(
        rows(
            queryset.model._default_manager.filter(
                pk__in=chosen.values("pk")[start : start + size + 1]
            )
        )
        .annotate(**{name: F(key) for name, key in zip(names, keys, strict=True)})
        .order_by(*forward)
    )
    # One row more than a page tells whether there is another page that way.
    if before and boundary is not None:
        has_next, has_previous = True, len(found) > size
        found = found[-size:]
        if not has_previous:
            number = 1
    else:
        has_next, has_previous = len(found) > size, boundary is not None or number > 1
        found = found[:size]
    return KeysetPage(
        rows=found,
        number=number,
        size=size,
        count=count,
        more=more,
        has_next=has_next,
        has_previous=has_previous,
        next_cursor=_cursor(found[-1], names) if has_next and found else "",
        previous_cursor=_cursor(found[0], names) if has_previous and found else "",
    )


def _cursor(row: Any, names: Sequence[str]) -> str:
    return encode_cursor([getattr(row, name) for name in names])
