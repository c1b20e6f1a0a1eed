"""An in-process cache with per-entry TTLs and a size bound (least recently used entries go first).

It lives in one process: only right where every reader and writer shares that process (the local
system, tests). Values are stored as JSON text so callers get the same copies a Redis would give them.
A deleted key is held (a `None` text) for `delete_hold_seconds` so that `add` leaves it alone."""
from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Optional

from . import DELETE_HOLD_SECONDS
from .stats import CacheStats

_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))


class InProcessCache:
    backend = "in-process"

    def __init__(
        self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic,
        delete_hold_seconds: float = DELETE_HOLD_SECONDS,
    ) -> None:
        self.stats = CacheStats(self.backend, clock=clock)
        self._max_entries, self._clock, self._hold = max_entries, clock, delete_hold_seconds
        self._entries: OrderedDict[str, tuple[float, Optional[str]]] = OrderedDict()  # key: (expires, JSON or held)
        self._lock = threading.Lock()

    def get(self, key: str) -> Optional[Any]:
        with self._lock:
            text = self._live(key)
            if text is not None:
                self._entries.move_to_end(key)
        self.stats.count("hits" if text is not None else "misses")
        return json.loads(text) if text is not None else None

    def set(self, key: str, value: Any, ttl_seconds: int) -> None:
        text = _COMPACT_JSON.encode(value)
        with self._lock:
            self._put(key, ttl_seconds, text)
        self.stats.count("sets")

    def add(self, key: str, value: Any, ttl_seconds: int) -> None:
        text = _COMPACT_JSON.encode(value)
        with self._lock:
            self._live(key)  # drops it if expired
            if key in self._entries:  # a value, or a delete still held
                return
            self._put(key, ttl_seconds, text)
        self.stats.count("sets")

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                if self._hold > 0:
                    self._put(key, self._hold, None)
                else:
                    self._entries.pop(key, None)
        self.stats.count("deletes", len(keys))

    def _live(self, key: str) -> Optional[str]:
        """The key's JSON text; drops it once expired. None when absent or held. Call with the lock held."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1] if entry else None

    def _put(self, key: str, ttl_seconds: float, text: Optional[str]) -> None:
        self._entries[key] = (self._clock() + ttl_seconds, text)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
