"""Time as the domain sees it: an injectable clock and the one ISO-8601 form every record and event uses."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

Clock = Callable[[], datetime]

# What `iso` writes, as the API's field descriptions state it.
ISO_FORM = "ISO 8601 in UTC with milliseconds, e.g. 2026-01-31T09:30:00.000Z"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
