"""Finding applications by what a reviewer types: the start of names, a reference, an e-mail.

Names are compared folded (lower case, without accents) word by word: each word typed must
begin a word of "first last", in any order ("dupon" and "DUPONT" find Dupont, "helene dup"
finds Hélène Dupont). A reference matches by its beginning, an e-mail address by its beginning,
case aside.

On PostgreSQL the words of a name are the SQL function ``entraide_name_words(first_name,
last_name)``, a text-search vector of the folded name (the ``unaccent`` extension), defined and
indexed (GIN) by migration applications 0004: a search among a million applications reads the
index, not the rows, and the planner knows from the index's statistics how many a word finds.
SQLite has no such index: the same function, registered on each connection from Python
(:func:`register_sqlite_functions`), gives the folded name between spaces for ``LIKE``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.db.models.functions import Lower

NAME_WORDS_FUNCTION = "entraide_name_words"

# Letters that ``unaccent`` changes and Unicode does not decompose (a search typed with them
# must fold as the names it looks for did).
_SPELLED_OUT = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
    }
)
# A one-letter word would match a good part of any fund: it is left out.
MIN_WORD = 2
# An e-mail's start is looked for from three characters.
MIN_EMAIL = 3
# A reference's prefix, its dash and at least two characters (``A-7K``): shorter, it would
# match every application of the fund.
_REFERENCE_START = re.compile(r"^[A-Z]{1,3}-[0-9A-Z]{2}[0-9A-Z-]*$")
_WORD = re.compile(r"[^\W_]+")
# "@", or a dot in one word: the start of an e-mail address, not a name.
_EMAIL_LIKE = re.compile(r"@|^\S*\.\S*$")


def fold(text: str) -> str:
    """Lower case without accents, as PostgreSQL's ``lower(unaccent(text))``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED_OUT))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words_of(text: str) -> list[str]:
    """The folded words of a text: what a name is searched by, and what a search looks for."""
    return _WORD.findall(fold(text))


class NameStartsWith(Func):
    """True when each of ``words`` (folded) begins a word of the applicant's name."""

    function = NAME_WORDS_FUNCTION
    output_field = BooleanField()

    def __init__(self, words: list[str]) -> None:
        self.words = words
        super().__init__(F("first_name"), F("last_name"))

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        vector, params = super().as_sql(compiler, connection, **extra)
        query = " & ".join(f"{word}:*" for word in self.words)
        return f"{vector} @@ to_tsquery('simple', %s)", (*params, query)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        name, params = super().as_sql(compiler, connection, **extra)
        conditions = " AND ".join([f"{name} LIKE %s"] * len(self.words))
        patterns = [f"% {word}%" for word in self.words]
        return f"({conditions})", tuple(value for p in patterns for value in (*params, p))


def search(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """The applications of ``queryset`` that ``term`` finds (all of them for a blank term)."""
    term = term.strip()
    if not term:
        return queryset
    found = Q(pk__in=[])
    words = [word for word in words_of(term) if len(word) >= MIN_WORD]
    reference = term.upper()
    if _REFERENCE_START.match(reference):
        found |= Q(reference__startswith=reference)
    # Not "else": "Al-Fayed" looks like the start of a reference and is a name too.
    if words and not _EMAIL_LIKE.search(term):
        found |= Q(NameStartsWith(words))
    if len(term) >= MIN_EMAIL and " " not in term:
        queryset = queryset.alias(email_lower=Lower("email"))
        found |= Q(email_lower__startswith=term.lower())
    return queryset.filter(found)


def _name_words(first_name: str | None, last_name: str | None) -> str | None:
    if first_name is None or last_name is None:
        return None
    return " " + " ".join(words_of(f"{first_name} {last_name}")) + " "


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """On each new connection (``connection_created``, connected by the app's config)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            NAME_WORDS_FUNCTION, 2, _name_words, deterministic=True
        )
