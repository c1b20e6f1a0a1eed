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
from typing import Any, Callable

SNAPSHOT_VERSION = 1


def dump_table(table: Any, path: Path) -> int:
    """Write every item of a moto `Table` to `path` atomically; return the item count."""
    from moto.dynamodb.models.utilities import dynamo_to_dict

    # dynamo_to_dict: binary values as bytes, whichever form moto holds them in (bytes, or base64 text)
    items = [{name: _convert(dynamo_to_dict(value), _b64) for name, value in item.attrs.items()}
             for item in _items_of(table)]
    _write(path, {"version": SNAPSHOT_VERSION, "tables": {table.name: items}})
    return len(items)


def restore_table(table: Any, path: Path) -> int:
    """Put the snapshot's items of this table back into the (freshly created) moto `Table`; return the count."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    from .moto_indexes import forget_orders

    if not path.is_file():
        return 0
    items = json.loads(path.read_text()).get("tables", {}).get(table.name, [])
    for attrs in items:
        item = Item.__new__(Item)  # moto's Item() re-validates the size once per attribute: O(attributes²)
        attrs = {name: _convert(value, base64.b64decode) for name, value in attrs.items()}  # bytes, as moto parses them
        item.hash_key = DynamoType(attrs[table.hash_key_attr])
        item.range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
        item.attrs = LimitedSizeDict()
        dict.update(item.attrs, {name: DynamoType(value) for name, value in attrs.items()})  # validated when written
        if item.range_key is None:
            table.items[item.hash_key] = item
        else:
            table.items[item.hash_key][item.range_key] = item
    forget_orders(table)
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
    for saved in objects:
        key = s3_backend.put_object(bucket_name, saved["key"], saved["body"].encode(), disable_notification=True)
        if saved.get("contentType"):
            key.set_metadata({"Content-Type": saved["contentType"]})
        key.last_modified = datetime.fromisoformat(saved["lastModified"])
    return len(objects)


# Binary values are bytes in moto and base64 strings in DynamoDB JSON (as in AWS's own exports).
def _convert(value: dict[str, Any], binary: Callable[[Any], Any]) -> dict[str, Any]:
    (kind, inner), = value.items()
    if kind == "B":
        return {kind: binary(inner)}
    if kind == "BS":
        return {kind: [binary(v) for v in inner]}
    if kind == "M":
        return {kind: {k: _convert(v, binary) for k, v in inner.items()}}
    if kind == "L":
        return {kind: [_convert(v, binary) for v in inner]}
    return value


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _items_of(table: Any) -> list[Any]:
    if table.range_key_attr is None:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


def _write(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content))
    os.replace(tmp, path)  # a crash mid-write never leaves a truncated snapshot


def moto_table(account: str, region: str, name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[account][region].get_table(name)


def moto_s3(account: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]
