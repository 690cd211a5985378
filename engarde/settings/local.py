"""The embedded default: `make run` on a laptop, nothing to configure."""

from __future__ import annotations

from engarde.settings.base import *  # noqa: F403
from engarde.settings.base import ANYMAIL, EMAIL_ESP, derived_keys, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="engarde-local-development-key-not-for-production")
_field_keys, _hash_key = derived_keys(SECRET_KEY)
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or _field_keys  # noqa: F405
PII_HASH_KEY = PII_HASH_KEY or _hash_key  # noqa: F405
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Without an ESP account, the embedded console prints its emails instead of failing to send them.
if EMAIL_ESP == "sendgrid" and "SENDGRID_API_KEY" not in ANYMAIL:
    EMAIL_ESP, EMAIL_BACKUP_ESP = "console", ""
