import copy
import dataclasses
import datetime as dt
import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from entraide.core.crypto import blind_index
from entraide.integrity.evaluation import pairs_of_clusters, precision_recall
from entraide.integrity.exact import records_frame
from entraide.integrity.linkage import (
    DEFAULT_MODEL,
    DEFAULT_THRESHOLD,
    FIELD_LABELS,
    FIELDS,
    MIN_M,
    MISSING,
    FieldEvidence,
    ScoredPair,
    clusters,
    compares_as_now,
    level_label,
    predict,
    prepared,
    score_pairs,
    train_model,
)
from entraide.integrity.records import ApplicantRecord
from entraide.integrity.synthetic import (
    HARD_NEGATIVE_KINDS,
    Applicant,
    Population,
    make_population,
)

EVERYTHING = -1e9  # a min_weight that keeps every pair blocking brings together


@pytest.fixture(scope="module")
def population() -> Population:
    return make_population(5_000, seed=31)


@pytest.fixture(scope="module")
def records(population: Population) -> dict[int, ApplicantRecord]:
    return {record.record_id: record for record in population.compared}


@pytest.fixture(scope="module")
def all_pairs(population: Population) -> list[ScoredPair]:
    """Every pair that blocking brings together, whatever its weight, by DEFAULT_MODEL."""
    return predict(records_frame(population.compared), DEFAULT_MODEL, min_weight=EVERYTHING)


@pytest.fixture(scope="module")
def trained(population: Population) -> dict:
    return train_model(records_frame(population.compared))


def flagged(pairs: list[ScoredPair], threshold: float = DEFAULT_THRESHOLD) -> set[tuple[int, int]]:
    return {(pair.left_id, pair.right_id) for pair in pairs if pair.match_weight >= threshold}


def applicant(record_id: int = 1, **changes: object) -> ApplicantRecord:
    """Hélène Dupont's record as compared, with ``changes`` to what she typed (a NIR or an
    IBAN in clear, indexed here)."""
    record = Applicant(
        record_id=record_id,
        nir="284037512345678",
        first_name="Hélène",
        last_name="Dupont",
        birth_date=dt.date(1984, 3, 12),
        email="helene.dupont@example.org",
        phone="06 12 34 56 78",
        address_line="12 rue des Lilas",
        postcode="75011",
        city="Paris",
        iban="FR7630006000011234567890189",
        account_holder="Hélène Dupont",
    )
    return dataclasses.replace(record, **changes).compared()


def disguised(record: ApplicantRecord, first_name: str, last_name: str) -> ApplicantRecord:
    """A second application of ``record``'s applicant under ``first_name last_name`` with nothing
    else in common but the date of birth and the address: the name decides."""
    return dataclasses.replace(
        record,
        record_id=record.record_id + 1,
        first_name=first_name,
        last_name=last_name,
        nir_index=blind_index("nir", "284036913579246"),
        iban_index=blind_index("iban", "FR7617515900000123456789012"),
        email="h.d.1984@example.net",
        phone="07 98 76 54 32",
    )


def evidence_of(pair: ScoredPair, field: str) -> FieldEvidence:
    return next(evidence for evidence in pair.evidence if evidence.field == field)


# -- the default model on a synthetic population ------------------------------------------------


def test_default_model_finds_the_duplicates(population, all_pairs):
    score = precision_recall(flagged(all_pairs), population.duplicate_pairs())

    assert score.precision >= 0.95
    assert score.recall >= 0.95


def test_predict_keeps_the_pairs_from_min_weight_on(population, all_pairs):
    kept = predict(records_frame(population.compared), DEFAULT_MODEL, min_weight=DEFAULT_THRESHOLD)

    assert kept == [pair for pair in all_pairs if pair.match_weight >= DEFAULT_THRESHOLD]


def test_predict_takes_prepared_records_too(population, all_pairs):
    frame = prepared(records_frame(population.compared))

    assert predict(frame, DEFAULT_MODEL, min_weight=EVERYTHING) == all_pairs


