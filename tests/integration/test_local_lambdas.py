"""Lambda code run in-process on moto: direct invokes, Step Functions Lambda tasks (plain and with a task
token) and DynamoDB stream records reach a Chalice app's own handlers, and moto's stream quirks
(re-sent records, no StartingPosition) are absorbed. The app is a tiny one defined for the tests."""
from __future__ import annotations

import inspect
import json
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest

from local.functions import map_streams, register_functions, service_role
from local.lambdas import INVOKE_PARAMETERS, MOTO_PIN, LambdaDispatcher, MotoPinError, check_moto, lambda_function_names
from local.statemachines import SubstitutionError, asl_files, deploy, function_substitutions, substitute
from tests.integration.lambda_app import Recorder, build_app
from tests.support import wait_for

REGION = "us-east-1"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stepfunctions"
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def wired(moto_endpoint: str, aws: Callable[[str], Any]) -> Iterator[SimpleNamespace]:
    request = urllib.request.Request(
        f"{moto_endpoint}/moto-api/config", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
    )
    urllib.request.urlopen(request, timeout=10).read()
    table = f"lambdas-{uuid.uuid4().hex[:8]}"
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    app, seen = build_app(lambda: moto_endpoint, lambda: table, lambda: None)
    dispatcher = LambdaDispatcher(app)
    dispatcher.install()
    try:
        functions = register_functions(aws("lambda"), aws("iam"), lambda_function_names(app))
        ddb.put_item(TableName=table, Item={"PK": {"S": "BEFORE#1"}, "SK": {"S": "ITEM"}})  # before the mapping
        streams = map_streams(aws("lambda"), ddb, aws("dynamodbstreams"), app, dispatcher, table)
        machines = deploy(
            aws("stepfunctions"), asl_files(FIXTURES), function_substitutions(functions),
            service_role(aws("iam"), "it-states", "states.amazonaws.com"), prefix=f"it-{uuid.uuid4().hex[:6]}",
        )
        yield SimpleNamespace(
            aws=aws, table=table, seen=seen, dispatcher=dispatcher, functions=functions, streams=streams,
            machine=machines["lambda_flow"],
        )
    finally:
        dispatcher.uninstall()
        for mapping in aws("lambda").list_event_source_mappings(FunctionName="on_record")["EventSourceMappings"]:
            aws("lambda").delete_event_source_mapping(UUID=mapping["UUID"])
        ddb.delete_table(TableName=table)


def put(wired: SimpleNamespace, pk: str) -> None:
    wired.aws("dynamodb").put_item(TableName=wired.table, Item={"PK": {"S": pk}, "SK": {"S": "ITEM"}})


def stream_keys(seen: Recorder, prefix: str) -> list[str]:
    return [pk for _, pk in seen.stream if pk.startswith(prefix)]


# -- (d) the pin ------------------------------------------------------------------------------------

def test_moto_is_the_version_the_patch_was_written_for():
    import moto
    from moto.awslambda.models import LambdaFunction

    assert moto.__version__ == MOTO_PIN, "local/lambdas.py patches moto internals: re-check them, then move the pin"
    assert tuple(inspect.signature(LambdaFunction.invoke).parameters) == INVOKE_PARAMETERS
    check_moto()


def test_another_moto_version_is_refused_with_a_clear_error(monkeypatch):
    import moto

    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(MotoPinError, match="moto 9.9.9 is installed"):
        check_moto()
    with pytest.raises(MotoPinError):
        LambdaDispatcher(build_app()[0]).install()


# -- registration -----------------------------------------------------------------------------------

def test_every_event_handler_and_lambda_function_is_a_moto_function_but_no_route(wired):
    assert sorted(wired.functions) == ["on_record", "wf_mark", "wf_wait"]
    for name, arn in wired.functions.items():
        assert arn == f"arn:aws:lambda:{REGION}:123456789012:function:{name}"
        assert wired.aws("lambda").get_function(FunctionName=name)["Configuration"]["Runtime"] == "python3.11"
    table_stream = wired.aws("dynamodb").describe_table(TableName=wired.table)["Table"]["LatestStreamArn"]
    assert wired.streams == {"on_record": table_stream}  # the decorator's placeholder ARN replaced


# -- (a) direct invokes -----------------------------------------------------------------------------

def test_an_invoke_runs_the_handler_and_returns_its_result(wired):
    response = wired.aws("lambda").invoke(FunctionName="wf_mark", Payload=json.dumps({"id": "direct-1"}))
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"marked": "direct-1", "function": "wf_mark"}
    key = {"PK": {"S": "MARK#direct-1"}, "SK": {"S": "ITEM"}}
    item = wired.aws("dynamodb").get_item(TableName=wired.table, Key=key)
    assert "Item" in item  # the handler's own AWS call reached moto


def test_an_exception_is_an_unhandled_function_error(wired):
    response = wired.aws("lambda").invoke(FunctionName="wf_mark", Payload=json.dumps({"id": "x", "fail": True}))
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read()) == {"errorType": "ValueError", "errorMessage": "asked to fail x"}


