# syntax=docker/dockerfile:1
# One image for every production process: web (daphne, the default command), the migrate job,
# Celery workers and Celery beat (docker-compose.yml picks the command). Configuration comes from
# the environment at run time; nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=engarde.settings.production

RUN useradd --system --create-home --uid 10001 --user-group engarde

WORKDIR /app

# Dependencies before the code, so a code change reuses the installed layer. Runtime pins only:
# requirements-dev.txt (pytest, Playwright, ruff) never reaches the image.
COPY requirements.txt .
RUN pip install --requirement requirements.txt

# The code stays owned by root: the app user can read it but not rewrite it.
COPY . .

# The manifest storage needs the hashed files at build time, and the production settings refuse to
# load without their keys. These values are build-only throwaways (an all-zero Fernet key), used
# by this one command and gone with it; the running container gets the real ones from its
# environment.
RUN SECRET_KEY=build-only-collectstatic-not-a-secret-build-only-collectstatic \
    FIELD_ENCRYPTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    PII_HASH_KEY=build-only-collectstatic-not-a-secret \
    python manage.py collectstatic --noinput

# Only var/ (the file cache and broker folders, used when REDIS_URL is unset) is writable.
RUN mkdir -p var && chown engarde:engarde var
USER engarde

EXPOSE 8000

# slim has no curl. The Host header must be one ALLOWED_HOSTS accepts, or Django answers 400:
# take its first entry (".example.com" -> "example.com"; "*" -> localhost).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; host = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('*.') or 'localhost'; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4)"]

# A WebSocket frame or message over 64 KB closes the socket with 1009 (the chat takes 4,000
# characters a message): daphne never buffers more.
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", \
     "--websocket-max-frame-size", "65536", "--websocket-max-message-size", "65536", \
     "engarde.asgi:application"]
