"""local/moto_indexes.py and local/moto_transactions.py answer exactly as moto's own code does.

Two tables of one schema on the session's moto server: the reference is served by moto's code as it is
(`use_moto_as_is`), the other by the speed-ups. Seeded random workloads send every request to both and
compare the answers, or the errors (code and message), request by request."""
from __future__ import annotations

import inspect
import json
import random
import uuid
from functools import partial
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from botocore.exceptions import ClientError

from local.lambdas import MotoPinError
from local.moto_indexes import use_moto_as_is
from local.moto_speedups import SOURCE_PINS, check_moto_dynamodb, install_dynamodb_speedups, source_digest

REGION = "us-east-1"
PARTITIONS = [f"p{i}" for i in range(4)]
SORT_KEYS = [f"s{i:02d}" for i in range(14)]
SEEDS = range(8)
STEPS = 120


@pytest.fixture(scope="module")
def dynamodb(moto_endpoint: str) -> Any:
    install_dynamodb_speedups()
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)


def create(dynamodb: Any, name: str) -> None:
    string = lambda n: {"AttributeName": n, "AttributeType": "S"}  # noqa: E731
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[string("PK"), string("SK"), string("gpk"), string("gsk"), string("tag"),
                              {"AttributeName": "num", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "sparse", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "gsk", "KeyType": "RANGE"}]},
            {"IndexName": "by-num", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}, {"AttributeName": "num", "KeyType": "RANGE"}]},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def backend_table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"][REGION].tables[name]


