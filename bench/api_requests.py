"""Backend requests per API call and warm in-process latency, against moto's DynamoDB.

Run from the repo root:  .venv/bin/python bench/api_requests.py

What it does
- (bench/harness/inprocess.py) starts moto's ThreadedMotoServer on a free loopback port, creates the table with
  chalicelib.adapters.dynamo.models.table_models + create_table, builds the real container with
  bootstrap.build(Settings.from_env({... AUTH_MODE=apigateway ...})) and installs it with
  bootstrap.override;
- drives the app in-process with chalice.test.Client(app). AUTH_MODE=apigateway is set before
  `import app`, so the routes carry the Cognito authorizer, and chalice's local gateway puts the
  claims of the (unsigned) JWT sent in `Authorization` into requestContext.authorizer.claims, which is
  exactly where chalicelib.auth.Authenticator reads them on AWS. So the real Authenticator runs (no
  stub); token *verification* is measured separately in bench/token_verify.py;
- counts DynamoDB requests per API call with botocore event hooks registered on every botocore client
  created in this process (`before-call.dynamodb` = API calls, `before-send.dynamodb` = HTTP sends,
  retries included);
- measures warm latency of GET /cases/{id} and POST /cases, with reference floors.

Prints figures only (no assertions on timing). Latencies include moto serving the request in the same
process (it competes for the GIL), so they are upper bounds on the app's own cost against real DynamoDB
plus network.
"""
from __future__ import annotations

import collections
import json
import os
import resource
import sys
import time
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable

import boto3

from harness import free_port  # harness first: it makes chalicelib importable
from harness.inprocess import (
    REGION, Counted, DynamoCalls, build_container, configure_environment, create_case_table, load_app, serving,
    start_moto, user_headers,
)
from harness.stats import QUANTILES_HEADER, percentile, quantiles_row, timed_ms

from chalicelib.adapters.dynamo.changes import case_item
from chalicelib.domain.access import Principal
from chalicelib.services.cases import iso

T_PROCESS = time.perf_counter()
PORT = free_port()
ENDPOINT = f"http://127.0.0.1:{PORT}"
TABLE = f"bench-{uuid.uuid4().hex[:8]}"
BLOCK = 10

configure_environment(PORT, TABLE)
DYNAMODB = DynamoCalls().install()
t_start = time.perf_counter()
server = start_moto(PORT)
moto_start_s = time.perf_counter() - t_start
app_module = load_app()


def summarise(ops: list[str], per: int = 1) -> str:
    counts = collections.Counter(ops)
    if not counts:
        return "none"
    return ", ".join(f"{name} x{n / per:g}" for name, n in sorted(counts.items()))


def fresh_container(table: str, repository: Any = None) -> Any:
    """A new table (unless a repository is given) and the container the app would build for it."""
    if repository is None:
        create_case_table(table, ENDPOINT)
    return build_container(table, ENDPOINT, repository, CASE_NUMBER_BLOCK=str(BLOCK), STAGE="bench")


ALICE = user_headers("alice", "caseworker", "claims")
BOB_PRINCIPAL = Principal("bob", frozenset({"caseworker"}), "complaints")
BOB = user_headers("bob", "caseworker", "complaints")


def case_body(case_type: str = "CLAIM", n: int = 0) -> bytes:
    return json.dumps(
        {"title": f"Water damage {n}", "description": "Kitchen flooded", "caseType": case_type, "priority": "HIGH",
         "customerId": f"cust-{n % 7}", "tags": ["water", "kitchen"]}
    ).encode()


