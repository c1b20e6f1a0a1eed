"""Save and restore the local system's data across restarts: moto keeps state in memory only.

Saved: the table's items (DynamoDB JSON; binary values base64, as in AWS's exports), the case data
product's rows (its S3 objects, with content type and time of writing: the product's freshness reads it) and the
documents bucket's object versions (their bodies in files; local/queue_snapshot.py saves the SQS messages).
Both are read from and written into moto's backends in this process (moto 5.2.5, the functions pinned by
local/moto_speedups.py): through the API, a paginated Scan of 5,000 cases' items and a request per row took
most of a minute, and Ctrl-C waited for it. Restored items make no stream records (a table restored on AWS
is a new table, with an empty stream) and restored objects no bucket notifications."""
from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

from .bulk import no_collection
from .moto_items import SHARED_TYPES, shared

SNAPSHOT_VERSION = 1


def dump_table(table: Any, path: Path) -> int:
    """Write every item of a moto `Table` to `path` atomically; return the item count."""
    items = _items_of(table)
    # moto's DynamoType is {type: value} already (the wire form): the encoder writes each as it meets it, with no
    # copy of the table as dicts first (converting value by value took ~11 s for 5,000 cases' 85,000 items).
    with no_collection():
        write_json(path, {"version": SNAPSHOT_VERSION, "tables": {table.name: [item.attrs for item in items]}}, _wire)
    return len(items)


def restore_table(table: Any, path: Path) -> int:
    """Put the snapshot's items of this table back into the (freshly created) moto `Table`; return the count."""
    from .moto_indexes import forget_orders

    if not path.is_file():
        return 0
    with no_collection():
        count = _put_items(table, json.loads(path.read_text()).get("tables", {}).get(table.name, []))
    forget_orders(table)
    return count


def _put_items(table: Any, items: list[dict[str, Any]]) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    hash_attr, range_attr = table.hash_key_attr, table.range_key_attr
    for attrs in items:
        item = Item.__new__(Item)  # moto's Item() re-validates the size once per attribute: O(attributes²)
        item.hash_key = DynamoType(attrs[hash_attr])
        item.range_key = DynamoType(attrs[range_attr]) if range_attr else None
        item.attrs = LimitedSizeDict()
        dict.update(item.attrs, {name: _dynamo(value) for name, value in attrs.items()})  # validated when written
        if item.range_key is None:
            table.items[item.hash_key] = item
        else:
            table.items[item.hash_key][item.range_key] = item
    return len(items)


def dump_objects(bucket: Any, prefix: str, path: Path, bodies: Optional[Path] = None) -> int:
    """Write every version of the objects under `prefix` of a moto S3 bucket to `path`, oldest first, with what
    the app reads back (version id: the table names document versions by it; metadata, time of writing, checksum,
    Object Lock state; the ETag is the body's MD5, computed again); return the count. Bodies are inline text (the
    case data product's JSON rows), or, given `bodies`, one file each in that folder (documents: any bytes and size,
    with no base64 and no copy in the JSON). A body file is named by its version's key, id and ETag, so a version
    written at an earlier stop is not written again; the files no version names any more are removed."""
    from moto.s3.models import FakeDeleteMarker

    saved: list[dict[str, Any]] = []
    files: set[str] = set()
    for name, versions in bucket.keys.lists():
        if not name.startswith(prefix):
            continue
        for version in versions:
            if isinstance(version, FakeDeleteMarker):
                saved.append({"key": name, "versionId": version.version_id, "deleteMarker": True,
                              "lastModified": version.last_modified.isoformat()})
                continue
            entry = _version_entry(version)
            if bodies is None:
                entry["body"] = version.value.decode()
            else:
                entry["bodyFile"] = _body_file(name, version)
                files.add(entry["bodyFile"])
                if not (bodies / entry["bodyFile"]).is_file():
                    _write_bytes(bodies / entry["bodyFile"], version.value)
            saved.append(entry)
    write_json(path, {"version": SNAPSHOT_VERSION, "bucket": bucket.name, "objects": saved})
    if bodies is not None and bodies.is_dir():
        for stale in set(os.listdir(bodies)) - files:
            (bodies / stale).unlink()
    return len(saved)


def restore_objects(s3_backend: Any, bucket_name: str, path: Path, bodies: Optional[Path] = None) -> int:
    """Put the snapshot's object versions back into the bucket, in order, under their version ids and with
    what `dump_objects` kept of them; return the count. Restored objects send no notifications."""
    from moto.s3.models import FakeDeleteMarker

    if not path.is_file():
        return 0
    objects = json.loads(path.read_text()).get("objects", [])
    bucket = s3_backend.get_bucket(bucket_name)
    with no_collection():
        for saved in objects:
            if saved.get("deleteMarker"):
                marker = FakeDeleteMarker(bucket.keys.get(saved["key"]))
                marker._version_id = saved["versionId"]
                marker.last_modified = datetime.fromisoformat(saved["lastModified"])
                bucket.keys.setlist(saved["key"], bucket.keys.getlist(saved["key"], []) + [marker])
                continue
            body = (bodies / saved["bodyFile"]).read_bytes() if "bodyFile" in saved else saved["body"].encode()
            key = s3_backend.put_object(bucket_name, saved["key"], body, disable_notification=True)
            _restore_version(key, saved)
    return len(objects)