class Workload:
    """Random requests over a small key space, so that writes collide with reads, conditions and pages."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def key(self) -> dict[str, Any]:
        return {"PK": {"S": self.rng.choice(PARTITIONS)}, "SK": {"S": self.rng.choice(SORT_KEYS)}}

    def item(self) -> dict[str, Any]:
        rng, item = self.rng, self.key()
        if rng.random() < 0.6:  # sparse: the others are not in the index
            item["gpk"] = {"S": rng.choice("ab")}
            item["gsk"] = {"S": rng.choice(SORT_KEYS)}
        if rng.random() < 0.7:
            item["tag"] = {"S": rng.choice("xy")}
            item["num"] = {"N": str(rng.randint(-3, 12))}
        item["val"] = {"N": str(rng.randint(0, 9))}
        return item

    def condition(self) -> dict[str, Any]:
        choice = self.rng.randrange(4)
        if choice == 0:
            return {}
        if choice == 1:
            return {"ConditionExpression": "attribute_not_exists(PK)"}
        if choice == 2:
            return {"ConditionExpression": "attribute_exists(PK)"}
        return {"ConditionExpression": "val < :limit", "ExpressionAttributeValues": {":limit": {"N": "5"}}}

    def update(self) -> dict[str, Any]:
        rng = self.rng
        names = {"#g": "gpk", "#s": "gsk"}
        if rng.random() < 0.3:
            expression, values = "REMOVE #g SET val = :v", {":v": {"N": str(rng.randint(0, 9))}}
            names = {"#g": "gpk"}
        else:
            expression = "SET #g = :g, #s = :s, val = :v ADD num :one"
            values = {":g": {"S": rng.choice("ab")}, ":s": {"S": rng.choice(SORT_KEYS)},
                      ":v": {"N": str(rng.randint(0, 9))}, ":one": {"N": "1"}}
        request: dict[str, Any] = {"Key": self.key(), "UpdateExpression": expression, "ExpressionAttributeNames": names,
                                   "ExpressionAttributeValues": values}
        condition = self.condition()
        if condition:
            request["ConditionExpression"] = condition["ConditionExpression"]
            request["ExpressionAttributeValues"].update(condition.get("ExpressionAttributeValues", {}))
        return request

    def transaction(self) -> list[tuple[str, dict[str, Any]]]:
        operations, keys = [], set()
        for _ in range(self.rng.randint(1, 4)):
            kind = self.rng.choice(["Put", "Update", "Delete", "ConditionCheck"])
            if kind == "Put":
                body: dict[str, Any] = {"Item": self.item(), **self.condition()}
                key = (body["Item"]["PK"]["S"], body["Item"]["SK"]["S"])
            elif kind == "Update":
                body = self.update()
                key = (body["Key"]["PK"]["S"], body["Key"]["SK"]["S"])
            else:
                body = {"Key": self.key(), **self.condition()}
                if kind == "ConditionCheck" and "ConditionExpression" not in body:
                    body["ConditionExpression"] = "attribute_exists(PK)"
                key = (body["Key"]["PK"]["S"], body["Key"]["SK"]["S"])
            if key not in keys:  # two operations on one item are refused (tested separately below)
                keys.add(key)
                operations.append((kind, body))
        return operations

    def query(self) -> dict[str, Any]:
        rng = self.rng
        request: dict[str, Any] = {"ScanIndexForward": rng.random() < 0.5}
        index = rng.choice([None, None, "sparse", "by-num"])
        if index is None:
            key_condition, values = "PK = :h", {":h": {"S": rng.choice(PARTITIONS)}}
            sort_attr, sort_values = "SK", SORT_KEYS
        elif index == "sparse":
            key_condition, values = "gpk = :h", {":h": {"S": rng.choice("abc")}}
            sort_attr, sort_values = "gsk", SORT_KEYS
        else:
            key_condition, values = "tag = :h", {":h": {"S": rng.choice("xyz")}}
            sort_attr, sort_values = "num", None
        if index:
            request["IndexName"] = index
        shape = rng.randrange(6)
        if sort_values is None:
            low, high = sorted(rng.randint(-4, 13) for _ in range(2))
            if shape == 1:
                key_condition += f" AND {sort_attr} BETWEEN :lo AND :hi"
                values.update({":lo": {"N": str(low)}, ":hi": {"N": str(high)}})
            elif shape == 2:
                key_condition += f" AND {sort_attr} > :lo"
                values[":lo"] = {"N": str(low)}
        elif shape == 1:
            key_condition += f" AND begins_with({sort_attr}, :p)"
            values[":p"] = {"S": rng.choice(["s0", "s1", "s", "t"])}
        elif shape == 2:
            first, last = sorted(rng.sample(sort_values, 2))
            key_condition += f" AND {sort_attr} BETWEEN :lo AND :hi"
            values.update({":lo": {"S": first}, ":hi": {"S": last}})
        elif shape == 3:
            key_condition += f" AND {sort_attr} <= :hi"
            values[":hi"] = {"S": rng.choice(sort_values)}
        if rng.random() < 0.4 and index != "by-num":
            request["FilterExpression"] = "val > :min"
            values[":min"] = {"N": str(rng.randint(0, 8))}
        if rng.random() < 0.7:
            request["Limit"] = rng.randint(1, 5)
        if rng.random() < 0.3:
            request["ConsistentRead"] = True  # refused on a GSI, by both
        request.update(KeyConditionExpression=key_condition, ExpressionAttributeValues=values)
        return request

    def scan(self) -> dict[str, Any]:
        request: dict[str, Any] = {"ConsistentRead": self.rng.random() < 0.5}
        if self.rng.random() < 0.7:
            request["Limit"] = self.rng.randint(1, 7)
        if self.rng.random() < 0.3:
            request.update(FilterExpression="val > :min", ExpressionAttributeValues={":min": {"N": "4"}})
        return request


def answer(call: Callable[[], dict[str, Any]], names: dict[str, str]) -> Any:
    """The response (or the error's code, message and cancellation reasons), table names made alike."""
    try:
        result: Any = call()
        result.pop("ResponseMetadata", None)
    except ClientError as exc:
        error = exc.response["Error"]
        result = ["error", error["Code"], error.get("Message", ""), exc.response.get("CancellationReasons")]
    text = json.dumps(result, default=str)
    for name, placeholder in names.items():
        text = text.replace(name, placeholder)
    return json.loads(text)


def both(dynamodb: Any, reference: str, fast: str, operation: str, request: Any, step: str) -> Any:
    """Send one request to each table; assert the same answer; return it."""
    names = {reference: "<table>", fast: "<table>"}
    results = []
    for table in (reference, fast):
        body = _with_table(request, table)
        results.append(answer(lambda: getattr(dynamodb, operation)(**body), names))
    assert results[0] == results[1], f"{step}: {operation} {request}"
    return results[1]


def _with_table(request: Any, table: str) -> Any:
    if isinstance(request, dict):
        return {k: (table if k == "TableName" else _with_table(v, table)) for k, v in request.items()}
    if isinstance(request, list):
        return [_with_table(v, table) for v in request]
    return request


def pages(dynamodb: Any, reference: str, fast: str, operation: str, request: dict[str, Any], step: str) -> None:
    """Every page, each resumed from the LastEvaluatedKey both returned."""
    for page in range(50):
        result = both(dynamodb, reference, fast, operation, request, f"{step} page {page}")
        if not isinstance(result, dict) or "LastEvaluatedKey" not in result:
            return
        request = {**request, "ExclusiveStartKey": result["LastEvaluatedKey"]}


@pytest.mark.parametrize("seed", SEEDS)
def test_random_workloads_answer_as_moto_does(dynamodb: Any, seed: int) -> None:
    reference, fast = f"ref-{uuid.uuid4().hex[:8]}", f"fast-{uuid.uuid4().hex[:8]}"
    create(dynamodb, reference)
    create(dynamodb, fast)
    use_moto_as_is(backend_table(reference))
    work = Workload(seed)
    for step in range(STEPS):
        kind = work.rng.choices(
            ["put", "update", "delete", "transaction", "batch", "query", "scan", "get"],
            weights=[5, 4, 2, 4, 2, 6, 2, 1],
        )[0]
        label = f"seed {seed} step {step} {kind}"
        if kind == "put":
            request = {"TableName": "", "Item": work.item(), **work.condition()}
            both(dynamodb, reference, fast, "put_item", request, label)
        elif kind == "update":
            request = {"TableName": "", **work.update(), "ReturnValues": "ALL_NEW"}
            both(dynamodb, reference, fast, "update_item", request, label)
        elif kind == "delete":
            request = {"TableName": "", "Key": work.key(), **work.condition(), "ReturnValues": "ALL_OLD"}
            both(dynamodb, reference, fast, "delete_item", request, label)
        elif kind == "transaction":
            items = [{op: {"TableName": "", **body}} for op, body in work.transaction()]
            both(dynamodb, reference, fast, "transact_write_items", {"TransactItems": items}, label)
        elif kind == "batch":
            writes, seen = [], set()
            for _ in range(work.rng.randint(1, 6)):
                put = work.rng.random() < 0.7
                body = {"PutRequest": {"Item": work.item()}} if put else {"DeleteRequest": {"Key": work.key()}}
                key = body.get("PutRequest", {}).get("Item") or body["DeleteRequest"]["Key"]
                if (key["PK"]["S"], key["SK"]["S"]) not in seen:
                    seen.add((key["PK"]["S"], key["SK"]["S"]))
                    writes.append(body)
            names = {reference: "<table>", fast: "<table>"}
            results = [answer(partial(dynamodb.batch_write_item, RequestItems={t: writes}), names)
                       for t in (reference, fast)]
            assert results[0] == results[1], label
        elif kind == "query":
            pages(dynamodb, reference, fast, "query", {"TableName": "", **work.query()}, label)
        elif kind == "scan":
            pages(dynamodb, reference, fast, "scan", {"TableName": "", **work.scan()}, label)
        else:
            request = {"TableName": "", "Key": work.key(), "ConsistentRead": True}
            both(dynamodb, reference, fast, "get_item", request, label)
    everything = {"TableName": "", "ConsistentRead": True}
    pages(dynamodb, reference, fast, "scan", everything, f"seed {seed} final scan")


def test_the_same_errors_for_malformed_requests(dynamodb: Any) -> None:
    reference, fast = f"ref-{uuid.uuid4().hex[:8]}", f"fast-{uuid.uuid4().hex[:8]}"
    create(dynamodb, reference)
    create(dynamodb, fast)
    use_moto_as_is(backend_table(reference))
    work = Workload(99)
    for _ in range(30):
        both(dynamodb, reference, fast, "put_item", {"TableName": "", "Item": work.item()}, "fill")
    key = {"PK": {"S": "p0"}, "SK": {"S": "s00"}}
    requests = [
        ("query", {"TableName": "", "IndexName": "missing", "KeyConditionExpression": "gpk = :h",
                   "ExpressionAttributeValues": {":h": {"S": "a"}}}),
        ("query", {"TableName": "", "IndexName": "sparse", "ConsistentRead": True,
                   "KeyConditionExpression": "gpk = :h", "ExpressionAttributeValues": {":h": {"S": "a"}}}),
        ("query", {"TableName": "", "KeyConditionExpression": "PK = :h",
                   "ExpressionAttributeValues": {":h": {"S": "p1"}},
                   "ExclusiveStartKey": {"PK": {"S": "p0"}, "SK": {"S": "s05"}}}),  # a start key in another partition
        ("query", {"TableName": "", "IndexName": "sparse", "KeyConditionExpression": "gpk = :h",
                   "ExpressionAttributeValues": {":h": {"S": "a"}}, "ExclusiveStartKey": key}),  # no index attributes
        ("transact_write_items", {"TransactItems": [
            {"Put": {"TableName": "", "Item": {**key, "val": {"N": "1"}}}},
            {"Delete": {"TableName": "", "Key": key}},
        ]}),  # one item twice
        ("transact_write_items", {"TransactItems": [
            {"Put": {"TableName": "", "Item": {"PK": {"S": "p9"}, "SK": {"S": "s00"}, "val": {"N": "1"}}}},
            {"Update": {"TableName": "", "Key": {"PK": {"S": "p9"}}, "UpdateExpression": "SET val = :v",
                        "ExpressionAttributeValues": {":v": {"N": "2"}}}},
        ]}),  # a key without its sort key: ValidationException, nothing written
        ("transact_write_items", {"TransactItems": [
            {"Put": {"TableName": "", "Item": {"PK": {"S": "p9"}, "SK": {"S": "s01"}, "val": {"N": "1"}}}},
            {"Put": {"TableName": "no-such-table", "Item": {"PK": {"S": "p9"}, "SK": {"S": "s02"}}}},
        ]}),
    ]
    for number, (operation, request) in enumerate(requests):
        both(dynamodb, reference, fast, operation, request, f"request {number}")
    pages(dynamodb, reference, fast, "scan", {"TableName": "", "ConsistentRead": True}, "final scan")


def test_a_cancelled_transaction_sends_no_stream_record(dynamodb: Any, moto_endpoint: str) -> None:
    name = f"fast-{uuid.uuid4().hex[:8]}"
    create(dynamodb, name)
    streams = boto3.client("dynamodbstreams", endpoint_url=moto_endpoint, region_name=REGION)
    arn = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": name, "Item": {"PK": {"S": "p0"}, "SK": {"S": "s00"}}}},
            {"ConditionCheck": {"TableName": name, "Key": {"PK": {"S": "p1"}, "SK": {"S": "s00"}},
                                "ConditionExpression": "attribute_exists(PK)"}},
        ])
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {"PK": {"S": "p2"}, "SK": {"S": "s00"}}}},
        {"Put": {"TableName": name, "Item": {"PK": {"S": "p3"}, "SK": {"S": "s00"}}}},
    ])
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in records] == [("INSERT", "p2"), ("INSERT", "p3")]
    assert "Item" not in dynamodb.get_item(TableName=name, Key={"PK": {"S": "p0"}, "SK": {"S": "s00"}})