def test_pairs_have_the_lower_id_first_and_evidence_in_field_order(all_pairs):
    assert all(pair.left_id < pair.right_id for pair in all_pairs)
    assert {tuple(evidence.field for evidence in pair.evidence) for pair in all_pairs} == {FIELDS}
    assert all(0 <= pair.match_probability <= 1 for pair in all_pairs)


def test_clusters_of_the_flagged_pairs_find_the_people(population, all_pairs):
    groups = clusters(all_pairs, min_weight=DEFAULT_THRESHOLD)
    score = precision_recall(pairs_of_clusters(groups), population.duplicate_pairs())

    assert score.precision >= 0.95
    assert score.recall >= 0.95
    assert all(len(group) >= 2 for group in groups)
    assert sum(map(len, groups)) == len(set().union(*groups))


def test_hard_negatives_mostly_stay_below_the_threshold(population, all_pairs):
    weights = {(pair.left_id, pair.right_id): pair.match_weight for pair in all_pairs}
    by_kind: dict[str, list[float]] = defaultdict(list)
    for pair, kind in population.hard_negatives.items():
        by_kind[kind].append(weights.get(pair, EVERYTHING))

    assert set(by_kind) == set(HARD_NEGATIVE_KINDS)
    for kind, kind_weights in by_kind.items():
        above = sum(weight >= DEFAULT_THRESHOLD for weight in kind_weights)
        assert above <= 0.05 * len(kind_weights), kind


def test_predict_and_clusters_are_deterministic(population, all_pairs):
    again = predict(records_frame(population.compared), DEFAULT_MODEL, min_weight=EVERYTHING)

    assert again == all_pairs
    assert clusters(again, min_weight=DEFAULT_THRESHOLD) == clusters(
        all_pairs, min_weight=DEFAULT_THRESHOLD
    )


# -- clusters ---------------------------------------------------------------------------------


def scored(left_id: int, right_id: int, weight: float) -> ScoredPair:
    return ScoredPair(left_id, right_id, weight, 0.5, ())


def test_clusters_are_the_connected_components_from_min_weight_on():
    pairs = [
        scored(6, 7, 10.0),
        scored(2, 3, 11.0),
        scored(1, 2, 12.0),
        scored(4, 5, 9.9),
        scored(7, 8, 3.0),
        scored(3, 9, 15.0),
    ]

    assert clusters(pairs, min_weight=10.0) == [frozenset({1, 2, 3, 9}), frozenset({6, 7})]
    assert clusters(pairs, min_weight=16.0) == []


# -- training ---------------------------------------------------------------------------------


def test_a_model_trained_on_5000_records_finds_the_duplicates(population, trained):
    pairs = predict(records_frame(population.compared), trained, min_weight=DEFAULT_THRESHOLD)
    score = precision_recall(flagged(pairs), population.duplicate_pairs())

    assert trained != DEFAULT_MODEL
    assert score.precision >= 0.95
    assert score.recall >= 0.95


def test_a_trained_model_has_every_level_estimated(trained):
    assert [comparison["output_column_name"] for comparison in trained["comparisons"]] == list(
        FIELDS
    )
    for comparison in trained["comparisons"]:
        levels = [
            level for level in comparison["comparison_levels"] if not level.get("is_null_level")
        ]
        assert sum(level["m_probability"] for level in levels) == pytest.approx(1)
        for level in levels:
            assert MIN_M * 0.99 <= level["m_probability"] <= 1
            assert 0 < level["u_probability"] <= 1


def test_training_is_deterministic(population, trained):
    assert train_model(prepared(records_frame(population.compared))) == trained


def test_too_few_records_keep_the_default_model():
    model = train_model(records_frame(make_population(500, seed=3).compared))

    assert model == DEFAULT_MODEL


# -- incremental scoring ----------------------------------------------------------------------


