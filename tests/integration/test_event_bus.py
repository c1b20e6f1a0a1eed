"""The EventBridge adapter on moto's bus: what it puts is what a rule on the bus hands its SQS target, and a
call never carries more than PutEvents' 10 entries."""
from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.adapters.event_bus import MAX_ENTRIES, EventBridgeBus
from chalicelib.domain.integration_events import SOURCE, event_id
from local.provision import event_bus
from tests.event_contract import assert_valid


@pytest.fixture
def bus_and_queue(aws):
    """A fresh bus with a rule sending the integration events' source to a queue."""
    events, sqs = aws("events"), aws("sqs")
    name = f"cms-test-{uuid.uuid4().hex[:8]}"
    event_bus(events, name)
    assert event_bus(events, name).endswith(f"event-bus/{name}")  # found, not created twice
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=name, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="all", EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return EventBridgeBus(name, lambda: events), sqs, queue_url


def _event(seq: int) -> dict:
    return {"id": event_id("case1", seq), "type": "task.completed", "version": 1, "time": "2026-03-01T12:00:00Z",
            "caseId": "case1", "actor": "alice", "audit": {"seq": seq, "hash": "a" * 64},
            "data": {"taskId": f"case1-t{seq}"}}


def test_what_the_adapter_puts_reaches_the_rules_target_as_the_detail(bus_and_queue):
    bus, sqs, queue_url = bus_and_queue
    sent = [_event(seq) for seq in range(1, MAX_ENTRIES + 1)]
    assert bus.put(sent) == []
    received = []
    while len(received) < len(sent):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        assert messages, f"only {len(received)} of {len(sent)} events arrived"
        received += [json.loads(m["Body"]) for m in messages]
    assert sorted((m["detail"] for m in received), key=lambda e: e["audit"]["seq"]) == sent
    assert {m["source"] for m in received} == {SOURCE} and {m["detail-type"] for m in received} == {"task.completed"}
    for message in received:
        assert_valid(message["detail"])


def test_more_than_ten_events_are_never_sent_in_one_call(bus_and_queue):
    bus, _, _ = bus_and_queue
    with pytest.raises(ValueError, match="at most 10"):
        bus.put([_event(seq) for seq in range(1, 12)])