def _version_entry(version: Any) -> dict[str, Any]:
    entry = {"key": version.name, "versionId": version.version_id, "metadata": dict(version.metadata),
             "lastModified": version.last_modified.isoformat()}
    for field, attribute in _VERSION_ATTRIBUTES.items():
        value = getattr(version, attribute, None)
        if value is not None:
            entry[field] = value.decode() if isinstance(value, bytes) else value  # moto's computed checksums
    return entry


def _restore_version(key: Any, saved: dict[str, Any]) -> None:
    if saved.get("versionId", "null") != "null":
        key._version_id = saved["versionId"]
    # A snapshot from before versions were kept has only the content type.
    metadata = saved.get("metadata") or ({"Content-Type": saved["contentType"]} if saved.get("contentType") else {})
    key.set_metadata(metadata)
    key.last_modified = datetime.fromisoformat(saved["lastModified"])
    for field, attribute in _VERSION_ATTRIBUTES.items():
        if field in saved:
            setattr(key, attribute, saved[field])


# What a version carries besides its body and metadata, by the snapshot's name for it (moto's FakeKey attribute).
_VERSION_ATTRIBUTES = {
    "legalHold": "lock_legal_status", "lockMode": "lock_mode", "lockUntil": "lock_until",
    "checksumAlgorithm": "checksum_algorithm", "checksumValue": "checksum_value",
}


def _body_file(name: str, version: Any) -> str:
    return hashlib.sha256(f"{name}\0{version.version_id}\0{version.etag}".encode()).hexdigest()


# Binary values are bytes in moto (base64 text when an item came straight from a request) and base64 text in
# DynamoDB JSON (as in AWS's own exports).
def _wire(value: Any) -> dict[str, Any]:
    """A moto DynamoType as DynamoDB JSON, for json's encoder (which calls it for each DynamoType it meets)."""
    kind = value.type
    if kind == "B":
        return {kind: b64_text(value.value)}
    if kind == "BS":
        return {kind: [b64_text(v) for v in value.value]}
    return {kind: value.value}  # lists' and maps' members are DynamoTypes: the encoder comes back here for each


def _dynamo(value: dict[str, Any]) -> Any:
    """DynamoDB JSON as moto's DynamoType, built as its __init__ would (binary as bytes, as moto parses it)
    without its per-value type tests: half of a restore's time. Short strings and numbers are interned, as
    local/moto_items.py does for items written (json.loads already gives equal names one object)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    (kind, inner), = value.items()
    if kind in SHARED_TYPES:
        inner = shared(kind, inner)
    elif kind == "M":
        inner = {name: _dynamo(member) for name, member in inner.items()}
    elif kind == "L":
        inner = [_dynamo(member) for member in inner]
    elif kind == "B":
        inner = base64.b64decode(inner)
    elif kind == "BS":
        inner = [base64.b64decode(member) for member in inner]
    built = DynamoType.__new__(DynamoType)
    built.type, built.value = kind, inner
    return built


def b64_text(value: Any) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)


def _items_of(table: Any) -> list[Any]:
    if table.range_key_attr is None:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


def _write_bytes(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)


def write_json(path: Path, content: dict[str, Any], default: Optional[Callable[[Any], Any]] = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content, default=default))
    os.replace(tmp, path)  # a crash mid-write never leaves a truncated snapshot


def moto_table(account: str, region: str, name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account][region].get_table(name)


def moto_s3(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]


def dump_backlog(backlog: dict[str, list[dict[str, Any]]], path: Path) -> int:
    """Write the stream records each function had not handled (each record once: every function mapped to the
    stream gets the same ones) to `path`, an empty backlog too (the last one was replayed); return the count."""
    records = {str(r.get("eventID")): r for pending in backlog.values() for r in pending}
    functions = {name: [str(r.get("eventID")) for r in pending] for name, pending in backlog.items()}
    write_json(path, {"version": SNAPSHOT_VERSION, "records": records, "functions": functions})
    return sum(len(ids) for ids in functions.values())


def read_backlog(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Per function, the stream records a stop left for it, in order (none without a file)."""
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text())
    return {name: [saved["records"][event_id] for event_id in ids] for name, ids in saved["functions"].items()}
