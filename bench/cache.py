"""The read cache on `GET /cases/{id}`: a hit vs a miss, DynamoDB requests on a hit, and what a dead or a
silent Redis costs once the circuit breaker is open.

Run from the repo root:  .venv/bin/python bench/cache.py   (needs redis-server on PATH)

What it does
- starts moto's ThreadedMotoServer in this process, DynamoDB requests serialised as the local system
  does (local/moto_atomic.py), so DynamoDB latency is what the local system has; and a
  redis-server of its own on a free port (local/redis_server.py);
- builds the real container (bootstrap.build) three times over one table: with REDIS_URL (Redis cache),
  without it in the local stage (in-process cache), and in a deployed stage without it (no cache), and
  drives the app in-process with chalice.test.Client; AUTH_MODE=apigateway, so chalice's local Cognito
  authorizer hands the claims of an unsigned JWT to the real Authenticator (as bench/api_requests.py);
- counts DynamoDB API calls with a botocore `before-call.dynamodb` hook on every client in the process;
- miss vs hit, interleaved per case: GET a case nobody has read yet (the miss: Redis GET, DynamoDB GetItem,
  Redis SET NX), GET it again (the hit);
- Redis down: kills redis-server, lets the breaker open, then alternates GETs between the Redis-configured
  container and the no-cache one; also a Redis that accepts connections but never answers (each call
  costs the socket timeout until the breaker opens), with the breaker's cost before it opens.

Prints figures only (no assertions on timing). Latencies include moto serving the request in the same
process, as in the local system.
"""
from __future__ import annotations

import json
import logging
import socket
import sys
import time
import uuid
from typing import Any

from harness.inprocess import (  # harness first: it makes chalicelib and local importable
    DynamoCalls, build_container, configure_environment, create_case_table, load_app, serving, start_moto,
    test_client, user_headers,
)
from harness.stats import QUANTILES_HEADER, percentile, quantiles_row

from chalicelib import bootstrap
from local.moto_atomic import serialise_dynamodb
from local.redis_server import RedisServer, free_port, redis_server_binary

PORT = free_port()
ENDPOINT = f"http://127.0.0.1:{PORT}"
TABLE = f"bench-cache-{uuid.uuid4().hex[:8]}"
CASES = 201  # the first warms up; each other: one miss and one hit
DOWN_ROUNDS = 200  # each: one GET with Redis down (breaker open) and one without a cache; well within
# the breaker's 10 s cool-down, so these show the open state only

configure_environment(PORT, TABLE)
logging.getLogger("cms.cache").setLevel(logging.ERROR)  # the outage phases would log every failed call
DYNAMODB = DynamoCalls().install()
app_module = load_app()
ALICE = user_headers("alice", "caseworker", "claims")
HEADER = QUANTILES_HEADER.format(what="GET /cases/{id}")


def container(**env: str) -> Any:
    return build_container(TABLE, ENDPOINT, **env)


def get(client: Any, case_id: str) -> float:
    started = time.perf_counter()
    response = client.http.get(f"/cases/{case_id}", headers=ALICE)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET /cases/{case_id}: {response.status_code} {response.body[:300]!r}")
    return elapsed


def create_cases(client: Any, n: int) -> list[str]:
    ids = []
    for i in range(n):
        body = json.dumps({"title": f"Water damage {i}", "caseType": "CLAIM", "priority": "HIGH",
                           "customerId": f"cust-{i % 7}", "tags": ["water"]})
        response = client.http.post("/cases", headers=ALICE, body=body)
        if response.status_code != 201:
            raise SystemExit(f"POST /cases: {response.status_code} {response.body[:300]!r}")
        ids.append(response.json_body["id"])
    return ids


def hit_vs_miss(label: str, built: Any, ids: list[str]) -> tuple[list[float], list[float], list[str], list[str]]:
    misses, hits = [], []
    warm_up, ids = ids[0], ids[1:]
    with serving(app_module, built) as client:
        get(client, warm_up), get(client, warm_up)  # clients, connections, validators
        miss_calls: list[str] = []
        hit_calls: list[str] = []
        for case_id in ids:  # none of them read before by this container's cache
            with DYNAMODB.counting() as seen:
                misses.append(get(client, case_id))
            miss_calls += seen.calls
            with DYNAMODB.counting() as seen:
                hits.append(get(client, case_id))
            hit_calls += seen.calls
    stats = built.cache.stats.as_dict()
    print(f"\n### {label}: miss vs hit, interleaved per case ({len(ids)} cases)")
    print(HEADER)
    print(quantiles_row("miss (cache lookup, DynamoDB GetItem, cache fill)", misses))
    print(quantiles_row("hit", hits))
    print(f"ratio of p50s hit/miss: {percentile(hits, 0.5) / percentile(misses, 0.5):.3f}x (goal <= 0.2x)")
    print(f"DynamoDB calls: {len(miss_calls) / len(ids):g} per miss ({', '.join(sorted(set(miss_calls)))}); "
          f"{len(hit_calls) / len(ids):g} per hit (goal 0)")
    print(f"cache counters: {stats}")
    return misses, hits, miss_calls, hit_calls


