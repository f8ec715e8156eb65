import pytest

from entraide.integrity.evaluation import pairs_of_clusters, precision_recall


def test_pairs_count_once_whatever_their_order():
    score = precision_recall([(2, 1), (1, 2), (3, 4), (5, 6)], {(1, 2), (3, 4), (7, 8)})

    assert score.true_positives == 2
    assert score.false_positives == 1
    assert score.false_negatives == 1
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 / 3)


def test_truth_given_higher_id_first_is_normalised_too():
    score = precision_recall([(1, 2)], {(2, 1)})

    assert score.precision == 1.0
    assert score.recall == 1.0


def test_f1_is_the_harmonic_mean_of_precision_and_recall():
    score = precision_recall([(1, 2), (3, 4), (5, 6), (7, 8)], {(1, 2)})

    assert score.precision == pytest.approx(0.25)
    assert score.recall == 1.0
    assert score.f1 == pytest.approx(0.4)


def test_nothing_predicted_makes_no_false_link_and_finds_nothing():
    score = precision_recall([], {(1, 2)})

    assert score.precision == 1.0
    assert score.recall == 0.0
    assert score.f1 == 0.0
    assert score.false_negatives == 1


def test_nothing_to_find_and_nothing_found_is_perfect():
    score = precision_recall([], set())

    assert (score.precision, score.recall, score.f1) == (1.0, 1.0, 1.0)


def test_only_wrong_links_score_zero():
    score = precision_recall([(1, 3)], {(1, 2)})

    assert (score.precision, score.recall, score.f1) == (0.0, 0.0, 0.0)


def test_a_record_paired_with_itself_is_refused():
    with pytest.raises(ValueError, match="itself"):
        precision_recall([(4, 4)], set())


def test_clusters_pair_each_member_with_every_other_once():
    pairs = pairs_of_clusters([[3, 1, 2], [9], (5, 4, 4), iter([7, 6])])

    assert pairs == {(1, 2), (1, 3), (2, 3), (4, 5), (6, 7)}
