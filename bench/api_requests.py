"""Backend requests per API call and warm in-process latency, against moto's DynamoDB.

Run from the repo root:  .venv/bin/python bench/api_requests.py

What it does
- starts moto's ThreadedMotoServer on a free loopback port, creates the table with
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

import base64
import collections
import json
import logging
import os
import resource
import socket
import sys
import time
import uuid
import warnings
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

T_PROCESS = time.perf_counter()
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
os.chdir(REPO_ROOT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _free_port()
ENDPOINT = f"http://127.0.0.1:{PORT}"
REGION = "us-east-1"
TABLE = f"bench-{uuid.uuid4().hex[:8]}"
BLOCK = 10

# Everything the app and botocore read from the environment must be set before they are imported.
os.environ.update(
    MOTO_PORT=str(PORT), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_XRAY_SDK_ENABLED="false", AUTH_MODE="apigateway",
    POWERTOOLS_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING", TABLE_NAME=TABLE,
)
for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "LOCAL_STACK_FILE", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID"):
    os.environ.pop(var, None)
logging.getLogger("werkzeug").setLevel(logging.ERROR)

import botocore.session  # noqa: E402

# -- counting backend requests ----------------------------------------------------------------

CALLS: list[str] = []  # before-call: one per API call
SENDS: list[str] = []  # before-send: one per HTTP request (retries included)
CLIENTS: list[str] = []  # every botocore client created in this process


def _on_call(event_name: str, **_: Any) -> None:
    CALLS.append(event_name.rsplit(".", 1)[-1])


def _on_send(event_name: str, **_: Any) -> None:
    SENDS.append(event_name.rsplit(".", 1)[-1])


_original_create_client = botocore.session.Session.create_client


def _create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
    client = _original_create_client(self, service_name, *args, **kwargs)
    CLIENTS.append(service_name)
    client.meta.events.register("before-call.dynamodb", _on_call)
    client.meta.events.register("before-send.dynamodb", _on_send)
    return client


botocore.session.Session.create_client = _create_client  # every client, pynamodb's included


@contextmanager
def counting() -> Iterator[dict[str, Any]]:
    CALLS.clear(), SENDS.clear()
    result: dict[str, Any] = {}
    try:
        yield result
    finally:
        result["calls"], result["sends"] = list(CALLS), list(SENDS)


def summarise(ops: list[str], per: int = 1) -> str:
    counts = collections.Counter(ops)
    if not counts:
        return "none"
    return ", ".join(f"{name} x{n / per:g}" for name, n in sorted(counts.items()))


# -- the app -----------------------------------------------------------------------------------

from moto.server import ThreadedMotoServer  # noqa: E402

server = ThreadedMotoServer(ip_address="127.0.0.1", port=PORT, verbose=False)
t_start = time.perf_counter()
server.start()
moto_start_s = time.perf_counter() - t_start

from chalice.test import Client  # noqa: E402

import app as app_module  # noqa: E402
from chalicelib import bootstrap  # noqa: E402
from chalicelib.adapters.dynamo.models import create_table, table_models  # noqa: E402
from chalicelib.domain.access import Principal  # noqa: E402
from chalicelib.services.cases import iso  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402

if app_module.authorizer is None:
    raise SystemExit("app has no Cognito authorizer: AUTH_MODE=apigateway was not seen at import")

warnings.filterwarnings("ignore", message=".*CognitoUserPoolAuthorizer is not a supported in local mode.*")


def fresh_container(table: str, repository: Any = None) -> Any:
    """A new table (unless a repository is given) and the container the app would build for it."""
    if repository is None:
        # Uncached model classes, so the container's own (cached) ones start without botocore clients,
        # as in a new Lambda container whose table exists already.
        create_table(table_models.__wrapped__(table, REGION, ENDPOINT))
    settings = Settings.from_env(
        {
            "AUTH_MODE": "apigateway", "TABLE_NAME": table, "AWS_ENDPOINT_URL": ENDPOINT, "AWS_REGION": REGION,
            "CASE_NUMBER_BLOCK": str(BLOCK), "STAGE": "bench", "LOG_LEVEL": "WARNING",
        }
    )
    return bootstrap.build(settings, repository=repository)


def token(username: str, groups: str, team: str) -> str:
    """An unsigned JWT: chalice's local Cognito authorizer only decodes the payload, like API Gateway
    hands over claims it has verified. `cognito:groups` arrives as a string, as from API Gateway."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = {"sub": username, "cognito:username": username, "cognito:groups": groups, "custom:team": team,
              "token_use": "id"}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


