"""local/moto_sqs.py answers as the moto functions it replaces do, and SQS requests stop costing the backlog."""
from __future__ import annotations

import json
import random
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import moto_sqs
from local.lambdas import MotoPinError
from local.moto_sqs import SOURCE_PINS, check_sqs_speedups, install_sqs_speedups

REPLACED = {  # Queue property -> the replacement
    "messages": moto_sqs.messages,
    "approximate_number_of_messages_delayed": moto_sqs.approximate_number_of_messages_delayed,
    "approximate_number_of_messages_not_visible": moto_sqs.approximate_number_of_messages_not_visible,
}


class Clock:
    """moto's SQS clock, moved by the test: visibility and delays are decided at instants both versions share."""

    def __init__(self) -> None:
        self.seconds = 1_800_000_000.0

    def unix_time(self, dt: Any = None) -> float:
        assert dt is None  # the SQS paths under test only ask for now
        return self.seconds

    def unix_time_millis(self, dt: Any = None) -> float:
        return self.unix_time(dt) * 1000


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    from moto.core import utils
    from moto.sqs import models

    clock = Clock()
    for module in (utils, models):
        monkeypatch.setattr(module, "unix_time", clock.unix_time)
        monkeypatch.setattr(module, "unix_time_millis", clock.unix_time_millis)
    with mock_aws():
        yield clock


def _moto_answers(backend: Any, queue: Any) -> dict[str, Any]:
    from moto.sqs.models import Queue, SQSBackend

    original = SQSBackend.__dict__["is_message_valid_based_on_retention_period"]
    if original is moto_sqs.is_message_valid_based_on_retention_period:  # installed by another test module
        original = moto_sqs._installed["SQSBackend.is_message_valid_based_on_retention_period"]
    answers = {name: _original(Queue, name).fget(queue) for name in REPLACED}
    answers["retained"] = [original(backend, queue.name, m) for m in queue._messages]
    return answers


def _original(queue_class: Any, name: str) -> Any:
    member = queue_class.__dict__[name]
    if member.fget in REPLACED.values():
        return moto_sqs._installed[f"Queue.{name}"]
    return member


def _patched_answers(backend: Any, queue: Any) -> dict[str, Any]:
    answers = {name: replacement(queue) for name, replacement in REPLACED.items()}
    answers["retained"] = [
        moto_sqs.is_message_valid_based_on_retention_period(backend, queue.name, m) for m in queue._messages
    ]
    return answers


@pytest.mark.parametrize("seed", range(6))
def test_visibility_delays_counts_and_retention_as_moto_decides_them(clock: Clock, seed: int) -> None:
    from moto.sqs.models import sqs_backends

    rng = random.Random(seed)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName=f"q{seed}", Attributes={
        "VisibilityTimeout": "30", "MessageRetentionPeriod": str(rng.choice([60, 120, 345600])),
    })["QueueUrl"]
    backend = sqs_backends["123456789012"]["us-east-1"]
    queue = backend.get_queue(f"q{seed}")
    handles: list[str] = []
    compared = 0
    for _ in range(120):
        step = rng.random()
        if step < 0.35:
            sqs.send_message(QueueUrl=url, MessageBody=str(rng.random()), DelaySeconds=rng.choice([0, 0, 5, 30]))
        elif step < 0.55:
            received = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=rng.randint(1, 10), VisibilityTimeout=rng.choice([0, 10, 30]),
            ).get("Messages", [])
            handles += [m["ReceiptHandle"] for m in received]
        elif step < 0.65 and handles:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=handles.pop(rng.randrange(len(handles))))
        elif step < 0.75 and handles:
            handle = handles[rng.randrange(len(handles))]
            try:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
            except ClientError:  # no longer in flight: moto refuses alike with either code
                pass
        else:
            clock.seconds += rng.choice([0.0005, 1, 5, 10, 30, 61])
        # Now, a little later (delays and timeouts end), and the instant the oldest message's retention ends.
        instants = [clock.seconds, clock.seconds + 5]
        if queue._messages:
            instants.append(queue._messages[0].sent_timestamp / 1000 + queue.message_retention_period)
        for instant in instants:
            saved, clock.seconds = clock.seconds, instant
            assert _patched_answers(backend, queue) == _moto_answers(backend, queue)
            clock.seconds = saved
            compared += 1
    assert compared >= 240
    assert len(queue._messages) > 0  # the workload left a backlog to compare on


def test_the_api_answers_as_with_moto_own_code(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.sqs.models import Queue, SQSBackend

    def session(patched: bool) -> list[Any]:
        with monkeypatch.context() as patch:
            for name, replacement in REPLACED.items():
                patch.setattr(Queue, name, property(replacement) if patched else _original(Queue, name))
            patch.setattr(SQSBackend, "is_message_valid_based_on_retention_period",
                          moto_sqs.is_message_valid_based_on_retention_period if patched
                          else moto_sqs._installed.get("SQSBackend.is_message_valid_based_on_retention_period")
                          or SQSBackend.__dict__["is_message_valid_based_on_retention_period"])
            return _session(boto3.client("sqs", region_name="us-east-1"), "patched" if patched else "moto", clock)

    assert session(patched=True) == session(patched=False)


def _session(sqs: Any, name: str, clock: Clock) -> list[Any]:
    """Sends, receives and attribute reads; what is compared leaves out ids and receipt handles."""
    start = clock.seconds
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30", "MessageRetentionPeriod": "60"})[
        "QueueUrl"]
    seen: list[Any] = []
    for n in range(25):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}), DelaySeconds=5 if n % 5 == 0 else 0)
    for advance in (0, 1, 6, 31, 20, 45):
        clock.seconds += advance
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        seen.append({k: v for k, v in attributes.items() if "Timestamp" not in k and k != "QueueArn"})
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=7, AttributeNames=["ApproximateReceiveCount"])
        messages = received.get("Messages", [])
        seen.append(sorted((m["Body"], m["Attributes"]["ApproximateReceiveCount"]) for m in messages))
    clock.seconds = start
    return seen


def test_a_backlog_no_longer_costs_every_request() -> None:
    """Receives of 10 behind a backlog of 2,000 visible messages: moto's filter reads its clock twice per message
    and its retention check builds every queue attribute per received message; counted here, not timed."""
    from moto.core import utils

    install_sqs_speedups()
    calls = 0
    real = utils.unix_time_millis

    def counting(dt: Any = None) -> float:
        nonlocal calls
        calls += 1
        return real(dt)

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="backlog")["QueueUrl"]
        for start in range(0, 2000, 10):
            sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x"} for n in range(10)])
        patch.setattr(utils, "unix_time_millis", counting)
        from moto.sqs import models

        patch.setattr(models, "unix_time_millis", counting)
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    assert calls < 100  # moto's own code: more than 4,000 (two per message of the backlog)


def test_a_changed_moto_function_refuses_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    check_sqs_speedups()
    monkeypatch.setitem(SOURCE_PINS, "Queue.messages", "0" * 64)
    with pytest.raises(MotoPinError, match="Queue.messages"):
        check_sqs_speedups()
