"""An in-process cache with per-entry TTLs and a size bound (least recently used entries go first).

It lives in one process: only right where every reader and writer shares that process (the local
system, tests). Values are stored as JSON text so callers get the same copies a Redis would give them."""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Optional

from .stats import CacheStats

_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


class InProcessCache:
    backend = "in-process"

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.stats = CacheStats(self.backend, clock=clock)
        self._max_entries, self._clock = max_entries, clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[Any]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] <= self._clock():
                del self._entries[key]
                entry = None
            if entry is not None:
                self._entries.move_to_end(key)
        self.stats.count("hits" if entry else "misses")
        return json.loads(entry[1]) if entry else None

    def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        text = _COMPACT_JSON.encode(value)
        with self._lock:
            self._entries[key] = (self._clock() + ttl_seconds, text)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        self.stats.count("sets")

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)
        self.stats.count("deletes", len(keys))
