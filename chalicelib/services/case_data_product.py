"""The case data product: publishes a row per audit event of every case from the table's stream to the
data product bucket, and describes itself (contract, location, freshness) for `GET /data-products/cases`."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from ..adapters.dynamo import keys
from ..adapters.dynamo.stream import item_key
from ..domain.access import Action, Principal, require
from ..domain.case_rows import PREFIX, build_row, image, object_key
from ..domain.customers import iso
from ..domain.data_products import DataProductDescriptor, DataProductView, Freshness
from ..domain.models import AuditEvent
from ..ports import ObjectStore

log = logging.getLogger(__name__)
CONTRACT_DIR = Path(__file__).resolve().parent.parent / "data_products" / "cases" / "v1"
ROW_CONTENT_TYPE = "application/x-ndjson"

EventReader = Callable[[str, int], Optional[AuditEvent]]


class ProvenanceMismatch(Exception):
    """The case item's audit head is not the hash of the event it names: the row would lie about its origin."""


@lru_cache(maxsize=1)
def contract() -> tuple[dict[str, Any], dict[str, Any]]:
    """(descriptor, JSON Schema) as the repository holds them."""
    return (
        json.loads((CONTRACT_DIR / "descriptor.json").read_text()),
        json.loads((CONTRACT_DIR / "schema.json").read_text()),
    )


def descriptor_for(bucket: str) -> DataProductDescriptor:
    raw, _ = contract()
    return DataProductDescriptor.model_validate_json(json.dumps(raw).replace("${DataProductBucket}", bucket))


def row_line(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CaseDataProduct:
    def __init__(
        self, store: ObjectStore, bucket: str, secret: Callable[[], bytes], read_event: EventReader,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """`secret`: the pseudonymisation key (fetched when first needed); `read_event`: an audit event by
        (case id, seq), for a case change whose event is not in the same stream batch."""
        self._store, self.bucket, self._secret, self._read_event, self._clock = store, bucket, secret, read_event, clock

    def publish(self, records: Iterable[dict[str, Any]]) -> list[str]:
        """Write a row for each case change in the batch; return the sequence numbers of the records that failed,
        as Lambda's ReportBatchItemFailures wants them for a DynamoDB stream (it retries from the first)."""
        records = list(records)
        events = _events_in(records)
        failed = []
        for record in records:
            try:
                row = self._row(record, events)
                if row is not None:
                    self._store.put(object_key(row), row_line(row), ROW_CONTENT_TYPE)
            except Exception:  # one bad record must not hold back the rest of the batch
                log.exception("could not publish stream record %s", record.get("eventID"))
                failed.append(str((record.get("dynamodb") or {}).get("SequenceNumber") or record.get("eventID")))
        return failed

    def _row(self, record: dict[str, Any], events: dict[tuple[str, int], AuditEvent]) -> Optional[dict[str, Any]]:
        change = record.get("dynamodb") or {}
        if record.get("eventName") not in ("INSERT", "MODIFY") or item_key(record)[1] != keys.CASE_SK:
            return None
        new, old = image(change.get("NewImage")), image(change.get("OldImage"))
        seq = int(new["auditSeq"])
        if old and int(old.get("auditSeq", 0)) == seq:
            return None  # the case item changed without a new audit event: nothing happened to publish
        case_id = str(new["id"])
        event = events.get((case_id, seq)) or self._read_event(case_id, seq)
        if event is None:
            raise LookupError(f"audit event {seq} of case {case_id} not found")
        if event.hash != new["auditHash"]:
            raise ProvenanceMismatch(f"case {case_id}: audit head {new['auditHash']} is not event {seq}'s hash")
        return build_row(new, event, self._secret())

    def view(self, principal: Principal) -> DataProductView:
        require(principal, Action.READ_DATA_PRODUCTS)
        descriptor = descriptor_for(self.bucket)
        newest = self._store.newest_write(PREFIX)
        now = self._clock()
        return DataProductView(
            descriptor=descriptor, contract=contract()[1], location=f"s3://{self.bucket}/{PREFIX}",
            freshness=Freshness(
                newest_row_published_at=iso(newest) if newest else None,
                age_seconds=max(0, int((now - newest).total_seconds())) if newest else None,
                sla_seconds=descriptor.freshness_sla_seconds,
            ),
        )


def _events_in(records: list[dict[str, Any]]) -> dict[tuple[str, int], AuditEvent]:
    """The audit events inserted in this batch (a case change and its event are written together)."""
    events = {}
    for record in records:
        change = record.get("dynamodb") or {}
        if record.get("eventName") != "INSERT" or not item_key(record)[1].startswith(keys.EVENT_PREFIX):
            continue
        try:
            event = AuditEvent.model_validate_json(image(change.get("NewImage"))["body"])
        except (KeyError, ValueError):
            continue  # the reader fetches it instead
        events[(event.case_id, event.seq)] = event
    return events
