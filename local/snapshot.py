"""Save and restore the local system's data across restarts: moto keeps state in memory only.

Saved: the table's items (DynamoDB JSON; binary values base64, as in AWS's exports) and the case data
product's rows (its S3 objects, with content type and time of writing: the product's freshness reads it).
Both are read from and written into moto's backends in this process (moto 5.2.5, the functions pinned by
local/moto_speedups.py): through the API, a paginated Scan of 5,000 cases' items and a request per row took
most of a minute, and Ctrl-C waited for it. Restored items make no stream records (a table restored on AWS
is a new table, with an empty stream) and restored rows no bucket notifications."""
from __future__ import annotations

import base64
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

from .bulk import no_collection

SNAPSHOT_VERSION = 1


def dump_table(table: Any, path: Path) -> int:
    """Write every item of a moto `Table` to `path` atomically; return the item count."""
    items = _items_of(table)
    # moto's DynamoType is {type: value} already (the wire form): the encoder writes each as it meets it, with no
    # copy of the table as dicts first (converting value by value took ~11 s for 5,000 cases' 85,000 items).
    with no_collection():
        _write(path, {"version": SNAPSHOT_VERSION, "tables": {table.name: [item.attrs for item in items]}}, _wire)
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


def dump_objects(bucket: Any, prefix: str, path: Path) -> int:
    """Write the objects under `prefix` of a moto S3 bucket (not versioned) to `path`; return the count."""
    objects = [
        {"key": key.name, "body": key.value.decode(), "contentType": key.metadata.get("Content-Type"),
         "lastModified": key.last_modified.isoformat()}
        for key in bucket.keys.values() if key.name.startswith(prefix)
    ]
    _write(path, {"version": SNAPSHOT_VERSION, "bucket": bucket.name, "objects": objects})
    return len(objects)


def restore_objects(s3_backend: Any, bucket_name: str, path: Path) -> int:
    """Put the snapshot's objects back into the bucket, with their content type and time of writing."""
    if not path.is_file():
        return 0
    objects = json.loads(path.read_text()).get("objects", [])
    with no_collection():
        for saved in objects:
            key = s3_backend.put_object(bucket_name, saved["key"], saved["body"].encode(), disable_notification=True)
            if saved.get("contentType"):
                key.set_metadata({"Content-Type": saved["contentType"]})
            key.last_modified = datetime.fromisoformat(saved["lastModified"])
    return len(objects)


# Binary values are bytes in moto (base64 text when an item came straight from a request) and base64 text in
# DynamoDB JSON (as in AWS's own exports).
def _wire(value: Any) -> dict[str, Any]:
    """A moto DynamoType as DynamoDB JSON, for json's encoder (which calls it for each DynamoType it meets)."""
    kind = value.type
    if kind == "B":
        return {kind: _b64(value.value)}
    if kind == "BS":
        return {kind: [_b64(v) for v in value.value]}
    return {kind: value.value}  # lists' and maps' members are DynamoTypes: the encoder comes back here for each


def _dynamo(value: dict[str, Any]) -> Any:
    """DynamoDB JSON as moto's DynamoType, built as its __init__ would (binary as bytes, as moto parses it)
    without its per-value type tests: half of a restore's time."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    (kind, inner), = value.items()
    if kind == "M":
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


def _b64(value: Any) -> str:
    return base64.b64encode(value).decode() if isinstance(value, bytes) else str(value)


def _items_of(table: Any) -> list[Any]:
    if table.range_key_attr is None:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


def _write(path: Path, content: dict[str, Any], default: Optional[Callable[[Any], Any]] = None) -> None:
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
    _write(path, {"version": SNAPSHOT_VERSION, "records": records, "functions": functions})
    return sum(len(ids) for ids in functions.values())


def read_backlog(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Per function, the stream records a stop left for it, in order (none without a file)."""
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text())
    return {name: [saved["records"][event_id] for event_id in ids] for name, ids in saved["functions"].items()}
