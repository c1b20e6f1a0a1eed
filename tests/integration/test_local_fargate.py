"""Local Fargate: Step Functions' ecs:runTask.sync starts a task on moto, the local runner executes the
container's entry point with the task's override environment, stops the task, and the run goes on."""
from __future__ import annotations

import json
import textwrap
import time
import urllib.request

import boto3
import moto

from local.fargate import FargateRunner, patch_ecs_integration, provision_ecs

REGION = "us-east-1"


def _definition(res: dict[str, str]) -> str:
    return json.dumps({
        "StartAt": "Process",
        "States": {"Process": {
            "Type": "Task", "Resource": "arn:aws:states:::ecs:runTask.sync", "TimeoutSeconds": 60,
            "Parameters": {
                "Cluster": res["ClusterArn"], "TaskDefinition": res["ProcessorTaskDefinitionArn"],
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {"AwsvpcConfiguration": {"Subnets": [res["SubnetId"]],
                                                                 "SecurityGroups": [res["SecurityGroupId"]]}},
                "Overrides": {"ContainerOverrides": [{"Name": "processor", "Environment": [
                    {"Name": "MARKER", "Value.$": "$.marker"}]}]},
            },
            "End": True,
        }},
    })


def test_moto_is_the_version_the_ecs_patch_was_written_for():
    assert moto.__version__ == "5.2.5"  # local/fargate.py patches its Step Functions ECS integration


def test_a_state_machine_runs_a_fargate_task_through_the_local_runner(moto_endpoint, tmp_path):
    urllib.request.urlopen(urllib.request.Request(
        f"{moto_endpoint}/moto-api/config", method="POST",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
    )).read()
    patch_ecs_integration()
    resources = provision_ecs(moto_endpoint, REGION, name="fargate-test")
    package = tmp_path / "processor"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(textwrap.dedent(f"""
        import os, pathlib
        pathlib.Path({str(tmp_path / 'ran')!r}).write_text(os.environ["MARKER"])
    """))
    ecs = boto3.client("ecs", endpoint_url=moto_endpoint, region_name=REGION)
    runner = FargateRunner(ecs, resources["ClusterArn"], tmp_path, env={})
    runner.start()
    try:
        sfn = boto3.client("stepfunctions", endpoint_url=moto_endpoint, region_name=REGION)
        role = "arn:aws:iam::123456789012:role/sfn"
        machine = sfn.create_state_machine(name="fargate-test", definition=_definition(resources), roleArn=role)
        execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="run-1",
                                        input=json.dumps({"marker": "hello"}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = sfn.describe_execution(executionArn=execution["executionArn"])["status"]
            if status != "RUNNING":
                break
            time.sleep(0.2)
        assert status == "SUCCEEDED", sfn.get_execution_history(executionArn=execution["executionArn"])
        assert (tmp_path / "ran").read_text() == "hello"
        assert [code for _, code in runner.runs] == [0]
        output = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["output"])
        assert output["LastStatus"] == "STOPPED" and "exited with code 0" in output["StoppedReason"]
    finally:
        runner.stop()
