from __future__ import annotations

from babel.messages.catalog import Catalog

from entraide.core.catalogs import _untranslated


def test_untranslated_fuzzy_and_half_translated_plurals_are_reported() -> None:
    catalog = Catalog(locale="fr")
    catalog.add("Fund", "Fonds")
    catalog.add("Budget", "")
    catalog.add("Left", "Reste", flags=["fuzzy"])
    catalog.add(("%(n)s application", "%(n)s applications"), ("%(n)s demande", ""))
    assert sorted(_untranslated(catalog)) == ["%(n)s application", "Budget", "Left"]
