import importlib

import pytest
from django.apps import apps
from django.utils import translation

from entraide.integrity import linkage, selectors
from entraide.integrity.models import Link
from entraide.integrity.tests.factories import EVIDENCE, LinkFactory

pytestmark = pytest.mark.django_db

nir_evidence_levels = importlib.import_module(
    "entraide.integrity.migrations.0003_nir_evidence_levels"
)


def with_nir_level(level: int) -> list[dict]:
    return [dict(item, level=level) if item["field"] == "nir" else dict(item) for item in EVIDENCE]


def test_links_scored_before_the_blind_indexes_keep_readable_nir_levels() -> None:
    # Levels of the NIR before: 2 the same, 1 one digit different, 0 different.
    same, one_digit, different = (LinkFactory(evidence=with_nir_level(n)) for n in (2, 1, 0))
    unscored = LinkFactory(evidence=[])

    nir_evidence_levels.renumber(apps, None)

    def nir_level(link: Link) -> int:
        link.refresh_from_db()
        return next(item["level"] for item in link.evidence if item["field"] == "nir")

    assert [nir_level(link) for link in (same, one_digit, different)] == [1, 0, 0]
    with translation.override("en"):
        assert linkage.level_label("nir", 1) == "same number"
        rows = {row.label: row for row in selectors.comparisons(one_digit, set())}
        assert rows["Social security number"].level == "different"
    # The other fields and the weights are as they were.
    same.refresh_from_db()
    assert [item for item in same.evidence if item["field"] != "nir"] == [
        item for item in EVIDENCE if item["field"] != "nir"
    ]
    assert next(item for item in same.evidence if item["field"] == "nir")["weight"] == -3.5
    unscored.refresh_from_db()
    assert unscored.evidence == []
