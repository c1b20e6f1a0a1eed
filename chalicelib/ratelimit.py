"""Per-user request budgets: a token bucket per user and budget in Redis, shared by every Lambda container.

Every authenticated request takes a token from its user's `requests` bucket; a route that names a tighter
budget (document downloads: each is recorded in the case's audit trail) takes one from that bucket too, in the
same atomic step, or from neither. An empty bucket refuses the request with 429 and the seconds until a token
is back. Budgets fail open: Redis down, slow or unreachable lets the request pass (a warning now and then says
the budgets are not enforced), and the circuit breaker stops even the socket timeout once Redis looks down.
Without Redis (the in-process cache of the local stage) there are no budgets: each process would count alone.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .cache.breaker import CircuitBreaker
from .errors import TooManyRequests
from .settings import Settings

log = logging.getLogger("cms.ratelimit")

REQUESTS = "requests"
DOWNLOADS = "downloads"
WARN_EVERY_SECONDS = 60.0

# KEYS: the buckets; ARGV: capacity and tokens per second of each, in order. Redis's clock (TIME) is the one
# clock every container shares. A token is taken from every bucket or, when one is short, from none; the
# answer is the seconds until every bucket holds a token again ("0": taken). Full buckets expire: a bucket that
# would have refilled is the same as none.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local capacity, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, (1 - tokens) / rate) end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  local capacity, rate = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local tokens = levels[i] - 1
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) / rate * 1000) + 1000)
end
return '0'
"""


@dataclass(frozen=True)
class Budget:
    """`burst` requests at once, refilled at `per_minute`; a budget of 0 per minute is off."""

    per_minute: int
    burst: int

    @property
    def on(self) -> bool:
        return self.per_minute > 0 and self.burst > 0


class RequestBudgets:
    """`spend(user, budget)`: take one request from the user's budgets or raise TooManyRequests."""

    def __init__(
        self, client_factory: Callable[[], Any], budgets: dict[str, Budget], breaker: Optional[CircuitBreaker] = None,
        key_prefix: str = "", clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client, self._budgets, self._prefix = client_factory, budgets, key_prefix
        self.breaker = breaker or CircuitBreaker(name="request budgets")
        self._clock = clock
        self._script: Any = None
        self._lock = threading.Lock()
        self._warned_at: Optional[float] = None
        self.passed_unchecked = 0  # requests let through because Redis did not answer

    def spend(self, username: str, extra: Optional[str] = None) -> None:
        """Take a token from the user's `requests` budget and, when named, from `extra` too."""
        names = [name for name in (REQUESTS, extra) if name and self._budgets[name].on]
        if not names:
            return
        if not self.breaker.allow():
            self._pass_unchecked("its circuit is open")
            return
        # One hash tag per user: every key of one script call is in the same slot of a Redis cluster.
        keys = [f"{self._prefix}budget:{{{username}}}:{name}" for name in names]
        args = [n for name in names for n in (self._budgets[name].burst, self._budgets[name].per_minute / 60)]
        try:
            wait = float(self._take()(keys=keys, args=args))
        except Exception as exc:  # noqa: BLE001 - fail open: whatever Redis does, the request is served
            self.breaker.record_failure()
            self._pass_unchecked(f"{type(exc).__name__}: {exc}")
            return
        self.breaker.record_success()
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyRequests(
                f"too many requests; your budget allows {self._describe(names)}: retry in {seconds}s",
                retry_after_seconds=seconds,
            )

    def _take(self) -> Any:
        with self._lock:
            if self._script is None:  # redis-py runs it by its SHA, loading it again after a Redis restart
                self._script = self._client().register_script(_TAKE)
            return self._script

    def _describe(self, names: list[str]) -> str:
        return " and ".join(f"{self._budgets[n].per_minute} {n} a minute (bursts of {self._budgets[n].burst})"
                            for n in names)

    def _pass_unchecked(self, reason: str) -> None:
        """Count the request; at most one line a minute, whatever the request rate, says how many passed."""
        with self._lock:
            self.passed_unchecked += 1
            now = self._clock()
            due = self._warned_at is None or now - self._warned_at >= WARN_EVERY_SECONDS
            if due:
                self._warned_at, count, self.passed_unchecked = now, self.passed_unchecked, 0
        if due:
            log.warning(
                "request budgets not enforced: Redis did not answer (%s); %d request(s) passed unchecked",
                reason, count,
            )


class NoBudgets:
    """No Redis: nothing is counted, every request passes."""

    def spend(self, username: str, extra: Optional[str] = None) -> None:
        return None


def budgets_for(settings: Settings) -> RequestBudgets | NoBudgets:
    """Budgets in the Redis REDIS_URL names (the read cache's), under the cache's key prefix; none without it."""
    if not settings.redis_url:
        return NoBudgets()
    from .cache.redis_cache import redis_client_factory

    return RequestBudgets(
        redis_client_factory(settings.redis_url, settings.redis_connect_timeout, settings.redis_socket_timeout),
        {
            REQUESTS: Budget(settings.request_budget_per_minute, settings.request_budget_burst),
            DOWNLOADS: Budget(settings.download_budget_per_minute, settings.download_budget_burst),
        },
        CircuitBreaker(settings.redis_breaker_failures, settings.redis_breaker_reset_seconds, name="request budgets"),
        key_prefix=settings.cache_key_prefix or f"{settings.table_name}:",
    )
