"""In-memory twin of the event bus: keeps what was published; `refuse` makes chosen events fail, as
EventBridge's partial failures do."""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

from ..event_bus import MAX_ENTRIES


class InMemoryEventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[dict[str, Any]] = []
        self.calls = 0
        self.refuse: Callable[[dict[str, Any]], bool] = lambda event: False

    def put(self, events: Sequence[dict[str, Any]]) -> list[int]:
        if len(events) > MAX_ENTRIES:
            raise ValueError(f"at most {MAX_ENTRIES} events per PutEvents call, not {len(events)}")
        with self._lock:
            self.calls += 1
            failed = [index for index, event in enumerate(events) if self.refuse(event)]
            self.published.extend(event for index, event in enumerate(events) if index not in failed)
            return failed