# -- the pins -------------------------------------------------------------------------------------

def test_moto_is_the_version_and_source_the_speedups_were_written_for() -> None:
    check_moto_dynamodb()


def test_a_changed_moto_function_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SOURCE_PINS, "Table.query", "0" * 64)
    with pytest.raises(MotoPinError, match="moto's Table.query changed"):
        check_moto_dynamodb()


def test_another_moto_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto

    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(MotoPinError, match="moto 9.9.9 is installed"):
        check_moto_dynamodb()


def test_the_pins_cover_every_replaced_function() -> None:
    from local import moto_indexes, moto_items, moto_transactions

    replaced = {**moto_indexes.PATCHES, **moto_transactions.PATCHES, **moto_items.PATCHES}
    assert set(replaced) <= set(SOURCE_PINS)
    assert all(len(source_digest(name)) == 64 for name in SOURCE_PINS)
    assert inspect.isfunction(moto_indexes.ORIGINAL.get("Table.query", moto_indexes._query))


# -- the shared parse of state machine definitions ---------------------------------------------------

def test_executions_of_one_definition_share_one_parse_with_every_heap_key_set() -> None:
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    from local.moto_asl_cache import _set_heap_keys, check_asl_cache, program_for

    check_asl_cache()
    definition = (Path(__file__).resolve().parents[2] / "stepfunctions" / "case_workflow.asl.json").read_text()
    program = program_for(definition)
    assert program_for(definition) is program
    components: list[EvalComponent] = []
    pending, seen = [program], set()
    while pending:  # every component reachable from the program has its heap key before any execution runs
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif hasattr(value, "__dict__") and type(value).__module__.startswith("moto.stepfunctions"):
            if isinstance(value, EvalComponent):
                components.append(value)
            pending.extend(vars(value).values())
    assert len(components) > 50
    assert all(vars(c).get("_EvalComponent__heap_key") for c in components)
    _set_heap_keys(program)  # idempotent: the keys stay
    assert all(vars(c).get("_EvalComponent__heap_key") for c in components)


def test_a_changed_interpreter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from local import moto_asl_cache

    monkeypatch.setitem(moto_asl_cache.SOURCE_PINS, "EvalComponent.heap_key", "0" * 64)
    with pytest.raises(MotoPinError, match="EvalComponent.heap_key changed"):
        moto_asl_cache.check_asl_cache()
