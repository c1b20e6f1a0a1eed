"""A restart of the local system keeps its data: the table's items, the case data product's rows (with their
time of writing), the documents bucket's object versions (under the same version ids, with their metadata and
legal holds) and the messages waiting in the webhook queues are saved on stop and put back on the next start,
into a moto that had forgotten them; the stream records the functions had not handled are saved too, and
handled after the start."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.mesh import DATA_PRODUCT_BUCKET
from local.queues import DEAD_LETTER_QUEUE, WEBHOOK_QUEUE
from local.system import LocalSystem
from tests.integration.lambda_app import PLACEHOLDER_STREAM, build_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stepfunctions"
ROW_KEY = "cases/v1/dt=2026-12-06/case-1-1.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(state_dir: Path) -> LocalSystem:
    system = LocalSystem(port=free_port(), moto_port=free_port(), state_dir=state_dir, seed=False,
                         app=build_app()[0], stepfunctions_dir=FIXTURES)
    system.start()
    return system


def aws(system: LocalSystem, service: str) -> Any:
    return boto3.client(service, endpoint_url=system.stack["awsEndpoint"], region_name=system.stack["region"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_items_and_case_data_product_rows_survive_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.moto_api._internal.models import moto_api_backend

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # always its own moto
    first = start(tmp_path)
    try:
        table = first.stack["tableName"]
        aws(first, "dynamodb").put_item(TableName=table, Item={
            "PK": {"S": "KEEP#1"}, "SK": {"S": "ITEM"}, "tags": {"SS": ["a"]}, "n": {"N": "7"},
        })
        s3 = aws(first, "s3")
        s3.put_object(Bucket=DATA_PRODUCT_BUCKET, Key=ROW_KEY, Body=b'{"caseId": "1"}\n',
                      ContentType="application/x-ndjson")
        written = s3.head_object(Bucket=DATA_PRODUCT_BUCKET, Key=ROW_KEY)["LastModified"]
    finally:
        first.stop()
    assert first.saved_items and first.rows_snapshot_file.is_file()
    moto_api_backend.reset()  # what a new process starts with: a moto that holds nothing

    second = start(tmp_path)
    try:
        item = aws(second, "dynamodb").get_item(TableName=second.stack["tableName"],
                                                Key={"PK": {"S": "KEEP#1"}, "SK": {"S": "ITEM"}})["Item"]
        assert item == {"PK": {"S": "KEEP#1"}, "SK": {"S": "ITEM"}, "tags": {"SS": ["a"]}, "n": {"N": "7"}}
        row = aws(second, "s3").get_object(Bucket=DATA_PRODUCT_BUCKET, Key=ROW_KEY)
        assert row["Body"].read() == b'{"caseId": "1"}\n'
        assert (row["ContentType"], row["LastModified"]) == ("application/x-ndjson", written)
    finally:
        second.stop()


PDF = bytes(range(256)) * 40  # not UTF-8, larger than a row
KEPT = ("ContentType", "Metadata", "ETag", "LastModified", "ChecksumSHA256", "ObjectLockLegalHoldStatus")


def test_document_versions_and_queued_messages_survive_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.moto_api._internal.models import moto_api_backend

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    first = start(tmp_path)
    try:
        s3, bucket, key = aws(first, "s3"), first.stack["bucketName"], "cases/c-1/documents/d-1"
        old = s3.put_object(Bucket=bucket, Key=key, Body=b"first draft", ContentType="text/plain")["VersionId"]
        new = s3.put_object(Bucket=bucket, Key=key, Body=PDF, ContentType="application/pdf",
                            Metadata={"case-id": "c-1"}, ChecksumAlgorithm="SHA256")["VersionId"]
        s3.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=old, LegalHold={"Status": "ON"})
        before = {v: s3.head_object(Bucket=bucket, Key=key, VersionId=v, ChecksumMode="ENABLED") for v in (old, new)}
        sqs = aws(first, "sqs")
        queue, dead = (sqs.get_queue_url(QueueName=name)["QueueUrl"] for name in (WEBHOOK_QUEUE, DEAD_LETTER_QUEUE))
        sqs.send_message(QueueUrl=queue, MessageBody='{"delivery": 1}')
        in_flight = sqs.receive_message(QueueUrl=queue, AttributeNames=["All"])["Messages"][0]  # invisible for 30 s
        sqs.send_message(QueueUrl=queue, MessageBody='{"delivery": 2}', DelaySeconds=900)  # a retry, due later
        sqs.send_message(QueueUrl=dead, MessageBody='{"delivery": 3}',
                         MessageAttributes={"attempts": {"DataType": "Number", "StringValue": "4"}})
    finally:
        first.stop()
    assert {path.name for path in (tmp_path / "snapshot" / "documents").iterdir()} and first.saved_items
    moto_api_backend.reset()

    second = start(tmp_path)
    try:
        s3 = aws(second, "s3")
        for version, body in ((old, b"first draft"), (new, PDF)):
            got = s3.get_object(Bucket=bucket, Key=key, VersionId=version, ChecksumMode="ENABLED")
            assert got["Body"].read() == body and got["VersionId"] == version
            for field in KEPT:
                assert got.get(field) == before[version].get(field), field
        assert s3.get_object(Bucket=bucket, Key=key)["VersionId"] == new  # still the latest
        assert s3.get_object_legal_hold(Bucket=bucket, Key=key, VersionId=old)["LegalHold"]["Status"] == "ON"
        sqs = aws(second, "sqs")
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
        assert [(m["MessageId"], m["Body"]) for m in received] == [(in_flight["MessageId"], '{"delivery": 1}')]
        assert received[0]["Attributes"]["ApproximateReceiveCount"] == "2"  # received again: its count goes on
        attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
        assert attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # the retry still waits
        dead_letters = sqs.receive_message(QueueUrl=dead, MessageAttributeNames=["All"])["Messages"]
        assert [m["Body"] for m in dead_letters] == ['{"delivery": 3}']
        assert dead_letters[0]["MessageAttributes"]["attempts"]["StringValue"] == "4"
    finally:
        second.stop()
    assert second.saved_items


def held_app(release: threading.Event, entered: threading.Event, handled: list[str]) -> Any:
    """The test app (its stream function records what it saw) with one more stream function, `held`, whose
    batches of HELD# items wait for `release` (the provisioned items' records go through at once)."""
    app, seen = build_app()

    @app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM, name="held", batch_size=1)
    def held(event: Any) -> None:
        keys = [record.keys["PK"]["S"] for record in event if record.keys["PK"]["S"].startswith("HELD#")]
        if keys:
            entered.set()
            release.wait(30)
            handled.extend(keys)

    return app, seen


