"""Exact links: records that share a NIR, an IBAN, an e-mail address or a telephone number.

Columnar (polars) over a frame of records whose columns are those of
:class:`~entraide.integrity.records.ApplicantRecord`. NIR and IBAN are compared by their blind
indexes (the keyed HMAC of the value without spaces in upper case, entraide.core.crypto), never
in clear; e-mails trimmed in lower case, telephones as their national digits; blanks link
nothing. A value shared by N records makes N * (N - 1) / 2 pairs:
beyond ``max_group`` records it makes none and is reported by :func:`crowded_values` instead,
since 200 applications paid to one IBAN are one signal about that IBAN, not 19,900 about pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter

import polars as pl

from entraide.integrity.evaluation import Pair
from entraide.integrity.records import IDENTIFIER_FIELDS, ApplicantRecord

KEYS = ("nir", "iban", "email", "phone")
# The exact-match-only baseline.
BASELINE_KEYS = ("nir", "iban")
MAX_GROUP = 50

_RECORD_SCHEMA = {
    field.name: pl.Date if field.name == "birth_date" else pl.String
    for field in fields(ApplicantRecord)
} | {"record_id": pl.Int64}


def records_frame(records: Sequence[ApplicantRecord]) -> pl.DataFrame:
    """The records as a frame, one column per field."""
    return pl.DataFrame(
        {name: list(map(attrgetter(name), records)) for name in _RECORD_SCHEMA},
        schema=_RECORD_SCHEMA,
    )


def _normalised(key: str) -> pl.Expr:
    if key not in IDENTIFIER_FIELDS:
        raise ValueError(f"no exact link on {key!r}")
    value = pl.col(IDENTIFIER_FIELDS[key])
    if key in {"nir", "iban"}:
        return value  # a blind index, of the value already normalised
    if key == "email":
        return value.str.strip_chars().str.to_lowercase()
    # A telephone: "+33 6 12 34 56 78", "0033 (0)6 12…" and "06.12.34.56.78" are 0612345678.
    digits = value.str.replace_all(r"\D", "")
    return digits.str.replace(r"^(?:00)?330?(\d{9})$", "0${1}")


def _shared_values(records: pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """(record_id, key, value) where another record has the same value: a window per key, so
    that the million values held once are dropped before any grouping."""
    return pl.concat(
        [
            records.lazy()
            .select(pl.col("record_id"), pl.lit(key).alias("key"), _normalised(key).alias("value"))
            .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
            .filter(pl.len().over("value") > 1)
            for key in keys
        ]
    )


def exact_links(
    records: pl.DataFrame, *, keys: Sequence[str] = KEYS, max_group: int = MAX_GROUP
) -> pl.DataFrame:
    """The pairs of records sharing a value of one of ``keys``, lower id on the left, with the
    keys they share (in the order of ``keys``): columns left_id, right_id, reasons."""
    rank = {key: position for position, key in enumerate(keys)}
    members = _shared_values(records, keys).filter(pl.len().over("key", "value") <= max_group)
    pairs = (
        members.join(members, on=["key", "value"], suffix="_right")
        .filter(pl.col("record_id") < pl.col("record_id_right"))
        .select(
            pl.col("record_id").alias("left_id"),
            pl.col("record_id_right").alias("right_id"),
            pl.col("key"),
            pl.col("key").replace_strict(rank, return_dtype=pl.Int32).alias("rank"),
        )
    )
    return (
        pairs.group_by("left_id", "right_id")
        .agg(pl.col("key").sort_by("rank").alias("reasons"))
        .sort("left_id", "right_id")
        .collect()
    )


def crowded_values(
    records: pl.DataFrame, *, keys: Sequence[str] = KEYS, max_group: int = MAX_GROUP
) -> pl.DataFrame:
    """The values shared by more than ``max_group`` records, which :func:`exact_links` leaves
    out: columns key, value (normalised; a NIR or IBAN by its blind index), size, record_ids;
    the largest first."""
    return (
        _shared_values(records, keys)
        .group_by("key", "value")
        .agg(pl.len().alias("size"), pl.col("record_id").sort().alias("record_ids"))
        .filter(pl.col("size") > max_group)
        .sort("size", "key", "value", descending=[True, False, False])
        .collect()
    )


def exact_baseline_pairs(records: pl.DataFrame, *, max_group: int = MAX_GROUP) -> set[Pair]:
    """The pairs of records with the same NIR or the same IBAN (the same blind index): the
    exact-match-only baseline that a linkage is compared with."""
    links = exact_links(records, keys=BASELINE_KEYS, max_group=max_group)
    return set(zip(links["left_id"].to_list(), links["right_id"].to_list(), strict=True))
