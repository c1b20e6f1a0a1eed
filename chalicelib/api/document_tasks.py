"""A document's way in: S3's notification of each uploaded version (the bucket's NotificationConfiguration in
the merged template on AWS, local/ locally), and the Lambda functions the document workflow's state machine
calls around the Fargate processor (stepfunctions/document_workflow.asl.json)."""
from __future__ import annotations

from typing import Any

from ..bootstrap import container
from . import blueprint

handlers = blueprint()


# A lambda_function, not on_s3_event: Chalice cannot package notifications of a bucket it does not create.
@handlers.lambda_function(name="on_document_uploaded")
def on_document_uploaded(event: dict[str, Any], context: Any) -> Any:
    return container().documents.on_s3_event(event)


@handlers.lambda_function(name="doc_process_start")
def doc_process_start(event: dict[str, Any], context: Any) -> Any:
    return container().processing.prepare(
        event["caseId"], event["documentId"], event["versionId"], event.get("executionId")
    )


@handlers.lambda_function(name="doc_process_finish")
def doc_process_finish(event: dict[str, Any], context: Any) -> Any:
    return container().processing.finish(event["caseId"], event["documentId"], event["versionId"])


@handlers.lambda_function(name="doc_process_failed")
def doc_process_failed(event: dict[str, Any], context: Any) -> Any:
    return container().processing.fail(event["caseId"], event["documentId"], event["versionId"], event.get("error"))
