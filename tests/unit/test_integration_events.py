"""Integration events: each audit event the services write maps to its versioned event (or to none), the
event keeps ids only, validates against its type's schema, and the publisher puts them on the bus in calls
of at most 10, reporting what the bus refused."""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.event_bus import InMemoryEventBus
from chalicelib.domain import audit
from chalicelib.domain.integration_events import EVENT_TYPES, event_id, integration_event
from chalicelib.domain.models import AuditEvent
from chalicelib.services.cases import CaseNumbers, CaseService
from chalicelib.services.integration_events import IntegrationEventPublisher
from tests.event_contract import assert_valid, schema_types
from tests.support import FixedClock, SequentialIds, principal, case_types
from tests.unit.test_case_as_of import _written_event_types

CASE = "c0ffee12"
HASH = "ab" * 32
TASK = {"id": f"{CASE}-t3", "caseId": CASE, "type": "ASSESS_CLAIM", "title": "Assess the claim of Jane Doe",
        "assignee": "alice", "team": "claims", "status": "OPEN", "required": True,
        "dueAt": "2026-03-03T12:00:00Z", "createdAt": "2026-03-01T12:00:00Z", "version": 1}
# The data each writer gives its audit event (services/*.py), with the free text a person may have typed.
AUDIT_DATA: dict[str, tuple[dict[str, Any], str | None]] = {
    "TASK_CREATED": ({"task": TASK}, "task.assigned"),
    "TASK_CLAIMED": ({"taskId": f"{CASE}-t3", "assignee": "bob"}, "task.assigned"),
    "TASK_REASSIGNED": ({"taskId": f"{CASE}-t3", "from": "alice", "to": "bob"}, "task.assigned"),
    "TASK_COMPLETED": ({"taskId": f"{CASE}-t3", "outcome": "paid Jane", "comment": "She called"}, "task.completed"),
    "TASK_SLA_WARNING": ({"taskId": f"{CASE}-t3", "dueAt": "2026-03-03T12:00:00Z"}, "sla.warning"),
    "TASK_ESCALATED": ({"taskId": f"{CASE}-t3", "escalation": f"{CASE}-t9"}, "sla.breached"),
    "TASK_CANCELLED": ({"taskId": f"{CASE}-t3"}, None),
    "APPROVAL_REQUESTED": ({"approvalId": f"{CASE}-a1", "level": 1, "levels": 2, "amount": "1250.00",
                            "currency": "EUR", "from": "IN_PROGRESS", "to": "PENDING_APPROVAL"}, "approval.requested"),
    "APPROVAL_DECIDED": ({"approvalId": f"{CASE}-a1", "level": 2, "decision": "APPROVED", "decidedBy": "ava",
                          "onBehalfOf": None, "comment": "Jane's claim is fine", "final": True, "opened": None,
                          "from": "PENDING_APPROVAL", "to": "APPROVED"}, "approval.decided"),
    "APPROVAL_EXPIRED": ({"approvalId": f"{CASE}-a1", "level": 1}, None),
    "PAYMENT_CONFIRMED": ({"instructionId": f"{CASE}-i1", "amount": "1250.00", "currency": "EUR",
                           "reference": "IBAN DE89 of Jane"}, "compensation.paid"),
    "COMPENSATION_INSTRUCTED": ({"instructionId": f"{CASE}-i1", "from": "APPROVED", "to": "COMPENSATION",
                                 "stage": "COMPENSATION"}, "case.updated"),
    "DOCUMENT_VERIFIED": ({"documentId": f"{CASE}-d1", "versionId": "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
                           "sha256": "cd" * 32, "size": 2048}, "document.ready"),
    "DOCUMENT_QUARANTINED": ({"documentId": f"{CASE}-d1", "versionId": "v2", "sha256": "ef" * 32, "size": 9,
                              "reasons": ["archive-ratio", "sha256-mismatch"]}, "document.quarantined"),
    "DOCUMENT_UPLOADED": ({"documentId": f"{CASE}-d1", "versionId": "v2", "filename": "jane.pdf"}, None),
    "COMMENT_ADDED": ({"commentId": "k1", "text": "Jane Doe called"}, None),
    "WORKFLOW_STARTED": ({"executionId": "arn:exec", "from": "NEW", "to": "OPEN", "stage": "INITIATED"},
                         "case.updated"),
    "WORKFLOW_ESCALATED": ({"stage": "APPROVAL"}, None),
    "CASE_CLOSED": ({"outcome": "RESOLVED", "from": "RESOLVED", "to": "CLOSED", "stage": "COMPLETED"}, "case.closed"),
}
PERSONAL = ("Jane", "Burst pipe", "kitchen", "She called", "IBAN", "jane.pdf")


