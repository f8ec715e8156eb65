import dataclasses
import datetime as dt

import polars as pl
import pytest

from entraide.core.crypto import blind_index
from entraide.integrity.evaluation import precision_recall
from entraide.integrity.exact import (
    crowded_values,
    exact_baseline_pairs,
    exact_links,
    records_frame,
)
from entraide.integrity.records import ApplicantRecord
from entraide.integrity.synthetic import Applicant, make_population


def typed(record_id: int, **changes: str) -> Applicant:
    """What an applicant typed, sharing nothing with another of a different id unless
    ``changes`` say so (NIR and IBAN in clear)."""
    record = Applicant(
        record_id=record_id,
        nir=f"1800175{record_id:08d}",
        first_name="Camille",
        last_name=f"Martin{record_id}",
        birth_date=dt.date(1980, 1, 1),
        email=f"person{record_id}@example.org",
        phone=f"06{record_id:08d}",
        address_line=f"{record_id} rue de la Paix",
        postcode="75002",
        city="Paris",
        iban=f"FR76300060000{record_id:014d}",
        account_holder=f"Camille Martin{record_id}",
    )
    return dataclasses.replace(record, **changes)


def applicant(record_id: int, **changes: str) -> ApplicantRecord:
    """The record compared of :func:`typed` (NIR and IBAN by their blind indexes)."""
    return typed(record_id, **changes).compared()


def links_of(*records: ApplicantRecord, **options: int) -> dict[tuple[int, int], list[str]]:
    frame = exact_links(records_frame(records), **options)
    return {(left, right): reasons for left, right, reasons in frame.iter_rows()}


def test_records_frame_has_a_column_per_field():
    record = applicant(1)
    frame = records_frame([record])

    assert frame.columns == [field.name for field in dataclasses.fields(ApplicantRecord)]
    assert frame.schema["record_id"] == pl.Int64
    assert frame.schema["birth_date"] == pl.Date
    assert frame.row(0, named=True) == dataclasses.asdict(record)


def test_records_sharing_nothing_are_not_linked():
    assert links_of(applicant(1), applicant(2), applicant(3)) == {}


def test_a_shared_iban_links_the_records_lower_id_first():
    links = links_of(applicant(5), applicant(2, iban="FR76 3000 6000 0000 0000 0000 005"))

    assert links == {(2, 5): ["iban"]}


def test_a_shared_nir_links_the_records():
    assert links_of(applicant(1), applicant(2, nir=typed(1).nir)) == {(1, 2): ["nir"]}


def test_a_nir_typed_with_spaces_is_the_same_nir():
    spaced = " ".join(typed(1).nir[i : i + 3] for i in range(0, 15, 3))

    assert links_of(applicant(1), applicant(2, nir=spaced)) == {(1, 2): ["nir"]}


def test_identifiers_are_compared_by_their_blind_indexes_only():
    record = applicant(1)
    frame = records_frame([record])

    assert record.nir_index == blind_index("nir", typed(1).nir)
    assert record.iban_index == blind_index("iban", typed(1).iban)
    values = {str(value) for value in frame.row(0)}
    assert typed(1).nir not in values
    assert typed(1).iban not in values


def test_e_mail_addresses_are_compared_trimmed_and_lower_case():
    links = links_of(applicant(1), applicant(2, email=" Person1@Example.ORG "))

    assert links == {(1, 2): ["email"]}


@pytest.mark.parametrize(
    "typed", ["06 12 34 56 78", "+33 6 12 34 56 78", "+33612345678", "0033 (0)6 12 34 56 78"]
)
def test_phones_are_compared_as_national_digits(typed):
    links = links_of(applicant(1, phone="06.12.34.56.78"), applicant(2, phone=typed))

    assert links == {(1, 2): ["phone"]}


def test_the_reasons_name_every_shared_key_in_order():
    first = typed(1)
    second = applicant(2, phone=first.phone, email=first.email, nir=first.nir, iban=first.iban)

    assert links_of(first.compared(), second) == {(1, 2): ["nir", "iban", "email", "phone"]}


def test_a_value_shared_by_three_records_links_each_pair():
    records = [applicant(record_id, iban="FR7630006000011234567890189") for record_id in (1, 2, 3)]

    assert links_of(*records) == {(1, 2): ["iban"], (1, 3): ["iban"], (2, 3): ["iban"]}


def test_blank_values_link_nothing():
    records = [applicant(1, phone="", email=" "), applicant(2, phone=" ", email="")]

    assert links_of(*records) == {}


def test_a_value_shared_by_more_records_than_the_limit_is_crowded_not_paired():
    shared = "FR7630006000011234567890189"
    crowd = [applicant(record_id, iban=shared) for record_id in range(1, 6)]
    pair = [applicant(10, email="same@example.org"), applicant(11, email="same@example.org")]
    frame = records_frame(crowd + pair)

    links = exact_links(frame, max_group=4)
    crowded = crowded_values(frame, max_group=4)

    assert links.rows() == [(10, 11, ["email"])]
    assert crowded.rows() == [("iban", blind_index("iban", shared), 5, [1, 2, 3, 4, 5])]


def test_a_group_as_large_as_the_limit_is_paired():
    crowd = [applicant(record_id, iban="FR7630006000011234567890189") for record_id in range(50)]
    frame = records_frame(crowd)

    assert exact_links(frame).height == 50 * 49 // 2
    assert crowded_values(frame).is_empty()


def test_the_baseline_links_same_nir_or_same_iban_only():
    first = typed(1)
    records = [
        first.compared(),
        applicant(2, nir=first.nir),
        applicant(3, iban=first.iban),
        applicant(4, email=first.email, phone=first.phone),
    ]

    # Pairs, not clusters: 2 and 3 share nothing with each other.
    assert exact_baseline_pairs(records_frame(records)) == {(1, 2), (1, 3)}


def test_exact_baseline_is_imperfect_on_a_realistic_population():
    population = make_population(20_000)
    frame = records_frame(population.compared)
    truth = population.duplicate_pairs()

    baseline = exact_baseline_pairs(frame)
    links = exact_links(frame)
    all_keys = precision_recall(zip(links["left_id"], links["right_id"], strict=True), truth)
    score = precision_recall(baseline, truth)

    # Couples on one joint account are wrongly linked by the shared IBAN...
    couples = {pair for pair, kind in population.hard_negatives.items() if kind == "couple"}
    assert couples <= baseline
    assert 0.7 < score.precision < 0.9
    # ...and a new IBAN with a second NIR hides a duplicate from it.
    assert 0.8 < score.recall < 0.95
    # E-mail addresses and telephones find some of those, and wrongly link no one here.
    assert all_keys.recall > score.recall
    assert all_keys.false_positives == score.false_positives


def test_a_key_without_a_normalisation_is_refused():
    with pytest.raises(ValueError, match="city"):
        exact_links(records_frame([applicant(1)]), keys=("iban", "city"))
