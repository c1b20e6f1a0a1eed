"""Attempts at an optimistic write pause a random, growing time between tries, and never before the first."""
from __future__ import annotations

from chalicelib.services.retry import attempts


def test_attempts_pause_between_tries_within_a_doubling_bound():
    pauses: list[float] = []
    tried = list(attempts(count=5, first_pause=0.01, sleep=pauses.append))
    assert tried == [0, 1, 2, 3, 4] and len(pauses) == 4
    assert all(0 <= pause <= 0.01 * 2 ** attempt for attempt, pause in enumerate(pauses, start=1))


def test_no_pause_when_the_first_try_wins():
    pauses: list[float] = []
    for _ in attempts(sleep=pauses.append):
        break
    assert pauses == []