def audit_event(type: str, data: dict[str, Any], seq: int = 4, actor: str = "alice") -> AuditEvent:
    return AuditEvent(seq=seq, case_id=CASE, type=type, actor=actor, at="2026-03-01T12:04:00Z", data=data,
                      prev_hash=HASH, hash="12" * 32)


@pytest.fixture(scope="module")
def opened_and_edited() -> list[AuditEvent]:
    """A case opened and edited through the case service: its real CASE_CREATED and CASE_UPDATED."""
    repo, clock = InMemoryCaseRepository(), FixedClock()
    service = CaseService(repo, case_types(), CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))
    alice = principal("alice", "caseworker", team="claims")
    case = service.create(alice, {"title": "Burst pipe", "description": "Jane's kitchen", "caseType": "GENERAL",
                                  "priority": "LOW", "customerId": "CUST-7", "tags": ["water"]})
    service.update(alice, case.id, {"title": "Burst pipe in Jane's kitchen", "priority": "HIGH"}, '"1"')
    return repo.list_events(case.id)


class TestMapping:
    @pytest.mark.parametrize("audit_type", sorted(AUDIT_DATA))
    def test_each_audit_event_maps_to_its_type_and_keeps_no_personal_text(self, audit_type):
        data, expected = AUDIT_DATA[audit_type]
        event = integration_event(audit_event(audit_type, data))
        if expected is None:
            assert event is None
            return
        assert event is not None and event["type"] == expected
        assert_valid(event)
        text = json.dumps(event)
        assert not [word for word in PERSONAL if word in text], text

    def test_the_case_services_own_events_map_and_validate(self, opened_and_edited):
        created, updated = (integration_event(e) for e in opened_and_edited)
        assert created is not None and updated is not None
        assert created["type"] == "case.created" and created["data"]["caseType"] == "GENERAL"
        assert created["data"]["customerId"] == "CUST-7" and created["data"]["number"].startswith("CASE-")
        assert updated["type"] == "case.updated"
        assert updated["data"] == {"fields": ["dueAt", "priority", "title"], "version": 2}
        for event in (created, updated):
            assert_valid(event)
            assert "Burst pipe" not in json.dumps(event) and "Jane" not in json.dumps(event)

    def test_the_envelope_carries_the_audit_events_seq_hash_time_and_actor(self):
        event = integration_event(audit_event("TASK_COMPLETED", {"taskId": "t1"}, seq=7, actor="bob"))
        assert event is not None
        assert event["audit"] == {"seq": 7, "hash": "12" * 32} and event["time"] == "2026-03-01T12:04:00Z"
        assert event["caseId"] == CASE and event["actor"] == "bob" and event["version"] == 1

    def test_the_id_is_the_same_for_the_same_case_and_seq_and_differs_otherwise(self):
        first = integration_event(audit_event("TASK_COMPLETED", {"taskId": "t1"}, seq=7))
        again = integration_event(audit_event("TASK_COMPLETED", {"taskId": "t1"}, seq=7))
        assert first is not None and again is not None and first["id"] == again["id"] == event_id(CASE, 7)
        assert event_id(CASE, 8) != event_id(CASE, 7) != event_id("other", 7)

    def test_a_task_left_in_the_team_queue_is_assigned_to_nobody(self):
        assert integration_event(audit_event("TASK_CREATED", {"task": {**TASK, "assignee": None}})) is None
        assert integration_event(audit_event("TASK_REASSIGNED", {"taskId": "t1", "from": "bob", "to": None})) is None

    def test_every_event_type_has_a_schema_and_every_written_audit_type_was_considered(self):
        assert schema_types() == set(EVENT_TYPES)
        considered = set(AUDIT_DATA) | {"CASE_CREATED", "CASE_UPDATED"}
        # The rest either moves the status (case.updated through the same rule as WORKFLOW_STARTED) or annotates.
        for audit_type in _written_event_types() - considered:
            event = integration_event(audit_event(audit_type, {"from": "OPEN", "to": "IN_PROGRESS"}))
            assert event is not None and event["type"] == "case.updated", audit_type
            assert integration_event(audit_event(audit_type, {"note": "x"})) is None, audit_type


