"""Reading the table's stream records (DynamoDB's JSON: `{"dynamodb": {"Keys": {"PK": {"S": ...}}}}`)."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from ...domain.models import AuditEvent
from . import keys


def item_key(record: Mapping[str, Any]) -> tuple[str, str]:
    """The (PK, SK) of the item a stream record is about; empty strings where the record has none."""
    item_keys = (record.get("dynamodb") or {}).get("Keys", {})
    return item_keys.get("PK", {}).get("S", ""), item_keys.get("SK", {}).get("S", "")


def inserted_case_id(record: Mapping[str, Any]) -> Optional[str]:
    """The id of the case a stream record inserts; None for any other record."""
    pk, sk = item_key(record)
    if record.get("eventName") != "INSERT" or sk != keys.CASE_SK:
        return None
    case_id = keys.case_id_of(pk)
    if not case_id:
        raise ValueError(f"a case item with the key {pk!r}")
    return case_id


def inserted_audit_event(record: Mapping[str, Any]) -> Optional[AuditEvent]:
    """The audit event a stream record inserts; None for any other record. Audit events are written once and
    never changed, so their inserts are all there is to read."""
    if record.get("eventName") != "INSERT" or not item_key(record)[1].startswith(keys.EVENT_PREFIX):
        return None
    body = ((record.get("dynamodb") or {}).get("NewImage") or {}).get("body", {}).get("S")
    if body is None:
        raise ValueError(f"audit event record {record.get('eventID')} has no body")
    return AuditEvent.model_validate_json(body)
