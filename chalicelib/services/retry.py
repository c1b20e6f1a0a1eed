"""Attempts at an optimistic write: a lost race (StaleWrite) is read and decided again. Between attempts a
short random pause (full jitter, doubling) spreads writers contending for one case's history head, e.g. a
person dropping eight files at once, so they take turns instead of colliding again at once."""
from __future__ import annotations

import random
import time
from typing import Callable, Iterator

ATTEMPTS = 8
FIRST_PAUSE = 0.01  # seconds; doubles each time: the last pause is at most 1.28 s, all of them at most ~2.5 s


def attempts(
    count: int = ATTEMPTS, first_pause: float = FIRST_PAUSE, sleep: Callable[[float], None] = time.sleep,
) -> Iterator[int]:
    for attempt in range(count):
        if attempt:
            sleep(random.uniform(0, first_pause * 2 ** attempt))
        yield attempt
