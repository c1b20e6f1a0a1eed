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


def test_a_halt_leaves_the_records_not_handled_in_the_backlog_in_order() -> None:
    app = Chalice(app_name="workers")
    entered, release, fast_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[str]] = {"slow": [], "fast": []}

    @app.on_dynamodb_record(stream_arn=ARN, name="slow", batch_size=1)
    def slow(event: Any) -> None:
        entered.set()
        release.wait(10)
        seen["slow"].extend(r.keys["PK"]["S"] for r in event)

    @app.on_dynamodb_record(stream_arn=ARN, name="fast", batch_size=1)
    def fast(event: Any) -> None:
        seen["fast"].extend(r.keys["PK"]["S"] for r in event)
        fast_done.set()

    dispatcher = LambdaDispatcher(app)
    try:
        dispatcher.invoke(function("slow"), json.dumps({"Records": [record("r0")]}), {}, {})
        assert entered.wait(10)  # r0 is running: it has not been handled yet
        for n in (1, 2):
            dispatcher.invoke(function("slow"), json.dumps({"Records": [record(f"r{n}")]}), {}, {})
        dispatcher.invoke(function("fast"), json.dumps({"Records": [record("r0")]}), {}, {})
        assert fast_done.wait(10)
        dispatcher.halt()
        backlog = dispatcher.backlog()
        # The running record is left too: it runs again after a restart (at least once, as a stream's on AWS).
        assert {name: [r["eventID"] for r in records] for name, records in backlog.items()} == {
            "slow": ["r0", "r1", "r2"],
        }
        workers = list(dispatcher._workers)
        release.set()
        for worker in workers:
            worker.join(10)
        assert not any(worker.is_alive() for worker in workers)  # halted: each ended after its running batch
        assert seen == {"slow": ["r0"], "fast": ["r0"]}
    finally:
        release.set()
        dispatcher.uninstall(drain_timeout=0)


def test_replayed_records_run_in_order_in_batches_and_are_not_taken_again_from_the_stream() -> None:
    app = Chalice(app_name="workers")
    batches: list[list[str]] = []

    @app.on_dynamodb_record(stream_arn=ARN, name="consumer", batch_size=2)
    def consumer(event: Any) -> None:
        batches.append([r.keys["PK"]["S"] for r in event])

    dispatcher = LambdaDispatcher(app)
    try:
        dispatcher.replay(function("consumer"), [record(f"r{n}") for n in range(3)])
        assert dispatcher.drain(timeout=10)
        # r2 comes from the stream again: it was replayed, so it is not handled twice
        dispatcher.invoke(function("consumer"), json.dumps({"Records": [record("r2"), record("r3")]}), {}, {})
        assert dispatcher.drain(timeout=10)
        assert batches == [["r0", "r1"], ["r2"], ["r3"]]
    finally:
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
