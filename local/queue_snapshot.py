"""Save and restore the messages of moto's SQS queues across restarts (moto 5.2.5, read and written in this
process as local/snapshot.py does the table): the webhook deliveries waiting in the delivery queue, their
retries (with the time each may be received again) and the dead-letter queue's failed deliveries.

A message comes back as it would be once its visibility timeout expired: visible, its old receipt handles
no longer valid, its receive count kept (SQS's redrive counts receives, not restarts). A retry's delay is
a point in time, kept as such: one due while the system was down is received at once."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from .snapshot import SNAPSHOT_VERSION, b64_text, write_json

log = logging.getLogger("local.snapshot")

# moto's Message attribute for each saved field, besides its id and body.
_FIELDS = {
    "messageAttributes": "message_attributes", "senderId": "sender_id", "sentTimestamp": "sent_timestamp",
    "firstReceiveTimestamp": "approximate_first_receive_timestamp", "receiveCount": "approximate_receive_count",
    "delayedUntil": "delayed_until", "groupId": "group_id", "deduplicationId": "deduplication_id",
    "sequenceNumber": "sequence_number",
}


def dump_queues(backend: Any, path: Path) -> int:
    """Write the messages of every queue of a moto `SQSBackend` (one region's) to `path`; return the count."""
    queues = {
        name: [_message_entry(message) for message in list(queue._messages)]
        for name, queue in list(backend.queues.items())
    }
    write_json(path, {"version": SNAPSHOT_VERSION, "queues": queues}, b64_text)
    return sum(len(messages) for messages in queues.values())


def restore_queues(backend: Any, path: Path) -> int:
    """Put the saved messages back into the queues of the same names (created before: a queue the snapshot
    names that does not exist is logged and skipped); return the count restored."""
    from moto.sqs.models import Message

    if not path.is_file():
        return 0
    restored = 0
    for name, messages in json.loads(path.read_text()).get("queues", {}).items():
        queue = backend.queues.get(name)
        if queue is None:
            if messages:
                log.warning("the snapshot has %d messages of queue %s, which no longer exists", len(messages), name)
            continue
        for saved in messages:
            message = Message(saved["id"], saved["body"], saved.get("systemAttributes"))
            for field, attribute in _FIELDS.items():
                if field in saved:
                    setattr(message, attribute, saved[field])
            queue.add_message(message)  # visible now (visible_at 0), with no receipt handle
            restored += 1
    return restored


def moto_sqs(account: str, region: str) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[account][region]


def _message_entry(message: Any) -> dict[str, Any]:
    entry = {"id": message.id, "body": message.body, "systemAttributes": message.system_attributes}
    entry.update({field: getattr(message, attribute) for field, attribute in _FIELDS.items()})
    return entry
