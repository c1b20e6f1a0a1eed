"""Fargate, locally: moto runs ECS tasks as records only, so a runner does the container's work.

- moto 5.2.5's ported Step Functions interpreter does not convert `ecs:runTask` parameters and
  responses between the ASL's PascalCase and botocore's shapes; `patch_ecs_integration` does it with
  botocore's own ECS service model (pinned: checked by `check_moto` at start).
- Tasks are kept RUNNING (moto's state manager, manual progression) until the runner has executed
  `fargate/`'s entry point as a subprocess with the task's container-override environment, then it
  stops the task, recording the exit code in the stop reason.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any, Optional

log = logging.getLogger("local")
CONTAINER = "processor"


def patch_ecs_integration() -> None:
    import botocore.session
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (
        StateTaskServiceEcs,
    )

    model = botocore.session.get_session().get_service_model("ecs")

    def operation(self: Any, action: Optional[str]) -> Any:
        name = action or self._get_boto_service_action()
        return model.operation_model("".join(part.title() for part in name.split("_")))

    def normalise_parameters(self: Any, parameters: dict, boto_service_name: Any = None,
                             service_action_name: Any = None) -> None:
        self._to_boto_request(parameters, operation(self, service_action_name).input_shape)

    def normalise_response(self: Any, response: Any, boto_service_name: Any = None,
                           service_action_name: Any = None) -> None:
        self._from_boto_response(response, operation(self, service_action_name).output_shape)

    StateTaskServiceEcs._normalise_parameters = normalise_parameters
    StateTaskServiceEcs._normalise_response = normalise_response


def provision_ecs(endpoint: str, region: str, name: str = "cms-local") -> dict[str, str]:
    """Cluster, processor task definition and the network a Fargate task needs (idempotent enough for moto)."""
    from .provision import client

    ec2, ecs = client("ec2", endpoint, region), client("ecs", endpoint, region)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"{name}-processor", Description="document processor",
                                      VpcId=vpc)["GroupId"]
    cluster = ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"]
    task_definition = ecs.register_task_definition(
        family=f"{name}-processor", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="1024",
        memory="2048",
        containerDefinitions=[
            {"name": CONTAINER, "image": "cms-processor:local", "essential": True, "cpu": 1024, "memory": 2048}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    # Keep tasks RUNNING until the runner stops them (moto would otherwise advance them on its own).
    body = json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1_000_000_000}})
    request = urllib.request.Request(f"{endpoint}/moto-api/state-manager/set-transition", data=body.encode(),
                                     method="POST")
    urllib.request.urlopen(request, timeout=5).read()
    return {"ClusterArn": cluster, "ProcessorTaskDefinitionArn": task_definition, "SubnetId": subnet,
            "SecurityGroupId": group}


class FargateRunner:
    """Runs each RUNNING task of the cluster once: `python -m processor` in `fargate/`, then stops it."""

    def __init__(self, ecs: Any, cluster: str, workdir: Path, env: dict[str, str], poll_seconds: float = 0.3) -> None:
        self._ecs, self._cluster, self._workdir, self._env, self._poll = ecs, cluster, workdir, env, poll_seconds
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fargate-runner", daemon=True)
        self.runs: list[tuple[str, int]] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                arns = self._ecs.list_tasks(cluster=self._cluster, desiredStatus="RUNNING")["taskArns"]
                for arn in arns:
                    if arn not in self._seen:
                        self._seen.add(arn)
                        threading.Thread(target=self._run, args=(arn,), daemon=True).start()
            except Exception:  # the runner must outlive a hiccup of the endpoint
                log.exception("fargate runner: listing tasks failed")

    def _run(self, arn: str) -> None:
        code = -1
        try:
            task = self._ecs.describe_tasks(cluster=self._cluster, tasks=[arn])["tasks"][0]
            overrides = task.get("overrides", {}).get("containerOverrides", [])
            env = {e["name"]: e["value"] for o in overrides for e in o.get("environment", [])}
            done = subprocess.run(
                [sys.executable, "-m", "processor"], cwd=self._workdir, env={**os.environ, **self._env, **env},
                capture_output=True, text=True, timeout=900,
            )
            code = done.returncode
            if code:
                log.warning("processor task %s exited %d: %s", arn, code, done.stderr[-2000:])
        except Exception:
            log.exception("fargate runner: task %s could not run", arn)
        finally:
            self.runs.append((arn, code))
            self._ecs.stop_task(cluster=self._cluster, task=arn, reason=f"Essential container exited with code {code}")
