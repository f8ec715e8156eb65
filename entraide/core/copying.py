"""Whole files in and out of PostgreSQL by ``COPY``, in blocks (never whole in memory).

Django's cursor has no ``copy()``: :func:`psycopg_cursor` gives psycopg's own, in the current
connection and transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.db import connection

BLOCK_BYTES = 1 << 20


@contextmanager
def psycopg_cursor() -> Iterator[Any]:
    with connection.cursor() as django_cursor:
        yield django_cursor.cursor


def copy_from(
    cursor: Any,
    statement: str,
    source: IO[bytes],
    on_block: Callable[[bytes], None] | None = None,
) -> None:
    """Send ``source`` to ``COPY … FROM STDIN``; ``on_block`` sees each block sent."""
    with cursor.copy(statement) as copy:
        while block := source.read(BLOCK_BYTES):
            copy.write(block)
            if on_block is not None:
                on_block(block)


def copy_to(cursor: Any, statement: str, target: Path, params: Sequence[Any] = ()) -> None:
    """Write what ``COPY … TO STDOUT`` sends into ``target``."""
    with cursor.copy(statement, params or None) as copy, target.open("wb") as out:
        for data in copy:
            out.write(data)
