"""Bearer tokens (a partner's for the intake API, a staff member's for scripts): only their
SHA-256 is stored, so that a database dump holds no usable token."""

from __future__ import annotations

import hashlib


def hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()