def down_vs_no_cache(label: str, down: Any, none: Any, ids: list[str]) -> None:
    """Alternate GETs between the container whose Redis is unreachable and the one without a cache."""
    down_ms, none_ms = [], []
    before_open: list[float] = []
    with test_client(app_module) as client:
        with bootstrap.override(none):
            get(client, ids[0])  # warm
        with bootstrap.override(down):
            while down.cache.breaker.state != "open":  # the GETs that find out Redis is gone
                before_open.append(get(client, ids[len(before_open) % len(ids)]))
        for i in range(DOWN_ROUNDS):
            with bootstrap.override(down):
                down_ms.append(get(client, ids[i % len(ids)]))
            with bootstrap.override(none):
                none_ms.append(get(client, ids[i % len(ids)]))
    stats = down.cache.stats.as_dict()
    per_call_us = {name: cache_calls_us(built.cache) for name, built in (("open breaker", down), ("no cache", none))}
    print(f"\n### {label}")
    print(f"GETs before the breaker opened: {len(before_open)}, taking "
          f"{', '.join(f'{ms:.1f}' for ms in before_open)} ms (each with its failed cache call(s))")
    print(HEADER)
    print(quantiles_row("Redis unreachable, breaker open (reads DynamoDB)", down_ms))
    print(quantiles_row("no cache configured (reads DynamoDB)", none_ms))
    overhead = percentile(down_ms, 0.5) - percentile(none_ms, 0.5)
    paired = percentile([d - n for d, n in zip(down_ms, none_ms)], 0.5)
    print(f"overhead of the open breaker: difference of p50s {overhead:+.2f} ms "
          f"({overhead / percentile(none_ms, 0.5) * 100:+.1f}%), median of paired differences {paired:+.2f} ms "
          "(goal ~0)")
    print(f"the cache calls of one GET in isolation (a get and a set, {CALL_LOOPS} times): "
          + ", ".join(f"{name} {us:.2f} us" for name, us in per_call_us.items()))
    print(f"cache counters: {stats} (errors past the first GETs: the breaker's trial calls, one per 10 s cool-down)")


CALL_LOOPS = 20_000


def cache_calls_us(cache: Any) -> float:
    """What a read's cache calls cost without the request around them: the noise-free part of the overhead."""
    started = time.perf_counter()
    for _ in range(CALL_LOOPS):
        cache.get("case:bench")
        cache.set("case:bench", {"id": "bench"}, 60)
    return (time.perf_counter() - started) / CALL_LOOPS * 1e6


def main() -> None:
    if not redis_server_binary():  # `make bench` goes on with the other scripts
        print("skipped: bench/cache.py needs redis-server on PATH (apt-get install redis-server)")
        return
    moto = start_moto(PORT)
    serialise_dynamodb(moto)  # as the local system: one DynamoDB request at a time, like a real table's atomicity
    create_case_table(TABLE, ENDPOINT)
    redis_server = RedisServer().start()
    print(f"python {sys.version.split()[0]}; moto ThreadedMotoServer in process on {ENDPOINT}; "
          f"redis-server on {redis_server.url}")
    breaker_env = {"REDIS_BREAKER_FAILURES": "3", "REDIS_BREAKER_RESET_SECONDS": "10"}
    try:
        with_redis = container(REDIS_URL=redis_server.url, **breaker_env)
        with serving(app_module, with_redis) as client:
            ids = create_cases(client, CASES)
        no_cache = container(STAGE="dev")  # a deployed stage without REDIS_URL: NoCache
        backends = (with_redis, container(STAGE="local"), no_cache)
        print(f"backends: {', '.join(built.cache.backend for built in backends)}")

        hit_vs_miss("Redis (redis-server on loopback)", with_redis, ids)
        hit_vs_miss("in-process cache (make run without Redis)", container(STAGE="local"), ids)

        # Redis killed: connections are refused at once.
        redis_server.kill()
        down_vs_no_cache("Redis killed (connection refused)", container(REDIS_URL=redis_server.url, **breaker_env),
                         no_cache, ids)

        # A Redis that accepts connections but never answers: every call waits for the socket timeout.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(64)
            url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
            down_vs_no_cache("Redis silent (accepts, never answers; 100 ms socket timeouts)",
                             container(REDIS_URL=url, **breaker_env), no_cache, ids)
    finally:
        redis_server.kill()
        moto.stop()


if __name__ == "__main__":
    main()
