"""local/moto_request_speedups.py answers as the moto functions it replaces do."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from jsonpath_ng.exceptions import JSONPathError

from local import moto_request_speedups
from local.lambdas import MotoPinError
from local.moto_request_speedups import (
    BOTO_CLIENT_USERS, SOURCE_PINS, SharedClients, cached_parser, check_request_speedups, install_request_speedups,
)

STEPFUNCTIONS = Path(__file__).resolve().parents[2] / "stepfunctions"
SAMPLE = {
    "caseId": "CASE-1", "detail": {"amount": 12.5, "tags": ["a", "b", "c"], "nested": {"x": [1, {"y": 2}]}},
    "items": [{"id": 1, "ok": True}, {"id": 2, "ok": False}, {"id": 3, "ok": True}], "empty": [], "none": None,
}
EXTRA_PATHS = [  # the forms the interpreter meets beyond the project's own definitions
    "$", "$.items[0]", "$.items[-1:]", "$.items[*].id", "$.items[1:3]", "$.detail.tags[1]", "$.detail.nested.x[1].y",
    "$.items[?(@.ok == true)].id", "$..id", "$.missing", "$.empty[*]", "$.none", "$['caseId']",
]


def asl_paths() -> list[str]:
    """Every JSONPath written in the project's state machine definitions (values and `.$` parameters)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and re.match(r"\$(\.|\[|$)", value):  # not $$ (context) nor ${...}
            found.add(value)

    for path in STEPFUNCTIONS.glob("*.asl.json"):
        walk(json.loads(path.read_text()))
    return sorted(found)


def matches(parse: Any, path: str) -> Any:
    """What a parse of `path` finds in SAMPLE, or the parse's error."""
    try:
        parsed = parse(path)
    except JSONPathError as exc:  # the basic parser knows no filters: both must refuse alike
        return type(exc).__name__, str(exc)
    return [(str(match.full_path), match.value) for match in parsed.find(SAMPLE)]


@pytest.fixture(scope="module")
def installed() -> Iterator[None]:
    install_request_speedups()
    yield


@pytest.mark.parametrize("module_parse", ["jsonpath_ng.ext", "jsonpath_ng"])
def test_a_parsed_path_finds_what_a_fresh_parse_finds_every_time(module_parse: str) -> None:
    import importlib

    parse = importlib.import_module(module_parse).parse
    cached = cached_parser(parse)
    paths = asl_paths() + EXTRA_PATHS
    assert len(paths) > len(EXTRA_PATHS)  # the definitions' own paths are in
    for path in paths:
        for _ in range(3):  # the shared parse is reused: it keeps nothing from one find to the next
            assert matches(cached, path) == matches(parse, path), path


