"""allauth's two-factor authentication, the entraide way (``MFA_ADAPTER``):

- the authenticators' secrets (the TOTP key, the recovery codes' seed) are encrypted at rest
  with the application's keys (:mod:`entraide.core.crypto`), like NIRs and IBANs;
- a person who must use a second factor (:func:`~entraide.accounts.selectors.requires_mfa`)
  cannot turn their authenticator app off: they may only replace it.

And a helper to enrol an authenticator app with a known key, for the demo's staff and the
tests' factories (people enrol themselves through allauth's pages).
"""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.adapter import DefaultMFAAdapter, get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from cryptography.fernet import InvalidToken

from entraide.accounts.selectors import SECOND_FACTORS, requires_mfa
from entraide.core.crypto import TOKEN_PREFIX, decrypt_text, encrypt_text


class EntraideMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(TOKEN_PREFIX):
            return encrypted_text  # stored before encryption was turned on
        try:
            return decrypt_text(encrypted_text)
        except InvalidToken:
            # A base32 TOTP key never looks like a token; a value no key opens is refused
            # rather than taken for a key.
            raise ValueError("an authenticator's secret cannot be decrypted") from None

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        if authenticator.type in SECOND_FACTORS and requires_mfa(authenticator.user):
            others = Authenticator.objects.filter(
                user=authenticator.user, type__in=SECOND_FACTORS
            ).exclude(pk=authenticator.pk)
            return others.exists()
        return super().can_delete_authenticator(authenticator)


def enroll_totp(user: Any, secret: str) -> Authenticator:
    """Give ``user`` an authenticator app with the base32 key ``secret`` (already set up:
    allauth's pages do the same after checking a first code). Keeps an existing one."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return existing
    return TOTP.activate(user, secret).instance


def totp_secret(user: Any) -> str | None:
    """The clear key of the person's authenticator app, if they have one (the demo shows the
    current code of its staff)."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        return None
    return get_adapter().decrypt(authenticator.data["secret"])


def current_totp_code(secret: str) -> str:
    """The code an authenticator app with the key ``secret`` shows now."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
