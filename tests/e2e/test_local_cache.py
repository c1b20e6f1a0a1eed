"""The running local system with a Redis of the test's own, killed mid-test: every request still
succeeds from DynamoDB, writes made meanwhile are what the next reads show, and once Redis is back
reads fill it again."""
from __future__ import annotations

import json
import time
from typing import Any, Callable

import pytest
import redis

from local.redis_server import RedisServer, redis_server_binary

pytestmark = pytest.mark.skipif(not redis_server_binary(), reason="needs redis-server on PATH")

RESET_SECONDS = 0.5
HOLD_SECONDS = 0.5  # a deleted entry refuses refills this long (5 s by default)


@pytest.fixture(scope="module")
def system(redis_server: RedisServer, local_system_with: Callable[..., Any]) -> Any:
    return local_system_with(
        {"REDIS_URL": redis_server.url, "REDIS_BREAKER_RESET_SECONDS": str(RESET_SECONDS),
         "CACHE_DELETE_HOLD_SECONDS": str(HOLD_SECONDS)},
        seed=False,
    )


def _patch(api: Any, path: str, body: dict[str, Any]) -> Any:
    """PATCH with the ETag just read; the workflow moves new cases on by itself, so a 412 reads again."""
    for _ in range(5):
        response = api.patch(path, json=body, headers={"If-Match": api.get(path).headers["ETag"]})
        if response.status_code != 412:
            break
    return response


def _read_until_cached(api: Any, server: RedisServer, stack: dict[str, Any], case_id: str) -> None:
    """A new case's workflow moves it on at first, and each move deletes (and holds) its entry: read until
    a read finds the case settled long enough to be filled."""
    for _ in range(40):
        assert api.get(f"/cases/{case_id}").status_code == 200
        if _cached(server, stack, case_id):
            return
        time.sleep(HOLD_SECONDS / 2)
    pytest.fail(f"case {case_id} was never cached")


def _cached(server: RedisServer, stack: dict[str, Any], case_id: str) -> bool:
    """Whether Redis holds the case itself (not absent, not a deleted key's hold marker)."""
    raw = redis.Redis.from_url(server.url).get(f"{stack['cacheKeyPrefix']}case:{case_id}")
    return isinstance(raw, bytes) and raw.startswith(b"{") and json.loads(raw)["id"] == case_id


def test_the_system_says_it_uses_the_given_redis(system: Any, redis_server: RedisServer) -> None:
    assert system.stack["cache"] == f"redis at {redis_server.url} (REDIS_URL)"


def test_reads_fill_redis_and_a_patch_empties_it(system: Any, redis_server: RedisServer) -> None:
    alice = system.api("alice")
    case = alice.post("/cases", json={"title": "Leak", "caseType": "GENERAL", "priority": "LOW",
                                      "customerId": "CUST-9019"}).json()
    _read_until_cached(alice, redis_server, system.stack, case["id"])
    assert _patch(alice, f"/cases/{case['id']}", {"title": "Leak fixed"}).status_code == 200
    assert not _cached(redis_server, system.stack, case["id"])  # held: reads do not refill it for a moment
    assert alice.get(f"/cases/{case['id']}").json()["title"] == "Leak fixed"


def test_redis_killed_mid_test_then_restarted(system: Any, redis_server: RedisServer) -> None:
    alice = system.api("alice")
    case = alice.post("/cases", json={"title": "Outage", "caseType": "GENERAL", "priority": "LOW",
                                      "customerId": "CUST-9020"}).json()
    path = f"/cases/{case['id']}"
    _read_until_cached(alice, redis_server, system.stack, case["id"])

    redis_server.kill()
    responses = [alice.get(path) for _ in range(3)]
    responses.append(_patch(alice, path, {"priority": "HIGH"}))
    responses.append(alice.post(f"{path}/comments", json={"text": "still here"}))
    responses.append(alice.get("/cases"))
    responses.append(alice.get(path))
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 201, 200, 200]
    assert responses[-1].json()["priority"] == "HIGH"
    assert system.api("sam").get("/personnel").status_code == 200

    redis_server.start()
    time.sleep(RESET_SECONDS + 0.1)  # past the breaker's cool-down: the next call is the trial
    assert alice.get(path).json()["priority"] == "HIGH"  # it also delivers the deletes missed meanwhile
    _read_until_cached(alice, redis_server, system.stack, case["id"])
    assert alice.get(path).json()["priority"] == "HIGH"