def test_score_pairs_gives_what_predict_gives_at_every_level(records, all_pairs):
    by_level: dict[tuple[str, int], list[ScoredPair]] = defaultdict(list)
    for pair in all_pairs:
        for evidence in pair.evidence:
            by_level[evidence.field, evidence.level].append(pair)
    sample = {pair for pairs in by_level.values() for pair in pairs[:3]}
    sample |= set(random.Random(5).sample(all_pairs, 100))

    # Every level of every field is met, so the sample checks them all (of the null levels,
    # only the telephone's: nothing else is ever blank in the synthetic records).
    for comparison in DEFAULT_MODEL["comparisons"]:
        field, levels = comparison["output_column_name"], comparison["comparison_levels"]
        met = {level for met_field, level in by_level if met_field == field}
        assert met - {-1} == set(range(len(levels) - 1)), field
    assert ("phone", -1) in by_level
    for pair in sample:
        left, right = records[pair.left_id], records[pair.right_id]
        assert score_pairs(DEFAULT_MODEL, right, [left]) == [pair]
        assert score_pairs(DEFAULT_MODEL, left, [right]) == [pair]


def test_score_pairs_of_many_candidates_keeps_their_order(records, all_pairs):
    partners: dict[int, list[ScoredPair]] = defaultdict(list)
    for pair in all_pairs:
        partners[pair.left_id].append(pair)
        partners[pair.right_id].append(pair)
    record_id, pairs = max(partners.items(), key=lambda item: len(item[1]))
    pairs.reverse()
    candidates = [
        records[pair.left_id if pair.right_id == record_id else pair.right_id] for pair in pairs
    ]

    assert len(candidates) >= 5
    assert score_pairs(DEFAULT_MODEL, records[record_id], candidates) == pairs


def test_score_pairs_with_a_trained_model_gives_what_predict_gives(population, records, trained):
    pairs = predict(records_frame(population.compared), trained, min_weight=DEFAULT_THRESHOLD)

    for pair in pairs[:50]:
        assert score_pairs(trained, records[pair.right_id], [records[pair.left_id]]) == [pair]


def test_score_pairs_from_several_threads_gives_the_same_scores(population):
    rng = random.Random(8)
    tasks = [
        (record, rng.sample(population.compared[:2_000], 20))
        for record in population.compared[2_000:2_040]
    ]
    alone = [score_pairs(DEFAULT_MODEL, record, candidates) for record, candidates in tasks]

    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda task: score_pairs(DEFAULT_MODEL, *task), tasks))

    assert together == alone


def test_score_pairs_without_candidates_scores_nothing():
    assert score_pairs(DEFAULT_MODEL, applicant(), []) == []


def test_score_pairs_scores_a_candidate_once():
    other = applicant(2)

    assert len(score_pairs(DEFAULT_MODEL, applicant(), [other, other])) == 1


def test_a_record_is_not_its_own_candidate():
    with pytest.raises(ValueError, match="among its own candidates"):
        score_pairs(DEFAULT_MODEL, applicant(), [applicant(2), applicant()])


names = st.text(alphabet="aeéèlnrtAÉLN- '", max_size=10)


@settings(max_examples=40, deadline=None)
@given(first_names=st.tuples(names, names), last_names=st.tuples(names, names))
def test_a_pair_scores_the_same_whichever_record_is_new(first_names, last_names):
    left = applicant(first_name=first_names[0], last_name=last_names[0])
    right = disguised(left, first_names[1], last_names[1])

    assert score_pairs(DEFAULT_MODEL, left, [right]) == score_pairs(DEFAULT_MODEL, right, [left])


