import re
from collections import Counter

import pytest
from rapidfuzz.distance import OSA, Levenshtein
from schwifty import IBAN
from stdnum.fr import nir as stdnum_nir

from entraide.applications.search import fold
from entraide.core.crypto import blind_index
from entraide.integrity.synthetic import (
    HARD_NEGATIVE_KINDS,
    NAME_TYPOS,
    VARIATIONS,
    Applicant,
    Population,
    make_population,
)

NAME_VARIATIONS = {"married_name", "hyphenation", "accents", "swapped_names", *NAME_TYPOS}


@pytest.fixture(scope="module")
def population() -> Population:
    return make_population(10_000)


def first_records(population: Population) -> dict[int, Applicant]:
    """Each person's first application (records come in id order)."""
    first: dict[int, Applicant] = {}
    for record in population.records:
        first.setdefault(population.person_of[record.record_id], record)
    return first


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone).removeprefix("33").removeprefix("0")


def test_the_same_seed_makes_the_same_population():
    assert make_population(2_000, seed=7) == make_population(2_000, seed=7)


def test_another_seed_makes_another_population():
    assert make_population(2_000, seed=7).records != make_population(2_000, seed=8).records


def test_record_ids_run_from_one_and_every_record_has_a_person(population):
    ids = [record.record_id for record in population.records]

    assert ids == list(range(1, 10_001))
    assert set(population.person_of) == set(ids)


def test_nirs_are_valid_and_consistent_with_birth_month_and_sex(population):
    sexes: dict[int, set[str]] = {}
    for record in population.records:
        assert stdnum_nir.is_valid(record.nir), record.nir
        birth = record.birth_date
        assert record.nir[1:5] == f"{birth.year % 100:02d}{birth.month:02d}"
        sexes.setdefault(population.person_of[record.record_id], set()).add(record.nir[0])
    assert all(len(sex) == 1 for sex in sexes.values())


def test_ibans_are_valid_with_their_rib_keys(population):
    for record in population.records:
        assert str(IBAN(record.iban, validate_bban=True)) == record.iban


def test_the_duplicate_rate_is_kept(population):
    applications = Counter(population.person_of.values())

    assert len(population.variations) == 300
    assert len(population.records) - len(applications) == 300
    # Second applications mostly, a few thirds, never more.
    assert set(applications.values()) == {1, 2, 3}
    assert 0 < Counter(applications.values())[3] < Counter(applications.values())[2] / 10


def test_a_first_application_records_no_variation(population):
    assert not {record.record_id for record in first_records(population).values()} & set(
        population.variations
    )