def test_the_interpreter_extracts_paths_as_with_a_fresh_parse(installed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from jsonpath_ng.ext import parse as fresh_parse
    from moto.stepfunctions.parser.asl.utils import json_path

    def outcomes() -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        for path in asl_paths() + EXTRA_PATHS:
            try:
                found.append(("value", json_path.extract_json(path, SAMPLE)))
            except json_path.NoSuchJsonPathError as exc:
                found.append(("error", str(exc)))
        return found

    assert json_path.parse is not fresh_parse  # the cached parser is in place
    cached = outcomes()
    assert outcomes() == cached  # a second round reuses every parse
    monkeypatch.setattr(json_path, "parse", fresh_parse)
    assert outcomes() == cached


def test_eventbridge_sends_a_target_the_same_message_with_a_cached_parse(
        installed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import jsonpath_ng.ext
    from moto import mock_aws

    def delivered() -> list[dict[str, Any]]:
        with mock_aws():
            sqs, events = boto3.client("sqs", "us-east-1"), boto3.client("events", "us-east-1")
            url = sqs.create_queue(QueueName="target")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name="all", EventPattern=json.dumps({"source": ["cms"]}))
            events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])
            events.put_events(Entries=[{"Source": "cms", "DetailType": f"case.{n}", "Resources": [f"r{n}"],
                                        "Detail": json.dumps({"caseId": f"C-{n}", "nested": {"n": n}})}
                                       for n in range(3)])
            bodies = [json.loads(m["Body"]) for m in
                      sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
            return sorted(({k: v for k, v in body.items() if k not in ("id", "time")} for body in bodies),
                          key=lambda body: body["detail-type"])

    assert jsonpath_ng.ext.parse is not jsonpath_ng.ext.parser.parse  # the cached parser is in place
    cached = delivered()
    assert [body["detail"]["caseId"] for body in cached] == ["C-0", "C-1", "C-2"]
    monkeypatch.setattr(jsonpath_ng.ext, "parse", jsonpath_ng.ext.parser.parse)
    assert delivered() == cached


def test_the_module_list_and_method_names_are_moto_s(installed: None) -> None:
    from moto import backends
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.stepfunctions.responses import StepFunctionResponse

    original_modules = moto_request_speedups._installed["backends.list_of_moto_modules"]
    assert list(backends.list_of_moto_modules()) == list(original_modules())
    original_names = moto_request_speedups._installed["utils.method_names_from_class"]
    for cls in (DynamoHandler, StepFunctionResponse, responses.BaseResponse):
        assert responses.method_names_from_class(cls) == original_names(cls)
        assert responses.method_names_from_class(cls) == original_names(cls)  # from the cache


def test_step_functions_tasks_share_one_client_built_as_moto_builds_it(installed: None) -> None:
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = moto_request_speedups._installed["boto_client.boto_client_for"]
    shared = boto_client.boto_client_for
    assert isinstance(shared, SharedClients)
    client = shared(region="us-east-1", service="lambda")
    assert shared("us-east-1", "lambda", state_credentials=object()) is client
    assert shared("eu-west-1", "lambda") is not client
    reference = original("us-east-1", "lambda")
    assert client.meta.endpoint_url == reference.meta.endpoint_url
    assert client.meta.region_name == reference.meta.region_name
    for setting in ("parameter_validation", "retries", "connect_timeout", "read_timeout"):
        assert getattr(client.meta.config, setting) == getattr(reference.meta.config, setting), setting
    assert client._request_signer._credentials.access_key == reference._request_signer._credentials.access_key


def test_every_moto_module_that_builds_clients_gets_the_shared_ones(installed: None) -> None:
    import importlib

    import moto

    root = Path(moto.__file__).resolve().parent
    users = {
        ".".join(("moto",) + path.relative_to(root).with_suffix("").parts)
        for path in root.rglob("*.py")
        if re.search(r"^from \S+ import boto_client_for$", path.read_text(), re.M)
    }
    assert users == set(BOTO_CLIENT_USERS)
    for name in users:
        assert isinstance(importlib.import_module(name).boto_client_for, SharedClients), name


def test_the_pins_hold_and_a_change_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    check_request_speedups()
    monkeypatch.setitem(SOURCE_PINS, "json_path.extract_json", "0" * 64)
    with pytest.raises(MotoPinError, match="json_path.extract_json changed"):
        check_request_speedups()


# -- DynamoDB responses (local/moto_dynamodb_serializer.py) ------------------------------------------------

def random_value(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kinds = ["S", "N", "B", "SS", "NS", "BS", "NULL", "BOOL"] + (["M", "L"] * 2 if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "S":
        return {"S": rng.choice(["", "x", "CASE-2026-000001", "naïve ✓", "a.b", "S"])}
    if kind == "N":
        return {"N": rng.choice(["0", "-1.5", "12345678901234567890", "1E+3"])}
    if kind == "B":
        return {"B": rng.choice([b"\x00\xff", "aGVsbG8=", b""])}
    if kind == "SS":
        return {"SS": rng.sample(["a", "b", "c", "d"], rng.randint(1, 4))}
    if kind == "NS":
        return {"NS": rng.sample(["1", "2.5", "-3"], rng.randint(1, 3))}
    if kind == "BS":
        return {"BS": [b"\x01", "Ag=="][: rng.randint(1, 2)]}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "BOOL":
        return {"BOOL": rng.choice([True, False])}
    if kind == "M":
        return {"M": {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}}
    return {"L": [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]}


def random_item(rng: random.Random) -> dict[str, Any]:
    item = {"pk": {"S": f"CASE#{rng.randint(1, 99)}"}, "sk": {"S": "META"}}
    item.update({f"attr{i}": random_value(rng) for i in range(rng.randint(0, 12))})
    return item


def dynamodb_results(rng: random.Random) -> list[tuple[str, Any]]:
    items = [random_item(rng) for _ in range(rng.randint(0, 6))]
    key = {"pk": {"S": "CASE#1"}, "sk": {"S": "META"}}
    capacity = {"TableName": "cases", "CapacityUnits": 1.5}
    return [
        ("GetItem", {"Item": items[0] if items else None, "ConsumedCapacity": capacity}),
        ("Query", {"Items": items, "Count": len(items), "ScannedCount": len(items) + 1, "LastEvaluatedKey": key}),
        ("Scan", {"Items": items, "Count": len(items), "ScannedCount": len(items)}),
        ("BatchGetItem", {"Responses": {"cases": items}, "UnprocessedKeys": {}}),
        ("TransactGetItems", {"Responses": [{"Item": item} for item in items]}),
        ("UpdateItem", {"Attributes": items[-1] if items else {}}),
        ("PutItem", {}),
        ("TransactWriteItems", {"ConsumedCapacity": [capacity]}),
    ]


def serialized(serializer: Any, operation: str, result: Any, transformers: dict[str, Any]) -> Any:
    from moto.core.serialize import XFormedAttributePicker
    from moto.dynamodb.responses import DynamoHandler  # noqa: F401 (loads the service model's users)
    from moto.core.utils import get_service_model

    model = get_service_model("dynamodb").operation_model(operation)
    picker = XFormedAttributePicker(response_transformers=transformers)
    return serializer(operation_model=model, pretty_print=False, value_picker=picker).serialize(result)


@pytest.mark.parametrize("seed", range(6))
def test_dynamodb_responses_are_serialised_as_moto_does(seed: int) -> None:
    from moto.core.serialize import JSONSerializer

    from local.moto_dynamodb_serializer import DynamoDBSerializer, check_dynamodb_serializer

    check_dynamodb_serializer()
    rng = random.Random(seed)
    for _ in range(25):
        for operation, result in dynamodb_results(rng):
            for transformers in ({}, {"Item.attr1.S": lambda value: "changed"}, {"Tasks.Task.tags": lambda v: v}):
                expected = serialized(JSONSerializer, operation, result, transformers)
                assert serialized(DynamoDBSerializer, operation, result, transformers) == expected, operation


def test_values_moto_produced_are_written_in_one_pass() -> None:
    from local.moto_dynamodb_serializer import _wire

    rng = random.Random(7)
    values = [random_value(rng) for _ in range(300)]  # compared with moto's serialisers above
    assert all(_wire(value, lambda blob: "b64") is not None for value in values)
    assert _wire({"M": {"": {"S": "x"}}}, str) is None  # moto writes an empty key's members into the map itself
    assert _wire({"SS": ("a", "b")}, str) is None  # not the list moto makes: moto's serialisers decide


def test_a_value_moto_did_not_produce_goes_through_moto_s_code() -> None:
    from moto.core.serialize import JSONSerializer

    from local.moto_dynamodb_serializer import DynamoDBSerializer

    odd = {"Item": {"pk": {"S": "x", "ListAttributeValue": [{"S": "y"}]}, "n": {"n": "1"}, "e": {}}}
    expected = serialized(JSONSerializer, "GetItem", odd, {})
    assert serialized(DynamoDBSerializer, "GetItem", odd, {}) == expected


def test_the_dynamodb_serializer_is_installed_for_dynamodb_only(installed: None) -> None:
    from moto.core.serialize import JSONSerializer, get_serializer_class

    from local.moto_dynamodb_serializer import DynamoDBSerializer
    from local.moto_speedups import install_dynamodb_speedups

    install_dynamodb_speedups()
    assert get_serializer_class("dynamodb", "json") is DynamoDBSerializer
    assert get_serializer_class("stepfunctions", "json") is JSONSerializer


def test_a_changed_serializer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from local import moto_dynamodb_serializer

    monkeypatch.setitem(moto_dynamodb_serializer.SOURCE_PINS, "AttributePicker.__call__", "0" * 64)
    with pytest.raises(MotoPinError, match="AttributePicker.__call__ changed"):
        moto_dynamodb_serializer.check_dynamodb_serializer()


def test_moto_keeps_no_object_versions_or_copies_after_requests(aws: Any) -> None:
    # local/moto_atomic.py: moto's instance tracking would keep every S3 object version ever put, with its buffer.
    from moto.core.model_instances import model_data

    s3 = aws("s3")
    bucket = f"tracked-{random.randrange(10**9)}"
    s3.create_bucket(Bucket=bucket)
    for n in range(10):
        s3.put_object(Bucket=bucket, Key="row.json", Body=b"x" * 1000 + str(n).encode())
    assert s3.get_object(Bucket=bucket, Key="row.json")["Body"].read().endswith(b"9")  # the latest is served
    # Only this test's objects: executions left running by earlier tests may be mid-request in other threads.
    assert not [key for key in model_data["s3"]["FakeKey"].instances_tracked if key.bucket_name == bucket]


def test_moto_models_are_built_as_moto_builds_them_but_not_tracked(aws: Any) -> None:
    # local/moto_atomic.py replaces BaseModel.__new__ (pinned): the same instance, minus the tracking list.
    from moto.core.model_instances import model_data
    from moto.sqs.models import Message

    from local.moto_atomic import _ORIGINAL_NEW, SOURCE_PINS, untracked_new
    from local.moto_speedups import digest_of

    assert digest_of(_ORIGINAL_NEW.__func__) == SOURCE_PINS["BaseModel.__new__"]
    tracked = model_data["sqs"]["Message"].instances_tracked
    theirs, ours = _ORIGINAL_NEW.__func__(Message, "id", "body"), untracked_new(Message, "id", "body")
    assert type(theirs) is type(ours) is Message and vars(theirs) == vars(ours) == {}
    assert tracked[-1] is theirs and ours not in tracked
    tracked.remove(theirs)


# -- response bodies and DynamoDB's plain values -------------------------------------------------------------

@pytest.mark.parametrize("body", [
    '{"Items": [{"pk": {"S": "CASE#1"}}], "Count": 1}', "", "<Response><RequestId>old</RequestId></Response>",
    "<ErrorResponse><Error/><RequestId></RequestId></ErrorResponse>", "RequestId", b"<RequestId>x</RequestId>",
    None, {"Items": []},
])
@pytest.mark.parametrize("status", [None, 200, "404"])
def test_a_response_is_enriched_as_moto_does(installed: None, body: Any, status: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core import responses

    from local.moto_request_speedups import enrich_response

    monkeypatch.setattr(responses, "gen_amzn_requestid_long", lambda headers: headers.update(
        {"x-amzn-requestid": "REQUEST-ID"}) or "REQUEST-ID")  # moto's are random: the same one for both
    original = moto_request_speedups._installed["BaseResponse._enrich_response"]
    headers = {"content-type": "text/xml"} | ({"status": status} if status is not None else {})

    assert enrich_response(dict(headers), body) == original(dict(headers), body)


def random_moto_value(rng: random.Random) -> Any:
    """What a DynamoDB response of moto holds before `dynamo_to_dict`: its own values among plain ones."""
    from datetime import datetime, timezone

    from moto.dynamodb.models import dynamo_type

    class Described:
        def __init__(self) -> None:
            self.value = random_value(rng)

        def to_json(self) -> dict[str, Any]:
            return {"Item": dynamo_type.DynamoType(self.value), "When": datetime(2026, 12, 7, tzinfo=timezone.utc)}

    return rng.choice([
        lambda: dynamo_type.DynamoType(random_value(rng)),
        lambda: {f"a{i}": dynamo_type.DynamoType(random_value(rng)) for i in range(rng.randint(0, 5))},
        lambda: [dynamo_type.DynamoType(random_value(rng)) for _ in range(rng.randint(0, 3))],
        lambda: rng.choice(["text", 3, 2.5, True, None, b"\x00", datetime(2026, 1, 2)]),
        lambda: Described(),
    ])()


@pytest.mark.parametrize("seed", range(4))
def test_dynamodb_values_are_made_plain_as_moto_does(
    installed: None, seed: int, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodb.models import utilities

    from local.moto_request_speedups import dynamo_to_dict

    original = moto_request_speedups._installed["utilities.dynamo_to_dict"]
    rng = random.Random(seed)
    results = [{"Items": [random_moto_value(rng) for _ in range(rng.randint(0, 6))], "Count": rng.randint(0, 9),
                "LastEvaluatedKey": random_moto_value(rng)} for _ in range(40)]
    ours = [dynamo_to_dict(result) for result in results]
    monkeypatch.setattr(utilities, "dynamo_to_dict", original)  # moto's recursion, all the way down
    assert ours == [original(result) for result in results]


def test_plain_dynamodb_values_never_reach_moto_s_code(installed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import dynamo_type

    from local.moto_request_speedups import dynamo_to_dict

    calls: list[Any] = []
    original = moto_request_speedups._installed["utilities.dynamo_to_dict"]

    def counted(obj: Any) -> Any:
        calls.append(obj)
        return original(obj)

    monkeypatch.setitem(moto_request_speedups._installed, "utilities.dynamo_to_dict", counted)
    item = {"pk": {"S": "CASE#1"}, "n": {"N": "2"}, "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
            "ss": {"SS": ["a"]}}
    result = {"Items": [{name: dynamo_type.DynamoType(value) for name, value in item.items()}], "Count": 1}

    assert dynamo_to_dict(result) == {"Items": [item], "Count": 1}
    assert calls == []
    assert dynamo_to_dict({"B": dynamo_type.DynamoType({"B": "aGk="})}) == {"B": {"B": b"hi"}}
    assert len(calls) == 1  # binary values: moto decodes them
