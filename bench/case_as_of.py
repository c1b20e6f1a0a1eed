"""`GET /cases/{id}?asOf=` on a case with 1,000 audit events: the chain read from DynamoDB and folded back
into the case, against a plain read of the same case (goal: asOf <= 200 ms locally).

Run from the repo root:  .venv/bin/python bench/case_as_of.py

What it does
- starts moto's ThreadedMotoServer in this process with the local system's replacements of moto's DynamoDB hot
  paths and per-request costs (local/moto_speedups.py, local/moto_request_speedups.py: queries that read only
  their partition, responses serialised without a per-attribute name search), DynamoDB requests serialised as
  the local system does (local/moto_atomic.py), and builds the real container over a table there as the local
  system does (with its in-process read cache, which serves the plain GET; asOf reads the chain every time);
  drives the app in-process with chalice.test.Client (AUTH_MODE=apigateway, as bench/cache.py);
- opens one case through the API, then appends 999 more events through the DynamoDB repository, as the
  services do but 10 to a transaction (through the API that took minutes on moto): each transaction edits the
  title (CASE_UPDATED, a new version) and adds 9 COMMENT_ADDED events;
- times GETs asOf the last event (every event folded), asOf the middle event (half of them), and the plain GET,
  interleaved; counts the DynamoDB requests of one asOf read.

Prints figures only (no assertions on timing). Latencies include moto serving the request in the same
process, as in the local system.
"""
from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any

from harness.inprocess import (  # harness first: it makes chalicelib and local importable
    REGION, DynamoCalls, build_container, configure_environment, create_case_table, load_app, serving, start_moto,
    user_headers,
)
from harness.stats import QUANTILES_HEADER, quantiles_row

from chalicelib.adapters.dynamo.cases import DynamoCaseRepository
from chalicelib.adapters.dynamo.models import table_models
from chalicelib.domain.changes import CaseChange
from chalicelib.domain.clock import iso, utc_now
from chalicelib.ports import StaleWrite
from local.moto_atomic import serialise_dynamodb
from local.moto_request_speedups import install_request_speedups
from local.moto_speedups import install_dynamodb_speedups
from local.redis_server import free_port

PORT = free_port()
ENDPOINT = f"http://127.0.0.1:{PORT}"
TABLE = f"bench-asof-{uuid.uuid4().hex[:8]}"
EVENTS = 1_000
PER_CHANGE = 10  # events per transaction (moto times out on larger ones as the case grows)
ROUNDS = 30

configure_environment(PORT, TABLE)
DYNAMODB = DynamoCalls().install()
app_module = load_app()
ALICE = user_headers("alice", "caseworker", "claims")


def call(client: Any, method: str, path: str, body: Any = None, **headers: str) -> Any:
    send = getattr(client.http, method.lower())
    response = send(path, headers={**ALICE, **headers}, **({"body": json.dumps(body)} if body is not None else {}))
    if response.status_code >= 300:
        raise SystemExit(f"{method} {path}: {response.status_code} {response.body[:300]!r}")
    return response


def append_events(repository: DynamoCaseRepository, case_id: str) -> int:
    """EVENTS - 1 more events on the case, PER_CHANGE to a change; returns the case's last version."""
    left = EVENTS - 1
    while left:
        read = repository.get_case(case_id)
        assert read is not None
        change = CaseChange(read, "alice", iso(utc_now()))
        title = f"Water damage ({read.version + 1})"
        change.append("CASE_UPDATED", {"changes": {"title": {"from": read.title, "to": title}},
                                       "version": read.version + 1})
        change.move(title=title)
        for n in range(min(left, PER_CHANGE) - 1):
            change.append("COMMENT_ADDED", {"commentId": f"c{left}-{n}", "text": f"note {n}"})
        try:
            repository.apply(change)
        except StaleWrite:  # botocore retried a transaction moto answered too late: fine if the first try landed
            stored = repository.get_case(case_id)
            if stored is None or stored.audit_hash != change.event.hash:
                raise
        left -= len(change.events)
        print(f"{EVENTS - left} events written", file=sys.stderr, flush=True)
    return change.case.version


def history(client: Any, path: str) -> list[dict[str, Any]]:
    """Every audit event of the case, page by page (the history is paginated like every list)."""
    events: list[dict[str, Any]] = []
    page = call(client, "GET", f"{path}/history?limit=100").json_body
    events += page["items"]
    while page.get("nextCursor"):
        page = call(client, "GET", f"{path}/history?limit=100&cursor={page['nextCursor']}").json_body
        events += page["items"]
    return events


def timed(client: Any, path: str) -> float:
    started = time.perf_counter()
    call(client, "GET", path)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    install_dynamodb_speedups()  # as local/system.py does before it starts moto: the moto the local system runs
    install_request_speedups()
    server = start_moto(PORT)
    serialise_dynamodb(server)
    try:
        create_case_table(TABLE, ENDPOINT)
        with serving(app_module, build_container(TABLE, ENDPOINT)) as client:
            case = call(client, "POST", "/cases", {"title": "Water damage", "caseType": "GENERAL", "priority": "LOW",
                                                   "customerId": "CUST-1"}).json_body
            path = f"/cases/{case['id']}"
            started = time.perf_counter()
            version = append_events(DynamoCaseRepository(table_models(TABLE, REGION, ENDPOINT)), case["id"])
            written = time.perf_counter() - started
            events = history(client, path)
            last, middle = events[-1]["at"], events[len(events) // 2]["at"]
            for _ in range(3):  # validators, clients, connections
                timed(client, f"{path}?asOf={last}")
            whole, half, plain = [], [], []
            for _ in range(ROUNDS):
                whole.append(timed(client, f"{path}?asOf={last}"))
                half.append(timed(client, f"{path}?asOf={middle}"))
                plain.append(timed(client, path))
            load = os.getloadavg()  # the machine is shared: the figures are only as quiet as it was
            with DYNAMODB.counting() as seen:
                folded = call(client, "GET", f"{path}?asOf={last}").json_body
    finally:
        server.stop()
    assert folded["version"] == version and folded["asOf"]["verified"]
    assert folded["asOf"]["seq"] == len(events) == EVENTS
    print(f"### GET /cases/{{id}}?asOf= on a case with {len(events)} audit events "
          f"(written in {written:.1f} s; version {version})")
    print(QUANTILES_HEADER.format(what="request"))
    print(quantiles_row(f"asOf the last event ({len(events)} folded)", whole))
    print(quantiles_row(f"asOf the middle event ({len(events) // 2 + 1} folded)", half))
    print(quantiles_row("plain GET (served by the read cache)", plain))
    print(f"DynamoDB requests of one asOf read: {len(seen.calls)} ({', '.join(sorted(set(seen.calls)))})")
    print(f"load average after the timed rounds (1, 5, 15 min): {', '.join(f'{n:.2f}' for n in load)} "
          f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
