"""Opaque pagination cursors, one codec for every listing: the store's resume key bound to the listing and the
filters it was issued for, so a cursor of another listing (or of other filters) is a 400 naming `cursor`."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Callable, Optional, TypeVar

from ..domain.queries import MAX_PAGE
from ..errors import FieldIssue, InvalidInput
from ..ports import InvalidStartKey, StartKey

T = TypeVar("T")
_BAD_CURSOR = InvalidInput("the cursor is invalid", [FieldIssue("cursor", "not a cursor this listing issued")])


def _fingerprint(filters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def _encode(start_key: Optional[dict[str, Any]], filters_fingerprint: str) -> Optional[str]:
    if start_key is None:
        return None
    raw = json.dumps({"k": start_key, "f": filters_fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: Optional[str], filters_fingerprint: str) -> Optional[dict[str, Any]]:
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


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput("limit is out of range", [FieldIssue("limit", f"must be between 1 and {MAX_PAGE}")])


def paged(
    listing: str, filters: dict[str, Any], limit: int, page_cursor: Optional[str],
    read: Callable[[int, StartKey], tuple[T, StartKey]],
) -> tuple[T, Optional[str]]:
    """One page of a listing: `read(limit, start_key)` from the store, and the cursor of the next page (None at
    the end). `filters`: everything that picks the listing's items (the case, the inbox, the filters, who asks),
    which the cursor is bound to; any limit may resume it."""
    _check_limit(limit)
    bound_to = _fingerprint({"listing": listing, **filters})
    try:
        items, next_key = read(limit, _decode(page_cursor, bound_to))
    except InvalidStartKey:
        raise InvalidInput("the cursor is invalid", [FieldIssue("cursor", "cannot resume from it")]) from None
    return items, _encode(next_key, bound_to)
