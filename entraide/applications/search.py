"""Finding applications by what a reviewer types: part of a name, a reference, an e-mail.

Names are compared folded (lower case, without accents: "dupon" and "DUPONT" both find
"Dupont", "helene" finds "Hélène"), each word of the search anywhere in "first last".
A reference matches by its beginning, an e-mail address by its beginning, case aside.

On PostgreSQL the folded name is the SQL function ``entraide_fold_name``, defined by migration
applications 0004 over the ``unaccent`` extension and indexed by trigrams (``pg_trgm``), so that
a search among a million applications reads only the rows that may match. On SQLite the same
function is registered on every connection (below), from :func:`fold`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db.models import Q, QuerySet, TextField
from django.db.models.expressions import F, Func
from django.db.models.functions import Lower

FOLD_NAME_FUNCTION = "entraide_fold_name"

# Letters that ``unaccent`` spells out and Unicode does not decompose.
_SPELLED_OUT = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
# Trigram indexes need three characters: a shorter word only narrows a longer one's matches.
MIN_WORD = 3
# A reference's prefix, its dash and at least two characters (``A-7K``): shorter, it would
# match every application of the fund.
_REFERENCE_START = re.compile(r"^[A-Z]{1,3}-[0-9A-Z]{2}[0-9A-Z-]*$")


def fold(text: str) -> str:
    """Lower case without accents, as PostgreSQL's ``lower(unaccent(text))``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED_OUT))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class FoldedName(Func):
    """``entraide_fold_name(first_name, last_name)``: the index's expression, word for word."""

    function = FOLD_NAME_FUNCTION
    output_field = TextField()

    def __init__(self, **extra: Any) -> None:
        super().__init__(F("first_name"), F("last_name"), **extra)


def search(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """The applications of ``queryset`` that ``term`` finds (all of them for a blank term)."""
    term = term.strip()
    if not term:
        return queryset
    words = fold(term).split()
    found = Q(pk__in=[])
    if any(len(word) >= MIN_WORD for word in words):
        queryset = queryset.alias(folded_name=FoldedName())
        found |= Q(*(Q(folded_name__contains=word) for word in words))
    reference = term.upper()
    if _REFERENCE_START.match(reference):
        found |= Q(reference__startswith=reference)
    if len(term) >= MIN_WORD and " " not in term:
        queryset = queryset.alias(email_lower=Lower("email"))
        found |= Q(email_lower__startswith=term.lower())
    return queryset.filter(found)


def _fold_name(first_name: str | None, last_name: str | None) -> str | None:
    if first_name is None or last_name is None:
        return None
    return fold(f"{first_name} {last_name}")


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On each new connection (``connection_created``, connected by the app's config)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            FOLD_NAME_FUNCTION, 2, _fold_name, deterministic=True
        )

