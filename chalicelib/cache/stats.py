"""Hit/miss/error counters of one cache, logged as one line now and then (and on demand)."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger("cms.cache")

COUNTERS = ("hits", "misses", "errors", "skipped", "sets", "deletes")


class CacheStats:
    """Counters since start-up. `skipped`: calls the open circuit breaker did not send to the store
    (reads among them are counted as misses too). A summary is logged at most every `report_seconds`."""

    def __init__(self, backend: str, report_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._lock = threading.Lock()
        self._report_seconds, self._clock = report_seconds, clock
        self._reported_at = clock()

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n
            due = self._clock() - self._reported_at >= self._report_seconds
            if due:
                self._reported_at = self._clock()
        if due:
            self.log_summary()

    def __getitem__(self, name: str) -> int:
        return self._counts[name]

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def hit_ratio(self) -> float:
        counts = self.as_dict()
        reads = counts["hits"] + counts["misses"]
        return counts["hits"] / reads if reads else 0.0

    def log_summary(self) -> None:
        counts = self.as_dict()
        log.info(
            "cache %s: %s, hit ratio %.2f", self.backend, ", ".join(f"{k}={v}" for k, v in counts.items()),
            self.hit_ratio(), extra={"cache": {"backend": self.backend, **counts}},
        )
