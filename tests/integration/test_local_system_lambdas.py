"""The local system wires a given app's handlers end to end: its own moto with Step Functions execution on,
a state machine per ASL file (placeholders filled, ARN in the app's environment and in stack.json), the
table's stream mapped after the snapshot restore, and everything undone on stop."""
from __future__ import annotations

import json
import os
import threading
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import boto3
import botocore.handlers
import pytest

from local.system import LocalSystem
from tests.integration.lambda_app import Recorder, build_app
from tests.support import free_port, wait_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stepfunctions"
TIMEOUT = 20.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalSystem, Recorder, Any]]:
    from moto.awslambda.models import LambdaFunction

    state_dir = tmp_path_factory.mktemp("local-lambdas")
    snapshot = state_dir / "snapshot" / "dynamodb.json"
    snapshot.parent.mkdir(parents=True)
    # A case from an earlier run: its INSERT record must not start a workflow again.
    snapshot.write_text(json.dumps({"version": 1, "tables": {"cms-local": [
        {"PK": {"S": "START#restored"}, "SK": {"S": "ITEM"}},
    ]}}))
    original_invoke = LambdaFunction.__dict__["invoke"]
    app, seen = build_app()
    with pytest.MonkeyPatch.context() as env:
        env.delenv("AWS_ENDPOINT_URL", raising=False)  # always its own moto
        system = LocalSystem(
            port=free_port(), moto_port=free_port(), state_dir=state_dir, seed=False, app=app,
            stepfunctions_dir=FIXTURES,
        )
        system.start()
        in_process = system.inprocess_aws
        try:
            yield system, seen, original_invoke
        finally:
            system.stop()
    assert LambdaFunction.__dict__["invoke"] is original_invoke  # moto is itself again
    assert in_process is not None and system.inprocess_aws is None  # the process's calls go over HTTP again
    assert not [spec for spec in botocore.handlers.BUILTIN_HANDLERS if spec[1] == in_process.on_send]
    assert not system.stack_file.exists()


def aws(system: LocalSystem, service: str) -> Any:
    return boto3.client(service, endpoint_url=system.stack["awsEndpoint"], region_name=system.stack["region"])


def test_state_machine_arns_are_in_the_environment_and_the_stack_file(running):
    system, _, _ = running
    arn = system.stack["stateMachines"]["lambda_flow"]
    assert arn.endswith(":stateMachine:cms-local-lambda-flow")
    assert os.environ["LAMBDA_FLOW_ARN"] == arn
    assert json.loads(system.stack_file.read_text())["stateMachines"] == {"lambda_flow": arn}
    definition = json.loads(aws(system, "stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"])
    assert definition["States"]["Mark"]["Parameters"]["FunctionName"].endswith(":function:wf_mark")
    assert definition["States"]["WaitForDecision"]["Parameters"]["FunctionName"].endswith(":function:wf_wait")


def test_this_processs_calls_to_its_moto_are_served_on_the_calling_thread(running):
    system, _, _ = running
    server = system.inprocess_aws.server
    app, threads = server.app, []

    def recording(environ, start_response):
        threads.append(threading.get_ident())
        return app(environ, start_response)

    server.app = recording
    try:
        aws(system, "sts").get_caller_identity()
    finally:
        server.app = app
    assert threads == [threading.get_ident()]


def test_a_table_write_starts_a_workflow_that_runs_the_apps_lambdas_and_resumes_on_its_token(running):
    system, seen, _ = running
    aws(system, "dynamodb").put_item(
        TableName=system.stack["tableName"], Item={"PK": {"S": "START#case-1"}, "SK": {"S": "ITEM"}},
    )
    token = wait_for(lambda: seen.tokens.get("case-1"), "the workflow to reach its task-token wait")
    assert "case-1" in seen.marks
    sfn = aws(system, "stepfunctions")
    sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
    execution = f"{system.stack['stateMachines']['lambda_flow'].replace(':stateMachine:', ':execution:')}:case-1"
    status = wait_for(
        lambda: (s := sfn.describe_execution(executionArn=execution)["status"]) != "RUNNING" and s,
        "the execution to finish",
    )
    assert status == "SUCCEEDED"


def test_restored_items_do_not_reach_the_stream_handler(running):
    system, seen, _ = running
    assert system.dispatcher is not None and system.dispatcher.drain(TIMEOUT)
    assert "START#restored" not in {pk for _, pk in seen.stream}
    assert "restored" not in seen.tokens


def test_the_drain_url_waits_for_queued_stream_batches(running):
    system, seen, _ = running
    aws(system, "dynamodb").put_item(
        TableName=system.stack["tableName"], Item={"PK": {"S": "ECHO#drain"}, "SK": {"S": "ITEM"}},
    )
    with urllib.request.urlopen(f"{system.stack['lambdaDrainUrl']}?timeout=10", timeout=15) as response:
        body = json.loads(response.read())
    assert response.status == 200 and body["drained"] is True and body["pending"] == 0
    keys = {pk for _, pk in seen.stream}
    assert {"ECHO#drain", "DERIVED#ECHO#drain"} <= keys  # the handler's own write was handled too