def test_stream_records_left_at_a_stop_are_handled_after_the_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.moto_api._internal.models import moto_api_backend

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    release, entered = threading.Event(), threading.Event()
    handled: list[str] = []
    app, seen = held_app(release, entered, handled)
    first = LocalSystem(port=free_port(), moto_port=free_port(), state_dir=tmp_path, seed=False, app=app,
                        stepfunctions_dir=FIXTURES)
    first.start()
    try:
        dynamodb = aws(first, "dynamodb")
        for pk in ("HELD#1", "HELD#2"):
            dynamodb.put_item(TableName=first.stack["tableName"], Item={"PK": {"S": pk}, "SK": {"S": "ITEM"}})
        assert entered.wait(30)  # HELD#1 is being handled, HELD#2 waits behind it
        deadline = time.monotonic() + 30
        while ("HELD#2" not in [pk for _, pk in seen.stream]) and time.monotonic() < deadline:
            time.sleep(0.05)  # the other stream function has handled both
        first.stop(drain_timeout=0)  # as Ctrl-C
    finally:
        release.set()
    assert handled in ([], ["HELD#1"])  # the running batch may end after the stop: it is handled again below
    assert first.saved_records == 2
    moto_api_backend.reset()

    again: list[str] = []
    go = threading.Event()
    go.set()
    second = LocalSystem(port=free_port(), moto_port=free_port(), state_dir=tmp_path, seed=False,
                         app=held_app(go, threading.Event(), again)[0], stepfunctions_dir=FIXTURES)
    second.start()
    try:
        assert second.dispatcher is not None and second.dispatcher.drain(30)
        assert again == ["HELD#1", "HELD#2"]  # in order; the other function had handled both before the stop
        assert second.dispatcher.stats.delivered == 2
    finally:
        second.stop()
    assert second.saved_records == 0  # replayed once: the next start has nothing left to replay
