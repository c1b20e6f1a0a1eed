"""A circuit breaker: after `failure_threshold` failures in a row it opens and callers skip the
dependency; after `reset_seconds` it half-opens and lets one trial call through, which closes it
again on success or re-opens it on failure. Skipping a dead Redis costs nothing, where each attempt
would cost a socket timeout."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger("cms.cache")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitBreaker:
    def __init__(
        self, failure_threshold: int = 3, reset_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic,
        name: str = "redis",
    ) -> None:
        if failure_threshold < 1 or reset_seconds < 0:
            raise ValueError("failure_threshold must be >= 1 and reset_seconds >= 0")
        self.name = name
        self._threshold, self._reset_seconds, self._clock = failure_threshold, reset_seconds, clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def rejecting(self) -> bool:
        """Whether `allow` would refuse a call now; unlike `allow` it never takes the half-open trial."""
        with self._lock:
            return self._state == OPEN and self._clock() - self._opened_at < self._reset_seconds

    def allow(self) -> bool:
        """Whether a call may go to the dependency now; a True in half-open state is the one trial call."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN and self._clock() - self._opened_at >= self._reset_seconds:
                self._state, self._trial_in_flight = HALF_OPEN, False
                log.info("circuit %s half-open: trying one call", self.name)
            if self._state == HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            if self._state != CLOSED:
                log.warning("circuit %s closed: the dependency answers again", self.name)
            self._state, self._failures, self._trial_in_flight = CLOSED, 0, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state == HALF_OPEN or (self._state == CLOSED and self._failures >= self._threshold):
                log.warning(
                    "circuit %s open after %d failure(s): skipping it for %.1fs", self.name, self._failures,
                    self._reset_seconds,
                )
                self._state, self._opened_at, self._trial_in_flight = OPEN, self._clock(), False