def test_an_event_invoke_runs_later_on_the_worker(wired):
    response = wired.aws("lambda").invoke(
        FunctionName="wf_mark", InvocationType="Event", Payload=json.dumps({"id": "async-1"}),
    )
    assert response["StatusCode"] == 202
    assert wired.dispatcher.drain(TIMEOUT)
    assert "async-1" in wired.seen.marks


# -- (b) Step Functions -----------------------------------------------------------------------------

def test_a_state_machine_runs_lambda_tasks_and_resumes_on_the_task_token(wired):
    sfn = wired.aws("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=wired.machine, name="flow-ok", input=json.dumps({"id": "flow-ok", "fail": False}),
    )["executionArn"]
    token = wait_for(lambda: wired.seen.tokens.get("flow-ok"), "wf_wait to store its task token")
    assert "flow-ok" in wired.seen.marks  # the plain lambda:invoke task ran first
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"  # waiting on the token

    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    done = wait_for(lambda: _finished(sfn, execution), "the execution to finish")
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["mark"] == {"marked": "flow-ok", "function": "wf_mark"}
    assert output["decision"] == {"approved": True}


def test_a_failing_lambda_task_fails_the_execution_with_the_exception_name(wired):
    sfn = wired.aws("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=wired.machine, name="flow-fail", input=json.dumps({"id": "flow-fail", "fail": True}),
    )["executionArn"]
    done = wait_for(lambda: _finished(sfn, execution), "the execution to finish")
    assert done["status"] == "FAILED"
    assert done["error"] == "ValueError"
    assert "flow-fail" not in wired.seen.tokens


def test_an_unknown_placeholder_is_refused_by_name():
    with pytest.raises(SubstitutionError, match=r"\$\{WfMissingFunctionArn\}"):
        substitute({"Resource": "${WfMissingFunctionArn}"}, {"WfMarkFunctionArn": "arn"}, "x.asl.json")


def _finished(sfn: Any, execution: str) -> dict[str, Any] | None:
    described = sfn.describe_execution(executionArn=execution)
    return None if described["status"] == "RUNNING" else dict(described)


# -- (c) DynamoDB stream ----------------------------------------------------------------------------

def test_each_record_reaches_the_handler_exactly_once_even_when_it_writes_to_its_own_table(wired):
    for n in range(3):
        put(wired, f"ECHO#{n}")
    assert wired.dispatcher.drain(TIMEOUT)
    expected = {f"ECHO#{n}" for n in range(3)} | {f"DERIVED#ECHO#{n}" for n in range(3)}
    keys = Counter(stream_keys(wired.seen, "ECHO#") + stream_keys(wired.seen, "DERIVED#"))
    assert keys == Counter(expected)
    assert all(count == 1 for count in Counter(event_id for event_id, _ in wired.seen.stream).values())


def test_records_written_before_the_mapping_are_not_delivered(wired):
    put(wired, "AFTER-MAPPING#1")
    assert wired.dispatcher.drain(TIMEOUT)
    assert stream_keys(wired.seen, "AFTER-MAPPING#") == ["AFTER-MAPPING#1"]
    assert stream_keys(wired.seen, "BEFORE#") == []


def test_a_failing_batch_is_logged_and_later_records_still_arrive(wired):
    failures = wired.dispatcher.stats.failures
    put(wired, "FAIL#1")
    put(wired, "LATER#1")
    assert wired.dispatcher.drain(TIMEOUT)
    assert stream_keys(wired.seen, "FAIL#") == ["FAIL#1"]
    assert stream_keys(wired.seen, "LATER#") == ["LATER#1"]
    assert wired.dispatcher.stats.failures == failures + 1
    assert wired.dispatcher.stats.errors[-1] == "on_record: RuntimeError: cannot handle FAIL#1"


def test_records_moto_sends_again_are_dropped_and_every_answer_is_truthy(wired):
    """moto re-sends records until an invoke answers truthy, and re-sends earlier ones when a handler
    writes to the same table; the dispatcher must acknowledge every time and deliver once."""
    function = SimpleNamespace(
        function_name="on_record", memory_size=128, timeout=3, function_arn=wired.functions["on_record"],
    )
    record = {
        "eventID": f"resent-{uuid.uuid4().hex}", "eventName": "INSERT", "eventVersion": "1.0",
        "eventSource": "aws:dynamodb", "awsRegion": REGION, "eventSourceARN": wired.streams["on_record"],
        "dynamodb": {
            "ApproximateCreationDateTime": time.time(), "Keys": {"PK": {"S": "RESENT#1"}, "SK": {"S": "ITEM"}},
            "SequenceNumber": "1100000000017454423009", "SizeBytes": 1, "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    body = json.dumps({"Records": [record]})
    answers = [wired.dispatcher.invoke(function, body, {}, {}) for _ in range(3)]
    assert all(json.loads(answer) for answer in answers)
    assert wired.dispatcher.drain(TIMEOUT)
    assert stream_keys(wired.seen, "RESENT#") == ["RESENT#1"]
