"""Optimistic writes: read, decide a change, apply it; a lost race (StaleWrite) is read and decided again.
Between attempts a short random pause (full jitter, doubling) spreads writers contending for one case's
history head, e.g. a person dropping eight files at once, so they take turns instead of colliding again at
once. When every attempt lost, the caller gets a Conflict (409: retry later)."""
from __future__ import annotations

import random
import time
from typing import Callable, Iterator, Optional, TypeVar

from ..domain.changes import CaseChange
from ..errors import Conflict
from ..ports import StaleWrite

ATTEMPTS = 8
FIRST_PAUSE = 0.01  # seconds; doubles each time: the last pause is at most 1.28 s, all of them at most ~2.5 s

State = TypeVar("State")
Result = TypeVar("Result")
Decided = tuple[Optional[CaseChange], Result]  # (None: nothing to write, what the caller gets)


def attempts(
    count: int = ATTEMPTS, first_pause: float = FIRST_PAUSE, sleep: Callable[[float], None] = time.sleep,
) -> Iterator[int]:
    for attempt in range(count):
        if attempt:
            sleep(random.uniform(0, first_pause * 2 ** attempt))
        yield attempt


def retrying(
    apply: Callable[[CaseChange], None],
    read: Callable[[], State],
    decide: Callable[[State], Decided[Result]],
    conflict: str,
    count: int = ATTEMPTS,
    first: Optional[State] = None,
) -> Result:
    """`decide(read())` until its change applies (or it has nothing to write); `conflict` is the message of
    the Conflict raised when every attempt lost a race. `decide` may raise (a refusal ends the attempts).
    `first`: the state as the caller has just read (or written) it, decided on by the first attempt instead of
    reading it again (a read costs a request; deciding on it is the same race as on a read made a moment later),
    while a lost race reads again."""
    for attempt in attempts(count):
        change, result = decide(first if attempt == 0 and first is not None else read())
        if change is None:
            return result
        try:
            apply(change)
        except StaleWrite:
            continue
        return result
    raise Conflict(conflict)
