from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from privacy import crypto


@checks.register(checks.Tags.security)
def check_pii_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    try:
        token = crypto.encrypt("engarde-key-check")
        crypto.decrypt(token)
    except (ImproperlyConfigured, crypto.DecryptionError) as exc:
        errors.append(checks.Error(str(exc), id="privacy.E001"))
    if len(settings.PII_HASH_KEY) < 32:
        errors.append(
            checks.Error(
                "PII_HASH_KEY must be at least 32 characters of secret material.",
                id="privacy.E002",
            )
        )
    return errors
