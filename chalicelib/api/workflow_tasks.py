"""The Lambda functions the case workflow's state machine calls (stepfunctions/case_workflow.asl.json)."""
from __future__ import annotations

from typing import Any

from ..bootstrap import container
from . import blueprint

handlers = blueprint()


@handlers.lambda_function(name="wf_initiate")
def wf_initiate(event: dict[str, Any], context: Any) -> Any:
    return container().workflow.initiate(event["caseId"], event["executionId"])


@handlers.lambda_function(name="wf_assign")
def wf_assign(event: dict[str, Any], context: Any) -> Any:
    return container().workflow.assign(event["caseId"])


@handlers.lambda_function(name="wf_wait")
def wf_wait(event: dict[str, Any], context: Any) -> Any:
    container().workflow.wait(event["caseId"], event["stage"], event["taskToken"], event["executionId"])
    return {"waiting": event["stage"]}


@handlers.lambda_function(name="wf_escalate")
def wf_escalate(event: dict[str, Any], context: Any) -> Any:
    return container().workflow.escalate(event["caseId"], event["stage"])


@handlers.lambda_function(name="wf_complete")
def wf_complete(event: dict[str, Any], context: Any) -> Any:
    return container().workflow.complete(event["caseId"], event.get("outcome", "RESOLVED"))


@handlers.lambda_function(name="wf_rollback")
def wf_rollback(event: dict[str, Any], context: Any) -> Any:
    return container().workflow.rollback(event["caseId"], event.get("error"))


@handlers.lambda_function(name="wf_compensate")
def wf_compensate(event: dict[str, Any], context: Any) -> Any:
    return container().compensation.compensate(event["caseId"])
