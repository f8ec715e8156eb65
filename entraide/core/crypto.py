"""Encryption at rest and blind indexes: what keeps a NIR or an IBAN out of a database dump.

- **Encryption**: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) through a
  ``MultiFernet`` of the keys in ``ENTRAIDE_ENCRYPTION_KEYS``: the first key encrypts, every key
  decrypts, so a new key is put first and ``entraide keys rotate`` re-encrypts what the old
  ones wrote before they are removed.
- **Blind index**: a keyed HMAC-SHA256 of the normalised value (``ENTRAIDE_BLIND_INDEX_KEY``),
  truncated to 128 bits. Equal values give equal indexes, so exact lookups, unique constraints,
  joins with millions of evidence rows and duplicate detection work on the index alone; without
  the key it tells nothing of the value (a NIR's space is small enough to enumerate, which a
  plain hash would not resist). The index key is not rotated: it would mean recomputing every
  index, evidence included, from clear values the evidence no longer keeps.

Outside production both keys are derived from ``SECRET_KEY``, so the demo and the tests need
no set-up; production refuses to start without them (``entraide/settings.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

INDEX_BYTES = 16  # 128 bits: no collision in any fund's lifetime, half the width of the digest
INDEX_LENGTH = INDEX_BYTES * 2
# Fernet tokens are URL-safe base64 of the version byte 0x80: they all start so.
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 (not a secret: the format's first bytes)


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.ENTRAIDE_ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("ENTRAIDE_ENCRYPTION_KEYS names no key")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(f"ENTRAIDE_ENCRYPTION_KEYS: {error}") from None


@cache
def _index_key() -> bytes:
    key = settings.ENTRAIDE_BLIND_INDEX_KEY
    if len(key) < 32:
        raise ImproperlyConfigured("ENTRAIDE_BLIND_INDEX_KEY must be at least 32 characters")
    return key.encode()


def forget_keys() -> None:
    """Read the keys from the settings again (after a test or a rotation changed them)."""
    _fernet.cache_clear()
    _first_key.cache_clear()
    _index_key.cache_clear()


def encrypt_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    """The clear bytes; :class:`cryptography.fernet.InvalidToken` if no key opens them."""
    return _fernet().decrypt(token)


def encrypt_text(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    return _fernet().decrypt(token.encode("ascii")).decode()


def rotate_token(token: str) -> str:
    """The token encrypted again with the first key (the same value)."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def rotate_bytes(token: bytes) -> bytes:
    return _fernet().rotate(token)


@cache
def _first_key() -> Fernet:
    return Fernet(settings.ENTRAIDE_ENCRYPTION_KEYS[0])


def is_current_bytes(token: bytes) -> bool:
    """Whether the first key wrote ``token`` (rotation skips those); InvalidToken when no key
    opens it."""
    try:
        _first_key().decrypt(token)
    except InvalidToken:
        _fernet().decrypt(token)  # raises when no key at all opens it
        return False
    return True


def is_current(token: str) -> bool:
    return is_current_bytes(token.encode("ascii"))


# --------------------------------------------------------------------------------------------
# Blind indexes
# --------------------------------------------------------------------------------------------


def _compact(value: str) -> str:
    return "".join(value.split()).upper()


# How each kind of value is written before it is indexed: the same person or account however
# it was typed (spaces, case).
NORMALISERS: dict[str, Callable[[str], str]] = {
    "nir": _compact,
    "iban": _compact,
    "national_id": _compact,
    "audit": str.strip,
}


def blind_index(kind: str, value: str | None) -> str:
    """The blind index of ``value`` as a ``kind`` (``nir``, ``iban``); "" for no value."""
    if not value:
        return ""
    normalised = NORMALISERS[kind](value)
    if not normalised:
        return ""
    message = f"{kind}:{normalised}".encode()
    return hmac.new(_index_key(), message, hashlib.sha256).hexdigest()[:INDEX_LENGTH]


def blind_indexes(kind: str, values: Iterable[str | None]) -> list[str]:
    return [blind_index(kind, value) for value in values]


# --------------------------------------------------------------------------------------------
# Model fields
# --------------------------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token and read back in clear. ``max_length`` bounds the clear
    text (forms and ``full_clean``), not the column.

    A token differs at each write, so the database cannot compare values: the only lookups are
    ``isnull`` and ``exact`` with "" (empty text is stored empty). Anything else raises, so that
    a query on a clear value cannot silently match nothing: look up the blind index instead.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if not value:
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_text(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull", "exact"}:
            return None
        return super().get_lookup(lookup_name)

    def to_python(self, value: Any) -> Any:
        return value


class _ExactEmptyOnly(models.lookups.Exact):
    """``field=""`` (no value) on an encrypted field; any other value cannot be compared."""

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        if value != "":
            raise ValueError(
                f"{self.lhs.target.name} is encrypted: look a value up by its blind index"
            )
        return ("%s", [value])


EncryptedTextField.register_lookup(_ExactEmptyOnly)


class EncryptedJSONField(models.TextField):
    """A JSON value (answers of a draft) stored encrypted; no lookups at all."""

    description = "JSON encrypted at rest"
    # For django-stubs: the attribute holds any JSON value, not the column's text.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return json.loads(decrypt_text(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return value
        return encrypt_text(json.dumps(value, cls=DjangoJSONEncoder))

    def get_lookup(self, lookup_name: str) -> Any:
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder)


class EncryptedBinaryField(models.BinaryField):
    """Bytes (a payment file) stored encrypted."""

    description = "Bytes encrypted at rest"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return value
        return decrypt_bytes(bytes(value))

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt_bytes(bytes(value))


def with_blind_indexes(model: type[models.Model], names: Iterable[str]) -> list[str]:
    """``names`` and the blind indexes computed from them: the ``update_fields`` of a save that
    changes those fields (a save limited to ``update_fields`` recomputes only those it names)."""
    names = list(names)
    return names + [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, BlindIndexField) and field.source in names
    ]


class BlindIndexField(models.CharField):
    """The blind index of another field of the same model, computed whenever the row is saved
    or bulk-created (not by ``QuerySet.update`` or ``bulk_update``: those must set it too)."""

    description = "Keyed HMAC of another field, for exact lookups"

    def __init__(self, *args: Any, source: str = "", kind: str = "", **kwargs: Any) -> None:
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", INDEX_LENGTH)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"], kwargs["kind"] = self.source, self.kind
        if kwargs.get("max_length") == INDEX_LENGTH:
            del kwargs["max_length"]
        kwargs.pop("editable", None)
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        if kwargs.get("default") == "":
            del kwargs["default"]
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = blind_index(self.kind, getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