def stream_record(event: AuditEvent, sequence: int) -> dict[str, Any]:
    return {
        "eventID": f"id-{sequence}", "eventName": "INSERT", "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": {"S": f"CASE#{event.case_id}"}, "SK": {"S": f"EVENT#{event.seq:010d}"}},
            "NewImage": {"body": {"S": event.model_dump_json(by_alias=True)}}, "SequenceNumber": str(sequence),
        },
    }


def chain(count: int) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    for n in range(count):
        audit.append_to_chain(events, case_id=CASE, head_seq=0, head_hash="", type="TASK_COMPLETED", actor="alice",
                              at="2026-03-01T12:04:00Z", data={"taskId": f"{CASE}-t{n}"})
    return events


class TestPublisher:
    def test_events_go_out_in_calls_of_at_most_ten_and_other_records_are_skipped(self):
        bus = InMemoryEventBus()
        records = [stream_record(e, n) for n, e in enumerate(chain(23), start=100)]
        case_item = {"eventID": "x", "eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": f"CASE#{CASE}"},
                                                                                   "SK": {"S": "CASE"}}}}
        assert IntegrationEventPublisher(bus).publish([case_item, *records]) == []
        assert bus.calls == 3 and len(bus.published) == 23
        assert [e["audit"]["seq"] for e in bus.published] == list(range(1, 24))
        for event in bus.published:
            assert_valid(event)

    def test_events_the_bus_refuses_are_reported_by_their_records_sequence_number(self):
        bus = InMemoryEventBus()
        bus.refuse = lambda event: event["audit"]["seq"] in (3, 12)
        records = [stream_record(e, n) for n, e in enumerate(chain(15), start=100)]
        assert IntegrationEventPublisher(bus).publish(records) == ["102", "111"]
        assert len(bus.published) == 13

    def test_a_bus_that_fails_as_a_whole_fails_its_chunk_only(self):
        class FlakyBus(InMemoryEventBus):
            def put(self, events):
                if any(e["audit"]["seq"] > 10 for e in events):
                    raise ConnectionError("bus unreachable")
                return super().put(events)

        records = [stream_record(e, n) for n, e in enumerate(chain(12), start=1)]
        assert IntegrationEventPublisher(FlakyBus()).publish(records) == ["11", "12"]

    def test_an_unreadable_audit_record_fails_alone(self):
        bus = InMemoryEventBus()
        good = stream_record(chain(1)[0], 5)
        broken = stream_record(chain(1)[0], 6)
        broken["dynamodb"]["NewImage"]["body"]["S"] = "{not json"
        assert IntegrationEventPublisher(bus).publish([broken, good]) == ["6"]
        assert len(bus.published) == 1

    def test_a_record_delivered_twice_publishes_the_same_event_id_twice(self):
        bus = InMemoryEventBus()
        record = stream_record(chain(1)[0], 5)
        publisher = IntegrationEventPublisher(bus)
        publisher.publish([record])
        publisher.publish([record])
        assert bus.published[0]["id"] == bus.published[1]["id"]
