"""Settings shared by every environment. The environment is read here and nowhere else."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from engarde.settings.keys import derive_key, split_keys

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("ENGARDE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.guardian",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "guardian",
    "auditlog",
    "pgtrigger",
    "accounts",
    "privacy",
    "agents",
    "hitl",
    "channels_app",
    "monitoring",
]

MIDDLEWARE = [
    # First, so that it sees every error response: no debug page under /api/ (engarde/errors.py).
    "engarde.errors.json_errors_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: a policy means nothing on a static file.
    "engarde.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its answer (accounts/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "engarde.urls"
WSGI_APPLICATION = "engarde.wsgi.application"
ASGI_APPLICATION = "engarde.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite by default (the embedded `make run`), anything else through DATABASE_URL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'engarde.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file: WAL lets readers run beside the writer, the busy
    # timeout and IMMEDIATE transactions queue writers instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DB_POOL", default=True
):
    # A pool of connections per process (psycopg_pool, Django's OPTIONS["pool"]): under ASGI
    # each request runs in a thread of its own, so without it every request would open a new
    # PostgreSQL connection (a new backend process), and kept ones would pile up. A request
    # that finds every connection busy waits at most DB_POOL_TIMEOUT, then gets a 503.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=3.0)
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=8),
        "timeout": DB_POOL_TIMEOUT,
        # The pool reconnects in the background with a doubling delay; it gives up after this
        # and starts again at the next request, so once PostgreSQL is back it is used within
        # seconds, not after a backoff grown long during the outage.
        "reconnect_timeout": DB_POOL_TIMEOUT,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis, when configured, carries the cache, the channel layer and the Celery broker.
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=2.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "pool_class": "engarde.redis_pool.SharedConnectionPool",
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
    CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
else:
    # Shared between the web, worker and beat processes of `make run`, so not local memory.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")

CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(VAR_DIR / "broker" / "out"),
        "data_folder_out": str(VAR_DIR / "broker" / "out"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Every user belongs to a tenant; guardian's shared anonymous user would belong to none.
ANONYMOUS_USER_NAME = None
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# Sign-in lockout (django-axes) on every login form (admin, chat) and the API's token endpoint:
# AXES_FAILURE_LIMIT wrong passwords for one username from one address lock that pair, and only
# that pair, for AXES_COOLOFF_MINUTES. Never the address alone (colleagues behind one NAT keep
# signing in) nor the username alone (anyone could lock anyone out). The cool-off runs from the
# failure that locked: tries while locked are refused without extending it, so the time the
# answer gives stays true. A success resets the pair's count. The address is the one the API's
# rate limits count (THROTTLE_NUM_PROXIES). The admin lists the current attempts and locks
# (accounts/admin.py); they expire with the cool-off, and no row is kept per successful sign-in.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files the console writes (approved data exports); production points it at a volume.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# PII keys. FIELD_ENCRYPTION_KEY is a comma-separated list of Fernet keys: the first encrypts,
# all decrypt, so a key is rotated by putting the new one first. PII_HASH_KEY keys the HMAC
# blind indexes. After changing either, `manage.py rekey_pii` rewrites every row under them.
FIELD_ENCRYPTION_KEY = split_keys(env.str("FIELD_ENCRYPTION_KEY", default=""))
PII_HASH_KEY = env.str("PII_HASH_KEY", default="")
# Every read of a person's data by staff writes a row of the access log (privacy.access_log).
ADMIN_ACCESS_LOG_ENABLED = env.bool("ADMIN_ACCESS_LOG_ENABLED", default=True)
PHONENUMBER_DEFAULT_REGION = env.str("DEFAULT_PHONE_REGION", default="US")
# GDPR exports staff ask for wait, encrypted, this long for their download. An export still
# "running" after DATA_REQUEST_LEASE_SECONDS belongs to a dead worker and is taken over.
DATA_EXPORT_TTL_HOURS = env.int("DATA_EXPORT_TTL_HOURS", default=72)
DATA_REQUEST_LEASE_SECONDS = env.int("DATA_REQUEST_LEASE_SECONDS", default=600)

REST_FRAMEWORK = {
    # Token first: an unauthenticated call then gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Their rates are the THROTTLE_* settings below, read on each request (not
    # DEFAULT_THROTTLE_RATES, which DRF reads once).
    "DEFAULT_THROTTLE_CLASSES": [
        "engarde.throttles.AnonRateThrottle",
        "engarde.throttles.UserRateThrottle",
        "engarde.throttles.TenantRateThrottle",
    ],
    # DRF's three, with a JSON parser that answers deep nesting with a 400 (engarde/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "engarde.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "engarde.schema.AutoSchema",
    "EXCEPTION_HANDLER": "engarde.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

# API rate limits (engarde/throttles.py), counted in the default cache. A rate is "N/period" with
# period s, min, hour or day (DRF's format). Per signed-in user; per tenant, a budget shared by
# its users and set by its tier ("free=300/min,business=3000/min", the tiers not named keep
# theirs); per IP address for callers who are not signed in (the token endpoint).
_RATE = re.compile(r"^[0-9]+/[smhd][a-z]*$")


def _rate(name: str, value: str) -> str:
    value = value.strip()
    if not _RATE.match(value):
        raise ImproperlyConfigured(f'{name}: "{value}" is not a rate like "120/min".')
    return value


THROTTLE_USER_RATE = _rate("THROTTLE_USER_RATE", env.str("THROTTLE_USER_RATE", default="120/min"))
THROTTLE_ANON_RATE = _rate("THROTTLE_ANON_RATE", env.str("THROTTLE_ANON_RATE", default="60/min"))
THROTTLE_TENANT_RATES: dict[str, str | None] = {
    "free": "300/min",
    "starter": "600/min",
    "professional": "1200/min",
    "business": "3000/min",
    "enterprise": "6000/min",
}
for _item in env.list("THROTTLE_TENANT_RATES", default=[]):
    _tier, _, _value = _item.partition("=")
    if _tier.strip() not in THROTTLE_TENANT_RATES:
        raise ImproperlyConfigured(
            f'THROTTLE_TENANT_RATES: "{_item}" names no tier ({", ".join(THROTTLE_TENANT_RATES)}).'
        )
    THROTTLE_TENANT_RATES[_tier.strip()] = _rate("THROTTLE_TENANT_RATES", _value)
# An anonymous caller is known by REMOTE_ADDR, or behind N proxies by the Nth address from the
# end of X-Forwarded-For (what the last proxy saw); never by addresses the client wrote itself.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("THROTTLE_NUM_PROXIES", default=0)

SPECTACULAR_SETTINGS = {
    "TITLE": "En Garde console API",
    "DESCRIPTION": "Operations console for Walker Agents: channels, agents, approvals, monitoring.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status": name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {"ApprovalStatusEnum": "hitl.models.Approval.Status"},
    # The docs page's scripts and styles come from our own static files (drf-spectacular-sidecar),
    # never from a CDN: the docs work offline and load nothing from a third party.
    "SWAGGER_UI_DIST": "SIDECAR",
    # No badge from Swagger's online validator, which would send it our schema's URL.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# django-auditlog: PII never reaches the change records (they are stored in plaintext JSON).
AUDITLOG_MASK_CALLABLE = "privacy.masking.redact"
AUDITLOG_DISABLE_REMOTE_ADDR = True

# WhatsApp through Twilio. TWILIO_API_BASE_URL points the sender at any server that answers like
# Twilio's API (tests and demos run a local one); PUBLIC_BASE_URL is the URL Twilio signs.
ENABLE_WHATSAPP = env.bool("ENABLE_WHATSAPP", default=True)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_WHATSAPP_NUMBER = env.str("TWILIO_WHATSAPP_NUMBER", default="")
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="").rstrip("/")
TWILIO_TIMEOUT_SECONDS = env.float("TWILIO_TIMEOUT_SECONDS", default=10.0)
# Backoff before the 1st, 2nd, 3rd retry: this times 1, 2, 4.
TWILIO_RETRY_BACKOFF_SECONDS = env.float("TWILIO_RETRY_BACKOFF_SECONDS", default=1.0)
# An approved template (Content API) for messages outside WhatsApp's 24-hour window.
TWILIO_TEMPLATE_CONTENT_SID = env.str("TWILIO_TEMPLATE_CONTENT_SID", default="")

# The turn engine. A live worker renews its claim on a turn or a send every third of the lease;
# a claim not renewed for the lease belongs to a dead worker and is taken over. A message no turn
# finished after TURN_SWEEP_AFTER_SECONDS is enqueued again by the periodic sweep.
TURN_LEASE_SECONDS = env.int("TURN_LEASE_SECONDS", default=30)
TURN_SWEEP_AFTER_SECONDS = env.int("TURN_SWEEP_AFTER_SECONDS", default=120)
TURN_SWEEP_BATCH = env.int("TURN_SWEEP_BATCH", default=500)
# Satisfaction (channels_app/csat.py): ask for a rating after this long without a word from the
# person, and accept their answer for this long after asking.
CSAT_IDLE_MINUTES = env.int("CSAT_IDLE_MINUTES", default=30)
CSAT_ANSWER_HOURS = env.int("CSAT_ANSWER_HOURS", default=24)
# A conversation a human took over goes back to the bot after this long without a message (0:
# never).
TAKEOVER_IDLE_MINUTES = env.int("TAKEOVER_IDLE_MINUTES", default=30)
# A high or urgent conversation no human has answered after this long is announced to the team.
PRIORITY_REPLY_MINUTES = env.int("PRIORITY_REPLY_MINUTES", default=15)
# After this long without a message, the next one starts a new conversation.
CONVERSATION_IDLE_HOURS = env.int("CONVERSATION_IDLE_HOURS", default=24)

# Web chat (channels_app/chat/). Messages longer than CHAT_MAX_MESSAGE_CHARS are refused; each
# user may send CHAT_MESSAGES_PER_MINUTE messages a minute, counted across tabs and servers in the
# cache. Without a cross-process channel layer (no REDIS_URL: the embedded `make run`), replies
# written by the worker process cannot be pushed to the web process, so each socket looks for
# them in the database every CHAT_POLL_SECONDS instead (0 turns that off).
ENABLE_CHAT = env.bool("ENABLE_CHAT", default=True)
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=4000)
CHAT_MESSAGES_PER_MINUTE = env.int("CHAT_MESSAGES_PER_MINUTE", default=30)
CHAT_POLL_SECONDS = env.float("CHAT_POLL_SECONDS", default=0.0 if REDIS_URL else 2.0)
# Search decrypts the user's chat history (bodies are encrypted at rest): at most this many of
# their latest messages are read.
CHAT_SEARCH_MAX_MESSAGES = env.int("CHAT_SEARCH_MAX_MESSAGES", default=5000)

# Langflow, for agent instances whose backend is a Langflow flow.
LANGFLOW_API_URL = env.str("LANGFLOW_API_URL", default="").rstrip("/")
LANGFLOW_API_KEY = env.str("LANGFLOW_API_KEY", default="")
LANGFLOW_TIMEOUT_SECONDS = env.float("LANGFLOW_TIMEOUT_SECONDS", default=30.0)
LANGFLOW_MAX_RETRIES = env.int("LANGFLOW_MAX_RETRIES", default=3)
LANGFLOW_BACKOFF_SECONDS = env.float("LANGFLOW_BACKOFF_SECONDS", default=0.5)
LANGFLOW_COST_PER_1K_TOKENS = env.str("LANGFLOW_COST_PER_1K_TOKENS", default="0.002")
# The flow component that receives the conversation context as tweaks, and the confidence given
# to a reply whose flow states none.
LANGFLOW_CONTEXT_COMPONENT = env.str("LANGFLOW_CONTEXT_COMPONENT", default="EnGardeContext")
LANGFLOW_DEFAULT_CONFIDENCE = env.float("LANGFLOW_DEFAULT_CONFIDENCE", default=0.75)

# Human-in-the-loop approvals: an undecided approval expires after HITL_APPROVAL_EXPIRY_HOURS;
# the SLA sweep handles at most HITL_SWEEP_BATCH due approvals a run, and runs an approved
# action that has waited HITL_EXECUTION_GRACE_SECONDS without starting.
HITL_APPROVAL_EXPIRY_HOURS = env.int("HITL_APPROVAL_EXPIRY_HOURS", default=72)
HITL_SWEEP_BATCH = env.int("HITL_SWEEP_BATCH", default=2000)
HITL_EXECUTION_GRACE_SECONDS = env.int("HITL_EXECUTION_GRACE_SECONDS", default=120)

# Email: daily briefs and custom emails through django-anymail. Every message goes out through
# EMAIL_ESP, and through EMAIL_BACKUP_ESP when the first fails for a reason of its own (an outage,
# a refused key); a recipient the ESP rejects is never retried elsewhere. ESPs: sendgrid, mailgun,
# or console (prints) and test (anymail's test backend, the suite's).
ENABLE_EMAIL_BRIEFS = env.bool("ENABLE_EMAIL_BRIEFS", default=True)
EMAIL_BACKEND = "channels_app.email.backends.FailoverEmailBackend"
EMAIL_ESP = env.str("EMAIL_ESP", default="sendgrid")
EMAIL_BACKUP_ESP = env.str("EMAIL_BACKUP_ESP", default="mailgun")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="En Garde <briefs@engarde.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Briefs per worker task: the tenant's data is read once per task and shared by its briefs.
EMAIL_BRIEF_BATCH = env.int("EMAIL_BRIEF_BATCH", default=50)
# Unset keys stay out of ANYMAIL, so that a missing one is anymail's configuration error (and a
# failover) instead of a request sent with an empty key.
ANYMAIL = {
    name: value
    for name, value in {
        "SENDGRID_API_KEY": env.str("SENDGRID_API_KEY", default=""),
        "SENDGRID_API_URL": env.str("SENDGRID_API_URL", default="https://api.sendgrid.com/v3/"),
        "MAILGUN_API_KEY": env.str("MAILGUN_API_KEY", default=""),
        "MAILGUN_SENDER_DOMAIN": env.str("MAILGUN_SENDER_DOMAIN", default=""),
        "MAILGUN_API_URL": env.str("MAILGUN_API_URL", default="https://api.mailgun.net/v3"),
        "MAILGUN_WEBHOOK_SIGNING_KEY": env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""),
        # "user:password" the ESPs send (HTTP Basic) when they call the tracking webhooks.
        "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default=""),
        "REQUESTS_TIMEOUT": env.float("EMAIL_TIMEOUT_SECONDS", default=10.0),
    }.items()
    if value
}

UNFOLD = {
    "SITE_TITLE": "En Garde console",
    "SITE_HEADER": "En Garde",
    "SITE_SYMBOL": "shield",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "ENVIRONMENT": "engarde.admin_site.environment_badge",
    # The approval queue and notifications (with their counts) above the apps.
    "SIDEBAR": {"navigation": "engarde.admin_site.sidebar_navigation"},
    # The admin index is the operations dashboard (cards, charts, agents), above the app list.
    "DASHBOARD_CALLBACK": "monitoring.dashboard.dashboard_callback",
}
ENGARDE_ENVIRONMENT = env.str("ENGARDE_ENVIRONMENT", default="local")
# The password of every user `seed_demo` creates: published in DESIGN.md, not a secret.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="engarde-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failures and lockouts are warnings; below them, a line per successful sign-in.
        "axes": {"level": "WARNING"},
    },
}

SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Content-Security-Policy (django-csp) on every response: nothing from another host, no plugins,
# no framing (the email preview's own frame excepted, channels_app/email/admin.py). Scripts come
# from our static files, or inline with the request's nonce (`request.csp_nonce`); the admin
# also gets 'unsafe-eval', which Alpine.js (the admin theme's directives) needs, and only the
# admin (engarde/csp.py). Styles allow 'unsafe-inline': the admin theme, Chart.js, htmx and
# Swagger UI write style attributes and <style> elements, and emails are styled inline; a style
# runs no code. connect-src 'self' covers the same host's ws:// and wss:// (CSP level 3), for
# the chat and console sockets. data: images are the admin's and Swagger UI's CSS icons. Only
# Redoc's page may start a web worker, from a blob: URL (its search; engarde/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}


def derived_keys(secret_key: str) -> tuple[list[str], str]:
    """Keys for environments allowed to run without configured ones (local, test)."""
    return [derive_key(secret_key, "field-encryption")], derive_key(secret_key, "pii-hash")


CSRF_FAILURE_VIEW = "engarde.errors.csrf_failure"
