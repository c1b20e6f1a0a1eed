"""SLAs in working time on the running local system, over HTTP with real tokens (issue 15 item 3): an admin defines
a calendar and a case type naming it; a caseworker's case of it is due in working time, and so are the tasks its
workflow creates; a case waiting for the customer's documents shows its SLA clock stopped, and once the documents
are READY its dueAt (and its open task's) is later by the working time it waited, audited on the move.

The system runs on real time, so every expectation is computed with the domain's own function from the instants
the API returns (never by timing the test)."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from chalicelib.domain.calendars import Calendar
from chalicelib.domain.clock import iso
from chalicelib.domain.sla import due_after, resumed_due
from tests.e2e.test_case_types import tasks_of
from tests.e2e.test_documents import post_form, upload_body, wait_for_versions
from tests.e2e.test_workflow import complete_all_tasks, wait_until

SLA = {"LOW": 40, "MEDIUM": 20, "HIGH": 6, "CRITICAL": 2}
# Mornings only, every day: a due date differs from the wall clock's whatever the hour the test runs.
MORNINGS = {"name": "Mornings", "timeZone": "Europe/London",
            "workingHours": {day: [{"start": "08:00", "end": "12:00"}]
                             for day in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")}}
# Around the clock: the wait for documents always takes working time, so the due date always moves.
ALWAYS = {"name": "Always", "timeZone": "Europe/London",
          "workingHours": {day: [{"start": "00:00", "end": "24:00"}]
                           for day in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")}}
PROOF = "Receipt 4711, kettle, 29.99\n".encode()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def define(ada, calendar: dict[str, Any], **rules: Any) -> tuple[Calendar, str]:
    """A fresh calendar and a case type naming it; returns the calendar as stored and the type's id."""
    calendar_id, type_id = f"cal-{uuid.uuid4().hex[:8]}", f"SLA_{uuid.uuid4().hex[:6].upper()}"
    stored = ada.put(f"/calendars/{calendar_id}", json=calendar)
    assert stored.status_code == 201, stored.text
    body = {"id": type_id, "name": "Working-time claim", "team": "claims", "slaHours": SLA, "calendar": calendar_id,
            "assignment": [{"policy": "LEAST_LOADED"}], **rules}
    created = ada.post("/case-types", json=body)
    assert created.status_code == 201, created.text
    return Calendar.model_validate(stored.json()), type_id


def reprioritised(session, case_id: str, priority: str, attempts: int = 20) -> dict[str, Any]:
    """PATCH the priority at the case's current version; its workflow moves it meanwhile, so a 412 reads again."""
    for _ in range(attempts):
        etag = session.get(f"/cases/{case_id}").headers["ETag"]
        response = session.patch(f"/cases/{case_id}", json={"priority": priority}, headers={"If-Match": etag})
        if response.status_code != 412:
            assert response.status_code == 200, response.text
            return response.json()
    raise AssertionError(f"case {case_id} kept moving under {attempts} PATCHes")


def test_a_case_and_its_tasks_are_due_in_working_time_on_the_types_calendar(api):
    ada, alice = api("ada"), api("alice")
    calendar, type_id = define(ada, MORNINGS, tasks=[
        {"type": "CHECK", "title": "Check the claim"},
        {"type": "CALL", "title": "Call the customer", "slaHours": {"HIGH": 1}},
    ])
    case = alice.post("/cases", json={"title": "Kettle", "caseType": type_id, "priority": "HIGH",
                                      "customerId": "CUST-9013"}).json()
    try:
        due = iso(due_after(instant(case["createdAt"]), SLA["HIGH"], calendar))
        assert case["dueAt"] == due != iso(due_after(instant(case["createdAt"]), SLA["HIGH"], None))
        assert case["sla"]["dueAt"] == due and case["sla"]["calendar"] == calendar.id
        assert case["sla"]["paused"] is False and 0 < case["sla"]["timeLeftSeconds"] <= SLA["HIGH"] * 3600

        # the first case of a fresh local system waits for its workflow's workers to start: a generous bound
        for task in tasks_of(ada, case["id"], 2, timeout=120):
            hours = 1 if task["type"] == "CALL" else SLA["HIGH"]
            assert task["dueAt"] == iso(due_after(instant(task["createdAt"]), hours, calendar)), task

        later = reprioritised(alice, case["id"], "CRITICAL")
        assert later["dueAt"] == iso(due_after(instant(case["createdAt"]), SLA["CRITICAL"], calendar))
        assert later["sla"]["dueAt"] == later["dueAt"]
    finally:
        complete_all_tasks(api, ada, case["id"])


def test_waiting_for_documents_stops_the_sla_clock_and_the_documents_move_the_due_date(api):
    ada, alice, aud = api("ada"), api("alice"), api("aud")
    calendar, type_id = define(ada, ALWAYS, requiredDocuments=["receipt"],
                               tasks=[{"type": "CHECK", "title": "Check the receipt"}])
    case = alice.post("/cases", json={"title": "Kettle", "caseType": type_id, "priority": "MEDIUM",
                                      "customerId": "CUST-9013"}).json()
    try:
        waiting = wait_until(alice, case["id"], lambda c: c["status"] == "PENDING_DOCUMENTS", "waited for documents")
        assert waiting["slaPausedAt"] and waiting["sla"]["paused"] is True
        assert waiting["sla"]["pausedAt"] == waiting["slaPausedAt"] and waiting["dueAt"] == case["dueAt"]

        documents = f"/cases/{case['id']}/documents"
        ticket = alice.post(documents, json=upload_body(PROOF, "receipt.txt", kind="receipt")).json()
        assert post_form(ticket, PROOF).status_code in (200, 201, 204)
        wait_for_versions(alice, f"{documents}/{ticket['documentId']}", 1, status="READY")
        going = wait_until(alice, case["id"], lambda c: c["status"] == "IN_PROGRESS", "left PENDING_DOCUMENTS")
        assert going["slaPausedAt"] is None and going["sla"]["paused"] is False

        history = aud.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]
        (pause,) = [e["data"]["slaPaused"] for e in history if "slaPaused" in e["data"]]
        assert pause["from"] == waiting["slaPausedAt"] and pause["dueAt"]["from"] == case["dueAt"]
        moved = resumed_due(instant(case["dueAt"]), instant(pause["from"]), instant(pause["to"]), calendar)
        assert going["dueAt"] == pause["dueAt"]["to"] == iso(moved) and going["dueAt"] > case["dueAt"]
        (task,) = tasks_of(ada, case["id"], 1)  # created before the wait: it moved by the same working time
        assert pause["tasks"] == [{"taskId": task["id"], "dueAt": {"from": pause["tasks"][0]["dueAt"]["from"],
                                                                  "to": task["dueAt"]}}]
        planned = due_after(instant(task["createdAt"]), SLA["MEDIUM"], calendar)
        assert task["dueAt"] == iso(resumed_due(planned, instant(pause["from"]), instant(pause["to"]), calendar))
        assert aud.get(f"/cases/{case['id']}/history/verify").json()["valid"] is True
        rebuilt = aud.get(f"/cases/{case['id']}", params={"asOf": going["updatedAt"]}).json()
        assert (rebuilt["dueAt"], rebuilt["slaPausedAt"]) == (going["dueAt"], None)
    finally:
        complete_all_tasks(api, ada, case["id"])
