"""Production: every secret comes from the environment; nothing is derived or defaulted."""

from __future__ import annotations

from engarde.settings.base import *  # noqa: F403
from engarde.settings.base import env
from engarde.settings.keys import require

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = require(SECRET_KEY, "SECRET_KEY")  # noqa: F405
require(",".join(FIELD_ENCRYPTION_KEY), "FIELD_ENCRYPTION_KEY")  # noqa: F405
require(PII_HASH_KEY, "PII_HASH_KEY")  # noqa: F405
ENGARDE_ENVIRONMENT = env.str("ENGARDE_ENVIRONMENT", default="production")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the load balancer / reverse proxy (docker-compose.yml): the anonymous rate limit counts
# the address it saw, from X-Forwarded-For.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("THROTTLE_NUM_PROXIES", default=1)  # noqa: F405
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