def expect(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{what}: expected {status}, got {response.status_code}: {response.body[:500]!r}")
    return response


def count_requests(table_rows: list[str]) -> None:
    container = fresh_container(TABLE)
    with serving(app_module, container) as client:
        http = client.http
        expect(http.get("/cases/x"), 401, "a request without claims must be refused")

        # First requests of a fresh container: pynamodb creates its botocore clients lazily.
        clients_before = len(DYNAMODB.clients)
        t = time.perf_counter()
        first = expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "first create")
        first_post_ms = (time.perf_counter() - t) * 1000
        clients_after_post = len(DYNAMODB.clients)
        t = time.perf_counter()
        expect(http.get(f"/cases/{first.json_body['id']}", headers=ALICE), 200, "first get")
        first_get_ms = (time.perf_counter() - t) * 1000
        clients_after_get = len(DYNAMODB.clients)
        firsts = [("POST /cases", first_post_ms, clients_after_post - clients_before),
                  ("GET /cases/{id}", first_get_ms, clients_after_get - clients_after_post)]
        case0 = first.json_body["id"]
        for label, method, path, body, extra in (
            ("GET /cases", "GET", "/cases?limit=5", None, {}),
            ("POST /cases/{id}/comments", "POST", f"/cases/{case0}/comments", json.dumps({"text": "hi"}).encode(), {}),
            ("GET /cases/{id}/comments", "GET", f"/cases/{case0}/comments", None, {}),
            ("GET /cases/{id}/history", "GET", f"/cases/{case0}/history", None, {}),
            ("POST /cases with Idempotency-Key", "POST", "/cases", case_body(), {"idempotency-key": "first"}),
        ):
            before = len(DYNAMODB.clients)
            t = time.perf_counter()
            response = http.request(method, path, headers={**ALICE, **extra}, body=body or b"")
            if response.status_code >= 300:
                raise SystemExit(f"{label}: {response.status_code} {response.body[:300]!r}")
            firsts.append((label, (time.perf_counter() - t) * 1000, len(DYNAMODB.clients) - before))
        print("\nfirst call of each kind in a new container (warm process; pynamodb creates botocore clients lazily):")
        for label, ms, new_clients in firsts:
            print(f"  {label:34s} {ms:6.0f} ms  +{new_clients} botocore client(s)")
        print(f"  -> {len(DYNAMODB.clients) - clients_before} botocore clients for one table")

        print("\n## DynamoDB requests per API call (before-call = API calls; before-send = HTTP sends)")

        def report(label: str, c: Counted, per: int = 1) -> None:
            retries = "" if c.calls == c.sends else f"  [HTTP sends differ: {summarise(c.sends, per)}]"
            print(f"- {label}: {len(c.calls) / per:g} request(s): {summarise(c.calls, per)}{retries}")
            table_rows.append(f"| {label} | {len(c.calls) / per:g} | {summarise(c.calls, per)} |")

        # POST /cases: the counter UpdateItem is amortised over CASE_NUMBER_BLOCK creates. The first
        # create above opened a block: use it up so the 100 measured creates start on a boundary.
        numbers = container.cases._numbers
        year = time.gmtime().tm_year
        while numbers._next.get(year, 1) <= numbers._last.get(year, 0):
            expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "create")
        ids: list[str] = []
        create_ms: list[float] = []
        with DYNAMODB.counting() as c:
            for i in range(100):
                t = time.perf_counter()
                created = expect(http.post("/cases", headers=ALICE, body=case_body(n=i)), 201, "create")
                ids.append(created.json_body["id"])
                create_ms.append((time.perf_counter() - t) * 1000)
        report(f"POST /cases (average of 100, CASE_NUMBER_BLOCK={BLOCK})", c, 100)
        writes = sum(1 for op in c.calls if op in ("TransactWriteItems", "UpdateItem", "PutItem"))
        print(f"  writes per create: {writes / 100:g} (every {BLOCK}th create also reserves numbers)")
        print(f"  on moto, POST /cases p50 grows with the table: creates 1-20 {percentile(create_ms[:20], 0.5):.0f} "
              f"ms, creates 81-100 {percentile(create_ms[-20:], 0.5):.0f} ms (moto deep-copies the table per "
              "transaction item)")

        expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "create")  # off the block boundary
        key = uuid.uuid4().hex
        with DYNAMODB.counting() as c:
            created = expect(
                http.post("/cases", headers={**ALICE, "idempotency-key": key}, body=case_body(n=1000)), 201, "create"
            )
        report("POST /cases with a new Idempotency-Key", c)
        with DYNAMODB.counting() as c:
            replay = expect(
                http.post("/cases", headers={**ALICE, "idempotency-key": key}, body=case_body(n=1000)), 201, "replay"
            )
        report("POST /cases replayed (same Idempotency-Key and body)", c)
        if replay.json_body["id"] != created.json_body["id"]:
            print("  !! the replay returned a different case")

        case_id = ids[-1]
        with DYNAMODB.counting() as c:
            for _ in range(20):
                got = expect(http.get(f"/cases/{case_id}", headers=ALICE), 200, "get")
        report("GET /cases/{id} (average of 20; goal: 1 read)", c, 20)

        with DYNAMODB.counting() as c:
            page = expect(http.get("/cases?limit=25", headers=ALICE), 200, "list").json_body
        report(f"GET /cases?limit=25 (all cases visible; {len(page['items'])} items)", c)
        next_cursor = page.get("nextCursor")
        if next_cursor:
            with DYNAMODB.counting() as c:
                page2 = expect(
                    http.get(f"/cases?limit=25&cursor={next_cursor}", headers=ALICE), 200, "list page 2"
                ).json_body
            report(f"GET /cases?limit=25&cursor=... (page 2; {len(page2['items'])} items)", c)

        etag = got.headers.get("etag") or got.headers.get("ETag")
        path = f"/cases/{case_id}"
        if_match = {**ALICE, "if-match": etag}
        missing = f"/cases/{uuid.uuid4().hex}"
        for label, method, target, headers, fields, status in (
            ("PATCH /cases/{id}", "PATCH", path, if_match, {"priority": "CRITICAL"}, 200),
            ("PATCH /cases/{id} with a stale If-Match (412)", "PATCH", path, if_match, {"priority": "LOW"}, 412),
            ("POST /cases/{id}/comments", "POST", f"{path}/comments", ALICE, {"text": "Called back"}, 201),
            ("GET /cases/{id}/comments", "GET", f"{path}/comments", ALICE, None, 200),
            ("GET /cases/{id}/history", "GET", f"{path}/history", ALICE, None, 200),
            ("GET /cases/{id}/history/verify", "GET", f"{path}/history/verify", ALICE, None, 200),
            ("GET /case-types", "GET", "/case-types", ALICE, None, 200),
            ("GET /cases/{id} of a missing case (404)", "GET", missing, ALICE, None, 404),
            ("GET /cases/{id} of a case the caller may not see (404)", "GET", path, BOB, None, 404),
        ):
            payload = json.dumps(fields).encode() if fields is not None else b""
            with DYNAMODB.counting() as c:
                expect(http.request(method, target, headers=headers, body=payload), status, label)
            report(label, c)

    # A caseworker's page reads their own list and their team's (adapters/case_listing.py), never the other
    # team's cases: it costs the same however many of the newest cases are another team's.
    container = fresh_container(TABLE + "-vis")
    with serving(app_module, container) as client:
        http = client.http
        for i in range(5):
            expect(http.post("/cases", headers=ALICE, body=case_body("CLAIM", i)), 201, "alice create")
        # 100 newer cases of another team, written in batches (clones of one created through the API: the items
        # its transaction writes but the creator's copy, which alice's listing never reads).
        bobs = expect(http.post("/cases", headers=BOB, body=case_body("COMPLAINT")), 201, "bob")
        template = container.cases.get(BOB_PRINCIPAL, bobs.json_body["id"])
        models = container.cases._repo._m
        with models.case.batch_write() as batch:
            for i in range(99):
                created = datetime.fromisoformat(template.created_at.replace("Z", "+00:00")) + timedelta(seconds=i + 1)
                clone = template.model_copy(update={"id": uuid.uuid4().hex, "created_at": iso(created)})
                batch.save(case_item(models, clone))
        with DYNAMODB.counting() as c:
            page = expect(http.get("/cases?limit=25", headers=ALICE), 200, "list").json_body
        report(
            f"GET /cases?limit=25 as alice when the 100 newest of 105 cases are another team's "
            f"({len(page['items'])} items returned)", c
        )


