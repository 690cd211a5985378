"""The test suite: PostgreSQL and Redis started by `make test` (DATABASE_URL, REDIS_URL)."""

from __future__ import annotations

from engarde.settings.base import *  # noqa: F403
from engarde.settings.base import derived_keys, env

SECRET_KEY = env.str("SECRET_KEY", default="engarde-test-key-only-for-the-test-suite")
_field_keys, _hash_key = derived_keys(SECRET_KEY)
FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or _field_keys  # noqa: F405
PII_HASH_KEY = PII_HASH_KEY or _hash_key  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# anymail's test backend: sent messages land in django.core.mail.outbox. The failover tests
# point SendGrid and Mailgun at a local fake ESP instead.
EMAIL_ESP = "test"
EMAIL_BACKUP_ESP = ""
# The same throttles as everywhere, with rates no test reaches; tests/api/test_throttles.py
# lowers them with override_settings.
THROTTLE_USER_RATE = "100000/min"
THROTTLE_ANON_RATE = "100000/min"
THROTTLE_TENANT_RATES = dict.fromkeys(THROTTLE_TENANT_RATES, "100000/min")  # noqa: F405
