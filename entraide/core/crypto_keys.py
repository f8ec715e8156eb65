"""The development keys of :mod:`entraide.core.crypto`, derived from ``SECRET_KEY``.

Apart from the model fields, so that the settings can import it before Django is set up.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derived_key(secret: str, purpose: str) -> bytes:
    """32 bytes for ``purpose`` derived from ``secret`` (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"entraide {purpose}".encode()
    ).derive(secret.encode())


def development_keys(secret: str) -> tuple[list[str], str]:
    """``([Fernet key], blind index key)`` for a development or test ``SECRET_KEY``."""
    fernet = base64.urlsafe_b64encode(derived_key(secret, "encryption")).decode()
    return [fernet], derived_key(secret, "blind index").hex()