def latency(lat: list[str]) -> None:
    # A fresh, small table: moto's TransactWriteItems deep-copies the whole table (with its stream
    # records) once per transaction item, so on moto every write gets slower as the table grows.
    container = fresh_container(TABLE + "-lat")
    raw = boto3.client("dynamodb", REGION, endpoint_url=ENDPOINT)
    with serving(app_module, container) as client:
        http = client.http
        case_id = expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "create").json_body["id"]
        key_attrs = {"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": "CASE"}}
        table = container.settings.table_name
        from chalicelib.web import logger  # the app's per-request log line, at INFO, to /dev/null

        handler = getattr(logger, "registered_handler", None)
        level = logger.log_level
        devnull = open(os.devnull, "w")
        old_stream = handler.setStream(devnull) if handler is not None and hasattr(handler, "setStream") else None

        def get_with_info_log() -> None:
            logger.setLevel("INFO")
            try:
                http.get(f"/cases/{case_id}", headers=ALICE)
            finally:
                logger.setLevel(level)

        variants: dict[str, Callable[[], Any]] = {
            "GET /health (public, no backend: harness + framework floor)": lambda: http.get("/health"),
            "raw botocore GetItem to moto (backend floor)": lambda: raw.get_item(TableName=table, Key=key_attrs),
            "**GET /cases/{id}**": lambda: http.get(f"/cases/{case_id}", headers=ALICE),
            "GET /cases/{id} with the INFO request log line (to /dev/null)": get_with_info_log,
        }
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for i in range(50 + 500):  # interleaved, so load on the machine hits every variant alike
            for name, call in variants.items():
                t = time.perf_counter()
                call()
                if i >= 50:
                    samples[name].append((time.perf_counter() - t) * 1000)
        if handler is not None and old_stream is not None:
            handler.setStream(old_stream)
        devnull.close()
        for name, ms in samples.items():
            lat.append(quantiles_row(name, ms))

    # POST /cases: moto's TransactWriteItems deep-copies the table per transaction item, so on one table
    # every create is slower than the last. Keep the table small: a fresh table (and container) for
    # each batch of 40 timed creates, after 4 untimed ones.
    post_ms: list[float] = []
    for batch_no in range(5):
        container = fresh_container(f"{TABLE}-post{batch_no}")
        with serving(app_module, container) as client:
            http = client.http
            post_ms += timed_ms(lambda i: http.post("/cases", headers=ALICE, body=case_body(n=i)), 40, warmup=4)
    lat.append(quantiles_row("**POST /cases** (fresh table per 40 creates)", post_ms))

    from chalicelib.adapters.memory.cases import InMemoryCaseRepository

    memory = fresh_container("unused", repository=InMemoryCaseRepository())
    with serving(app_module, memory) as client:
        http = client.http
        mem_id = expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "memory create").json_body["id"]
        lat.append(quantiles_row("GET /cases/{id}, in-memory repository (the app's own cost)",
                           timed_ms(lambda i: http.get(f"/cases/{mem_id}", headers=ALICE), 500, warmup=50)))
        lat.append(quantiles_row("POST /cases, in-memory repository (the app's own cost)",
                           timed_ms(lambda i: http.post("/cases", headers=ALICE, body=case_body(n=i)), 200, warmup=20)))


