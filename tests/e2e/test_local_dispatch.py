"""The running local system runs the app's Lambda handlers in-process: its stack file names the state
machines and the drain URL that end-to-end tests use to wait for stream handlers."""
from __future__ import annotations

from pathlib import Path

import boto3

from local.statemachines import asl_files, machine_name, stem

ROOT = Path(__file__).resolve().parents[2]


def test_every_asl_file_is_a_state_machine_in_the_stack_file(local_stack):
    expected = {stem(path) for path in asl_files(ROOT / "stepfunctions")}
    assert set(local_stack["stateMachines"]) == expected
    sfn = boto3.client(
        "stepfunctions", endpoint_url=local_stack["awsEndpoint"], region_name=local_stack["region"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    for name, arn in local_stack["stateMachines"].items():
        assert sfn.describe_state_machine(stateMachineArn=arn)["name"] == machine_name(name)


def test_the_drain_url_answers_when_the_stream_handlers_are_idle(drain_lambdas):
    counters = drain_lambdas(30)
    assert counters["drained"] is True
    assert counters["pending"] == 0
