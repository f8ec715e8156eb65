"""What the integrity app holds about a person, for the privacy app (entraide.privacy): the
open investigations that hold an erasure, and the reviewers' notes erased with the
application. The links themselves stay (ids, scores and levels per field, no value): they keep
the fund's duplicate figures right.

Changes run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from entraide.integrity.models import Link


def under_investigation(application_ids: Iterable[int]) -> set[int]:
    """The applications in a flagged link still to review (a possible duplicate or fraud)."""
    ids = set(application_ids)
    found: set[int] = set()
    for left, right in Link.objects.filter(
        Q(left_id__in=ids) | Q(right_id__in=ids), status=Link.Status.OPEN, flagged=True
    ).values_list("left_id", "right_id"):
        found |= {left, right} & ids
    return found


def erase(application_ids: Iterable[int]) -> int:
    """Blank the reviewers' notes on the links of these applications."""
    ids = list(application_ids)
    return (
        Link.objects.filter(Q(left_id__in=ids) | Q(right_id__in=ids))
        .exclude(decision_note="")
        .update(decision_note="")
    )
