"""Where applicants live, for the statistics: the région of a French postcode, else the country.

A French postcode's first two digits are its département's (a few towns near a border share a
neighbour's postcode: the statistics accept that), except in Corsica, whose postcodes start with
20 for both départements (2A below 20200, 2B from it), and overseas, where the first three
digits are the département's or the collectivity's (971–976, 977, 978, 986–988). An address
abroad counts in its country; an overseas address written with its own ISO country code (GP,
RE…) counts in its région as if written with FR. Anything else is "unknown".
"""

from __future__ import annotations

from babel import Locale

UNKNOWN = "unknown"

# The régions (INSEE codes, 2016) and the overseas collectivities (their postcodes' prefix),
# by their proper names.
REGIONS: dict[str, str] = {
    "FR-84": "Auvergne-Rhône-Alpes",
    "FR-27": "Bourgogne-Franche-Comté",
    "FR-53": "Bretagne",
    "FR-24": "Centre-Val de Loire",
    "FR-94": "Corse",
    "FR-44": "Grand Est",
    "FR-32": "Hauts-de-France",
    "FR-11": "Île-de-France",
    "FR-28": "Normandie",
    "FR-75": "Nouvelle-Aquitaine",
    "FR-76": "Occitanie",
    "FR-52": "Pays de la Loire",
    "FR-93": "Provence-Alpes-Côte d'Azur",
    "FR-01": "Guadeloupe",
    "FR-02": "Martinique",
    "FR-03": "Guyane",
    "FR-04": "La Réunion",
    "FR-06": "Mayotte",
    "FR-975": "Saint-Pierre-et-Miquelon",
    "FR-977": "Saint-Barthélemy",
    "FR-978": "Saint-Martin",
    "FR-986": "Wallis-et-Futuna",
    "FR-987": "Polynésie française",
    "FR-988": "Nouvelle-Calédonie",
}

_DEPARTEMENTS_OF: dict[str, str] = {
    "FR-84": "01 03 07 15 26 38 42 43 63 69 73 74",
    "FR-27": "21 25 39 58 70 71 89 90",
    "FR-53": "22 29 35 56",
    "FR-24": "18 28 36 37 41 45",
    "FR-94": "2A 2B",
    "FR-44": "08 10 51 52 54 55 57 67 68 88",
    "FR-32": "02 59 60 62 80",
    "FR-11": "75 77 78 91 92 93 94 95",
    "FR-28": "14 27 50 61 76",
    "FR-75": "16 17 19 23 24 33 40 47 64 79 86 87",
    "FR-76": "09 11 12 30 31 32 34 46 48 65 66 81 82",
    "FR-52": "44 49 53 72 85",
    "FR-93": "04 05 06 13 83 84",
    "FR-01": "971",
    "FR-02": "972",
    "FR-03": "973",
    "FR-04": "974",
    "FR-06": "976",
    "FR-975": "975",
    "FR-977": "977",
    "FR-978": "978",
    "FR-986": "986",
    "FR-987": "987",
    "FR-988": "988",
}
# Département (or collectivity) → région key.
DEPARTEMENTS: dict[str, str] = {
    departement: region
    for region, departements in _DEPARTEMENTS_OF.items()
    for departement in departements.split()
}

# Overseas addresses written with their own ISO 3166 code instead of FR.
_OVERSEAS_COUNTRIES: dict[str, str] = {
    "GP": "971",
    "MQ": "972",
    "GF": "973",
    "RE": "974",
    "PM": "975",
    "YT": "976",
    "BL": "977",
    "MF": "978",
    "WF": "986",
    "PF": "987",
    "NC": "988",
}


def departement_of(postcode: str) -> str | None:
    """The département (or overseas collectivity) of a French postcode; None if it is none."""
    code = "".join(postcode.split())
    if len(code) != 5 or not code.isascii() or not code.isdigit():
        return None
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    departement = code[:3] if code.startswith(("97", "98")) else code[:2]
    return departement if departement in DEPARTEMENTS else None


def region_of(country: str, postcode: str) -> str:
    """The key an address counts under: a région (``FR-11``), a country (``BE``), or
    :data:`UNKNOWN`."""
    country = country.strip().upper()
    if country in _OVERSEAS_COUNTRIES:
        return DEPARTEMENTS[_OVERSEAS_COUNTRIES[country]]
    if country == "FR":
        departement = departement_of(postcode)
        return DEPARTEMENTS[departement] if departement is not None else UNKNOWN
    if len(country) == 2 and country.isascii() and country.isalpha():
        return country
    return UNKNOWN


def is_french(key: str) -> bool:
    return key.startswith("FR-")


def place_name(key: str, locale: str) -> str:
    """A région's name, or a country's in ``locale`` (its code when Babel does not know it);
    the caller names :data:`UNKNOWN`."""
    if is_french(key):
        return REGIONS[key]
    return Locale.parse(locale).territories.get(key, key)
