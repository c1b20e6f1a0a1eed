"""local/recent_event_ids.py: a (function, event ID) pair is new once, per function; the oldest is forgotten past
the limit; IDs that are not 32 hex digits are remembered as they came."""
from __future__ import annotations

import uuid

from local.recent_event_ids import RecentEventIds


def test_a_pair_is_new_once_and_per_function() -> None:
    seen, event = RecentEventIds(limit=10), uuid.uuid4().hex
    assert seen.remember("starter", event) is True
    assert seen.remember("starter", event) is False
    assert seen.remember("publisher", event) is True
    assert seen.remember("publisher", event.upper()) is False  # the same number: hex digits in either case
    assert len(seen) == 2


def test_the_oldest_is_forgotten_past_the_limit() -> None:
    seen = RecentEventIds(limit=3)
    events = [uuid.uuid4().hex for _ in range(4)]
    assert all(seen.remember("starter", event) for event in events)
    assert len(seen) == 3
    assert seen.remember("starter", events[0]) is True  # forgotten: the first of four
    assert seen.remember("starter", events[3]) is False


def test_other_ids_are_kept_as_they_came() -> None:
    seen = RecentEventIds(limit=10)
    for event in ("1", "shardId-000/42", "z" * 32, "0" * 31):
        assert seen.remember("starter", event) is True
        assert seen.remember("starter", event) is False
    assert seen.remember("starter", "0" * 32) is True  # 32 digits: a number, not the 31-digit string above
