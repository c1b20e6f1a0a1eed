"""The stage's EventBridge bus: integration events go out with PutEvents, at most 10 to a call (its limit)."""
from __future__ import annotations

import json
from typing import Any, Callable, Sequence

from ..domain.integration_events import SOURCE
from .lazy_client import LazyClient

MAX_ENTRIES = 10  # PutEvents takes at most 10 entries


class EventBridgeBus:
    def __init__(self, bus_name: str, client_factory: Callable[[], Any]) -> None:
        self.bus_name = bus_name
        self._client = LazyClient(client_factory)

    def put(self, events: Sequence[dict[str, Any]]) -> list[int]:
        """Publish up to MAX_ENTRIES events; return the indices of those EventBridge did not take (a call that
        fails as a whole raises)."""
        if len(events) > MAX_ENTRIES:
            raise ValueError(f"at most {MAX_ENTRIES} events per PutEvents call, not {len(events)}")
        entries = [
            {"Source": SOURCE, "DetailType": event["type"], "Detail": json.dumps(event, separators=(",", ":")),
             "EventBusName": self.bus_name}
            for event in events
        ]
        answer = self._client().put_events(Entries=entries)
        return [index for index, entry in enumerate(answer.get("Entries", [])) if entry.get("ErrorCode")]

