"""The audit chain: built with next_event, checked with verify_chain."""
from __future__ import annotations

import pytest

from chalicelib.domain.audit import GENESIS_HASH, event_hash, next_event, verify_chain
from chalicelib.domain.models import AuditEvent


def build_chain(length: int = 4, case_id: str = "case-1") -> list[AuditEvent]:
    events: list[AuditEvent] = []
    prev_seq, prev_hash = 0, ""
    for n in range(length):
        event = next_event(
            case_id=case_id, prev_seq=prev_seq, prev_hash=prev_hash, type="CASE_UPDATED" if n else "CASE_CREATED",
            actor="alice", at=f"2026-03-01T12:00:0{n}.000Z", data={"n": n, "note": f"step {n}"},
        )
        events.append(event)
        prev_seq, prev_hash = event.seq, event.hash
    return events


def replace(events: list[AuditEvent], index: int, **update: object) -> list[AuditEvent]:
    tampered = list(events)
    tampered[index] = events[index].model_copy(update=update)
    return tampered


def rehashed(event: AuditEvent) -> AuditEvent:
    """What a forger who knows the algorithm would store: the event's own hash made consistent."""
    body = event.model_dump(mode="json", by_alias=True, exclude={"hash", "prev_hash"})
    return event.model_copy(update={"hash": event_hash(event.prev_hash, body)})


class TestBuilding:
    def test_first_event_starts_from_the_genesis_hash(self):
        first = build_chain(1)[0]
        assert first.seq == 1
        assert first.prev_hash == GENESIS_HASH

    def test_each_event_links_to_the_previous_hash(self):
        events = build_chain(4)
        assert [e.seq for e in events] == [1, 2, 3, 4]
        for previous, current in zip(events, events[1:]):
            assert current.prev_hash == previous.hash

    def test_hashes_are_sha256_hex_and_distinct(self):
        hashes = [e.hash for e in build_chain(4)]
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)
        assert len(set(hashes)) == 4

    def test_same_content_gives_the_same_hash(self):
        assert [e.hash for e in build_chain(3)] == [e.hash for e in build_chain(3)]

    def test_hash_depends_on_the_case(self):
        assert build_chain(1, "case-1")[0].hash != build_chain(1, "case-2")[0].hash


class TestVerification:
    def test_intact_chain_is_valid(self):
        result = verify_chain(build_chain(4))
        assert result.valid is True
        assert result.events == 4
        assert result.first_invalid_seq is None

    def test_empty_chain_is_valid_with_no_events(self):
        result = verify_chain([])
        assert (result.valid, result.events, result.first_invalid_seq) == (True, 0, None)

    def test_accepts_any_iterable(self):
        assert verify_chain(iter(build_chain(3))).valid

    @pytest.mark.parametrize(
        "field, value",
        [
            ("data", {"n": 1, "note": "rewritten"}),
            ("actor", "mallory"),
            ("type", "CASE_DELETED"),
            ("at", "2020-01-01T00:00:00.000Z"),
            ("case_id", "case-2"),
        ],
    )
    def test_changed_content_is_detected_at_that_event(self, field, value):
        result = verify_chain(replace(build_chain(4), 1, **{field: value}))
        assert result.valid is False
        assert result.first_invalid_seq == 2

    def test_changed_hash_is_detected(self):
        result = verify_chain(replace(build_chain(4), 1, hash="f" * 64))
        assert (result.valid, result.first_invalid_seq) == (False, 2)

    def test_changed_hash_of_the_last_event_is_detected(self):
        result = verify_chain(replace(build_chain(4), 3, hash="0" * 64))
        assert (result.valid, result.first_invalid_seq) == (False, 4)

    def test_changed_prev_hash_is_detected(self):
        result = verify_chain(replace(build_chain(4), 2, prev_hash="a" * 64))
        assert (result.valid, result.first_invalid_seq) == (False, 3)

    def test_rehashed_forgery_breaks_the_link_to_the_next_event(self):
        events = build_chain(4)
        events[1] = rehashed(events[1].model_copy(update={"data": {"n": 1, "note": "forged"}}))
        result = verify_chain(events)
        assert (result.valid, result.first_invalid_seq) == (False, 3)

    def test_reordered_events_are_detected(self):
        events = build_chain(4)
        events[1], events[2] = events[2], events[1]
        result = verify_chain(events)
        assert (result.valid, result.first_invalid_seq) == (False, 2)

    def test_removed_middle_event_is_detected(self):
        events = build_chain(4)
        del events[1]
        result = verify_chain(events)
        assert (result.valid, result.first_invalid_seq) == (False, 2)

    def test_removed_first_event_is_detected(self):
        result = verify_chain(build_chain(3)[1:])
        assert (result.valid, result.first_invalid_seq) == (False, 1)

    def test_duplicated_event_is_detected(self):
        events = build_chain(3)
        result = verify_chain([events[0], events[1], events[1], events[2]])
        assert (result.valid, result.first_invalid_seq) == (False, 3)

    def test_removing_the_last_event_is_not_detectable_from_the_events_alone(self):
        # Truncation leaves a valid prefix; the case's stored audit head is what catches it.
        assert verify_chain(build_chain(4)[:3]).valid


class TestVerificationAgainstTheHead:
    def test_chain_ending_at_the_head_is_valid(self):
        events = build_chain(4)
        result = verify_chain(events, head=(4, events[-1].hash))
        assert (result.valid, result.events) == (True, 4)

    def test_removed_newest_events_are_detected(self):
        events = build_chain(4)
        result = verify_chain(events[:2], head=(4, events[-1].hash))
        assert (result.valid, result.events, result.first_invalid_seq) == (False, 2, 3)

    def test_head_hash_must_match_the_last_event(self):
        events = build_chain(3)
        result = verify_chain(events, head=(3, "e" * 64))
        assert (result.valid, result.first_invalid_seq) == (False, 4)

    def test_empty_chain_matches_an_empty_head(self):
        assert verify_chain([], head=(0, "")).valid
        assert verify_chain([], head=(0, GENESIS_HASH)).valid

    def test_empty_chain_does_not_match_a_real_head(self):
        event = build_chain(1)[0]
        result = verify_chain([], head=(1, event.hash))
        assert (result.valid, result.first_invalid_seq) == (False, 1)

    def test_broken_link_is_reported_before_the_head(self):
        events = build_chain(4)
        result = verify_chain(replace(events, 1, actor="mallory"), head=(4, events[-1].hash))
        assert result.first_invalid_seq == 2
