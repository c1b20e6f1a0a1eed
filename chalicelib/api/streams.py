"""The consumers of the cases table's stream: the workflow's start and the cache's backstop, the case data
product's publisher, the integration events' publisher and the notifications for people, each its own function
so publishing or notifying never delays or fails a workflow's start."""
from __future__ import annotations

import os
from typing import Any

from chalice.app import DynamoDBEvent

from ..bootstrap import container
from . import blueprint

handlers = blueprint()

# The stream ARN is only known once the table exists: the merged template sets it on AWS; locally the local
# system creates the event source mapping itself from app.event_sources. Read when app.py imports this module.
CASES_STREAM_ARN = os.environ.get(
    "CASES_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/cms-local/stream/local"
)


def _batch_failures(failed: list[str]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in failed]}


@handlers.on_dynamodb_record(stream_arn=CASES_STREAM_ARN, name="on_case_stream", batch_size=25)
def on_case_stream(event: DynamoDBEvent) -> dict[str, Any]:
    from ..cache.invalidation import stale_keys_of_records  # loads with the cache, on the first batch

    records = event.to_dict()["Records"]
    # The backstop of the write path's own invalidation; fails open like every cache call.
    container().cache.delete(*stale_keys_of_records(records))
    return _batch_failures(container().workflow.on_table_records(records))


@handlers.on_dynamodb_record(stream_arn=CASES_STREAM_ARN, name="publish_case_data", batch_size=100)
def publish_case_data(event: DynamoDBEvent) -> dict[str, Any]:
    return _batch_failures(container().case_data.publish(event.to_dict()["Records"]))


# Its own function: a slow or failing bus never delays a workflow's start (schemas/events/, README).
@handlers.on_dynamodb_record(stream_arn=CASES_STREAM_ARN, name="publish_integration_events", batch_size=100)
def publish_integration_events(event: DynamoDBEvent) -> dict[str, Any]:
    return _batch_failures(container().integration.publisher.publish(event.to_dict()["Records"]))


@handlers.on_dynamodb_record(stream_arn=CASES_STREAM_ARN, name="notify_people", batch_size=100)
def notify_people(event: DynamoDBEvent) -> dict[str, Any]:
    return _batch_failures(container().notify.on_records(event.to_dict()["Records"]))