def main() -> None:
    t_total = time.perf_counter()
    print(f"startup (imports of moto, chalice, app; moto start): {t_total - T_PROCESS:.1f} s")
    print(f"moto ThreadedMotoServer on {ENDPOINT} (started in {moto_start_s * 1000:.0f} ms); "
          f"python {sys.version.split()[0]}")
    print("auth: AUTH_MODE=apigateway. chalice's local Cognito authorizer copies the claims of the (unsigned) JWT in "
          "Authorization into requestContext.authorizer.claims; the real chalicelib.auth.Authenticator reads them "
          "there (no stub).")
    table_rows: list[str] = []
    lat: list[str] = []
    t = time.perf_counter()
    count_requests(table_rows)
    print(f"(request counting took {time.perf_counter() - t:.1f} s)")
    print("\n## Warm in-process latency (chalice.test.Client -> app -> pynamodb/botocore -> moto on loopback)")
    t = time.perf_counter()
    latency(lat)
    header = QUANTILES_HEADER.format(what="call")
    print(header)
    print("\n".join(lat))
    print(f"(latency took {time.perf_counter() - t:.1f} s)")

    print("\n## Markdown for the README\n")
    print("DynamoDB requests per API call (against moto, counted with botocore `before-call` hooks):\n")
    print("| API call | requests | operations |\n|---|---|---|")
    print("\n".join(table_rows))
    print("\nWarm in-process latency (chalice.test.Client, moto in the same process on loopback, 2 cores):\n")
    print(header)
    print("\n".join(lat))
    print(f"\nbotocore clients created in this process: {len(DYNAMODB.clients)} (one shared connection per table; "
          f"the benchmark builds several tables)")
    t = time.perf_counter()
    server.stop()
    print(f"moto stopped in {time.perf_counter() - t:.1f} s; total {time.perf_counter() - T_PROCESS:.1f} s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    sys.stdout.flush()
    os._exit(0)  # skip tearing down moto's in-memory state (several seconds)


if __name__ == "__main__":
    main()
