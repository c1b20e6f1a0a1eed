"""Rows of the case data product (contracts: chalicelib/data_products/cases/v<n>/schema.json).

A row is the case as it was after one audit event, built from the case item's image on the table's
stream. Fields are copied from an allowlist, so a field added to cases later is never published by
accident; nothing free-text or personal is on it (titles, descriptions, tags, usernames, the customer
snapshot), and the customer id becomes a keyed hash. Everything in a row comes from the image and the
(immutable) audit event, so a re-delivered stream record yields the same row under the same key.

Contract v2 is v1 plus the case type version and the case's custom fields, of which only those its type
version does not mark as personal data (`public_fields`). Each version has its own prefix; a v1 row never
changes, so v1 consumers read on as before."""
from __future__ import annotations

import hashlib
import hmac
import json
from base64 import b64decode
from decimal import Decimal
from typing import Any, Optional, Sequence

from .custom_fields import FieldDefinition, public_fields
from .models import AuditEvent

SCHEMA_VERSION = "1"
ROWS_PREFIX = "cases/"  # every contract version's rows
PREFIX = "cases/v1/"


def customer_key(secret: bytes, customer_id: str) -> str:
    """A pseudonym: the same customer always gets the same key, and without the secret it cannot be
    reversed by hashing candidate ids (unlike a plain hash)."""
    return hmac.new(secret, customer_id.encode(), hashlib.sha256).hexdigest()


def from_dynamodb_json(value: dict[str, Any]) -> Any:
    """A value in DynamoDB's JSON (as stream images carry it) as plain Python."""
    (kind, inner), = value.items()
    if kind == "S":
        return inner
    if kind == "N":  # a custom number field's value: rows are JSON, which has no decimal type
        number = Decimal(inner)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "BOOL":
        return bool(inner)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_dynamodb_json(v) for k, v in inner.items()}
    if kind == "L":
        return [from_dynamodb_json(v) for v in inner]
    if kind in ("SS", "NS"):
        return [from_dynamodb_json({kind[0]: v}) for v in inner]
    if kind == "B":
        return b64decode(inner) if isinstance(inner, str) else inner
    raise ValueError(f"unknown DynamoDB type {kind}")


def image(record_image: Optional[dict[str, Any]]) -> dict[str, Any]:
    return {name: from_dynamodb_json(value) for name, value in (record_image or {}).items()}


def _json(value: Any) -> Any:
    """Attributes pynamodb stores as JSON strings (compensation, workflow) as objects."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def build_row(case_image: dict[str, Any], event: AuditEvent, secret: bytes) -> dict[str, Any]:
    """The row for `event`, from the case item's image written with it (its auditSeq is the event's)."""
    compensation = _json(case_image.get("compensation")) or {}
    workflow = _json(case_image.get("workflow")) or {}
    case_id = str(case_image["id"])
    return {
        "schemaVersion": SCHEMA_VERSION,
        "auditEventId": f"{case_id}:{event.seq}",
        "auditSeq": event.seq,
        "auditHash": event.hash,
        "eventType": event.type,
        "eventAt": event.at,
        "caseId": case_id,
        "caseNumber": case_image["number"],
        "caseType": case_image["caseType"],
        "status": case_image["status"],
        "priority": case_image["priority"],
        "team": case_image.get("team"),
        "customerKey": customer_key(secret, str(case_image["customerId"])),
        "compensationAmount": compensation.get("amount"),
        "compensationCurrency": compensation.get("currency"),
        "requiredDocumentCount": len(case_image.get("requiredDocuments") or []),
        "hasAssignee": bool(case_image.get("assignee")),
        "workflowStage": workflow.get("stage"),
        "createdAt": case_image["createdAt"],
        "updatedAt": case_image["updatedAt"],
        "dueAt": case_image["dueAt"],
    }


def case_type_version(case_image: dict[str, Any]) -> Optional[int]:
    """The type version the case is pinned to; None for a case opened before types had versions."""
    version = case_image.get("caseTypeVersion")
    return int(version) if version is not None else None


def build_row_v2(
    v1_row: dict[str, Any], case_image: dict[str, Any], definitions: Sequence[FieldDefinition],
) -> dict[str, Any]:
    """The v2 row of the same event: `definitions` are the fields of the case's type version. A value passes
    only if its field is defined there and is not PII, so an unknown type version publishes no field."""
    values = _json(case_image.get("fields"))
    return {
        **v1_row, "schemaVersion": "2", "caseTypeVersion": case_type_version(case_image),
        "fields": public_fields(definitions, values if isinstance(values, dict) else {}),
    }


def object_key(row: dict[str, Any]) -> str:
    """One object per audit event and contract version, named by them: writing a row again replaces it, never
    duplicates it."""
    return f"{ROWS_PREFIX}v{row['schemaVersion']}/dt={row['eventAt'][:10]}/{row['caseId']}-{row['auditSeq']:010d}.jsonl"
