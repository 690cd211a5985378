"""Under ASGI each request runs in a context (and a thread) of its own, so Django makes a new
cache client and a new database connection for each. Both must come from a pool the process
keeps, or every request opens a connection to Redis and to PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connections

pytestmark = pytest.mark.django_db(transaction=True)


def _redis_clients(client: Any) -> int:
    return len(client.client_list())


def test_each_request_contexts_cache_client_reuses_the_process_connections() -> None:
    # What `caches["default"]` gives a new request's context: a new client of its own.
    fresh = [caches.create_connection("default") for _ in range(20)]
    assert len({id(cache) for cache in fresh}) == 20
    fresh[0].set("reuse-probe", 1)
    admin = fresh[0]._cache.get_client(write=True)  # type: ignore[attr-defined]
    before = _redis_clients(admin)
    for n, cache in enumerate(fresh):
        cache.set(f"reuse-probe-{n}", n)
        assert cache.get(f"reuse-probe-{n}") == n
    # Used one after another, they share one idle connection of one pool.
    assert _redis_clients(admin) == before
    pools = {id(cache._cache._get_connection_pool(write=True)) for cache in fresh}  # type: ignore[attr-defined]
    assert len(pools) == 1


def test_database_connections_come_from_the_process_pool() -> None:
    connection = connections["default"]
    assert connection.pool is not None, settings.DATABASES["default"]["OPTIONS"]
    backends = []
    for _ in range(12):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.append(cursor.fetchone()[0])
        connection.close()  # what the end of a request does: back to the pool, not closed
    # Once the pool has its few connections, a "request" gets one of them, never a new one.
    assert set(backends[6:]) <= set(backends[:6]), backends
    assert len(set(backends)) <= connection.pool.max_size
