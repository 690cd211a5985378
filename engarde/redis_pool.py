"""One Redis connection pool per process for the cache.

Django makes a cache client for each request's context (`caches` is context-local), and under
ASGI every request has a context of its own: with redis-py's own pool class each request opened
a new connection to Redis and dropped it. `SharedConnectionPool.from_url` hands every client of
a process the same thread-safe pool for the same URL and options (redis-py resets a pool it
finds in a forked child by itself).
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import redis


class SharedConnectionPool(redis.ConnectionPool):
    _shared: ClassVar[dict[tuple[str, str], redis.ConnectionPool]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with cls._shared_lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
            return pool
