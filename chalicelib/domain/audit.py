"""The per-case audit chain: each event's hash covers its content and the previous hash,
so changing, removing or reordering any stored event breaks verification."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Optional

from .models import AuditEvent, HistoryVerification

GENESIS_HASH = "0" * 64


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + _canonical(body)).hexdigest()


def _body(event: AuditEvent) -> dict[str, Any]:
    return event.model_dump(mode="json", by_alias=True, exclude={"hash", "prev_hash"})


def next_event(
    *, case_id: str, prev_seq: int, prev_hash: str, type: str, actor: str, at: str, data: dict[str, Any]
) -> AuditEvent:
    """Build the event that follows (prev_seq, prev_hash) in a case's chain."""
    prev_hash = prev_hash or GENESIS_HASH
    draft = AuditEvent(
        seq=prev_seq + 1, case_id=case_id, type=type, actor=actor, at=at, data=data,
        prev_hash=prev_hash, hash="",
    )
    return draft.model_copy(update={"hash": event_hash(prev_hash, _body(draft))})


def append_to_chain(
    events: list[AuditEvent], *, case_id: str, head_seq: int, head_hash: str, type: str, actor: str, at: str,
    data: dict[str, Any],
) -> AuditEvent:
    """Add an event to a batch written in one transaction: it links to the batch's last event, or to the
    case's stored head (head_seq, head_hash) when the batch is empty."""
    prev_seq, prev_hash = (events[-1].seq, events[-1].hash) if events else (head_seq, head_hash)
    event = next_event(
        case_id=case_id, prev_seq=prev_seq, prev_hash=prev_hash, type=type, actor=actor, at=at, data=data,
    )
    events.append(event)
    return event


def verify_chain(events: Iterable[AuditEvent], head: Optional[tuple[int, str]] = None) -> HistoryVerification:
    """Check every link; with `head` (the case's last seq and hash) also catch removed newest events."""
    expected_prev, count = GENESIS_HASH, 0
    for count, event in enumerate(events, start=1):
        if (
            event.seq != count
            or event.prev_hash != expected_prev
            or event.hash != event_hash(event.prev_hash, _body(event))
        ):
            return HistoryVerification(valid=False, events=count, first_invalid_seq=count)
        expected_prev = event.hash
    if head is not None and (count, expected_prev) != (head[0], head[1] or GENESIS_HASH):
        return HistoryVerification(valid=False, events=count, first_invalid_seq=count + 1)
    return HistoryVerification(valid=True, events=count)
