"""What serves the local system's cache: REDIS_URL's Redis, else a redis-server it starts, else in-process."""
from __future__ import annotations

import os

import pytest
import redis

from local.redis_server import RedisServer, redis_server_binary
from local.system import LocalSystem


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("REDIS_URL", "CACHE_KEY_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_without_redis_the_cache_is_in_process(env: pytest.MonkeyPatch) -> None:
    system = LocalSystem(redis=False)
    assert system._start_cache("cms-local") == "in-process (no REDIS_URL, --no-redis)"
    assert "REDIS_URL" not in os.environ


@pytest.mark.skipif(not redis_server_binary(), reason="needs redis-server on PATH")
def test_a_redis_server_is_started_and_stopped_with_the_system(env: pytest.MonkeyPatch) -> None:
    system = LocalSystem()
    described = system._start_cache("cms-local")
    url = os.environ["REDIS_URL"]
    assert described == f"redis at {url} (started here)"
    assert os.environ["CACHE_KEY_PREFIX"].startswith("cms-local:")
    assert redis.Redis.from_url(url).ping()
    system.stop(snapshot=False)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()


@pytest.mark.skipif(not redis_server_binary(), reason="needs redis-server on PATH")
def test_redis_url_wins_and_each_run_gets_its_own_keys(env: pytest.MonkeyPatch) -> None:
    with RedisServer() as server:
        env.setenv("REDIS_URL", server.url)
        assert LocalSystem()._start_cache("cms-local") == f"redis at {server.url} (REDIS_URL)"
        first = os.environ["CACHE_KEY_PREFIX"]
        env.delenv("CACHE_KEY_PREFIX")
        LocalSystem()._start_cache("cms-local")
        assert os.environ["CACHE_KEY_PREFIX"] != first


def test_the_lambda_handlers_get_a_process_of_their_own_only_with_the_cache_in_redis(env: pytest.MonkeyPatch) -> None:
    system = LocalSystem(lambda_process=True)
    system._moto = object()  # as once the embedded moto has started
    assert not system._handlers_apart(project_app=True)  # an in-process cache must see the handlers' writes

    env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert system._handlers_apart(project_app=True)
    assert not system._handlers_apart(project_app=False)  # a test's app cannot be imported in another process
    assert not LocalSystem()._handlers_apart(project_app=True)  # not asked for
