"""Probabilistic record linkage: which applications are the same person's (issue 9).

A Fellegi-Sunter model (Splink 5 on DuckDB) compares two records field by field (:data:`FIELDS`).
Each field's comparison falls into a *level* (Splink's comparison vector value: -1 when a side is
missing, 0 when nothing agrees, higher when closer; :func:`level_label` says what each means),
and each level weighs log2(m / u): m is how often the two records of one person fall in it, u
how often two different people's do. A pair's *match weight* is the prior's weight (how rare a
duplicate is among all pairs) plus its fields' weights; from :data:`DEFAULT_THRESHOLD` on, the
pair is a possible duplicate. The NIR and the IBAN are compared by their blind indexes only
(keyed HMACs, entraide.core.crypto): the same or not, with no level in between (an HMAC does
not tell how far apart two NIRs are); a mistyped NIR is left to the name, the date of birth and
the other fields.

The model learns without labels (:func:`train_model`): u of each field's top level (equality)
counted over all pairs from the values' frequencies, u of the other levels from random pairs,
then m by expectation maximisation on pairs that share a NIR and on pairs that share a name.
:data:`DEFAULT_MODEL` is such a model, trained once on a synthetic population and kept in
``default_model.json``; regenerate it with ``python -m entraide.integrity.linkage`` (that is,
:func:`write_default_model`) whenever the comparisons change.

Two ways to score:

- :func:`predict`, the full run over a frame of records: candidate pairs are those that share
  a NIR, an IBAN, an e-mail, a telephone, a date of birth or a first and last name (blocking),
  then :func:`clusters` groups the flagged pairs;
- :func:`score_pairs`, one new record against a few candidates found otherwise (at submission),
  through the very SQL that Splink writes for the model, kept per model.

No term-frequency adjustments: a pair's weight depends only on its two records, so both ways give
the same weight, and a comparison gives the same level whichever record is on the left.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from entraide.integrity import exact
from entraide.integrity.exact import records_frame
from entraide.integrity.records import ApplicantRecord

if TYPE_CHECKING:
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator

# Splink logs every step at INFO; its warnings still come through, but for the levels that an
# expectation-maximisation session cannot see (pairs sharing a NIR all share the date of birth
# too): the other session trains them, and _floor_m the rest.
logging.getLogger("splink").setLevel(logging.WARNING)
logging.getLogger("splink.internals.expectation_maximisation").setLevel(logging.ERROR)

FIELDS: tuple[str, ...] = ("name", "birth_date", "nir", "iban", "email", "phone", "address")
FIELD_LABELS: dict[str, Promise] = {
    "name": pgettext_lazy("integrity field", "Name"),
    "birth_date": pgettext_lazy("integrity field", "Date of birth"),
    "nir": pgettext_lazy("integrity field", "Social security number"),
    "iban": pgettext_lazy("integrity field", "IBAN"),
    "email": pgettext_lazy("integrity field", "E-mail"),
    "phone": pgettext_lazy("integrity field", "Telephone"),
    "address": pgettext_lazy("integrity field", "Address"),
}

MISSING = -1  # Splink's comparison vector value of a null level
_MISSING_LABEL = pgettext_lazy("integrity level", "missing on one side")
_DIFFERENT = pgettext_lazy("integrity level", "different")
# Each field's levels from the closest down to 0 (nothing agrees), in the order of _comparisons().
_LEVEL_LABELS: dict[str, tuple[Promise, ...]] = {
    "name": (
        pgettext_lazy("integrity level", "same first and last names"),
        pgettext_lazy("integrity level", "first and last names swapped"),
        pgettext_lazy("integrity level", "similar names (small typos)"),
        pgettext_lazy("integrity level", "first and last names swapped, with small typos"),
        pgettext_lazy(
            "integrity level", "same first name, last name contained in the other (married name)"
        ),
        pgettext_lazy("integrity level", "similar names (several typos)"),
        pgettext_lazy("integrity level", "same first name, another last name"),
        pgettext_lazy("integrity level", "same last name, another first name"),
        pgettext_lazy("integrity level", "different names"),
    ),
    "birth_date": (pgettext_lazy("integrity level", "same date of birth"), _DIFFERENT),
    "nir": (pgettext_lazy("integrity level", "same number"), _DIFFERENT),
    "iban": (pgettext_lazy("integrity level", "same account"), _DIFFERENT),
    "email": (pgettext_lazy("integrity level", "same address"), _DIFFERENT),
    "phone": (pgettext_lazy("integrity level", "same number"), _DIFFERENT),
    "address": (
        pgettext_lazy("integrity level", "same address"),
        pgettext_lazy("integrity level", "another address, same postcode"),
        pgettext_lazy("integrity level", "another postcode"),
    ),
}
# The columns whose equality is each field's top level: its u is counted from their values.
# Splink's "nir" and "iban" columns hold the blind indexes (prepared()).
_EQUAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("first_name", "last_name"),
    "birth_date": ("birth_date",),
    "nir": ("nir",),
    "iban": ("iban",),
    "email": ("email",),
    "phone": ("phone",),
    "address": ("postcode", "address_line"),
}

DEFAULT_THRESHOLD = 10.0
# Below this many records, pairs that share a NIR or a name are too few to learn m from.
MIN_TRAINING_RECORDS = 2_000
DEFAULT_MODEL_PATH = Path(__file__).with_name("default_model.json")
DEFAULT_MODEL_RECORDS = 100_000
DEFAULT_MODEL_SEED = 9

# Random pairs for u: with more, the rarer levels (swapped names) are met more often.
_U_PAIRS = 2e6
_U_SEED = 42
# Splink's prior: pairs that share a NIR or a whole name and date of birth, taken as about this
# share of all duplicates.
_PRIOR_RECALL = 0.8
# The least m of a level (see _floor_m): at most log2(MIN_M) = -10 bits against a pair.
MIN_M = 0.001
_JW = "jaro_winkler_similarity"
_LEFT, _RIGHT, _STATEMENT = "entraide_new_record", "entraide_candidates", "entraide_score"


def level_label(field: str, level: int) -> str:
    """What ``level`` of ``field``'s comparison means, in the active language."""
    if level == MISSING:
        return str(_MISSING_LABEL)
    labels = _LEVEL_LABELS[field]
    if not 0 <= level < len(labels):
        raise ValueError(f"{field} has no level {level}")
    return str(labels[len(labels) - 1 - level])


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """How one field of a pair compares: its level and that level's weight (log2 of m / u)."""

    field: str
    level: int
    weight: float


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """Two records (lower id first) with their match weight and the fields' evidence."""

    left_id: int
    right_id: int
    match_weight: float
    match_probability: float
    evidence: tuple[FieldEvidence, ...]