ALICE = {"authorization": token("alice", "caseworker", "claims"), "content-type": "application/json"}
BOB_PRINCIPAL = Principal("bob", frozenset({"caseworker"}), "complaints")
BOB = {"authorization": token("bob", "caseworker", "complaints"), "content-type": "application/json"}


def case_body(case_type: str = "CLAIM", n: int = 0) -> bytes:
    return json.dumps(
        {"title": f"Water damage {n}", "description": "Kitchen flooded", "caseType": case_type, "priority": "HIGH",
         "customerId": f"cust-{n % 7}", "tags": ["water", "kitchen"]}
    ).encode()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def timed(fn: Callable[[int], Any], warmup: int, runs: int) -> list[float]:
    for i in range(warmup):
        fn(i)
    out = []
    for i in range(runs):
        t = time.perf_counter()
        fn(warmup + i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def lat_row(label: str, ms: list[float]) -> str:
    return f"| {label} | {len(ms)} | {pct(ms, 0.5):.2f} | {pct(ms, 0.9):.2f} | {pct(ms, 0.99):.2f} |"


def expect(response: Any, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{what}: expected {status}, got {response.status_code}: {response.body[:500]!r}")
    return response


def client_for(container: Any) -> Any:  # noqa: ARG001 - one test client per container, for clarity
    return Client(app_module.app, stage_name="dev", project_dir=REPO_ROOT)


def count_requests(table_rows: list[str]) -> None:
    container = fresh_container(TABLE)
    with bootstrap.override(container), client_for(container) as client:
        http = client.http
        expect(http.get("/cases/x"), 401, "a request without claims must be refused")

        # First requests of a fresh container: pynamodb creates its botocore clients lazily.
        clients_before = len(CLIENTS)
        t = time.perf_counter()
        first = expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "first create")
        first_post_ms = (time.perf_counter() - t) * 1000
        clients_after_post = len(CLIENTS)
        t = time.perf_counter()
        expect(http.get(f"/cases/{first.json_body['id']}", headers=ALICE), 200, "first get")
        first_get_ms = (time.perf_counter() - t) * 1000
        clients_after_get = len(CLIENTS)
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
            before = len(CLIENTS)
            t = time.perf_counter()
            response = http.request(method, path, headers={**ALICE, **extra}, body=body or b"")
            if response.status_code >= 300:
                raise SystemExit(f"{label}: {response.status_code} {response.body[:300]!r}")
            firsts.append((label, (time.perf_counter() - t) * 1000, len(CLIENTS) - before))
        print("\nfirst call of each kind in a new container (warm process; pynamodb creates botocore clients lazily):")
        for label, ms, new_clients in firsts:
            print(f"  {label:34s} {ms:6.0f} ms  +{new_clients} botocore client(s)")
        print(f"  -> {len(CLIENTS) - clients_before} botocore clients for one table")

        print("\n## DynamoDB requests per API call (before-call = API calls; before-send = HTTP sends)")

        def report(label: str, c: dict[str, Any], per: int = 1) -> None:
            retries = "" if c["calls"] == c["sends"] else f"  [HTTP sends differ: {summarise(c['sends'], per)}]"
            print(f"- {label}: {len(c['calls']) / per:g} request(s): {summarise(c['calls'], per)}{retries}")
            table_rows.append(f"| {label} | {len(c['calls']) / per:g} | {summarise(c['calls'], per)} |")

        # POST /cases: the counter UpdateItem is amortised over CASE_NUMBER_BLOCK creates. The first
        # create above opened a block: use it up so the 100 measured creates start on a boundary.
        numbers = container.cases._numbers
        year = time.gmtime().tm_year
        while numbers._next.get(year, 1) <= numbers._last.get(year, 0):
            expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "create")
        ids: list[str] = []
        create_ms: list[float] = []
        with counting() as c:
            for i in range(100):
                t = time.perf_counter()
                ids.append(expect(http.post("/cases", headers=ALICE, body=case_body(n=i)), 201, "create").json_body["id"])
                create_ms.append((time.perf_counter() - t) * 1000)
        report(f"POST /cases (average of 100, CASE_NUMBER_BLOCK={BLOCK})", c, 100)
        writes = sum(1 for op in c["calls"] if op in ("TransactWriteItems", "UpdateItem", "PutItem"))
        print(f"  writes per create: {writes / 100:g} (every {BLOCK}th create also reserves numbers)")
        print(f"  on moto, POST /cases p50 grows with the table: creates 1-20 {pct(create_ms[:20], 0.5):.0f} ms, "
              f"creates 81-100 {pct(create_ms[-20:], 0.5):.0f} ms (moto deep-copies the table per transaction item)")

        expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "create")  # off the block boundary
        key = uuid.uuid4().hex
        with counting() as c:
            created = expect(
                http.post("/cases", headers={**ALICE, "idempotency-key": key}, body=case_body(n=1000)), 201, "create"
            )
        report("POST /cases with a new Idempotency-Key", c)
        with counting() as c:
            replay = expect(
                http.post("/cases", headers={**ALICE, "idempotency-key": key}, body=case_body(n=1000)), 201, "replay"
            )
        report("POST /cases replayed (same Idempotency-Key and body)", c)
        if replay.json_body["id"] != created.json_body["id"]:
            print("  !! the replay returned a different case")

        case_id = ids[-1]
        with counting() as c:
            for _ in range(20):
                got = expect(http.get(f"/cases/{case_id}", headers=ALICE), 200, "get")
        report("GET /cases/{id} (average of 20; goal: 1 read)", c, 20)

        with counting() as c:
            page = expect(http.get("/cases?limit=25", headers=ALICE), 200, "list").json_body
        report(f"GET /cases?limit=25 (all cases visible; {len(page['items'])} items)", c)
        next_cursor = page.get("nextCursor")
        if next_cursor:
            with counting() as c:
                page2 = expect(
                    http.get(f"/cases?limit=25&cursor={next_cursor}", headers=ALICE), 200, "list page 2"
                ).json_body
            report(f"GET /cases?limit=25&cursor=... (page 2; {len(page2['items'])} items)", c)

        etag = got.headers.get("etag") or got.headers.get("ETag")
        with counting() as c:
            expect(
                http.patch(f"/cases/{case_id}", headers={**ALICE, "if-match": etag},
                           body=json.dumps({"priority": "CRITICAL"}).encode()),
                200, "patch",
            )
        report("PATCH /cases/{id}", c)
        with counting() as c:
            expect(
                http.patch(f"/cases/{case_id}", headers={**ALICE, "if-match": etag},
                           body=json.dumps({"priority": "LOW"}).encode()),
                412, "stale patch",
            )
        report("PATCH /cases/{id} with a stale If-Match (412)", c)
        with counting() as c:
            expect(
                http.post(f"/cases/{case_id}/comments", headers=ALICE, body=json.dumps({"text": "Called back"}).encode()),
                201, "comment",
            )
        report("POST /cases/{id}/comments", c)
        for label, path in (
            ("GET /cases/{id}/comments", f"/cases/{case_id}/comments"),
            ("GET /cases/{id}/history", f"/cases/{case_id}/history"),
            ("GET /cases/{id}/history/verify", f"/cases/{case_id}/history/verify"),
            ("GET /case-types", "/case-types"),
        ):
            with counting() as c:
                expect(http.get(path, headers=ALICE), 200, label)
            report(label, c)
        with counting() as c:
            expect(http.get(f"/cases/{uuid.uuid4().hex}", headers=ALICE), 404, "missing")
        report("GET /cases/{id} of a missing case (404)", c)
        with counting() as c:
            expect(http.get(f"/cases/{case_id}", headers=BOB), 404, "invisible")
        report("GET /cases/{id} of a case the caller may not see (404)", c)

    # Visibility is a filter on the listing query, so items the caller may not see are still read.
    container = fresh_container(TABLE + "-vis")
    with bootstrap.override(container), client_for(container) as client:
        http = client.http
        for i in range(5):
            expect(http.post("/cases", headers=ALICE, body=case_body("CLAIM", i)), 201, "alice create")
        # 100 newer cases of another team, written in batches (clones of one created through the API).
        template = container.cases.get(
            BOB_PRINCIPAL, expect(http.post("/cases", headers=BOB, body=case_body("COMPLAINT")), 201, "bob").json_body["id"]
        )
        repo = container.cases._repo
        with repo._m.case.batch_write() as batch:
            for i in range(99):
                created = datetime.fromisoformat(template.created_at.replace("Z", "+00:00")) + timedelta(seconds=i + 1)
                clone = template.model_copy(update={"id": uuid.uuid4().hex, "created_at": iso(created)})
                batch.save(repo._case_item(clone))
        with counting() as c:
            page = expect(http.get("/cases?limit=25", headers=ALICE), 200, "list").json_body
        report(
            f"GET /cases?limit=25 as alice when the 100 newest of 105 cases are another team's "
            f"({len(page['items'])} items returned)", c
        )


