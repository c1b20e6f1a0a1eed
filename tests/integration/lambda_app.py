"""A tiny Chalice app for the local Lambda tests: it does what the real app's workflow handlers will do
(Lambda tasks, a task-token wait, a stream handler that writes back and starts executions) without
depending on app.py, which other work is still changing."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import boto3
from chalice import Chalice

PLACEHOLDER_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/placeholder/stream/local"


@dataclass
class Recorder:
    marks: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    stream: list[tuple[str, str]] = field(default_factory=list)  # (eventID, PK) per record the handler saw


def build_app(
    endpoint: Callable[[], str] = lambda: os.environ["AWS_ENDPOINT_URL"],
    table: Callable[[], str] = lambda: os.environ["TABLE_NAME"],
    machine_arn: Callable[[], Optional[str]] = lambda: os.environ.get("LAMBDA_FLOW_ARN"),
) -> tuple[Chalice, Recorder]:
    app = Chalice(app_name="local-lambdas-it")
    seen = Recorder()

    def aws(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint(), region_name="us-east-1")

    def put(pk: str) -> None:
        aws("dynamodb").put_item(TableName=table(), Item={"PK": {"S": pk}, "SK": {"S": "ITEM"}})

    @app.lambda_function(name="wf_mark")
    def wf_mark(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("fail"):
            raise ValueError(f"asked to fail {event['id']}")
        put(f"MARK#{event['id']}")
        seen.marks.append(event["id"])
        return {"marked": event["id"], "function": context.function_name}

    @app.lambda_function(name="wf_wait")
    def wf_wait(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.tokens[event["id"]] = event["token"]
        return {"stored": True}

    @app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM)
    def on_record(event: Any) -> None:
        for record in event:
            pk = record.keys["PK"]["S"]
            seen.stream.append((record.event_id, pk))
            if pk.startswith("FAIL#"):
                raise RuntimeError(f"cannot handle {pk}")
            if pk.startswith("ECHO#") and record.event_name == "INSERT":
                put(f"DERIVED#{pk}")  # a write to the table whose stream is being handled
            if pk.startswith("START#") and machine_arn():
                case_id = pk.split("#", 1)[1]
                aws("stepfunctions").start_execution(
                    stateMachineArn=machine_arn(), name=case_id, input=json.dumps({"id": case_id, "fail": False}),
                )

    @app.route("/ping")
    def ping() -> dict[str, Any]:
        return {"ok": True}

    return app, seen
