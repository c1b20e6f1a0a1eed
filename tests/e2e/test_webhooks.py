"""Webhooks on the running local system, over HTTP with real tokens: an admin registers a receiver this test
runs on loopback; the events of a case opened and assigned arrive signed (checked with the Standard Webhooks
library), valid against their schemas; a receiver that fails twice gets the event on the third attempt; a
receiver that never answers holds up neither the API nor the other receivers; a webhook's deliveries page
through a cursor, newest first; only admins manage webhooks.

Delivery runs as on AWS: the bus's rule puts each event on the delivery queue, the delivery function takes it
(locally: local/queues.py polls the queue for it) and queues retries with growing delays (1 s, 2 s, 4 s in
the local stage, 4 attempts in all), then dead-letters the delivery."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from tests.event_contract import assert_valid
from tests.local_system import aws_client, complete_open_tasks

DELIVERY_WITHIN = 10.0  # seconds the issue gives a delivery to arrive (the polls below stop there)


@dataclass
class Received:
    headers: dict[str, str]  # lower-case names
    body: bytes
    status: Optional[int] = None  # what was answered; None while held (or never)

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """An HTTP receiver on loopback. `behaviour(request_number_for_this_event_id)` answers a status, or None
    to never answer (until the receiver stops)."""

    def __init__(self, behaviour: Callable[[int], Optional[int]]) -> None:
        self.behaviour = behaviour
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                entry = Received({k.lower(): v for k, v in self.headers.items()}, body)
                message_id = entry.headers["webhook-id"]
                with receiver.lock:
                    receiver.requests.append(entry)
                    tries = sum(1 for r in receiver.requests if r.headers["webhook-id"] == message_id)
                status = receiver.behaviour(tries)
                if status is None:
                    receiver.stopping.wait()
                    return
                entry.status = status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{uuid.uuid4().hex[:6]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def events(self, case_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.event["caseId"] == case_id]

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float = DELIVERY_WITHIN) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{what} did not arrive within {timeout} s; received: {len(self.requests)} requests")


@pytest.fixture
def receivers() -> Iterator[Callable[[Callable[[int], Optional[int]]], Receiver]]:
    started: list[Receiver] = []

    def start(behaviour: Callable[[int], Optional[int]]) -> Receiver:
        started.append(Receiver(behaviour))
        return started[-1]

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def webhooks(api) -> Iterator[Callable[[str, list[str]], dict[str, Any]]]:
    """Registers webhooks as ada (admin); deletes them afterwards."""
    ada, made = api("ada"), []

    def register(url: str, events: list[str]) -> dict[str, Any]:
        response = ada.post("/webhooks", json={"url": url, "events": events})
        assert response.status_code == 201, response.text
        made.append(response.json())
        return made[-1]

    yield register
    for webhook in made:
        ada.delete(f"/webhooks/{webhook['id']}")


def open_case(api, title: str = "Water damage") -> dict[str, Any]:
    response = api("alice").post("/cases", json={"title": f"{title} {uuid.uuid4().hex[:6]}", "caseType": "GENERAL",
                                                 "priority": "LOW", "customerId": "CUST-9006"})
    assert response.status_code == 201, response.text
    return response.json()


def verified(secret: str, request: Received) -> dict[str, Any]:
    """The body, once the convention's own library has verified its signature (and timestamp)."""
    return dict(StandardWebhook(secret).verify(request.body, request.headers))


def test_a_new_case_and_its_assignment_are_delivered_signed(api, receivers, webhooks):
    receiver = receivers(lambda tries: 204)
    webhook = webhooks(receiver.url, ["case.created", "task.assigned"])
    assert webhook["secret"].startswith("whsec_")
    listed = api("ada").get("/webhooks").json()["items"]
    assert any(w["id"] == webhook["id"] for w in listed) and all("secret" not in w for w in listed)

    case = open_case(api)
    arrived = receiver.wait_for("case.created and task.assigned", lambda: {
        r.event["type"] for r in receiver.events(case["id"])
    } >= {"case.created", "task.assigned"} and receiver.events(case["id"]))
    for request in arrived:
        event = verified(webhook["secret"], request)
        assert_valid(event)
        assert request.headers["webhook-id"] == event["id"] and event["caseId"] == case["id"]
    assert {r.event["type"] for r in arrived} <= {"case.created", "task.assigned"}
    deliveries = receiver.wait_for("the deliveries' records", lambda: [
        d for d in api("ada").get(f"/webhooks/{webhook['id']}/deliveries").json()["items"]
        if d["caseId"] == case["id"] and d["status"] == "DELIVERED"
    ])
    assert all(d["attempts"] == 1 and d["lastError"] is None for d in deliveries)
    # The deliveries page like every list: one a page, the second reached through the first page's cursor.
    path = f"/webhooks/{webhook['id']}/deliveries"
    first = api("ada").get(path, params={"limit": 1}).json()
    second = api("ada").get(path, params={"limit": 1, "cursor": first["nextCursor"]}).json()
    [newest], [older] = first["items"], second["items"]
    assert older["eventId"] != newest["eventId"] and older["eventTime"] <= newest["eventTime"]
    complete_open_tasks(api, case["id"])


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt(api, receivers, webhooks):
    receiver = receivers(lambda tries: 503 if tries <= 2 else 200)
    webhook = webhooks(receiver.url, ["case.created"])
    case = open_case(api, "Retried")
    attempts = receiver.wait_for(
        "the third attempt", lambda: len(receiver.events(case["id"])) >= 3 and receiver.events(case["id"]), timeout=30,
    )
    assert [r.status for r in attempts] == [503, 503, 200]
    assert len({r.headers["webhook-id"] for r in attempts}) == 1  # one event: one id on every attempt
    for request in attempts:
        verified(webhook["secret"], request)  # each attempt signed anew, with its own timestamp
    [record] = receiver.wait_for("the delivery's record", lambda: [
        d for d in api("ada").get(f"/webhooks/{webhook['id']}/deliveries").json()["items"]
        if d["caseId"] == case["id"] and d["status"] == "DELIVERED"
    ])
    assert record["attempts"] == 3 and record["lastStatusCode"] == 200
    complete_open_tasks(api, case["id"])


