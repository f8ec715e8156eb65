"""A columnar copy (Parquet) of each batch imported on PostgreSQL, for work on whole funds.

Verifying every application of a fund reads the records of all its applicants: millions of
rows, which DuckDB reads from Parquet many times faster than they come out of the database.
The copy is written by the import from the rows it stored (the same DuckDB query), put in
place when the import commits, and removed when the batch is rolled back; the database stays
the reference, and a batch without a copy (loaded otherwise, or on SQLite) is read from it.
Columns are those of FORMATS.md, but ``nir_index`` (the blind index of the NIR) for ``nir``: a
copy written before NIRs were indexed holds them in clear, and is removed rather than read.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction

PERSON = "nir_index"  # the column of the person in a copy


def path_of(kind: str, batch_id: int) -> Path:
    return Path(settings.EVIDENCE_COLUMNS_DIR) / kind / f"batch-{int(batch_id)}.parquet"


def write(duck: duckdb.DuckDBPyConnection, kind: str, batch_id: int, query: str) -> None:
    """Write the rows of ``query`` beside the batch's copy, pending until
    :func:`keep_on_commit` (a failed import discards it)."""
    final = path_of(kind, batch_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    duck.execute(f"COPY ({query}) TO '{final.with_suffix('.pending')}' (FORMAT parquet)")


def keep_on_commit(kind: str, batch_id: int) -> None:
    """Make the pending copy the batch's once the current transaction commits."""
    final = path_of(kind, batch_id)
    # robust: a file that cannot be renamed must not turn the committed import into a failure
    # (without its copy, the verification reads the batch from the database).
    transaction.on_commit(lambda: final.with_suffix(".pending").replace(final), robust=True)


def discard(kind: str, batch_id: int) -> None:
    """Remove the batch's copy (rolled back), or the one a failed import left pending."""
    final = path_of(kind, batch_id)
    final.unlink(missing_ok=True)
    final.with_suffix(".pending").unlink(missing_ok=True)


def available(kind: str, batch_ids: Iterable[int]) -> dict[int, Path]:
    """The copies that exist among these batches'. One with NIRs in clear (written before they
    were indexed) is removed: the batch is then read from the database, which holds indexes."""
    copies = {}
    for batch_id in batch_ids:
        path = path_of(kind, batch_id)
        if not path.is_file():
            continue
        if PERSON in pq.read_schema(path).names:  # the footer only
            copies[batch_id] = path
        else:
            path.unlink(missing_ok=True)
    return copies
