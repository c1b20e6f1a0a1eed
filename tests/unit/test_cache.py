"""The cache implementations and the circuit breaker, without a network: a settable clock and a
hand-written Redis client that can be made to fail."""
from __future__ import annotations

from typing import Optional

import pytest
import redis

from chalicelib.cache import NoCache
from chalicelib.cache.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from chalicelib.cache.memory import InProcessCache
from chalicelib.cache.read_through import ReadThrough
from chalicelib.cache.redis_cache import RedisCache
from chalicelib.cache.stats import CacheStats


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakyRedis:
    """The commands the cache uses, over a dict (no expiry); `down` makes every command fail as a dead
    server does."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.ttls: dict[str, int] = {}  # milliseconds
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise redis.ConnectionError("Connection refused")

    def get(self, key: str) -> Optional[bytes]:
        self._check()
        return self.data.get(key)

    def set(self, key: str, value: str | bytes, ex: int = 0, px: int = 0, nx: bool = False) -> Optional[bool]:
        self._check()
        if nx and key in self.data:
            return None
        self.data[key] = value.encode() if isinstance(value, str) else value
        self.ttls[key] = px or ex * 1000
        return True

    def pipeline(self, transaction: bool = True) -> "FlakyRedis":
        return self  # its commands run at once; execute() has nothing left to do

    def execute(self) -> list[object]:
        return []

    def delete(self, *keys: str) -> int:
        self._check()
        return sum(self.data.pop(key, None) is not None for key in keys)


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


# -- in-process -----------------------------------------------------------------------------------

def test_in_process_hit_miss_and_expiry(ticks: Ticks) -> None:
    cache = InProcessCache(clock=ticks)
    assert cache.get("case:1") is None
    cache.set("case:1", {"id": "1", "tags": ["a"]}, ttl_seconds=30)
    assert cache.get("case:1") == {"id": "1", "tags": ["a"]}
    ticks.now += 30
    assert cache.get("case:1") is None
    assert (cache.stats["hits"], cache.stats["misses"], cache.stats["sets"]) == (1, 2, 1)


def test_in_process_returns_copies_not_the_stored_object(ticks: Ticks) -> None:
    cache = InProcessCache(clock=ticks)
    value = {"tags": ["a"]}
    cache.set("k", value, 30)
    value["tags"].append("b")
    copy = cache.get("k")
    assert copy is not None
    copy["tags"].append("c")
    assert cache.get("k") == {"tags": ["a"]}


def add_twice_then_add_after_a_delete(cache: InProcessCache | RedisCache) -> None:
    """`add` keeps the first value, and a delete's hold turns away the fill of a read that raced the write."""
    cache.add("k", "first", 60)
    cache.add("k", "second", 60)
    assert cache.get("k") == "first"
    cache.delete("k")
    cache.add("k", "from a read that raced the write", 60)
    assert cache.get("k") is None


def test_in_process_add_respects_values_and_held_deletes(ticks: Ticks) -> None:
    cache = InProcessCache(clock=ticks, delete_hold_seconds=5)
    add_twice_then_add_after_a_delete(cache)
    ticks.now += 5
    cache.add("k", "after the hold", 60)
    assert cache.get("k") == "after the hold"
    cache.delete("k")
    cache.set("k", "a write may overwrite", 60)
    assert cache.get("k") == "a write may overwrite"


def test_in_process_delete_and_size_bound(ticks: Ticks) -> None:
    cache = InProcessCache(max_entries=2, clock=ticks, delete_hold_seconds=0)
    cache.set("a", 1, 30)
    cache.set("b", 2, 30)
    cache.get("a")  # a is now the most recently used
    cache.set("c", 3, 30)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.delete("a", "c")
    assert (cache.get("a"), cache.get("c")) == (None, None)


def test_no_cache_misses_every_read() -> None:
    cache = NoCache()
    cache.set("k", 1, 30)
    assert cache.get("k") is None and cache.stats["misses"] == 1


# -- circuit breaker ---------------------------------------------------------------------------------

def test_breaker_opens_after_failures_in_a_row(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=10, clock=ticks)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # the count is of failures in a row
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state == OPEN and not breaker.allow()


def test_breaker_half_opens_after_the_cool_down_with_one_trial(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=10, clock=ticks)
    breaker.record_failure()
    ticks.now += 9.9
    assert not breaker.allow()
    ticks.now += 0.1
    assert breaker.allow()  # the trial call
    assert breaker.state == HALF_OPEN
    assert not breaker.allow()  # only one at a time
    breaker.record_success()
    assert breaker.state == CLOSED and breaker.allow()


def test_breaker_reopens_when_the_trial_fails(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=10, clock=ticks)
    breaker.record_failure()
    breaker.record_failure()
    ticks.now += 10
    assert breaker.allow()
    breaker.record_failure()  # one failed trial is enough
    assert breaker.state == OPEN and not breaker.allow()
    ticks.now += 10
    assert breaker.allow()


def test_breaker_rejects_a_nonsense_configuration() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)


# -- redis, fail-open ------------------------------------------------------------------------------

