"""Wall-time limits for parsers that can be made to spin (deeply nested PDFs, pathological images).

On the main thread (the container's case) SIGALRM interrupts a parser wherever it is; elsewhere the
inspectors' loops call `Deadline.check()` between units of work, which is the best a thread can do.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator


class TimeLimitExceeded(BaseException):
    """A BaseException so that parsers' own `except Exception` clauses cannot swallow it."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() >= self._end:
            raise TimeLimitExceeded(f"over {self.seconds:g} s")


@contextmanager
def time_limit(seconds: float) -> Iterator[Deadline]:
    deadline = Deadline(seconds)
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield deadline
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield deadline
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
