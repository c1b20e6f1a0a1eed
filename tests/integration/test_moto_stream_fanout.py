"""local/moto_stream_fanout.py and the dispatcher's reuse of a parse: the event text of a write's stream records
is moto's, byte for byte, built once for every mapped function; each function still gets each record once."""
from __future__ import annotations

import json
import random
import uuid
from types import SimpleNamespace
from typing import Any, Iterator

import boto3
import pytest
from chalice import Chalice
from moto import mock_aws
from moto.awslambda.models import lambda_backends
from moto.dynamodb.models import dynamodb_backends

from local import moto_stream_fanout
from local.lambdas import LambdaDispatcher, MotoPinError
from local.moto_stream_fanout import check_stream_fanout, event_text

ACCOUNT, REGION = "123456789012", "us-east-1"
SOURCE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t/stream/2026-01-01T00:00:00.000"


def _value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kinds = ["S", "N", "BOOL", "NULL", "SS"] + (["M", "L"] if depth < 2 else [])  # B: moto's own dump fails
    kind = rng.choice(kinds)
    if kind == "S":
        return {"S": rng.choice(["", "é", "a\"b", "x" * rng.randrange(50)])}
    if kind == "N":
        return {"N": str(rng.choice([0, -3, 1.5, 10**20]))}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": sorted({rng.choice("abcdef") for _ in range(3)})}
    if kind == "M":
        return {"M": {f"k{i}": _value(rng, depth + 1) for i in range(rng.randrange(4))}}
    return {"L": [_value(rng, depth + 1) for _ in range(rng.randrange(4))]}


@pytest.fixture
def shard_records() -> Iterator[tuple[Any, list[Any]]]:
    """The Lambda backend and the stream records of random puts, updates and deletes on a moto table."""
    rng = random.Random(7)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for step in range(60):
            key = {"PK": {"S": f"k{rng.randrange(8)}"}}
            if step % 5 == 4:
                ddb.delete_item(TableName="t", Key=key)
            else:
                ddb.put_item(TableName="t", Item={**key, **{f"a{i}": _value(rng) for i in range(rng.randrange(5))}})
        shard = dynamodb_backends[ACCOUNT][REGION].tables["t"].stream_shard
        yield lambda_backends[ACCOUNT][REGION], list(shard.items)  # no mapping: moto kept every record


def _moto_text(backend: Any, items: list[Any], monkeypatch: pytest.MonkeyPatch) -> str:
    sent: list[str] = []

    def invoke(body: str, *_: Any) -> bytes:
        sent.append(body)
        return b"{}"

    fake = SimpleNamespace(invoke=invoke)
    monkeypatch.setattr(backend._lambdas, "get_arn", lambda arn: fake)
    moto_stream_fanout._moto("LambdaBackend.send_dynamodb_items")(backend, "arn:fn", items, SOURCE)
    monkeypatch.undo()
    return sent[0]


def test_the_text_is_motos_for_every_record_and_batch(shard_records: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, records = shard_records
    assert {r.record["eventName"] for r in records} == {"INSERT", "MODIFY", "REMOVE"}
    batches = [records[i:i + 1] for i in range(len(records))] + [records[:3], records[10:20], records]
    for batch in batches:
        assert event_text(backend, list(batch), SOURCE) == _moto_text(backend, batch, monkeypatch)


def test_the_same_records_get_the_same_text_and_others_a_new_one(shard_records: Any) -> None:
    backend, records = shard_records
    first = event_text(backend, records[:2], SOURCE)
    assert event_text(backend, list(records[:2]), SOURCE) is first  # another list of the same records
    assert event_text(backend, records[:3], SOURCE) is not first  # one record more
    assert json.loads(event_text(backend, records[1:3], SOURCE))["Records"][0]["eventID"] == \
        records[1].record["eventID"]
    again = event_text(backend, records[1:3], SOURCE)
    assert event_text(backend, records[1:3], SOURCE.replace("2026", "2027")) != again  # another stream


def test_a_changed_moto_function_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    check_stream_fanout()
    monkeypatch.setitem(moto_stream_fanout.SOURCE_PINS, "StreamShard.add", "0" * 64)
    with pytest.raises(MotoPinError, match="StreamShard.add"):
        check_stream_fanout()


def _stream_app(seen: dict[str, list[str]]) -> Chalice:
    app = Chalice(app_name="fanout")
    for name in ("first", "second"):
        def handler(event: Any, name: str = name) -> None:
            seen[name].extend(record.event_id for record in event)

        app.on_dynamodb_record(stream_arn=SOURCE, name=name)(handler)
    return app


def _function(name: str) -> Any:
    return SimpleNamespace(function_name=name, memory_size=128, timeout=3,
                           function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")


def _batch(*event_ids: str) -> str:
    return json.dumps({"Records": [
        {"eventID": event_id, "eventName": "INSERT", "eventSource": "aws:dynamodb", "eventSourceARN": SOURCE,
         "awsRegion": REGION, "dynamodb": {"Keys": {"PK": {"S": event_id}}, "SequenceNumber": "1",
                                                          "ApproximateCreationDateTime": 1.0, "SizeBytes": 1,
                                                          "StreamViewType": "KEYS_ONLY"}}
        for event_id in event_ids
    ]})


def test_one_text_for_two_functions_reaches_each_once() -> None:
    seen: dict[str, list[str]] = {"first": [], "second": []}
    dispatcher = LambdaDispatcher(_stream_app(seen))
    first, second = _function("first"), _function("second")
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        shared = _batch(a, b)
        assert dispatcher.invoke(first, shared, {}, {})
        assert dispatcher.invoke(second, shared, {}, {})  # the parse of `shared` reused
        assert dispatcher.invoke(second, shared, {}, {})  # sent again: dropped as before
        c = uuid.uuid4().hex
        assert dispatcher.invoke(second, _batch(c), {}, {})  # another text: parsed, not the last one's records
        assert dispatcher.drain(10.0)
    finally:
        dispatcher.uninstall()
    assert seen == {"first": [a, b], "second": [a, b, c]}
