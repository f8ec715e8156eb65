"""On PostgreSQL the records of each evidence batch are a partition of their table (partitioned
by ``batch_id``, migration 0007).

Why: an import writes millions of rows. Into one big table, PostgreSQL maintains the primary key
and the person index (``nir_index``) row by row, which costs twice the ``COPY`` itself; into a
table of their own, the rows go in bare and both indexes are then built in one sorted pass,
before the table is attached as the batch's partition (its ``CHECK`` on the batch spares the
attachment a scan). Rolling a batch back drops its partition. Reads are unchanged: the parent
table holds every partition, and its person index is each partition's.

Rows written through the ORM (``services.load_evidence_batch``, the tests' factories) need the
partition first: :func:`ensure`. Elsewhere (SQLite) the tables are plain and this is a no-op.
"""

# ruff: noqa: S608  (table names from model metadata, batch ids as integers)

from __future__ import annotations

from django.db import connection, models


def partitioned() -> bool:
    return connection.vendor == "postgresql"


def _names(model: type[models.Model], batch_id: int) -> tuple[str, str]:
    table = model._meta.db_table
    return connection.ops.quote_name(table), connection.ops.quote_name(f"{table}_b{batch_id}")


def ensure(model: type[models.Model], batch_id: int) -> None:
    """The batch's partition, attached (empty if new), for rows written one by one."""
    if not partitioned():
        return
    parent, partition = _names(model, batch_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {partition} PARTITION OF {parent} "
            f"FOR VALUES IN ({int(batch_id)})"
        )


def create_detached(model: type[models.Model], batch_id: int) -> str:
    """A bare table shaped as the batch's partition (no index yet): the name to COPY into."""
    parent, partition = _names(model, batch_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {partition} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
    return partition


def attach(model: type[models.Model], batch_id: int) -> None:
    """Index the table of :func:`create_detached` and make it the batch's partition."""
    parent, partition = _names(model, batch_id)
    batch = int(batch_id)
    with connection.cursor() as cursor:
        # Room to sort millions of keys in memory (for this transaction only).
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(f"ALTER TABLE {partition} ADD CHECK (batch_id = {batch})")
        cursor.execute(f"ALTER TABLE {partition} ADD PRIMARY KEY (id, batch_id)")
        cursor.execute(f"CREATE INDEX ON {partition} (nir_index)")
        cursor.execute(f"ALTER TABLE {parent} ATTACH PARTITION {partition} FOR VALUES IN ({batch})")


def drop(model: type[models.Model], batch_id: int) -> int:
    """Drop the batch's partition; the number of rows it had."""
    _parent, partition = _names(model, batch_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition])
        if cursor.fetchone()[0] is None:
            return 0
        cursor.execute(f"SELECT count(*) FROM {partition}")
        (rows,) = cursor.fetchone()
        cursor.execute(f"DROP TABLE {partition}")
    return int(rows)
