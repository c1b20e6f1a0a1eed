"""Opaque pagination cursors: the store's resume key bound to the filters it was issued for."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Optional

from ..errors import FieldIssue, InvalidInput

_BAD_CURSOR = InvalidInput("the cursor is invalid", [FieldIssue("cursor", "not a cursor this listing issued")])


def fingerprint(filters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def encode(start_key: Optional[dict[str, Any]], filters_fingerprint: str) -> Optional[str]:
    if start_key is None:
        return None
    raw = json.dumps({"k": start_key, "f": filters_fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: Optional[str], filters_fingerprint: str) -> Optional[dict[str, Any]]:
    if cursor is None:
        return None
    if len(cursor) > 2048:
        raise _BAD_CURSOR
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _BAD_CURSOR from None
    if not isinstance(data, dict) or data.get("f") != filters_fingerprint or not isinstance(data.get("k"), dict):
        raise _BAD_CURSOR
    start_key: dict[str, Any] = data["k"]
    return start_key
