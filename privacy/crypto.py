"""Fernet encryption for PII at rest, keyed by settings.FIELD_ENCRYPTION_KEY.

The first key encrypts and every key decrypts (MultiFernet), so a key is rotated by putting a new
one first and re-saving rows at leisure. The crypter is cached per key list, so overriding the
setting (tests, a rotation) takes effect at once.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@functools.lru_cache(maxsize=4)
def _crypter(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEY holds a key that is not a Fernet key: {exc}"
        ) from exc


def crypter() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEY
    return _crypter(tuple(keys) if isinstance(keys, (list, tuple)) else (keys,))


def encrypt(plaintext: str) -> str:
    return crypter().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    # Unlike the library's own fields, a value no key can open is an error, not the ciphertext
    # handed back as if it were the plaintext (which a later save would encrypt again).
    try:
        return crypter().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored value could not be decrypted: is FIELD_ENCRYPTION_KEY missing the key "
            "it was written with?"
        ) from exc