# -- input ------------------------------------------------------------------------------------


def _folded(column: str) -> pl.Expr:
    """As entraide.applications.search.words_of joined by spaces: lower case without accents,
    hyphens and punctuation as spaces ("Jean-Pierre L'Hôte" -> "jean pierre l hote")."""
    return (
        pl.col(column)
        .str.replace_many({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[\W_]+", " ")
        .str.strip_chars()
    )


def _blank_as_null(value: pl.Expr) -> pl.Expr:
    return pl.when(value != "").then(value)


def prepared(records: pl.DataFrame) -> pl.DataFrame:
    """Splink's input from a frame of records (:func:`~entraide.integrity.exact.records_frame`):
    ``unique_id``, folded names (with the last name's words, for married names), identifiers
    normalised as :mod:`~entraide.integrity.exact` does (NIR and IBAN: their blind indexes, as
    columns ``nir`` and ``iban``), blanks as nulls."""
    phone_digits = pl.col("phone").str.replace_all(r"\D", "")
    return records.select(
        pl.col("record_id").alias("unique_id"),
        _blank_as_null(_folded("first_name")).alias("first_name"),
        _blank_as_null(_folded("last_name")).alias("last_name"),
        pl.col("birth_date"),
        _blank_as_null(pl.col("nir_index")).alias("nir"),
        _blank_as_null(pl.col("iban_index")).alias("iban"),
        _blank_as_null(pl.col("email").str.strip_chars().str.to_lowercase()).alias("email"),
        _blank_as_null(phone_digits.str.replace(r"^(?:00)?330?(\d{9})$", "0${1}")).alias("phone"),
        _blank_as_null(_folded("address_line")).alias("address_line"),
        _blank_as_null(pl.col("postcode").str.strip_chars()).alias("postcode"),
    ).with_columns(pl.col("last_name").str.split(" ").alias("last_name_words"))


def _splink_input(records: pl.DataFrame) -> pl.DataFrame:
    """``records`` prepared, unless they already are (callers that train and predict on the
    same records prepare them once)."""
    return records if "unique_id" in records.columns else prepared(records)


# -- the model --------------------------------------------------------------------------------


def _comparisons(top_u: Mapping[str, float]) -> list[Any]:
    """Splink's comparisons, one per field of FIELDS, levels as in _LEVEL_LABELS. Every level is
    symmetric (the same whichever record is on the left). ``top_u`` fixes the u of the top level
    of the fields it names."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def similar(threshold: float, *columns: str) -> Any:
        return cll.And(*(cll.JaroWinklerLevel(column, threshold) for column in columns))

    swapped_typos = cll.CustomLevel(
        f"{_JW}(first_name_l, last_name_r) >= 0.92 AND {_JW}(last_name_l, first_name_r) >= 0.92",
        "Names swapped, with small typos",
    )
    # "Dupont" and "Dupont Martin": one last name's words all among the other's.
    contained = cll.CustomLevel(
        "list_has_all(last_name_words_l, last_name_words_r)"
        " OR list_has_all(last_name_words_r, last_name_words_l)",
        "Last name contained in the other",
    )
    # Each field's null level, then those below its top level (equality of _EQUAL_COLUMNS).
    levels: dict[str, list[Any]] = {
        "name": [
            cll.Or(cll.NullLevel("first_name"), cll.NullLevel("last_name")),
            cll.ColumnsReversedLevel("first_name", "last_name", symmetrical=True),
            similar(0.92, "first_name", "last_name"),
            swapped_typos,
            cll.And(cll.JaroWinklerLevel("first_name", 0.92), contained),
            similar(0.88, "first_name", "last_name"),
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.ExactMatchLevel("last_name"),
            cll.ElseLevel(),
        ],
        "birth_date": [cll.NullLevel("birth_date"), cll.ElseLevel()],
        # Blind indexes: equal (the top level) or not; how far apart the NIRs are, an HMAC
        # does not tell.
        "nir": [cll.NullLevel("nir"), cll.ElseLevel()],
        "iban": [cll.NullLevel("iban"), cll.ElseLevel()],
        "email": [cll.NullLevel("email"), cll.ElseLevel()],
        "phone": [cll.NullLevel("phone"), cll.ElseLevel()],
        "address": [
            cll.Or(cll.NullLevel("postcode"), cll.NullLevel("address_line")),
            cll.ExactMatchLevel("postcode"),
            cll.ElseLevel(),
        ],
    }
    comparisons = []
    for field in FIELDS:
        null, *others = levels[field]
        if len(others) + 1 != len(_LEVEL_LABELS[field]):
            raise AssertionError(f"{field}: levels and their labels differ")
        top: Any = cll.And(*(cll.ExactMatchLevel(column) for column in _EQUAL_COLUMNS[field]))
        if field in top_u:
            top = top.configure(u_probability=top_u[field], fix_u_probability=True)
        comparisons.append(
            cl.CustomComparison(
                comparison_levels=[null, top, *others],
                output_column_name=field,
                comparison_description=field,
            )
        )
    return comparisons


def _settings(top_u: Mapping[str, float]) -> SettingsCreator:
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=_comparisons(top_u),
        blocking_rules_to_generate_predictions=[
            block_on("nir"),
            block_on("iban"),
            block_on("email"),
            block_on("phone"),
            block_on("birth_date"),
            block_on("first_name", "last_name"),
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )


def _equality_u(frame: pl.DataFrame, columns: Sequence[str]) -> float:
    """The share of pairs of records (with ``columns`` filled in) that agree on all of them:
    exact where random sampling would meet a shared NIR about once in millions of pairs. It
    counts the duplicates too, so it is an upper bound; at least one pair, never 0."""
    sizes = frame.select(columns).drop_nulls().group_by(columns).len()["len"]
    filled = int(sizes.sum())
    pairs = filled * (filled - 1) // 2
    shared = int((sizes * (sizes - 1) // 2).sum())
    return max(shared, 1) / max(pairs, 1)


def _linker(
    db_api: DuckDBAPI, frame: pl.DataFrame, model: Mapping[str, Any] | SettingsCreator
) -> Linker:
    from splink import Linker

    settings: SettingsCreator | dict[str, Any] = (
        model
        if not isinstance(model, Mapping)
        else {
            # With the columns that _scored reads: each field's level (gamma_) and weight (mw_).
            **model,
            "retain_matching_columns": True,
            "retain_intermediate_calculation_columns": True,
        }
    )
    # log_level=None: Splink would otherwise set its logger to INFO with its own handler.
    return Linker(db_api.register(frame.to_arrow()), settings, log_level=None)


def _fill_unmet_u(model: dict[str, Any], pairs: float) -> None:
    """A level that none of ``pairs`` random pairs fell in gets u = 1 / pairs (what the sample
    can tell: rarer than that), rather than Splink's defaults, which ignore the data."""
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level") and "u_probability" not in level:
                level["u_probability"] = 1 / pairs


def _floor_m(model: dict[str, Any]) -> None:
    """Each level's m at least MIN_M (then scaled to sum to 1 again), so that no field vetoes a
    pair alone: trained on synthetic people, who never change their date of birth, m of a
    different date would be 1e-8 (-25 bits), outweighing a shared NIR, IBAN and name."""
    for comparison in model["comparisons"]:
        levels = [
            level for level in comparison["comparison_levels"] if not level.get("is_null_level")
        ]
        floored = [max(level.get("m_probability", 0.0), MIN_M) for level in levels]
        total = sum(floored)
        for level, m in zip(levels, floored, strict=True):
            level["m_probability"] = m / total


def _round_probabilities(model: dict[str, Any]) -> None:
    """The prior, m and u to 10 significant digits: DuckDB's parallel sums differ in their last
    bits from run to run, and the same records should give the same model."""

    def rounded(value: float) -> float:
        return float(f"{value:.10g}")

    model["probability_two_random_records_match"] = rounded(
        model["probability_two_random_records_match"]
    )
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if key in level:
                    level[key] = rounded(level[key])


def train_model(records: pl.DataFrame) -> dict[str, Any]:
    """A model trained on ``records`` without labels, as a JSON-able dict; with fewer than
    MIN_TRAINING_RECORDS records, :data:`DEFAULT_MODEL` unchanged."""
    from splink import DuckDBAPI, block_on

    # Crowded values out, as predict() leaves them: counted, one placeholder telephone on a
    # tenth of the records would make a shared telephone look common between strangers.
    frame = _without_crowded_values(_splink_input(records))
    if frame.height < MIN_TRAINING_RECORDS:
        return copy.deepcopy(DEFAULT_MODEL)
    top_u = {field: _equality_u(frame, columns) for field, columns in _EQUAL_COLUMNS.items()}
    db_api = DuckDBAPI()
    try:
        linker = _linker(db_api, frame, _settings(top_u))
        linker.training.estimate_probability_two_random_records_match(
            [block_on("nir"), block_on("first_name", "last_name", "birth_date")],
            recall=_PRIOR_RECALL,
        )
        # One chunk and no early stop: the identifiers' levels never reach a count to stop at.
        linker.training.estimate_u_using_random_sampling(
            max_pairs=_U_PAIRS, seed=_U_SEED, min_count_per_level=None, num_chunks=1
        )
        model = linker.misc.save_model_to_json()
        _fill_unmet_u(model, min(_U_PAIRS, frame.height * (frame.height - 1) / 2))
        # Twins and couples share a date of birth or an address: sessions blocked on those
        # would learn them as duplicates. Pairs that share a NIR, or a first and last name,
        # are nearly all one person's.
        linker = _linker(db_api, frame, model)
        for blocking in (block_on("nir"), block_on("first_name", "last_name")):
            linker.training.estimate_parameters_using_expectation_maximisation(blocking)
        model = linker.misc.save_model_to_json()
    finally:
        db_api.duckdb_con.close()
    _floor_m(model)
    _round_probabilities(model)
    # A random id of the training run (Splink's cache key), not part of the model.
    del model["linker_uid"]
    return model


def _load_default_model() -> dict[str, Any]:
    model: dict[str, Any] = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    return model


def write_default_model() -> dict[str, Any]:
    """Train DEFAULT_MODEL again (on make_population(DEFAULT_MODEL_RECORDS, seed=
    DEFAULT_MODEL_SEED)) and write it to default_model.json."""
    from entraide.integrity.synthetic import make_population

    population = make_population(DEFAULT_MODEL_RECORDS, seed=DEFAULT_MODEL_SEED)
    model = train_model(records_frame(population.compared))
    DEFAULT_MODEL_PATH.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    return model


# Empty only until write_default_model() first writes it.
DEFAULT_MODEL: dict[str, Any] = _load_default_model() if DEFAULT_MODEL_PATH.exists() else {}


def _comparison_levels(model: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    return [
        (
            comparison["output_column_name"],
            [level["sql_condition"] for level in comparison["comparison_levels"]],
        )
        for comparison in model.get("comparisons", [])
    ]


def compares_as_now(model: Mapping[str, Any]) -> bool:
    """Whether ``model`` has the comparisons of :data:`DEFAULT_MODEL` (fields, levels and their
    conditions). One trained before they changed (with the NIR's one-digit level, before the
    blind indexes) would give levels that :func:`level_label` no longer describes."""
    return _comparison_levels(model) == _comparison_levels(DEFAULT_MODEL)


# -- scoring ----------------------------------------------------------------------------------


def _scored(rows: pl.DataFrame) -> list[ScoredPair]:
    """ScoredPairs from Splink's predictions (unique_id_l/_r, match_weight, match_probability,
    gamma_<field> and mw_<field> columns)."""
    pairs = []
    columns = [f"gamma_{field}" for field in FIELDS] + [f"mw_{field}" for field in FIELDS]
    for row in rows.select(
        "unique_id_l", "unique_id_r", "match_weight", "match_probability", *columns
    ).iter_rows():
        left, right, weight, probability = row[:4]
        levels, weights = row[4 : 4 + len(FIELDS)], row[4 + len(FIELDS) :]
        pairs.append(
            ScoredPair(
                left_id=min(left, right),
                right_id=max(left, right),
                match_weight=weight,
                match_probability=probability,
                evidence=tuple(
                    FieldEvidence(field, level, weight)
                    for field, level, weight in zip(FIELDS, levels, weights, strict=True)
                ),
            )
        )
    return pairs


def _without_crowded_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Identifiers shared by more than exact.MAX_GROUP records as missing: blocked on, 5,000
    applications with one placeholder telephone would make 12 million pairs; they are one
    signal, which the check reports (exact.crowded_values), not a resemblance of each pair."""
    return frame.with_columns(
        pl.when(pl.len().over(column) <= exact.MAX_GROUP).then(pl.col(column)).alias(column)
        for column in ("nir", "iban", "email", "phone")
    )


def predict(
    records: pl.DataFrame,
    model: Mapping[str, Any],
    *,
    min_weight: float,
    every_shared_identifier: bool = False,
) -> list[ScoredPair]:
    """Every pair of ``records`` (a records_frame, or prepared) that blocking brings together and
    whose match weight is at least ``min_weight``, and with ``every_shared_identifier`` every
    pair that shares a NIR, IBAN, e-mail or telephone whatever its weight (what an exact link
    shows with its score), by left_id then right_id."""
    from splink import DuckDBAPI

    frame = _without_crowded_values(_splink_input(records))
    db_api = DuckDBAPI()
    try:
        rows = _predictions(db_api, frame, model, min_weight)
        if every_shared_identifier:
            # A second, small pass blocked on the identifiers alone: with no threshold on the
            # first, the millions of pairs born on one day would all be scored and kept.
            shared = _predictions(
                db_api,
                frame,
                {**model, "blocking_rules_to_generate_predictions": _IDENTIFIER_BLOCKING},
                None,
            )
            rows = pl.concat([rows, shared]).unique(["unique_id_l", "unique_id_r"])
    finally:
        db_api.duckdb_con.close()
    return _scored(rows.sort("unique_id_l", "unique_id_r"))


# The pairs that share an identifier (exact.KEYS).
_IDENTIFIER_BLOCKING = [f"l.{column} = r.{column}" for column in ("nir", "iban", "email", "phone")]


def _predictions(
    db_api: DuckDBAPI, frame: pl.DataFrame, model: Mapping[str, Any], min_weight: float | None
) -> pl.DataFrame:
    linker = _linker(db_api, frame, model)
    predictions = linker.inference.predict(threshold_match_weight=min_weight, warning_mode="never")
    return predictions.as_duckdbpyrelation().pl()


def clusters(pairs: Sequence[ScoredPair], *, min_weight: float) -> list[frozenset[int]]:
    """The groups of records linked, directly or through others, by pairs of at least
    ``min_weight`` (connected components, by union-find), by their lowest id."""
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for pair in pairs:
        if pair.match_weight >= min_weight:
            left, right = root(pair.left_id), root(pair.right_id)
            if left != right:
                parent[max(left, right)] = min(left, right)
    groups: dict[int, set[int]] = {}
    for node in parent:
        groups.setdefault(root(node), set()).add(node)
    return [frozenset(groups[key]) for key in sorted(groups)]


class _Scorer:
    """One model's scoring SQL, written by Splink's score_pairs once and prepared on a DuckDB
    connection of its own, for a new record against its candidates. Splink's score_pairs itself
    takes about 40 ms a call here (it writes the SQL again, and keeps a trace of every table it
    registers, which would grow without end in a worker); this, about 12 ms."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        import duckdb
        from splink import DuckDBAPI

        self.lock = threading.Lock()
        self.connection: duckdb.DuckDBPyConnection = duckdb.connect()
        db_api = DuckDBAPI(self.connection)
        empty = prepared(records_frame([]))
        linker = _linker(db_api, empty, model)
        left = db_api.register(empty.to_arrow(), table_name=_LEFT)
        right = db_api.register(empty.to_arrow(), table_name=_RIGHT)
        scored = linker.inference.score_pairs(left, right)
        self.connection.execute(f"PREPARE {_STATEMENT} AS {scored.sql_used_to_create}")
        scored.drop_table_from_database_and_remove_from_cache()

    def score(self, new: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
        with self.lock:
            self.connection.register(_LEFT, new.to_arrow())
            self.connection.register(_RIGHT, candidates.to_arrow())
            return self.connection.sql(f"EXECUTE {_STATEMENT}").pl()


_SCORERS: OrderedDict[str, _Scorer] = OrderedDict()
_SCORERS_LOCK = threading.Lock()
_MAX_SCORERS = 4


def _fingerprint(model: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()


def _scorer(model: Mapping[str, Any]) -> _Scorer:
    key = _fingerprint(model)
    with _SCORERS_LOCK:
        scorer = _SCORERS.get(key)
        if scorer is None:
            scorer = _SCORERS[key] = _Scorer(model)
            # An evicted scorer's connection closes once no thread holds it any more.
            while len(_SCORERS) > _MAX_SCORERS:
                _SCORERS.popitem(last=False)
        _SCORERS.move_to_end(key)
        return scorer


def score_pairs(
    model: Mapping[str, Any], record: ApplicantRecord, candidates: Sequence[ApplicantRecord]
) -> list[ScoredPair]:
    """``record`` scored against each of ``candidates`` (in their order, each once), as
    :func:`predict` would score the pair."""
    others = list({candidate.record_id: candidate for candidate in candidates}.values())
    if record.record_id in {candidate.record_id for candidate in others}:
        raise ValueError(f"record {record.record_id} is among its own candidates")
    if not others:
        return []
    frame = prepared(records_frame([record, *others]))
    rows = _scorer(model).score(frame.head(1), frame.slice(1))
    by_other = {
        pair.left_id if pair.right_id == record.record_id else pair.right_id: pair
        for pair in _scored(rows)
    }
    return [by_other[candidate.record_id] for candidate in others]


if __name__ == "__main__":
    import os

    # The blind indexes are keyed by the settings (outside production, from SECRET_KEY).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")
    write_default_model()
