"""The webhook delivery function: takes the delivery queue's messages (events from the bus's rule, and retries
of deliveries), off the request path. Messages that could not be handled are received again."""
from __future__ import annotations

import os
from typing import Any

from chalice.app import SQSEvent

from ..bootstrap import container
from . import blueprint

handlers = blueprint()

# The queue's ARN is only known once it exists: the merged template sets it on AWS; locally the local system
# creates the queue this placeholder names and polls it (local/queues.py). Read when app.py imports this module.
WEBHOOK_QUEUE_ARN = os.environ.get("WEBHOOK_QUEUE_ARN", "arn:aws:sqs:us-east-1:000000000000:cms-local-webhooks")


@handlers.on_sqs_message(queue_arn=WEBHOOK_QUEUE_ARN, name="deliver_webhooks", batch_size=10)
def deliver_webhooks(event: SQSEvent) -> dict[str, Any]:
    messages = [(record["messageId"], record["body"]) for record in event.to_dict()["Records"]]
    failed = container().integration.delivery.handle(messages)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
