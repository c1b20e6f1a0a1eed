"""The Redis (ElastiCache) cache. Fail-open: every error, timeout or open circuit is a miss for
reads and a no-op for writes, logged and counted, never raised. Short socket timeouts bound what a
slow Redis costs a request; the circuit breaker stops even that once Redis looks down.

A delete replaces the value with a marker that expires after `delete_hold_seconds`, which `add` (SET NX)
does not overwrite. A delete that cannot reach Redis is remembered (up to `max_pending_deletes` keys) and
retried with the next call that gets through, so an entry written before an outage is not served after it."""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable, Optional

from . import DELETE_HOLD_SECONDS
from .breaker import CircuitBreaker
from .stats import CacheStats

log = logging.getLogger("cms.cache")

_FAILED = object()
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))  # one encoder: json.dumps with options builds one per call
_HELD = b"~deleted"  # not JSON, so never a value


def redis_client_factory(url: str, connect_timeout: float, socket_timeout: float) -> Callable[[], Any]:
    """A factory of one redis-py client for the URL (redis://, rediss:// for TLS), built on first use.
    No retries inside redis-py: the circuit breaker decides when to try again."""
    client: dict[str, Any] = {}

    def factory() -> Any:
        if "redis" not in client:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            client["redis"] = redis.Redis.from_url(
                url, socket_connect_timeout=connect_timeout, socket_timeout=socket_timeout,
                retry=Retry(NoBackoff(), 0), retry_on_timeout=False, health_check_interval=0,
            )
        return client["redis"]

    return factory


class RedisCache:
    backend = "redis"

    def __init__(
        self, client_factory: Callable[[], Any], breaker: Optional[CircuitBreaker] = None, key_prefix: str = "",
        max_pending_deletes: int = 1000, delete_hold_seconds: float = DELETE_HOLD_SECONDS,
    ) -> None:
        self.stats = CacheStats(self.backend)
        self.breaker = breaker or CircuitBreaker()
        self._client, self._prefix = client_factory, key_prefix
        self._pending: set[str] = set()  # prefixed keys whose delete has not reached Redis yet
        self._pending_lock = threading.Lock()
        self._max_pending = max_pending_deletes
        self._hold_ms = int(delete_hold_seconds * 1000)

    def get(self, key: str) -> Optional[Any]:
        raw = self._call(lambda redis: redis.get(self._prefix + key))
        if raw is _FAILED or raw is None or raw == _HELD:
            self.stats.count("misses")
            return None
        try:
            value = json.loads(raw)
        except ValueError:  # not ours, or cut short: treat as absent
            self.stats.count("errors")
            self.stats.count("misses")
            return None
        self.stats.count("hits")
        return value

    def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        self._store(key, value, ttl_seconds, only_if_absent=False)

    def add(self, key: str, value: Any, ttl_seconds: int) -> None:
        self._store(key, value, ttl_seconds, only_if_absent=True)

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        prefixed = [self._prefix + key for key in keys]
        if self._call(lambda redis: self._hold(redis, prefixed)) is _FAILED:
            self._remember(prefixed)
        else:
            self.stats.count("deletes", len(keys))

    # -- internals ---------------------------------------------------------------------------

    def _store(self, key: str, value: Any, ttl_seconds: int, only_if_absent: bool) -> None:
        if self.breaker.rejecting():  # not worth encoding a value that will not be sent
            self.stats.count("skipped")
            return
        text, ttl = _COMPACT_JSON.encode(value), max(1, int(ttl_seconds))
        stored = self._call(lambda redis: redis.set(self._prefix + key, text, ex=ttl, nx=only_if_absent))
        if stored is not _FAILED and stored:  # SET NX answers None when the key is taken
            self.stats.count("sets")

    def _call(self, operation: Callable[[Any], Any]) -> Any:
        if not self.breaker.allow():
            self.stats.count("skipped")
            return _FAILED
        try:
            client = self._client()
            self._flush_pending(client)
            result = operation(client)
        except Exception as exc:  # noqa: BLE001 - fail open: any failure of the cache is a miss, whatever raised it
            self.breaker.record_failure()
            self.stats.count("errors")
            log.warning("redis cache call failed (%s: %s); serving without the cache", type(exc).__name__, exc)
            return _FAILED
        self.breaker.record_success()
        return result

    def _flush_pending(self, client: Any) -> None:
        with self._pending_lock:
            keys, self._pending = list(self._pending), set()
        if not keys:
            return
        try:
            self._hold(client, keys)
        except Exception:
            self._remember(keys)
            raise
        self.stats.count("deletes", len(keys))

    def _hold(self, client: Any, prefixed: list[str]) -> None:
        if self._hold_ms <= 0:
            client.delete(*prefixed)
            return
        pipeline = client.pipeline(transaction=False)  # one round trip for all of them
        for key in prefixed:
            pipeline.set(key, _HELD, px=self._hold_ms)
        pipeline.execute()

    def _remember(self, keys: list[str]) -> None:
        with self._pending_lock:
            room = self._max_pending - len(self._pending)
            self._pending.update(keys[: max(0, room)])
            if room < len(keys):
                log.warning(
                    "redis cache: %d undelivered deletes dropped; those entries live until their TTL",
                    len(keys) - max(0, room),
                )
