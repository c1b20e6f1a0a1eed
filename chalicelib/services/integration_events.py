"""The integration events' publisher: reads the audit events a stream batch inserts and puts the integration
event of each (domain/integration_events.py) on the bus, in calls of at most 10."""
from __future__ import annotations

import logging
from typing import Any, Iterable, Protocol, Sequence

from ..adapters.dynamo.stream import inserted_audit_event
from ..domain.integration_events import integration_event

log = logging.getLogger(__name__)
PUT_BATCH = 10  # PutEvents' limit


class EventBus(Protocol):
    def put(self, events: Sequence[dict[str, Any]]) -> list[int]:
        """Publish up to 10 events; the indices of those not taken. Raises when the call fails as a whole."""


def record_id(record: dict[str, Any]) -> str:
    """How Lambda's ReportBatchItemFailures names a DynamoDB stream record: its sequence number."""
    return str((record.get("dynamodb") or {}).get("SequenceNumber") or record.get("eventID"))


class IntegrationEventPublisher:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    def publish(self, records: Iterable[dict[str, Any]]) -> list[str]:
        """Publish the batch's integration events; return the ids of the records whose event was not published,
        for Lambda to retry (it retries from the first: events after it go out again, under the same ids)."""
        failed: list[str] = []
        ready: list[tuple[str, dict[str, Any]]] = []
        for record in records:
            try:
                audit = inserted_audit_event(record)
                event = integration_event(audit) if audit is not None else None
            except ValueError:  # an unreadable record must not hold back the rest of the batch
                log.exception("could not read stream record %s", record.get("eventID"))
                failed.append(record_id(record))
                continue
            if event is not None:
                ready.append((record_id(record), event))
        for start in range(0, len(ready), PUT_BATCH):
            chunk = ready[start:start + PUT_BATCH]
            try:
                refused = self._bus.put([event for _, event in chunk])
            except Exception:  # the bus is down or throttling: the whole chunk is retried
                log.exception("could not publish %d integration events", len(chunk))
                refused = list(range(len(chunk)))
            for index in refused:
                log.warning("the bus refused integration event %s", chunk[index][1]["id"])
                failed.append(chunk[index][0])
        return failed
