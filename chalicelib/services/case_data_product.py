"""The case data product: publishes a row per audit event of every case from the table's stream to the
data product bucket, and describes itself (contract, location, freshness) for `GET /data-products/cases`."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from ..adapters.dynamo import keys
from ..adapters.dynamo.stream import item_key
from ..domain.access import Action, Principal, require
from ..domain.case_rows import PREFIX, ROWS_PREFIX, build_row, build_row_v2, case_type_version, image, object_key
from ..domain.custom_fields import FieldDefinition
from ..domain.customers import iso
from ..domain.data_products import ContractVersion, DataProductDescriptor, DataProductView, Freshness
from ..domain.models import AuditEvent
from ..ports import ObjectStore

log = logging.getLogger(__name__)
CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "data_products" / "cases"
CONTRACT_VERSIONS = ("1", "2")
ROW_CONTENT_TYPE = "application/x-ndjson"

EventReader = Callable[[str, int], Optional[AuditEvent]]
# The custom fields of (case type, type version); the version is None for a case opened before versions.
FieldDefinitions = Callable[[str, Optional[int]], Sequence[FieldDefinition]]


def no_fields(case_type: str, version: Optional[int]) -> Sequence[FieldDefinition]:
    return ()


class ProvenanceMismatch(Exception):
    """The case item's audit head is not the hash of the event it names: the row would lie about its origin."""


@lru_cache(maxsize=len(CONTRACT_VERSIONS))
def contract(version: str = "1") -> tuple[dict[str, Any], dict[str, Any]]:
    """(descriptor, JSON Schema) of a contract version as the repository holds them."""
    folder = CONTRACTS_DIR / f"v{version}"
    return (
        json.loads((folder / "descriptor.json").read_text()),
        json.loads((folder / "schema.json").read_text()),
    )


def descriptor_for(bucket: str, version: str = "1") -> DataProductDescriptor:
    raw, _ = contract(version)
    return DataProductDescriptor.model_validate_json(json.dumps(raw).replace("${DataProductBucket}", bucket))


def row_line(row: dict[str, Any]) -> bytes:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CaseDataProduct:
    def __init__(
        self, store: ObjectStore, bucket: str, secret: Callable[[], bytes], read_event: EventReader,
        clock: Callable[[], datetime] = utc_now, field_definitions: FieldDefinitions = no_fields,
    ) -> None:
        """`secret`: the pseudonymisation key (fetched when first needed); `read_event`: an audit event by
        (case id, seq), for a case change whose event is not in the same stream batch; `field_definitions`:
        the custom fields of a case type version, which say which of a case's values are PII (v2 rows)."""
        self._store, self.bucket, self._secret, self._read_event, self._clock = store, bucket, secret, read_event, clock
        self._field_definitions = field_definitions

    def publish(self, records: Iterable[dict[str, Any]]) -> list[str]:
        """Write a row of each contract version for each case change in the batch; return the sequence numbers
        of the records that failed, as Lambda's ReportBatchItemFailures wants them for a DynamoDB stream (it
        retries from the first; rows already written are written again, unchanged)."""
        records = list(records)
        events = _events_in(records)
        failed = []
        for record in records:
            try:
                for row in self._rows(record, events):
                    self._store.put(object_key(row), row_line(row), ROW_CONTENT_TYPE)
            except Exception:  # one bad record must not hold back the rest of the batch
                log.exception("could not publish stream record %s", record.get("eventID"))
                failed.append(str((record.get("dynamodb") or {}).get("SequenceNumber") or record.get("eventID")))
        return failed

    def _rows(self, record: dict[str, Any], events: dict[tuple[str, int], AuditEvent]) -> list[dict[str, Any]]:
        change = record.get("dynamodb") or {}
        if record.get("eventName") not in ("INSERT", "MODIFY") or item_key(record)[1] != keys.CASE_SK:
            return []
        new, old = image(change.get("NewImage")), image(change.get("OldImage"))
        seq = int(new["auditSeq"])
        if old and int(old.get("auditSeq", 0)) == seq:
            return []  # the case item changed without a new audit event: nothing happened to publish
        case_id = str(new["id"])
        event = events.get((case_id, seq)) or self._read_event(case_id, seq)
        if event is None:
            raise LookupError(f"audit event {seq} of case {case_id} not found")
        if event.hash != new["auditHash"]:
            raise ProvenanceMismatch(f"case {case_id}: audit head {new['auditHash']} is not event {seq}'s hash")
        v1 = build_row(new, event, self._secret())
        definitions = self._field_definitions(str(new["caseType"]), case_type_version(new))
        return [v1, build_row_v2(v1, new, definitions)]

    def view(self, principal: Principal) -> DataProductView:
        """v1 at the top, as before v2 existed; every version (v1 too) in `versions`."""
        require(principal, Action.READ_DATA_PRODUCTS)
        descriptor = descriptor_for(self.bucket)
        newest = self._store.newest_write(ROWS_PREFIX)  # every version's row of a change is written together
        now = self._clock()
        return DataProductView(
            descriptor=descriptor, contract=contract()[1], location=f"s3://{self.bucket}/{PREFIX}",
            versions=[
                ContractVersion(
                    version=version, descriptor=descriptor_for(self.bucket, version), contract=contract(version)[1],
                    location=f"s3://{self.bucket}/{ROWS_PREFIX}v{version}/",
                )
                for version in CONTRACT_VERSIONS
            ],
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
