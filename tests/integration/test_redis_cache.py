"""The Redis cache against a real redis-server of its own, which the tests kill and start again."""
from __future__ import annotations

import time
import uuid
from typing import Iterator

import pytest

from chalicelib.cache.breaker import CLOSED, OPEN, CircuitBreaker
from chalicelib.cache.redis_cache import RedisCache, redis_client_factory
from local.redis_server import RedisServer, redis_server_binary

pytestmark = pytest.mark.skipif(not redis_server_binary(), reason="needs redis-server on PATH")


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as running:
        yield running


def _cache(url: str, reset_seconds: float = 0.2) -> RedisCache:
    return RedisCache(
        redis_client_factory(url, connect_timeout=0.1, socket_timeout=0.1),
        CircuitBreaker(failure_threshold=2, reset_seconds=reset_seconds), key_prefix=f"{uuid.uuid4().hex}:",
    )


def test_values_round_trip_and_expire(server: RedisServer) -> None:
    cache = _cache(server.url)
    cache.set("case:1", {"id": "1", "version": 3, "tags": ["x"]}, ttl_seconds=1)
    assert cache.get("case:1") == {"id": "1", "version": 3, "tags": ["x"]}
    cache.delete("case:1")
    assert cache.get("case:1") is None
    cache.set("case:2", "short-lived", ttl_seconds=1)
    time.sleep(1.1)
    assert cache.get("case:2") is None


def test_a_delete_is_held_against_add_for_its_hold(server: RedisServer) -> None:
    cache = RedisCache(
        redis_client_factory(server.url, connect_timeout=0.1, socket_timeout=0.1), key_prefix=f"{uuid.uuid4().hex}:",
        delete_hold_seconds=0.3,
    )
    cache.add("k", "v1", 60)
    cache.add("k", "v0", 60)  # taken: add does not overwrite
    assert cache.get("k") == "v1"
    cache.delete("k")
    cache.add("k", "v1 again, from a read that raced the write", 60)
    assert cache.get("k") is None
    time.sleep(0.35)
    cache.add("k", "v2", 60)
    assert cache.get("k") == "v2"


def test_a_killed_server_is_a_miss_then_the_breaker_opens_then_it_recovers(server: RedisServer) -> None:
    cache = _cache(server.url)
    cache.set("k", "before", 60)
    assert cache.get("k") == "before"
    server.kill()
    assert cache.get("k") is None  # no exception: a miss
    assert cache.get("k") is None
    assert cache.breaker.state == OPEN
    for _ in range(100):
        assert cache.get("k") is None
    assert cache.stats["skipped"] == 100  # none of those went near a socket
    server.start()  # the same port, empty: as a restarted node comes back
    time.sleep(0.25)  # past the breaker's cool-down
    cache.set("k", "after", 60)  # the half-open trial call succeeds
    assert cache.breaker.state == CLOSED
    assert cache.get("k") == "after"


def test_nothing_listening_is_a_miss(server: RedisServer) -> None:
    port = server.port
    server.kill()
    cache = _cache(f"redis://127.0.0.1:{port}/0")
    assert cache.get("k") is None
    cache.set("k", 1, 60)
    cache.delete("k")
    assert cache.stats["errors"] == 2 and cache.breaker.state == OPEN
