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

import base64
import json
import logging
import os
import socket
import sys
import time
import uuid
import warnings
from contextlib import contextmanager
from typing import Any, Callable, Iterator

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
os.chdir(REPO_ROOT)

from local.moto_atomic import serialise_dynamodb  # noqa: E402
from local.redis_server import RedisServer, free_port, redis_server_binary  # noqa: E402

PORT = free_port()
ENDPOINT = f"http://127.0.0.1:{PORT}"
REGION = "us-east-1"
TABLE = f"bench-cache-{uuid.uuid4().hex[:8]}"
CASES = 201  # the first warms up; each other: one miss and one hit
DOWN_ROUNDS = 200  # each: one GET with Redis down (breaker open) and one without a cache; well within
# the breaker's 10 s cool-down, so these show the open state only

# Everything the app and botocore read from the environment must be set before they are imported.
os.environ.update(
    MOTO_PORT=str(PORT), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_XRAY_SDK_ENABLED="false", AUTH_MODE="apigateway",
    POWERTOOLS_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING", TABLE_NAME=TABLE,
    POWERTOOLS_METRICS_DISABLED="true",  # no EMF line per request on stdout, as in the local system
)
for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "LOCAL_STACK_FILE", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID",
            "REDIS_URL", "CACHE_KEY_PREFIX"):
    os.environ.pop(var, None)
logging.getLogger("werkzeug").setLevel(logging.ERROR)
logging.getLogger("cms.cache").setLevel(logging.ERROR)  # the outage phases would log every failed call

import botocore.session  # noqa: E402

DYNAMODB_CALLS: list[str] = []
_original_create_client = botocore.session.Session.create_client


def _create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
    client = _original_create_client(self, service_name, *args, **kwargs)
    client.meta.events.register(
        "before-call.dynamodb", lambda event_name, **_: DYNAMODB_CALLS.append(event_name.rsplit(".", 1)[-1])
    )
    return client


botocore.session.Session.create_client = _create_client  # every client, pynamodb's included


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    DYNAMODB_CALLS.clear()
    seen: list[str] = []
    try:
        yield seen
    finally:
        seen.extend(DYNAMODB_CALLS)


from chalice.test import Client  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

import app as app_module  # noqa: E402
from chalicelib import bootstrap  # noqa: E402
from chalicelib.adapters.dynamo.models import create_table, table_models  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402

warnings.filterwarnings("ignore", message=".*CognitoUserPoolAuthorizer is not a supported in local mode.*")


def token(username: str, groups: str, team: str) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = {"sub": username, "cognito:username": username, "cognito:groups": groups, "custom:team": team,
              "token_use": "id"}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


ALICE = {"authorization": token("alice", "caseworker", "claims"), "content-type": "application/json"}


def container(**env: str) -> Any:
    settings = Settings.from_env({
        "AUTH_MODE": "apigateway", "TABLE_NAME": TABLE, "AWS_ENDPOINT_URL": ENDPOINT, "AWS_REGION": REGION,
        "LOG_LEVEL": "WARNING", **env,
    })
    return bootstrap.build(settings)


def get(client: Any, case_id: str) -> float:
    started = time.perf_counter()
    response = client.http.get(f"/cases/{case_id}", headers=ALICE)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET /cases/{case_id}: {response.status_code} {response.body[:300]!r}")
    return elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def row(label: str, ms: list[float]) -> str:
    return f"| {label} | {len(ms)} | {pct(ms, 0.5):.2f} | {pct(ms, 0.9):.2f} | {pct(ms, 0.99):.2f} |"


HEADER = "| GET /cases/{id} | n | p50 (ms) | p90 (ms) | p99 (ms) |\n|---|---|---|---|---|"


@contextmanager
def serving(built: Any) -> Iterator[Any]:
    with bootstrap.override(built), Client(app_module.app, stage_name="dev", project_dir=REPO_ROOT) as client:
        yield client


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
    with serving(built) as client:
        get(client, warm_up), get(client, warm_up)  # clients, connections, validators
        miss_calls: list[str] = []
        hit_calls: list[str] = []
        for case_id in ids:  # none of them read before by this container's cache
            with dynamodb_calls() as seen:
                misses.append(get(client, case_id))
            miss_calls += seen
            with dynamodb_calls() as seen:
                hits.append(get(client, case_id))
            hit_calls += seen
    stats = built.cache.stats.as_dict()
    print(f"\n### {label}: miss vs hit, interleaved per case ({len(ids)} cases)")
    print(HEADER)
    print(row("miss (cache lookup, DynamoDB GetItem, cache fill)", misses))
    print(row("hit", hits))
    print(f"ratio of p50s hit/miss: {pct(hits, 0.5) / pct(misses, 0.5):.3f}x (goal <= 0.2x)")
    print(f"DynamoDB calls: {len(miss_calls) / len(ids):g} per miss ({', '.join(sorted(set(miss_calls)))}); "
          f"{len(hit_calls) / len(ids):g} per hit (goal 0)")
    print(f"cache counters: {stats}")
    return misses, hits, miss_calls, hit_calls


def down_vs_no_cache(label: str, down: Any, none: Any, ids: list[str]) -> None:
    """Alternate GETs between the container whose Redis is unreachable and the one without a cache."""
    down_ms, none_ms = [], []
    before_open: list[float] = []
    with Client(app_module.app, stage_name="dev", project_dir=REPO_ROOT) as client:
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
    print(row("Redis unreachable, breaker open (reads DynamoDB)", down_ms))
    print(row("no cache configured (reads DynamoDB)", none_ms))
    overhead = pct(down_ms, 0.5) - pct(none_ms, 0.5)
    paired = pct([d - n for d, n in zip(down_ms, none_ms)], 0.5)
    print(f"overhead of the open breaker: difference of p50s {overhead:+.2f} ms "
          f"({overhead / pct(none_ms, 0.5) * 100:+.1f}%), median of paired differences {paired:+.2f} ms (goal ~0)")
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
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=PORT, verbose=False)
    moto.start()
    serialise_dynamodb(moto)  # as the local system runs it: one DynamoDB request at a time, like a real table's atomicity
    create_table(table_models.__wrapped__(TABLE, REGION, ENDPOINT))
    redis_server = RedisServer().start()
    print(f"python {sys.version.split()[0]}; moto ThreadedMotoServer in process on {ENDPOINT}; "
          f"redis-server on {redis_server.url}")
    breaker_env = {"REDIS_BREAKER_FAILURES": "3", "REDIS_BREAKER_RESET_SECONDS": "10"}
    try:
        with_redis = container(REDIS_URL=redis_server.url, **breaker_env)
        with serving(with_redis) as client:
            ids = create_cases(client, CASES)
        no_cache = container(STAGE="dev")  # a deployed stage without REDIS_URL: NoCache
        print(f"backends: {with_redis.cache.backend}, {container(STAGE='local').cache.backend}, {no_cache.cache.backend}")

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
