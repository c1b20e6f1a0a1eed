"""local/lambdas.py: each stream function's records run on its own worker, in order for that function, so a
slow consumer never holds back another's (as each event source mapping is independent on AWS)."""
from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

from chalice import Chalice

from local.lambdas import LambdaDispatcher

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/local"


def function(name: str) -> Any:
    return SimpleNamespace(function_name=name, memory_size=128, timeout=30,
                           function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}")


def record(event_id: str) -> dict[str, Any]:
    return {"eventID": event_id, "eventName": "INSERT", "eventSource": "aws:dynamodb",
            "eventSourceARN": ARN, "awsRegion": "us-east-1", "eventVersion": "1.1",
            "dynamodb": {"Keys": {"PK": {"S": event_id}}, "NewImage": {"PK": {"S": event_id}}, "SequenceNumber": "1",
                         "SizeBytes": 10, "StreamViewType": "NEW_IMAGE", "ApproximateCreationDateTime": 1.7e9}}


def test_a_blocked_consumer_holds_back_only_its_own_records() -> None:
    app = Chalice(app_name="workers")
    release = threading.Event()
    seen: dict[str, list[str]] = {"slow": [], "fast": []}

    @app.on_dynamodb_record(stream_arn=ARN, name="slow", batch_size=1)
    def slow(event: Any) -> None:
        release.wait(10)
        seen["slow"].extend(r.keys["PK"]["S"] for r in event)

    @app.on_dynamodb_record(stream_arn=ARN, name="fast", batch_size=1)
    def fast(event: Any) -> None:
        seen["fast"].extend(r.keys["PK"]["S"] for r in event)

    dispatcher = LambdaDispatcher(app)
    try:
        for n in range(3):
            for name in ("slow", "fast"):
                dispatcher.invoke(function(name), json.dumps({"Records": [record(f"r{n}")]}), {}, {})
        assert not dispatcher.drain(timeout=2)  # the slow consumer is still blocked
        assert seen == {"slow": [], "fast": ["r0", "r1", "r2"]}  # the fast one was not held back
        release.set()
        assert dispatcher.drain(timeout=10)
        assert seen["slow"] == ["r0", "r1", "r2"]  # in order for each function
        assert dispatcher.stats.delivered == 6
    finally:
        release.set()
        dispatcher.uninstall(drain_timeout=10)


def test_queued_records_reach_the_handler_as_sent_in_batches_without_the_ones_moto_sent_again() -> None:
    app = Chalice(app_name="batches")
    release = threading.Event()
    batches: list[list[dict[str, Any]]] = []

    @app.on_dynamodb_record(stream_arn=ARN, name="consumer", batch_size=3)
    def consumer(event: Any) -> None:
        release.wait(10)  # the first batch holds the worker while the others queue up
        batches.append([r.to_dict() for r in event])

    dispatcher = LambdaDispatcher(app)
    sent = [record(f"r{n}") for n in range(6)]
    try:
        dispatcher.invoke(function("consumer"), json.dumps({"Records": sent[:1]}), {}, {})
        dispatcher.invoke(function("consumer"), json.dumps({"Records": sent[:3]}).encode(), {}, {})  # r0 again
        for one in sent[3:]:
            dispatcher.invoke(function("consumer"), json.dumps({"Records": [one]}), {}, {})
        release.set()
        assert dispatcher.drain(timeout=10)
        assert [r for batch in batches for r in batch] == sent  # each once, in order, as sent
        assert all(len(batch) <= 3 for batch in batches)
        assert dispatcher.stats.duplicates == 1
    finally:
        release.set()
        dispatcher.uninstall(drain_timeout=10)
