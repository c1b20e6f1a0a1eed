"""Save and restore a DynamoDB table as a JSON file: moto keeps state in memory only, and a
developer's cases should survive a restart of the local system."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Callable

_BATCH = 25  # BatchWriteItem's limit


def dump_table(dynamodb: Any, table_name: str, path: Path) -> int:
    """Write every item (DynamoDB JSON) to `path` atomically; return the item count."""
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        items.extend(_encode(item) for item in page["Items"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": 1, "tables": {table_name: items}}))
    os.replace(tmp, path)  # a crash mid-write never leaves a truncated snapshot
    return len(items)


def restore_table(dynamodb: Any, table_name: str, path: Path) -> int:
    """Put the snapshot's items back into the (freshly created) table; return the item count."""
    if not path.is_file():
        return 0
    items = json.loads(path.read_text()).get("tables", {}).get(table_name, [])
    for start in range(0, len(items), _BATCH):
        requests = [{"PutRequest": {"Item": _decode(item)}} for item in items[start:start + _BATCH]]
        pending: dict[str, Any] = {table_name: requests}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(items)


# Binary values are bytes in boto3 and base64 strings in DynamoDB JSON (as in AWS's own exports).
def _encode(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _convert(value, _b64) for name, value in item.items()}


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _convert(value, base64.b64decode) for name, value in item.items()}


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