def test_duplicate_pairs_pair_every_application_of_a_person(population):
    applications = Counter(population.person_of.values())
    expected = sum(count * (count - 1) // 2 for count in applications.values())
    pairs = population.duplicate_pairs()

    assert len(pairs) == expected
    assert all(population.person_of[left] == population.person_of[right] for left, right in pairs)
    assert all(left < right for left, right in pairs)


def test_every_variation_occurs_at_ten_thousand_records(population):
    occurrences = Counter(kind for kinds in population.variations.values() for kind in kinds)

    assert set(occurrences) == set(VARIATIONS)
    assert all(kinds for kinds in population.variations.values())


def test_identifiers_change_only_with_their_variation(population):
    first = first_records(population)
    for record_id, kinds in population.variations.items():
        record = population.records[record_id - 1]
        base = first[population.person_of[record_id]]
        assert (record.nir != base.nir) == bool({"second_nir", "nir_digit"} & set(kinds))
        assert (record.iban != base.iban) == ("new_iban" in kinds)
        assert (record.email.lower() != base.email) == ("new_email" in kinds)
        assert (digits(record.phone) != digits(base.phone)) == ("new_phone" in kinds)
        assert (record.address_line != base.address_line) == ("new_address" in kinds)
        assert (record.postcode, record.city) == (base.postcode, base.city)
        assert record.birth_date == base.birth_date
        if "nir_digit" in kinds:
            changed = [i for i in range(13) if record.nir[i] != base.nir[i]]
            assert len(changed) == 1
            assert 7 <= changed[0] <= 12


def _name_changed_as(kind: str, base: Applicant, record: Applicant) -> bool:
    before, after = (base.first_name, base.last_name), (record.first_name, record.last_name)
    if kind == "swapped_names":
        return after == before[::-1]
    if kind == "married_name":
        return after[0] == before[0] and after[1] != before[1]
    if kind == "hyphenation":
        return after != before and [n.replace("-", " ") for n in after] == [
            n.replace("-", " ") for n in before
        ]
    if kind == "accents":
        return after != before and [fold(n) for n in after] == [fold(n) for n in before]
    # A typo changes one of the two names by one letter.
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    if len(changed) != 1:
        return False
    old, new = changed[0]
    if kind == "transposition":
        old, new = old.lower(), new.lower()
        return sorted(old) == sorted(new) and OSA.distance(old, new) == 1
    length_change = {"typo_substitution": 0, "typo_deletion": -1, "typo_insertion": 1}[kind]
    return Levenshtein.distance(old, new) == 1 and len(new) - len(old) == length_change


def test_each_name_variation_changes_the_name_as_it_says(population):
    first = first_records(population)
    checked = set()
    for record_id, kinds in population.variations.items():
        record = population.records[record_id - 1]
        base = first[population.person_of[record_id]]
        name_kinds = NAME_VARIATIONS & set(kinds)
        if not name_kinds:
            assert (record.first_name, record.last_name) == (base.first_name, base.last_name)
        elif len(name_kinds) == 1:
            (kind,) = name_kinds
            assert _name_changed_as(kind, base, record), (kind, base, record)
            checked.add(kind)
    assert checked == NAME_VARIATIONS


def test_look_alikes_are_different_people(population):
    records = population.records
    kinds = Counter(population.hard_negatives.values())

    assert set(kinds) == set(HARD_NEGATIVE_KINDS)
    for (left_id, right_id), kind in population.hard_negatives.items():
        left, right = records[left_id - 1], records[right_id - 1]
        assert population.person_of[left_id] != population.person_of[right_id]
        assert left.nir != right.nir
        if kind == "couple":
            assert left.iban == right.iban
            assert (left.address_line, left.postcode) == (right.address_line, right.postcode)
            assert left.birth_date != right.birth_date
        elif kind == "twin":
            assert left.birth_date == right.birth_date
            assert left.last_name == right.last_name
            assert left.first_name != right.first_name
            assert left.address_line == right.address_line
            assert left.iban != right.iban
        else:
            assert (left.first_name, left.last_name) == (right.first_name, right.last_name)
            assert left.birth_date != right.birth_date


def test_records_are_compared_by_the_blind_indexes_of_their_nir_and_iban(population):
    compared = population.compared

    assert [record.record_id for record in compared] == [
        record.record_id for record in population.records
    ]
    for typed, record in zip(population.records[:200], compared, strict=False):
        assert record.nir_index == blind_index("nir", typed.nir) != typed.nir
        assert record.iban_index == blind_index("iban", typed.iban) != typed.iban
        assert (record.first_name, record.birth_date, record.email) == (
            typed.first_name,
            typed.birth_date,
            typed.email,
        )
    # Equal NIRs, equal indexes: a person's later applications keep theirs unless varied.
    same_nir = {
        (left, right)
        for left, right in population.duplicate_pairs()
        if population.records[left - 1].nir == population.records[right - 1].nir
    }
    assert same_nir
    assert all(compared[a - 1].nir_index == compared[b - 1].nir_index for a, b in same_nir)


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_an_impossible_duplicate_rate_is_refused(rate):
    with pytest.raises(ValueError, match="duplicate_rate"):
        make_population(10, duplicate_rate=rate)


def test_tiny_populations_are_made():
    assert make_population(0).records == []
    assert len(make_population(1, duplicate_rate=0.5).records) == 1
