"""The workflow engine on AWS Step Functions (boto3; the client is built on first use)."""
from __future__ import annotations

import json
from typing import Any, Callable, Optional

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import DependencyUnavailable

_GONE = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


class StepFunctionsEngine:
    def __init__(self, state_machine_arn: str, client_factory: Callable[[], Any]) -> None:
        self._arn, self._factory, self._client = state_machine_arn, client_factory, None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def start(self, name: str, payload: dict[str, Any]) -> str:
        execution_arn = self._arn.replace(":stateMachine:", ":execution:") + f":{name}"
        try:
            return str(self.client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))[
                "executionArn"
            ])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return execution_arn  # a re-delivered trigger: the run is already there
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output))
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _GONE:
                return False
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc

    def history(self, execution_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_id, "maxResults": 1000}
        try:
            while True:
                page = self.client.get_execution_history(**kwargs)
                events += page["events"]
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return []
            raise _unavailable(exc) from exc
        return _states(events)

    def status(self, execution_id: str) -> Optional[str]:
        try:
            return str(self.client.describe_execution(executionArn=execution_id)["status"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise _unavailable(exc) from exc


def _states(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reduce raw history events to the states a person cares about: entered, exited, when."""
    states: list[dict[str, Any]] = []
    for event in events:
        kind = event["type"]
        at = event["timestamp"].isoformat() if hasattr(event["timestamp"], "isoformat") else str(event["timestamp"])
        if kind.endswith("StateEntered"):
            states.append({"state": event["stateEnteredEventDetails"]["name"], "enteredAt": at, "exitedAt": None})
        elif kind.endswith("StateExited") and states:
            states[-1]["exitedAt"] = at
        elif kind in ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"):
            states.append({"state": kind, "enteredAt": at, "exitedAt": at})
    return states


def _unavailable(exc: Exception) -> DependencyUnavailable:
    return DependencyUnavailable(f"the workflow engine is unavailable; retry shortly ({type(exc).__name__})")