def _redis_cache(client: FlakyRedis, ticks: Ticks, threshold: int = 2) -> RedisCache:
    return RedisCache(lambda: client, CircuitBreaker(threshold, 10, clock=ticks), key_prefix="t:")


def test_redis_round_trip_with_prefix_and_ttl(ticks: Ticks) -> None:
    client = FlakyRedis()
    cache = _redis_cache(client, ticks)
    assert cache.get("case:1") is None
    cache.set("case:1", {"version": 2}, ttl_seconds=300)
    assert client.ttls == {"t:case:1": 300_000}
    assert cache.get("case:1") == {"version": 2}
    cache.delete("case:1")
    assert cache.get("case:1") is None
    assert client.ttls["t:case:1"] == 5000  # held, not gone
    assert cache.stats.as_dict() == {"hits": 1, "misses": 2, "errors": 0, "skipped": 0, "sets": 1, "deletes": 1}


def test_redis_add_leaves_a_value_and_a_held_delete_alone(ticks: Ticks) -> None:
    client = FlakyRedis()
    cache = _redis_cache(client, ticks)
    add_twice_then_add_after_a_delete(cache)
    cache.set("k", "a write may overwrite", 60)
    assert cache.get("k") == "a write may overwrite"
    assert cache.stats["sets"] == 2


def test_redis_without_a_hold_deletes_outright(ticks: Ticks) -> None:
    client = FlakyRedis()
    cache = RedisCache(lambda: client, CircuitBreaker(2, 10, clock=ticks), delete_hold_seconds=0)
    cache.set("k", 1, 60)
    cache.delete("k")
    assert client.data == {}


def test_redis_errors_are_misses_and_the_open_breaker_skips_redis(ticks: Ticks) -> None:
    client = FlakyRedis()
    cache = _redis_cache(client, ticks)
    cache.set("k", "v", 60)
    client.down = True
    assert cache.get("k") is None
    cache.set("k", "v2", 60)  # a failed write raises nothing either
    assert cache.breaker.state == OPEN
    calls = client.calls
    assert cache.get("k") is None
    assert client.calls == calls  # skipped: an open circuit costs no socket timeout
    assert (cache.stats["errors"], cache.stats["skipped"], cache.stats["misses"]) == (2, 1, 2)


def test_redis_recovers_through_half_open(ticks: Ticks) -> None:
    client = FlakyRedis()
    cache = _redis_cache(client, ticks)
    client.down = True
    cache.get("k")
    cache.get("k")
    client.down = False
    client.data["t:k"] = b'"v"'
    assert cache.get("k") is None  # still open
    ticks.now += 10
    assert cache.get("k") == "v"
    assert cache.breaker.state == CLOSED


def test_a_delete_that_missed_redis_is_delivered_once_it_answers(ticks: Ticks) -> None:
    client = FlakyRedis()
    cache = _redis_cache(client, ticks, threshold=1)
    cache.set("case:1", {"version": 1}, 60)
    client.down = True
    cache.delete("case:1")  # a write happened while Redis was unreachable
    client.down = False
    ticks.now += 10
    assert cache.get("case:1") is None  # the stale entry is gone, not served
    assert client.data["t:case:1"] == b"~deleted"


def test_unreadable_values_are_misses(ticks: Ticks) -> None:
    client = FlakyRedis()
    client.data["t:k"] = b"{not json"
    cache = _redis_cache(client, ticks)
    assert cache.get("k") is None
    assert cache.stats["errors"] == 1


def test_stats_log_a_summary_now_and_then(ticks: Ticks, caplog: pytest.LogCaptureFixture) -> None:
    stats = CacheStats("redis", report_seconds=60, clock=ticks)
    with caplog.at_level("INFO", logger="cms.cache"):
        stats.count("hits")
        ticks.now += 60
        stats.count("misses")
    assert [r.getMessage() for r in caplog.records] == [
        "cache redis: hits=1, misses=1, errors=0, skipped=0, sets=0, deletes=0, hit ratio 0.50"
    ]


def test_rejecting_peeks_without_taking_the_trial_call(ticks: Ticks) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=10, clock=ticks)
    assert not breaker.rejecting()
    breaker.record_failure()
    assert breaker.rejecting()
    ticks.now += 10
    assert not breaker.rejecting() and not breaker.rejecting()
    assert breaker.allow()  # the trial is still there to take


@pytest.mark.parametrize("hold, refilled_with", [(5, None), (0, {"version": 1})])
def test_a_fill_from_a_read_that_raced_a_write(ticks: Ticks, hold: float, refilled_with: Optional[dict]) -> None:
    cache = InProcessCache(clock=ticks, delete_hold_seconds=hold)
    reads: ReadThrough[dict] = ReadThrough(cache, 60, dump=lambda v: v, load=lambda v: v)

    def read_then_a_write_lands() -> dict:  # the table answered version 1; version 2's write and delete follow
        cache.delete("case:1")
        return {"version": 1}

    assert reads.get("case:1", read_then_a_write_lands) == {"version": 1}
    assert cache.get("case:1") == refilled_with  # held: the old copy is not put back over the write's delete
