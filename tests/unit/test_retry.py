"""Attempts at an optimistic write pause a random, growing time between tries, and never before the first;
a state the caller has just read is decided on by the first attempt without another read."""
from __future__ import annotations

from chalicelib.ports import StaleWrite
from chalicelib.services.retry import attempts, retrying


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


def test_a_state_just_read_is_decided_on_first_and_a_lost_race_reads_again():
    reads: list[str] = []
    applied: list[object] = []
    outcomes = [StaleWrite(), None]

    def apply(change):
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        applied.append(change)

    def read():
        reads.append("read")
        return "stored"

    decided: list[str] = []

    def decide(state):
        decided.append(state)
        return f"change on {state}", state

    assert retrying(apply, read, decide, "too fast", first="seen") == "stored"
    assert decided == ["seen", "stored"] and reads == ["read"] and applied == ["change on stored"]


def test_without_a_state_just_read_the_first_attempt_reads():
    reads: list[str] = []
    result = retrying(lambda change: None, lambda: reads.append("read") or "stored", lambda s: (None, s), "too fast")
    assert result == "stored" and reads == ["read"]
