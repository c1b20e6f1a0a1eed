"""The local system's long-lived objects kept out of the cyclic garbage collector's full collections.

moto keeps every table item, stream record, execution history and S3 object as Python objects, millions of
them at a few thousand cases (~2 GB). A full collection walks every one; CPython runs one whenever the
objects that survived since the last grew by 25%, so full collections cost ~19 ms of CPU per created case
at 5,000 cases, all of it finding nothing: these objects die by reference counting (an overwritten item,
a delivered record), not in cycles.

`gc.freeze()` moves every tracked object to a generation the collector never walks; freed objects are still
freed by reference counting. It runs at the start (the restored snapshot) and then right after a full
collection, at most once every FREEZE_EVERY seconds: at that moment the younger generations are empty and
every object left survived a full collection. The cost: garbage in reference cycles among objects frozen
while in use (a request in flight) is not collected while frozen. So every REVISIT_EVERY seconds the frozen
objects go back to the collector (`gc.unfreeze()`): the next full collection walks them all once, frees such
cycles, and is followed by a freeze again. The youngest generation is collected every YOUNGEST_THRESHOLD
allocations rather than 700: most young objects are freed by reference counting before a collection sees
them (a request's parsed JSON, a query's page), and each collection has a cost of its own. Only the local
system's process does this (LocalSystem.start and stop), never the deployed app."""
from __future__ import annotations

import gc
import threading
import time
from typing import Any, Callable, Optional

FREEZE_EVERY = 30.0  # seconds between freezes after a full collection
REVISIT_EVERY = 1800.0  # seconds between unfreezes: one full walk of everything, then frozen again
OLDEST = 2  # the generation of full collections
YOUNGEST_THRESHOLD = 10_000  # allocations between collections of the youngest generation (CPython: 700)


class OldObjects:
    def __init__(self, clock: Callable[[], float] = time.monotonic, freeze_every: float = FREEZE_EVERY,
                 revisit_every: float = REVISIT_EVERY) -> None:
        self._clock = clock
        self._freeze_every, self._revisit_every = freeze_every, revisit_every
        self._frozen_at: Optional[float] = None
        self._revisited_at = 0.0
        self._lock = threading.Lock()
        self._thresholds = gc.get_threshold()
        self.freezes = self.revisits = 0

    def install(self) -> "OldObjects":
        """Freeze what the start made (the restored snapshot, the app, moto) and watch full collections."""
        self._thresholds = gc.get_threshold()
        gc.set_threshold(YOUNGEST_THRESHOLD, *self._thresholds[1:])
        with self._lock:
            self._freeze()
            self._revisited_at = self._clock()
        gc.callbacks.append(self._on_gc)
        return self

    def uninstall(self) -> None:
        """Give every frozen object back to the collector (a test process starts other systems after this one)."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != OLDEST:
            return
        with self._lock:
            now = self._clock()
            if now - self._revisited_at >= self._revisit_every:
                gc.unfreeze()  # the next full collection walks everything once; the one after it freezes
                self._revisited_at, self._frozen_at = now, None
                self.revisits += 1
            elif self._frozen_at is None or now - self._frozen_at >= self._freeze_every:
                self._freeze()

    def _freeze(self) -> None:
        gc.freeze()
        self._frozen_at = self._clock()
        self.freezes += 1