def latency(lat: list[str]) -> None:
    # A fresh, small table: moto's TransactWriteItems deep-copies the whole table (with its stream
    # records) once per transaction item, so on moto every write gets slower as the table grows.
    container = fresh_container(TABLE + "-lat")
    raw = botocore.session.get_session().create_client("dynamodb", REGION, endpoint_url=ENDPOINT)
    with bootstrap.override(container), client_for(container) as client:
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
        if old_stream is not None:
            handler.setStream(old_stream)
        devnull.close()
        for name, ms in samples.items():
            lat.append(lat_row(name, ms))

    # POST /cases: moto's TransactWriteItems deep-copies the table per transaction item, so on one table
    # every create is slower than the last. Keep the table small: a fresh table (and container) for
    # each batch of 40 timed creates, after 4 untimed ones.
    post_ms: list[float] = []
    for batch_no in range(5):
        container = fresh_container(f"{TABLE}-post{batch_no}")
        with bootstrap.override(container), client_for(container) as client:
            http = client.http
            post_ms += timed(lambda i: http.post("/cases", headers=ALICE, body=case_body(n=i)), 4, 40)
    lat.append(lat_row("**POST /cases** (fresh table per 40 creates)", post_ms))

    from chalicelib.adapters.memory.cases import InMemoryCaseRepository

    memory = fresh_container("unused", repository=InMemoryCaseRepository())
    with bootstrap.override(memory), client_for(memory) as client:
        http = client.http
        mem_id = expect(http.post("/cases", headers=ALICE, body=case_body()), 201, "memory create").json_body["id"]
        lat.append(lat_row("GET /cases/{id}, in-memory repository (the app's own cost)",
                           timed(lambda i: http.get(f"/cases/{mem_id}", headers=ALICE), 50, 500)))
        lat.append(lat_row("POST /cases, in-memory repository (the app's own cost)",
                           timed(lambda i: http.post("/cases", headers=ALICE, body=case_body(n=i)), 20, 200)))


def main() -> None:
    t_total = time.perf_counter()
    print(f"startup (imports of moto, chalice, app; moto start): {t_total - T_PROCESS:.1f} s")
    print(f"moto ThreadedMotoServer on {ENDPOINT} (started in {moto_start_s * 1000:.0f} ms); python {sys.version.split()[0]}")
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
    header = "| call | n | p50 (ms) | p90 (ms) | p99 (ms) |\n|---|---|---|---|---|"
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
    print(f"\nbotocore clients created in this process: {len(CLIENTS)} (one shared connection per table; "
          f"the benchmark builds several tables)")
    t = time.perf_counter()
    server.stop()
    print(f"moto stopped in {time.perf_counter() - t:.1f} s; total {time.perf_counter() - T_PROCESS:.1f} s; "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    sys.stdout.flush()
    os._exit(0)  # skip tearing down moto's in-memory state (several seconds)


if __name__ == "__main__":
    main()
