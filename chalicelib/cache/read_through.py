"""Cache-aside for one kind of record: answer from the cache, else read the store and remember it."""
from __future__ import annotations

import logging
from typing import Any, Callable, Generic, Optional, TypeVar

from . import Cache

log = logging.getLogger("cms.cache")

T = TypeVar("T")


class ReadThrough(Generic[T]):
    """`dump` turns a record into a JSON value and `load` turns it back. A cached value `load` rejects
    (e.g. written by an older release) is dropped and read again. Absent records are not cached:
    a 404 costs a read, but a record created later is never hidden behind a cached absence."""

    def __init__(
        self, cache: Cache, ttl_seconds: int, dump: Callable[[T], Any], load: Callable[[Any], T],
    ) -> None:
        self.cache, self._ttl, self._dump, self._load = cache, ttl_seconds, dump, load

    def get(self, key: str, read: Callable[[], Optional[T]]) -> Optional[T]:
        cached = self.cache.get(key)
        if cached is not None:
            try:
                return self._load(cached)
            except ValueError:  # pydantic's ValidationError among them
                log.warning("dropping an unreadable cache entry %s", key)
                self.cache.delete(key)
        record = read()
        if record is not None:
            self.cache.add(key, self._dump(record), self._ttl)  # never over a write's delete
        return record
