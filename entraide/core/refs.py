"""Short references shown to people (``A-7K3M-9Q2F``): random, unambiguous, easy to read aloud."""

from __future__ import annotations

import secrets

# Crockford's base32 alphabet: no I, L, O or U, so a reference read on the phone is unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"
