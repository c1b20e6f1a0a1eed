"""Migrations of running cases on the running local system, over HTTP with real tokens: an admin creates a type
(two tasks), a caseworker opens two cases; version 2 adds a required field the cases have no value for, so the
preview names it and moves nothing; version 3 adds a task instead: the preview lists it, apply migrates both
cases (history: CASE_TYPE_MIGRATED; the new task created), and a second apply refuses them as already there."""
from __future__ import annotations

import uuid

from tests.e2e.test_case_types import definition, fields_of, tasks_of

POLICY = {"name": "policyNumber", "label": "Policy number", "type": "string", "required": True}
INSPECT = {"type": "INSPECT", "title": "Inspect the device"}


def test_an_admin_previews_then_migrates_running_cases(api):
    ada, alice = api("ada"), api("alice")
    type_id = f"MIGRATING_{uuid.uuid4().hex[:6].upper()}"
    assert ada.post("/case-types", json={"id": type_id, **definition()}).status_code == 201
    opened = [
        alice.post("/cases", json={"title": f"Broken kettle {n}", "caseType": type_id, "priority": "HIGH",
                                   "customerId": "CUST-9002"}).json()["id"]
        for n in range(2)
    ]
    for case_id in opened:
        tasks_of(ada, case_id, 2)  # the workflow made the type's two tasks
    v2 = ada.put(f"/case-types/{type_id}", json=definition(fields=[POLICY]), headers={"If-Match": '"1"'})
    assert v2.status_code == 200, v2.text
    migrations = f"/case-types/{type_id}/migrations"

    preview = ada.post(migrations, json={"targetVersion": 2, "caseIds": opened})
    assert preview.status_code == 200, preview.text
    answer = preview.json()
    assert answer["applied"] is False and answer["migrated"] == [] and sorted(answer["refused"]) == sorted(opened)
    for case in answer["cases"]:
        assert (case["fromVersion"], case["toVersion"], case["canMigrate"]) == (1, 2, False)
        assert case["changes"]["missingFields"] == ["policyNumber"]
        assert any("policyNumber" in reason for reason in case["reasons"])

    tasks = [*definition()["tasks"], INSPECT]
    v3 = ada.put(f"/case-types/{type_id}", json=definition(tasks=tasks), headers={"If-Match": '"2"'})
    assert v3.status_code == 200, v3.text
    running = ada.post(migrations, json={"targetVersion": 3, "allRunning": True}).json()
    assert sorted(c["caseId"] for c in running["cases"]) == sorted(opened) and running["nextCursor"] is None
    assert all(c["canMigrate"] and c["changes"]["tasksAdded"] == ["INSPECT"] for c in running["cases"])
    assert [alice.get(f"/cases/{case_id}").json()["caseTypeVersion"] for case_id in opened] == [1, 1]  # a preview

    applied = ada.post(migrations, json={"targetVersion": 3, "caseIds": opened, "apply": True})
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] is True and sorted(applied.json()["migrated"]) == sorted(opened)
    for case_id in opened:
        assert alice.get(f"/cases/{case_id}").json()["caseTypeVersion"] == 3
        history = [e["type"] for e in ada.get(f"/cases/{case_id}/history", params={"limit": 100}).json()["items"]]
        assert "CASE_TYPE_MIGRATED" in history
        made = {t["type"] for t in tasks_of(ada, case_id, 3)} - {"ESCALATION"}  # INSPECT may wait in the queue
        assert made == {"CHECK_RECEIPT", "INSPECT", "REPAIR"}

    again = ada.post(migrations, json={"targetVersion": 3, "caseIds": opened, "apply": True}).json()
    assert again["migrated"] == [] and all(c["reasons"] == ["the case is already at version 3"] for c in again["cases"])

    assert alice.post(migrations, json={"targetVersion": 3, "caseIds": opened}).status_code == 403
    assert ada.post(migrations, json={"targetVersion": 9, "caseIds": opened}).status_code == 404
    zero = ada.post(migrations, json={"targetVersion": 0, "caseIds": opened})
    assert zero.status_code == 400 and fields_of(zero) == {"targetVersion"}

    # The claims team's capacity is shared by the session's tests: finish the work these cases gave it.
    for case_id in opened:
        for task in ada.get("/tasks", params={"caseId": case_id, "status": "OPEN"}).json()["items"]:
            assert ada.post(f"/tasks/{task['id']}/complete", json={}).status_code == 200
