"""Keys for PII encryption and blind indexes.

Production must be given both keys. Local and test settings derive stable keys from SECRET_KEY
so that a developer's SQLite database stays readable across restarts without any setup.
"""

from __future__ import annotations

import base64
import hashlib

from django.core.exceptions import ImproperlyConfigured


def derive_key(secret_key: str, purpose: str) -> str:
    digest = hashlib.sha256(f"engarde:{purpose}:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def split_keys(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]


def require(value: str, name: str) -> str:
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set in production (see README.md, Configuration)."
        )
    return value
