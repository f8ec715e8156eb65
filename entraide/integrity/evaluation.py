"""Precision and recall of duplicate detection, counted on pairs of records.

A pair is two record ids, the lower first, so that (7, 3) and (3, 7) count once. Clusters (a
linkage's groups of records of one person) are compared through their pairs: a cluster of n
records holds n * (n - 1) / 2 of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

Pair = tuple[int, int]


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def normalise_pair(left: int, right: int) -> Pair:
    """``(left, right)`` with the lower id first; a record paired with itself is a caller's bug."""
    if left == right:
        raise ValueError(f"record {left} is paired with itself")
    return (left, right) if left < right else (right, left)


def precision_recall(predicted: Iterable[Pair], truth: set[Pair]) -> Score:
    """How well ``predicted`` pairs find the ``truth`` pairs.

    Nothing predicted has a precision of 1 (no false link) and nothing to find a recall of 1, so
    that an empty population scores as perfect rather than dividing by zero.
    """
    found = {normalise_pair(*pair) for pair in predicted}
    expected = {normalise_pair(*pair) for pair in truth}
    true_positives = len(found & expected)
    false_positives = len(found) - true_positives
    false_negatives = len(expected) - true_positives
    precision = true_positives / len(found) if found else 1.0
    recall = true_positives / len(expected) if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(
        precision=precision,
        recall=recall,
        f1=f1,
        true_positives=true_positives,
        false_positives=false_positives,
        false_negatives=false_negatives,
    )


def pairs_of_clusters(clusters: Iterable[Iterable[int]]) -> set[Pair]:
    """Every pair of records within each cluster (a single record makes none)."""
    pairs: set[Pair] = set()
    for cluster in clusters:
        pairs.update(itertools.combinations(sorted(set(cluster)), 2))
    return pairs