# -- what the levels catch --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_name", "last_name", "level"),
    [
        ("Helene", "Dupont", "same first and last names"),
        ("Hélène", "DUPONT ", "same first and last names"),
        ("Dupont", "Hélène", "first and last names swapped"),
        ("Hélène", "Dupomt", "similar names (small typos)"),
        ("Hélèen", "Duppont", "similar names (small typos)"),
        ("Hemène", "Dumont", "similar names (several typos)"),
        ("Dupond", "Helène", "first and last names swapped, with small typos"),
        (
            "Hélène",
            "Dupont-Martin",
            "same first name, last name contained in the other (married name)",
        ),
    ],
)
def test_a_variation_of_the_name_alone_is_a_possible_duplicate(first_name, last_name, level):
    original = applicant()
    (pair,) = score_pairs(DEFAULT_MODEL, disguised(original, first_name, last_name), [original])

    with translation.override("en"):
        assert level_label("name", evidence_of(pair, "name").level) == level
    assert pair.match_weight >= DEFAULT_THRESHOLD


def test_a_married_name_with_the_same_nir_is_a_possible_duplicate():
    original = applicant()
    married = dataclasses.replace(
        disguised(original, "Hélène", "Martin"), nir_index=original.nir_index
    )
    (pair,) = score_pairs(DEFAULT_MODEL, married, [original])

    with translation.override("en"):
        assert level_label("name", evidence_of(pair, "name").level) == (
            "same first name, another last name"
        )
    assert pair.match_weight >= DEFAULT_THRESHOLD


def test_a_mistyped_nir_is_a_different_nir_and_the_rest_decides():
    """Blind indexes tell equal NIRs only: one digit mistyped is "different", and the name,
    date of birth, account and address still make the pair a possible duplicate."""
    original = applicant()
    mistyped = applicant(2, nir="284037512345178", email="autre@example.org", phone="")
    (pair,) = score_pairs(DEFAULT_MODEL, mistyped, [original])

    with translation.override("en"):
        assert level_label("nir", evidence_of(pair, "nir").level) == "different"
    assert evidence_of(pair, "nir").weight < 0
    assert pair.match_weight >= DEFAULT_THRESHOLD


def test_the_nir_has_two_levels_only():
    (nir,) = [c for c in DEFAULT_MODEL["comparisons"] if c["output_column_name"] == "nir"]
    conditions = [level["sql_condition"] for level in nir["comparison_levels"]]

    assert conditions == ['"nir_l" IS NULL OR "nir_r" IS NULL', '("nir_l" = "nir_r")', "ELSE"]
    with translation.override("en"):
        assert [level_label("nir", level) for level in (-1, 0, 1)] == [
            "missing on one side",
            "different",
            "same number",
        ]


def test_a_model_compares_as_now_unless_its_levels_changed(trained):
    older = copy.deepcopy(DEFAULT_MODEL)
    (nir,) = [c for c in older["comparisons"] if c["output_column_name"] == "nir"]
    nir["comparison_levels"].insert(
        2, {"sql_condition": "levenshtein(nir_l, nir_r) <= 1", "m_probability": 0.1}
    )

    assert compares_as_now(DEFAULT_MODEL)
    assert compares_as_now(trained)
    assert not compares_as_now(older)
    assert not compares_as_now({})


@pytest.mark.parametrize(
    ("first_name", "last_name"),
    [("Camille", "Dupont"), ("Camille", "Bernard")],
)
def test_another_name_at_the_same_address_and_birth_date_is_not_flagged(first_name, last_name):
    """A twin (or a stranger) born the same day at the same address, with identifiers of their
    own."""
    original = applicant()
    (pair,) = score_pairs(DEFAULT_MODEL, disguised(original, first_name, last_name), [original])

    assert pair.match_weight < DEFAULT_THRESHOLD


def test_identifiers_are_compared_normalised():
    original = applicant()
    retyped = applicant(
        2,
        nir="2 84 03 75 123 456 78",
        iban="fr76 3000 6000 0112 3456 7890 189",
        email=" Helene.Dupont@Example.ORG",
        phone="+33 6 12 34 56 78",
    )
    (pair,) = score_pairs(DEFAULT_MODEL, retyped, [original])

    assert {evidence.field: evidence.level for evidence in pair.evidence} == {
        "name": 8,
        "birth_date": 1,
        "nir": 1,
        "iban": 1,
        "email": 1,
        "phone": 1,
        "address": 2,
    }


