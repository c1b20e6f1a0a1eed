"""Integration events on the running local system: a case opened over HTTP and worked by its workflow puts
its events on moto's bus `cms-local`, where a subscriber's own rule (here: one sending everything to a queue
of the test's) receives them, each valid against its schema and carrying ids only."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from chalicelib.domain.integration_events import SOURCE
from tests.event_contract import assert_valid
from tests.local_system import aws_client, complete_open_tasks


@pytest.fixture(scope="module")
def subscriber(local_stack: dict[str, Any]):
    """A queue of the test's, fed by a rule of its own on the stage's bus."""
    events, sqs = aws_client(local_stack, "events"), aws_client(local_stack, "sqs")
    name = f"e2e-subscriber-{uuid.uuid4().hex[:8]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = local_stack["eventBusName"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    received: list[dict[str, Any]] = []

    def events_of(case_id: str, *types: str, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            mine = [m["detail"] for m in received if m["detail"]["caseId"] == case_id]
            if set(types) <= {e["type"] for e in mine}:
                return mine
            time.sleep(0.1)
        raise AssertionError(f"no {types} for case {case_id} within {timeout} s; got {received[-5:]}")

    yield events_of
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
    events.delete_rule(Name=name, EventBusName=bus)


def test_a_new_case_publishes_valid_events_with_ids_only(api, subscriber):
    title = f"Flooded cellar {uuid.uuid4().hex[:6]}"
    case = api("alice").post("/cases", json={
        "title": title, "description": "Mrs Example's cellar", "caseType": "GENERAL", "priority": "LOW",
        "customerId": "CUST-9004",
    }).json()
    events = subscriber(case["id"], "case.created", "task.assigned")
    created = next(e for e in events if e["type"] == "case.created")
    assert created["data"]["number"] == case["number"] and created["audit"]["seq"] == 1
    history = api("alice").get(f"/cases/{case['id']}/history").json()["items"]
    by_seq = {event["seq"]: event for event in history}
    for event in events:
        assert_valid(event)
        assert event["audit"]["hash"] == by_seq[event["audit"]["seq"]]["hash"]  # the audit event it stands for
        assert title not in json.dumps(event) and "Mrs Example" not in json.dumps(event)
    assigned = [e for e in events if e["type"] == "task.assigned"]
    assert assigned and all(e["data"]["assignee"] == "alice" for e in assigned)
    complete_open_tasks(api, case["id"])
