"""Cache-aside for one kind of record: answer from the cache, else read the store and remember it."""
from __future__ import annotations

import logging
from typing import Any, Callable, Generic, Optional, TypeVar

from . import Cache

log = logging.getLogger("cms.cache")

T = TypeVar("T")
ABSENT = "~absent"  # what a cached absence holds: a JSON string no `dump` of a record gives


class ReadThrough(Generic[T]):
    """`dump` turns a record into a JSON value and `load` turns it back. A cached value `load` rejects
    (e.g. written by an older release) is dropped and read again. Absent records are cached only with
    `absent_ttl_seconds` (negative caching), briefly: a record created later is hidden until a write deletes
    the key (the writes that create the record must) or the absence expires."""

    def __init__(
        self, cache: Cache, ttl_seconds: int, dump: Callable[[T], Any], load: Callable[[Any], T],
        absent_ttl_seconds: int = 0,
    ) -> None:
        self.cache, self._ttl, self._dump, self._load = cache, ttl_seconds, dump, load
        self._absent_ttl = absent_ttl_seconds

    def get(self, key: str, read: Callable[[], Optional[T]]) -> Optional[T]:
        cached = self.cache.get(key)
        if cached == ABSENT and self._absent_ttl > 0:
            return None
        if cached is not None:
            try:
                return self._load(cached)
            except ValueError:  # pydantic's ValidationError among them
                log.warning("dropping an unreadable cache entry %s", key)
                self.cache.delete(key)
        record = read()
        if record is not None:
            self.cache.add(key, self._dump(record), self._ttl)  # never over a write's delete
        elif self._absent_ttl > 0:
            self.cache.add(key, ABSENT, self._absent_ttl)
        return record
