"""Where applicants live: a French postcode's région (Corsica and overseas included), the
country elsewhere, "unknown" for anything else."""

from __future__ import annotations

import pytest

from entraide.reporting import regions
from entraide.reporting.regions import UNKNOWN, departement_of, place_name, region_of


def test_every_departement_of_metropolitan_france_is_in_one_of_its_13_regions() -> None:
    metropolitan = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
    regions_found = {regions.DEPARTEMENTS[departement] for departement in metropolitan}

    assert len(metropolitan) == 96
    assert len(regions_found) == 13
    assert {regions.REGIONS[key] for key in regions_found} >= {"Corse", "Île-de-France"}


@pytest.mark.parametrize(
    ("postcode", "departement", "region"),
    [
        ("75011", "75", "Île-de-France"),
        ("13001", "13", "Provence-Alpes-Côte d'Azur"),
        ("01000", "01", "Auvergne-Rhône-Alpes"),
        ("20000", "2A", "Corse"),  # Ajaccio
        ("20199", "2A", "Corse"),
        ("20200", "2B", "Corse"),  # Bastia
        ("20620", "2B", "Corse"),
        ("97100", "971", "Guadeloupe"),
        ("97200", "972", "Martinique"),
        ("97300", "973", "Guyane"),
        ("97400", "974", "La Réunion"),
        ("97500", "975", "Saint-Pierre-et-Miquelon"),
        ("97600", "976", "Mayotte"),
        ("98800", "988", "Nouvelle-Calédonie"),
        (" 75 011 ", "75", "Île-de-France"),
    ],
)
def test_a_french_postcode_gives_its_departement_and_region(
    postcode: str, departement: str, region: str
) -> None:
    assert departement_of(postcode) == departement
    assert regions.REGIONS[region_of("FR", postcode)] == region


@pytest.mark.parametrize("postcode", ["", "7501", "750111", "ABCDE", "00100", "96000", "98000"])
def test_a_postcode_that_is_no_french_one_is_unknown(postcode: str) -> None:
    assert departement_of(postcode) is None
    assert region_of("FR", postcode) == UNKNOWN


def test_an_address_abroad_counts_in_its_country_named_in_the_readers_language() -> None:
    assert region_of("BE", "1000") == "BE"
    assert region_of(" de ", "") == "DE"
    assert place_name("BE", "fr") == "Belgique"
    assert place_name("BE", "en") == "Belgium"
    assert place_name("FR-94", "en") == "Corse"


def test_an_overseas_address_written_with_its_own_country_code_counts_in_its_region() -> None:
    assert region_of("RE", "97400") == region_of("FR", "97400") == "FR-04"
    assert region_of("GP", "") == "FR-01"


@pytest.mark.parametrize("country", ["", "F", "FRA", "1A"])
def test_no_country_is_unknown(country: str) -> None:
    assert region_of(country, "1000") == UNKNOWN
