"""Per-user request budgets (token buckets in Redis) against a real redis-server of their own, which the tests
pause, flush and kill: a spent budget refuses with the seconds to wait, other users and budgets are apart, a
download takes from both budgets or from neither, and whatever Redis does wrong, requests pass."""
from __future__ import annotations

import logging
import time
import uuid
from typing import Iterator

import pytest
import redis
from chalice.test import Client

from chalicelib import bootstrap
from chalicelib.cache.breaker import OPEN, CircuitBreaker
from chalicelib.cache.redis_cache import redis_client_factory
from chalicelib.errors import TooManyRequests
from chalicelib.ratelimit import DOWNLOADS, REQUESTS, Budget, NoBudgets, RequestBudgets, budgets_for
from chalicelib.settings import Settings
from local.redis_server import RedisServer, redis_server_binary
from tests.api_support import POOL

pytestmark = pytest.mark.skipif(not redis_server_binary(), reason="needs redis-server on PATH")


@pytest.fixture
def server() -> Iterator[RedisServer]:
    with RedisServer() as running:
        yield running


def budgets(url: str, requests: Budget = Budget(600, 5), downloads: Budget = Budget(60, 2)) -> RequestBudgets:
    return RequestBudgets(
        redis_client_factory(url, connect_timeout=0.1, socket_timeout=0.1),
        {REQUESTS: requests, DOWNLOADS: downloads}, CircuitBreaker(failure_threshold=2, reset_seconds=0.2),
        key_prefix=f"{uuid.uuid4().hex}:",
    )


def spent(budget: RequestBudgets, user: str, extra: str | None = None) -> int | None:
    """None when the request may go on, else the seconds it must wait."""
    try:
        budget.spend(user, extra)
    except TooManyRequests as refused:
        return refused.retry_after_seconds
    return None


def test_a_burst_then_a_refusal_with_the_seconds_until_the_next_token(server: RedisServer) -> None:
    budget = budgets(server.url, requests=Budget(per_minute=6, burst=3))
    assert [spent(budget, "eve") for _ in range(3)] == [None, None, None]
    wait = spent(budget, "eve")
    assert wait is not None and 9 <= wait <= 10  # one token every 10 s
    assert spent(budget, "dan") is None  # another user has a budget of their own


def test_tokens_come_back_at_the_budgets_rate(server: RedisServer) -> None:
    budget = budgets(server.url, requests=Budget(per_minute=60, burst=2))
    assert [spent(budget, "eve") for _ in range(3)] == [None, None, 1]
    time.sleep(1.1)
    assert spent(budget, "eve") is None


def test_a_download_takes_from_both_budgets_or_from_neither(server: RedisServer) -> None:
    budget = budgets(server.url, requests=Budget(600, 5), downloads=Budget(60, 2))
    assert [spent(budget, "eve", DOWNLOADS) for _ in range(2)] == [None, None]
    assert spent(budget, "eve", DOWNLOADS) == 1  # downloads spent ...
    assert [spent(budget, "eve") for _ in range(3)] == [None, None, None]  # ... the refused one took no request
    assert spent(budget, "eve") is not None  # 5 requests: 2 downloads and 3 others


def test_buckets_expire_once_they_would_be_full_again(server: RedisServer) -> None:
    budget = budgets(server.url, requests=Budget(per_minute=600, burst=5))
    budget.spend("eve")
    ttls = [redis.Redis.from_url(server.url).pttl(key) for key in redis.Redis.from_url(server.url).keys("*budget*")]
    assert len(ttls) == 1 and 0 < ttls[0] <= 1100  # one token at 10 a second, plus a second's margin


def test_a_budget_of_nothing_per_minute_is_off(server: RedisServer) -> None:
    budget = budgets(server.url, requests=Budget(per_minute=0, burst=1))
    assert all(spent(budget, "eve") is None for _ in range(5))
    assert redis.Redis.from_url(server.url).keys("*") == []  # nothing was asked of Redis
    assert isinstance(budgets_for(Settings.from_env({})), NoBudgets)  # no Redis configured: no budgets


def test_the_script_is_loaded_again_after_redis_forgot_it(server: RedisServer) -> None:
    budget = budgets(server.url, requests=Budget(per_minute=6, burst=1))
    assert spent(budget, "eve") is None
    redis.Redis.from_url(server.url).script_flush()
    assert spent(budget, "eve") is not None  # enforced, not failed open


def test_a_killed_redis_lets_requests_pass_with_one_warning_then_budgets_return(
    server: RedisServer, caplog: pytest.LogCaptureFixture,
) -> None:
    budget = budgets(server.url, requests=Budget(per_minute=6, burst=1))
    assert spent(budget, "eve") is None
    server.kill()
    with caplog.at_level(logging.WARNING, logger="cms.ratelimit"):
        assert all(spent(budget, "eve") is None for _ in range(20))
    assert budget.breaker.state == OPEN
    warnings = [r for r in caplog.records if r.name == "cms.ratelimit"]
    assert len(warnings) == 1 and "not enforced" in warnings[0].getMessage()
    server.start()
    time.sleep(0.25)  # the breaker's reset: its next call is a trial
    assert [spent(budget, "eve") for _ in range(2)][1] is not None  # a new bucket: one token, then refused


def test_a_slow_redis_lets_requests_pass(server: RedisServer) -> None:
    budget = budgets(server.url, requests=Budget(per_minute=6, burst=1))
    assert spent(budget, "eve") is None
    redis.Redis.from_url(server.url).execute_command("CLIENT", "PAUSE", "1000", "ALL")  # every client waits 1 s
    assert spent(budget, "eve") is None  # refused when Redis answers in time; it did not: the request passes


# -- over HTTP, in process -----------------------------------------------------------------------------------

def test_a_spent_budget_is_a_429_in_the_apis_error_shape_with_retry_after(server: RedisServer) -> None:
    from app import app

    container = POOL.container(env={
        "REDIS_URL": server.url, "CACHE_KEY_PREFIX": f"{uuid.uuid4().hex}:",
        "DOWNLOAD_BUDGET_PER_MINUTE": "2", "DOWNLOAD_BUDGET_BURST": "1",
    })
    with bootstrap.override(container), Client(app) as client:
        path = "/cases/c1/documents/d1/download"
        assert POOL.call(client, "GET", path, "alice")[0] == 404  # no such case, but a download asked for
        status, body, headers = POOL.call(client, "GET", path, "alice")
        assert (status, body["error"]["code"], headers["Retry-After"]) == (429, "TOO_MANY_REQUESTS", "30")
        assert "downloads" in body["error"]["message"] and body["error"]["details"] == []
        assert POOL.call(client, "GET", "/cases", "alice")[0] == 200  # her other requests have their own budget
        assert POOL.call(client, "GET", path, "bob")[0] == 404  # bob's downloads are his