def test_a_blank_field_is_missing_and_weighs_nothing():
    (pair,) = score_pairs(DEFAULT_MODEL, applicant(2, phone="", email=" "), [applicant()])

    assert evidence_of(pair, "phone") == FieldEvidence("phone", -1, 0.0)
    assert evidence_of(pair, "email").level == -1


# -- input and labels -------------------------------------------------------------------------


def test_prepared_folds_names_and_normalises_identifiers():
    record = applicant(
        first_name="Jean-Pierre",
        last_name="L'Hôte-Œuvray",
        nir="1 80 01 75 123 456 78",
        phone="0033 6 12 34 56 78",
        address_line="12, rue de l'Église",
        postcode="",
    )
    row = prepared(records_frame([record])).row(0, named=True)

    assert row == {
        "unique_id": 1,
        "first_name": "jean pierre",
        "last_name": "l hote oeuvray",
        "birth_date": dt.date(1984, 3, 12),
        "nir": blind_index("nir", "180017512345678"),
        "iban": blind_index("iban", "FR7630006000011234567890189"),
        "email": "helene.dupont@example.org",
        "phone": "0612345678",
        "address_line": "12 rue de l eglise",
        "postcode": None,
        "last_name_words": ["l", "hote", "oeuvray"],
    }


def test_every_level_of_every_field_has_a_label_in_both_languages():
    assert tuple(FIELD_LABELS) == FIELDS
    for comparison in DEFAULT_MODEL["comparisons"]:
        field = comparison["output_column_name"]
        top = sum(not level.get("is_null_level") for level in comparison["comparison_levels"]) - 1
        for language in ("en", "fr"):
            with translation.override(language):
                labels = [level_label(field, level) for level in range(-1, top + 1)]
                assert str(FIELD_LABELS[field])
            assert all(labels), (field, language)
            assert len(set(labels)) == len(labels), (field, language)
        with pytest.raises(ValueError, match="no level"):
            level_label(field, top + 1)


def test_a_value_shared_by_too_many_records_links_no_pair():
    # 60 different people with one placeholder telephone: one crowded value for the report,
    # not 1,770 pairs; two of them still sharing an account are still compared.
    rng = random.Random(4)
    people = [
        applicant(
            n,
            first_name=f"Prénom{chr(97 + n % 26)}{chr(97 + n // 26)}",
            last_name=rng.choice(["Durand", "Lefebvre", "Moreau", "Garnier", "Chevalier"])
            + chr(97 + n % 26),
            birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=211 * n),
            nir=f"{n:015d}",
            email=f"p{n}@example.org",
            iban=f"IBAN{n}",
            phone="06 00 00 00 00",
        )
        for n in range(1, 61)
    ]
    people[1] = dataclasses.replace(people[1], iban_index=people[0].iban_index)
    pairs = predict(records_frame(people), DEFAULT_MODEL, min_weight=EVERYTHING)
    assert [(pair.left_id, pair.right_id) for pair in pairs] == [(1, 2)]
    assert evidence_of(pairs[0], "phone").level == MISSING


def test_every_shared_identifier_keeps_the_pairs_below_the_threshold():
    holder = applicant(1)
    partner = dataclasses.replace(
        disguised(holder, "Marc", "Lefèvre"),
        birth_date=dt.date(1979, 6, 30),
        iban_index=holder.iban_index,
        address_line="3 place du Marché",
        postcode="13001",
    )
    frame = records_frame([holder, partner])
    assert predict(frame, DEFAULT_MODEL, min_weight=DEFAULT_THRESHOLD) == []
    (pair,) = predict(
        frame, DEFAULT_MODEL, min_weight=DEFAULT_THRESHOLD, every_shared_identifier=True
    )
    assert pair.match_weight < DEFAULT_THRESHOLD
    assert evidence_of(pair, "iban").weight > 0
    assert pair == score_pairs(DEFAULT_MODEL, partner, [holder])[0]
