"""local/old_objects.py: the local system freezes what survived a full collection at most every FREEZE_EVERY
seconds, gives it all back to the collector every REVISIT_EVERY seconds, and everything at its stop."""
from __future__ import annotations

import gc

import pytest

from local.old_objects import OLDEST, YOUNGEST_THRESHOLD, OldObjects


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def watched():
    clock, thresholds = Clock(), gc.get_threshold()
    old = OldObjects(clock, freeze_every=30, revisit_every=600).install()
    try:
        yield old, clock
    finally:
        old.uninstall()
    assert gc.get_freeze_count() == 0 and old._on_gc not in gc.callbacks and gc.get_threshold() == thresholds


def full_collection_ended(old: OldObjects) -> None:
    old._on_gc("stop", {"generation": OLDEST, "collected": 0, "uncollectable": 0})


def test_the_start_is_frozen_and_full_collections_freeze_at_most_every_interval(watched):
    old, clock = watched
    assert old.freezes == 1 and gc.get_freeze_count() > 0 and gc.get_threshold()[0] == YOUNGEST_THRESHOLD
    full_collection_ended(old)
    old._on_gc("stop", {"generation": 1, "collected": 0, "uncollectable": 0})
    old._on_gc("start", {"generation": OLDEST})
    assert old.freezes == 1  # too soon, a younger generation, not the end of a collection
    clock.now += 30
    full_collection_ended(old)
    assert old.freezes == 2


def test_a_revisit_unfreezes_and_the_next_full_collection_freezes_again(watched):
    old, clock = watched
    clock.now += 600
    full_collection_ended(old)
    assert old.revisits == 1 and gc.get_freeze_count() == 0  # the next full collection walks everything
    full_collection_ended(old)
    assert old.freezes == 2 and gc.get_freeze_count() > 0


def test_a_real_full_collection_reaches_the_watch(watched):
    old, clock = watched
    clock.now += 30
    gc.collect()
    assert old.freezes == 2
