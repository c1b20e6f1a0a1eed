"""Integration events and webhooks: how many events per second the publisher sustains locally, and how long a
webhook delivery takes from the audit event to the receiver.

Run from the repo root:  .venv/bin/python bench/events.py [--events N] [--paced P] [--burst B]

What it does
- publisher: N audit events (default 2,000) as the table's stream hands them over (batches of 100, the
  function's batch size) go through the real publisher and EventBridge adapter to moto's bus, started in this
  process, with a rule sending every event to an SQS queue as the local system's bus has (moto delivers to the
  rule's target inside PutEvents). Events per second = N / wall time of all batches. The same batches through
  an in-memory bus give the publisher's own share (reading the records, mapping, batching);
- delivery: starts a fresh local system as `make run` does (a subprocess: bench/harness/local_system.py), has ada
  register a webhook for case.created and task.assigned to a receiver on loopback in this process, then alice
  opens P cases (--paced, default 10) each once the last one's events arrived (an idle system), then B cases
  (--burst, default 40) one right after another (a backlog builds up). Latency = the receiver's clock when a
  delivery arrives minus the event's `time` (when its audit event was written; same machine, same clock).
  The path: the stream record, the publisher, moto's bus and rule, the delivery queue, the local poller
  (local/queues.py, long polls of 1 s), the delivery function, the receiver.
Prints figures only (no assertions on timing); one machine runs everything, so they bound the orchestration's
share, not AWS's (Lambda polls SQS continuously; EventBridge adds its own tens of milliseconds).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from harness import free_port, log
from harness.local_system import Api, LocalProcess, login_all
from harness.stats import percentile

from chalicelib.adapters.event_bus import EventBridgeBus
from chalicelib.domain import audit
from chalicelib.domain.integration_events import SOURCE
from chalicelib.services.integration_events import IntegrationEventPublisher

STREAM_BATCH = 100  # the publisher function's batch size (chalicelib/api/streams.py)
REGION = "us-east-1"


def stream_records(count: int) -> list[dict[str, Any]]:
    """`count` audit event inserts, 10 per case, as DynamoDB's stream hands them over."""
    records: list[dict[str, Any]] = []
    for case in range(0, count, 10):
        chain: list[Any] = []
        for n in range(min(10, count - case)):
            audit.append_to_chain(chain, case_id=f"bench{case:06d}", head_seq=0, head_hash="", type="TASK_COMPLETED",
                                  actor="alice", at="2026-03-01T12:00:00.000Z", data={"taskId": f"t{n}"})
        for event in chain:
            records.append({"eventID": uuid.uuid4().hex, "eventName": "INSERT", "eventSource": "aws:dynamodb",
                            "dynamodb": {"Keys": {"PK": {"S": f"CASE#{event.case_id}"},
                                                  "SK": {"S": f"EVENT#{event.seq:010d}"}},
                                         "NewImage": {"body": {"S": event.model_dump_json(by_alias=True)}},
                                         "SequenceNumber": str(len(records) + 1)}})
    return records


def publish_all(publisher: IntegrationEventPublisher, records: list[dict[str, Any]]) -> float:
    """Seconds to publish the records in stream batches (after one warm-up batch)."""
    publisher.publish(records[:STREAM_BATCH])
    started = time.perf_counter()
    for start in range(0, len(records), STREAM_BATCH):
        failed = publisher.publish(records[start:start + STREAM_BATCH])
        assert not failed, failed
    return time.perf_counter() - started


def own_rate(count: int) -> float:
    """Events per second of the publisher's own work (reading records, mapping, batching): an in-memory bus."""
    from chalicelib.adapters.memory.event_bus import InMemoryEventBus

    return count / publish_all(IntegrationEventPublisher(InMemoryEventBus()), stream_records(count))