def test_a_receiver_that_always_fails_gets_its_delivery_dead_lettered(api, receivers, webhooks, local_stack):
    receiver = receivers(lambda tries: 500)
    webhook = webhooks(receiver.url, ["case.created"])
    case = open_case(api, "Dead-lettered")
    # The local stage makes 4 attempts, 1 s, 2 s and 4 s apart.
    [record] = receiver.wait_for("the dead delivery's record", lambda: [
        d for d in api("ada").get(f"/webhooks/{webhook['id']}/deliveries").json()["items"]
        if d["caseId"] == case["id"] and d["status"] == "DEAD"
    ], timeout=40)
    assert record["attempts"] == 4 == len(receiver.events(case["id"])) and record["lastError"] == "HTTP 500"
    sqs = aws_client(local_stack, "sqs")
    dead = receiver.wait_for("the dead letter", lambda: [
        body for m in sqs.receive_message(QueueUrl=local_stack["webhookDeadLetterUrl"], MaxNumberOfMessages=10,
                                          VisibilityTimeout=0).get("Messages", [])
        if (body := json.loads(m["Body"]))["event"]["caseId"] == case["id"]
    ])
    assert dead[0]["webhookId"] == webhook["id"] and dead[0]["attempts"] == 4
    complete_open_tasks(api, case["id"])


def test_a_receiver_that_never_answers_holds_up_neither_the_api_nor_other_receivers(api, receivers, webhooks):
    dead, alive = receivers(lambda tries: None), receivers(lambda tries: 204)
    dead_hook = webhooks(dead.url, ["case.created"])
    webhooks(alive.url, ["case.created"])
    first = open_case(api, "Dead receiver")
    dead.wait_for("the held request", lambda: dead.events(first["id"]))
    # While the dead receiver holds its request, the API answers and the other receiver gets its events.
    second = open_case(api, "Meanwhile")
    assert api("alice").get(f"/cases/{second['id']}").status_code == 200
    assert all(r.status is None for r in dead.events(first["id"]))  # still unanswered
    alive.wait_for("the other receiver's events", lambda: alive.events(first["id"]) and alive.events(second["id"]))
    [record] = dead.wait_for("the timed-out attempt's record", lambda: [
        d for d in api("ada").get(f"/webhooks/{dead_hook['id']}/deliveries").json()["items"]
        if d["caseId"] == first["id"] and d["status"] == "RETRYING"
    ])
    assert record["lastError"].startswith("no answer") and record["lastStatusCode"] is None
    assert record["nextAttemptAt"] is not None
    for case in (first, second):
        complete_open_tasks(api, case["id"])


def test_only_admins_manage_webhooks(api):
    for user in ("alice", "sam", "ava", "fin", "aud"):
        session = api(user)
        for method, path, body in (
            ("post", "/webhooks", {"url": "https://hooks.example.org/in", "events": ["case.created"]}),
            ("get", "/webhooks", None), ("delete", "/webhooks/wh_nothing", None),
            ("get", "/webhooks/wh_nothing/deliveries", None),
        ):
            response = getattr(session, method)(path, **({"json": body} if body else {}))
            assert response.status_code == 403, (user, method, path, response.text)
    assert api(None).get("/webhooks").status_code == 401
    refused = api("ada").post("/webhooks", json={"url": "http://hooks.example.org/in", "events": ["case.created"]})
    assert refused.status_code == 400 and refused.json()["error"]["details"][0]["field"] == "url"
