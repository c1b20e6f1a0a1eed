"""Seconds per step of a long operation (a stop), for one log line that says where the time went."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class StepTimer:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: list[tuple[str, float]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.steps.append((name, time.perf_counter() - began))

    def __str__(self) -> str:
        """Total seconds, then each step of a tenth of a second or more: the rest is noise."""
        total = time.perf_counter() - self.started
        slow = ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.steps if seconds >= 0.1)
        return f"{total:.1f} s ({slow or 'no step took 0.1 s'})"