def publisher_rate(count: int) -> tuple[float, float]:
    """(events per second, seconds) of the publisher over moto's bus with one rule to a queue."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request would swamp the figures
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = {"endpoint_url": f"http://{host}:{port}", "region_name": REGION, "aws_access_key_id": "testing",
               "aws_secret_access_key": "testing"}
        events, sqs = boto3.client("events", **aws), boto3.client("sqs", **aws)
        events.create_event_bus(Name="cms-bench")
        queue_url = sqs.create_queue(QueueName="bench")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="all", EventBusName="cms-bench", EventPattern=json.dumps({"source": [SOURCE]}))
        events.put_targets(Rule="all", EventBusName="cms-bench", Targets=[{"Id": "q", "Arn": arn}])
        seconds = publish_all(IntegrationEventPublisher(EventBridgeBus("cms-bench", lambda: events)),
                              stream_records(count))
        return count / seconds, seconds
    finally:
        server.stop()


class Receiver:
    """Answers 204 and notes when each delivery arrived."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrivals.append((time.time(), json.loads(body)))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bench"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def latencies(self, event_type: str, case_ids: set[str]) -> list[float]:
        return [arrived - datetime.fromisoformat(event["time"].replace("Z", "+00:00")).timestamp()
                for arrived, event in list(self.arrivals)
                if event["type"] == event_type and event["caseId"] in case_ids]

    def wait(self, event_type: str, case_ids: set[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.latencies(event_type, case_ids)) < len(case_ids) and time.monotonic() < deadline:
            time.sleep(0.05)


def delivery_latency(paced: int, burst: int) -> dict[str, dict[str, list[float]]]:
    """{phase: {event type: latencies}}: `paced` cases each opened once the last one's events arrived, then
    `burst` cases opened one right after another."""
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        system = LocalProcess(Path(tmp), count_calls=False)
        try:
            stack = system.wait_ready()
            tokens = login_all(stack)
            ada, alice = Api(stack["apiUrl"], tokens["ada"]), Api(stack["apiUrl"], tokens["alice"])
            hook = ada.call("POST", "/webhooks", "register", json={
                "url": receiver.url, "events": ["case.created", "task.assigned"]})
            hook.raise_for_status()


            def open_case(n: int) -> str:
                response = alice.call("POST", "/cases", "create", json={
                    "title": f"Events benchmark {n}", "caseType": "GENERAL", "priority": "LOW",
                    "customerId": "CUST-9018"})
                response.raise_for_status()
                return str(response.json()["id"])

            phases: dict[str, set[str]] = {"paced": set(), "burst": set()}
            for n in range(paced):
                case_id = open_case(n)
                phases["paced"].add(case_id)
                receiver.wait("task.assigned", {case_id})
            phases["burst"] = {open_case(paced + n) for n in range(burst)}
            receiver.wait("task.assigned", phases["burst"])
        finally:
            system.begin_stop()
            system.finish_stop()
            receiver.server.shutdown()
    return {phase: {kind: receiver.latencies(kind, ids) for kind in ("case.created", "task.assigned")}
            for phase, ids in phases.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--paced", type=int, default=10)
    parser.add_argument("--burst", type=int, default=40)
    args = parser.parse_args(argv)

    own = own_rate(args.events)
    rate, seconds = publisher_rate(args.events)
    log(f"publisher: {args.events} events in {seconds:.2f} s")
    latencies = delivery_latency(args.paced, args.burst)
    print(f"publisher, in process over moto's bus (one rule to SQS), batches of {STREAM_BATCH}: "
          f"{args.events} events in {seconds:.2f} s = {rate:,.0f} events/s")
    print(f"the publisher's own work (an in-memory bus): {own:,.0f} events/s")
    print(f"\nwebhook delivery on the local system: {args.paced} cases paced (each opened once the last one's "
          f"events arrived), then {args.burst} opened one right after another")
    print("| cases | event | deliveries | p50 (ms) | p95 (ms) | max (ms) |\n|---|---|---|---|---|---|")
    for phase, by_kind in latencies.items():
        for kind, values in by_kind.items():
            ms = [v * 1000 for v in values]
            print(f"| {phase} | {kind} | {len(ms)} | {percentile(ms, 0.5):.0f} | {percentile(ms, 0.95):.0f} | "
                  f"{max(ms, default=float('nan')):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
