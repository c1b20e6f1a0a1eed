"""Case reads through a real Redis over a moto DynamoDB table, via the HTTP edge (chalice's test client):
a hit costs no table read; killing Redis mid-test turns the cache into misses, never into an error
response; when Redis is back the breaker closes again and reads hit."""
from __future__ import annotations

import socket
import time
from typing import Any, Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.adapters.dynamo.cases import DynamoCaseRepository
from chalicelib.adapters.dynamo.models import TableModels
from chalicelib.cache.breaker import CLOSED, OPEN
from local.redis_server import RedisServer, redis_server_binary
from tests.unit.test_api import POOL, call, create

pytestmark = pytest.mark.skipif(not redis_server_binary(), reason="needs redis-server on PATH")

BREAKER_RESET_SECONDS = 0.3
HOLD_SECONDS = 0.3  # how long a deleted entry refuses refills (5 s by default)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def _container_for(models: TableModels, moto_endpoint: str, redis_url: str) -> Any:
    """The app's container on the test's table (every store on it) with the Redis at `redis_url`."""
    return POOL.container(repository=DynamoCaseRepository(models), env={
        "TABLE_NAME": models.case.Meta.table_name, "AWS_ENDPOINT_URL": moto_endpoint, "REDIS_URL": redis_url,
        "REDIS_BREAKER_FAILURES": "2", "REDIS_BREAKER_RESET_SECONDS": str(BREAKER_RESET_SECONDS),
        "CACHE_DELETE_HOLD_SECONDS": str(HOLD_SECONDS),
    })


@pytest.fixture
def system(dynamo_models: TableModels, moto_endpoint: str, redis_server: RedisServer) -> Iterator[Any]:
    container = _container_for(dynamo_models, moto_endpoint, redis_server.url)
    with bootstrap.override(container), Client(app) as client:
        yield client, container


def test_redis_serves_hits_and_a_patch_invalidates(system: Any) -> None:
    client, container = system
    assert container.cache.backend == "redis"
    case = create(client)
    before = container.cache.stats.as_dict()  # opening it read its type's current version through the cache

    def since(name: str) -> int:
        return int(container.cache.stats[name] - before[name])

    assert call(client, "GET", f"/cases/{case['id']}", "alice")[0] == 200
    assert call(client, "GET", f"/cases/{case['id']}", "alice")[1] == case
    assert (since("misses"), since("hits")) == (1, 1)
    status, _, _ = call(client, "PATCH", f"/cases/{case['id']}", "alice", {"priority": "LOW"}, {"If-Match": '"1"'})
    assert status == 200
    status, body, headers = call(client, "GET", f"/cases/{case['id']}", "alice")
    assert (status, body["priority"], headers["ETag"]) == (200, "LOW", '"2"')
    assert (since("misses"), since("sets")) == (2, 1)  # held: not refilled
    time.sleep(HOLD_SECONDS + 0.05)
    call(client, "GET", f"/cases/{case['id']}", "alice")  # refills
    assert call(client, "GET", f"/cases/{case['id']}", "alice")[1]["priority"] == "LOW"
    assert since("hits") == 2


def test_redis_killed_mid_test_then_back(system: Any, redis_server: RedisServer) -> None:
    client, container = system
    case = create(client)
    path = f"/cases/{case['id']}"
    call(client, "GET", path, "alice")
    assert call(client, "GET", path, "alice")[0] == 200 and container.cache.stats["hits"] == 1

    redis_server.kill()
    statuses = [call(client, "GET", path, "alice")[0] for _ in range(5)]
    status, patched, _ = call(client, "PATCH", path, "alice", {"title": "Written while Redis was down"},
                              {"If-Match": '"1"'})
    statuses.append(status)
    status, body, _ = call(client, "GET", path, "alice")
    statuses.append(status)
    assert statuses == [200] * 7
    assert body["title"] == "Written while Redis was down"
    assert container.cache.breaker.state == OPEN
    assert container.cache.stats["skipped"] > 0  # the open breaker kept requests away from the dead socket
    for other in (create(client), create(client)):  # creating, listing and commenting work without it too
        assert call(client, "POST", f"/cases/{other['id']}/comments", "alice", {"text": "noted"})[0] == 201
    assert call(client, "GET", "/cases", "alice")[0] == 200

    redis_server.start()  # the same address, as a replaced node comes back
    time.sleep(BREAKER_RESET_SECONDS + 0.05)
    assert call(client, "GET", path, "alice")[1]["title"] == "Written while Redis was down"  # the trial: a miss
    assert container.cache.breaker.state == CLOSED
    time.sleep(HOLD_SECONDS + 0.05)  # the trial delivered the delete missed during the outage: it is held
    call(client, "GET", path, "alice")  # refills
    hits = container.cache.stats["hits"]
    assert call(client, "GET", path, "alice")[1]["title"] == "Written while Redis was down"
    assert container.cache.stats["hits"] == hits + 1


def test_a_redis_that_accepts_but_never_answers_is_a_miss(
    dynamo_models: TableModels, moto_endpoint: str,
) -> None:
    with socket.socket() as silent:  # connections complete in the backlog; nothing ever replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        container = _container_for(dynamo_models, moto_endpoint, f"redis://127.0.0.1:{port}/0")
        with bootstrap.override(container), Client(app) as client:
            case = create(client)
            assert [call(client, "GET", f"/cases/{case['id']}", "alice")[0] for _ in range(4)] == [200] * 4
    assert container.cache.breaker.state == OPEN
    assert container.cache.stats["errors"] >= 2 and container.cache.stats["hits"] == 0
