"""Readiness checks: each returns None when the part works, or what is wrong with it."""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import connection

from engarde.celery import app as celery_app


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return f"{type(exc).__name__}: {exc}"
    return None


def check_cache() -> str | None:
    nonce = uuid.uuid4().hex
    try:
        cache.set("engarde:readyz", nonce, timeout=10)
        if cache.get("engarde:readyz") != nonce:
            return "the cache did not return what was written"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def check_broker() -> str | None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


CHECKS = {"database": check_database, "cache": check_cache, "broker": check_broker}


def readiness() -> dict[str, str | None]:
    return {name: check() for name, check in CHECKS.items()}
