"""A small key/value cache for read paths (cache-aside), with a Redis and an in-process implementation.

Callers cache data, never decisions: authorisation still runs on every request. Every implementation
fails open: a broken or slow cache turns into misses, never into an exception for the caller.
"""
from __future__ import annotations

from typing import Any, Optional, Protocol

from .stats import CacheStats

DELETE_HOLD_SECONDS = 5.0  # longer than a read takes from its table read to its fill


class Cache(Protocol):
    """JSON values (anything `json.dumps` takes, except None) under string keys, each with a TTL."""

    backend: str  # what serves it, for logs: "redis", "in-process" or "none"
    stats: CacheStats

    def get(self, key: str) -> Optional[Any]:
        """The value, or None on a miss (absent, expired, or the cache is unavailable)."""

    def set(self, key: str, value: Any, ttl_seconds: int) -> None: ...

    def add(self, key: str, value: Any, ttl_seconds: int) -> None:
        """Store the value unless the key holds one or was deleted less than the delete hold ago. A
        cache-aside fill uses it: a read that raced a write cannot put its older copy back after the
        write's delete."""

    def delete(self, *keys: str) -> None:
        """Forget the keys, and hold them for a few seconds against `add`; an implementation that cannot
        reach its store retries later."""


class NoCache:
    """Caches nothing: every read is a miss. For deployed stages without a Redis."""

    backend = "none"

    def __init__(self) -> None:
        self.stats = CacheStats(self.backend)

    def get(self, key: str) -> Optional[Any]:
        self.stats.count("misses")
        return None

    def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        return None

    def add(self, key: str, value: Any, ttl_seconds: int) -> None:
        return None

    def delete(self, *keys: str) -> None:
        return None


__all__ = ["Cache", "CacheStats", "NoCache"]
