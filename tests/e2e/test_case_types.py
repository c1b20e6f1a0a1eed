"""Case types as data on the running local system, over HTTP with real tokens: an admin creates a type with a
team and two tasks; caseworkers may read types but not manage them; a definition that cannot work is a 400
naming the path of each fault; a case of the new type runs its workflow's two tasks under version 1; version 2
is published with If-Match (stale: 412) while the running case keeps version 1; retiring stops new cases only."""
from __future__ import annotations

import time
import uuid
from typing import Any

from tests.local_system import complete_open_tasks

SLA = {"LOW": 240, "MEDIUM": 120, "HIGH": 48, "CRITICAL": 8}


def definition(**changes: Any) -> dict[str, Any]:
    return {"name": "Warranty claim", "team": "claims", "slaHours": SLA,
            "tasks": [{"type": "CHECK_RECEIPT", "title": "Check the receipt"},
                      {"type": "REPAIR", "title": "Arrange the repair"}],
            "assignment": [{"policy": "LEAST_LOADED"}], **changes}


def fields_of(response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


def tasks_of(session, case_id: str, count: int, timeout: float = 40) -> list[dict[str, Any]]:
    """The case's tasks of its type, once there are `count`: escalations (raised when the team has no room for
    a task, which depends on what earlier tests left open) are not the type's."""
    deadline, tasks = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        listed = session.get("/tasks", params={"caseId": case_id, "limit": 100}).json()["items"]
        tasks = [t for t in listed if t["type"] != "ESCALATION"]
        if len(tasks) >= count:
            return tasks
        time.sleep(0.25)
    raise AssertionError(f"case {case_id} has tasks {tasks}, not {count}")


def test_an_admin_manages_case_types_and_cases_keep_their_version(api):
    ada, alice = api("ada"), api("alice")
    type_id = f"WARRANTY_{uuid.uuid4().hex[:6].upper()}"

    assert alice.post("/case-types", json={"id": type_id, **definition()}).status_code == 403
    bad = ada.post("/case-types", json={"id": type_id, **definition(
        team="nobody", tasks=[{"type": "A", "title": "a"}, {"type": "A", "title": "b"}],
        currencies={"EUR": {"cap": "lots"}}, fields=[{"name": "kind", "label": "Kind", "type": "enum"}],
    )})
    assert bad.status_code == 400
    assert fields_of(bad) == {"team", "tasks[1].type", "currencies.EUR.cap", "fields[0].enum"}

    created = ada.post("/case-types", json={"id": type_id, **definition()})
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"/case-types/{type_id}" and created.headers["ETag"] == '"1"'
    assert ada.post("/case-types", json={"id": type_id, **definition()}).status_code == 409
    listed = alice.get("/case-types", params={"limit": 100}).json()["items"]
    assert {"CLAIM", "COMPLAINT", "GENERAL", type_id} <= {t["id"] for t in listed}

    first = alice.post("/cases", json={"title": "Broken kettle", "caseType": type_id, "priority": "HIGH",
                                       "customerId": "CUST-9016"}).json()
    assert (first["caseTypeVersion"], first["team"]) == (1, "claims")
    assert sorted(t["type"] for t in tasks_of(ada, first["id"], 2)) == ["CHECK_RECEIPT", "REPAIR"]

    assert ada.put(f"/case-types/{type_id}", json=definition()).status_code == 400  # no If-Match
    assert alice.put(f"/case-types/{type_id}", json=definition(), headers={"If-Match": '"1"'}).status_code == 403
    second = ada.put(f"/case-types/{type_id}", json=definition(name="Warranty claim (2)"), headers={"If-Match": '"1"'})
    assert second.status_code == 200 and second.headers["ETag"] == '"2"' and second.json()["version"] == 2
    stale = ada.put(f"/case-types/{type_id}", json=definition(), headers={"If-Match": '"1"'})
    assert stale.status_code == 412

    assert alice.get(f"/cases/{first['id']}").json()["caseTypeVersion"] == 1
    later = alice.post("/cases", json={"title": "Broken toaster", "caseType": type_id, "priority": "LOW",
                                       "customerId": "CUST-9016"}).json()
    assert later["caseTypeVersion"] == 2
    current = alice.get(f"/case-types/{type_id}")
    assert current.headers["ETag"] == '"2"' and current.json()["name"] == "Warranty claim (2)"
    assert alice.get(f"/case-types/{type_id}/versions/1").json()["name"] == "Warranty claim"
    assert alice.get(f"/case-types/{type_id}/versions/3").status_code == 404
    assert alice.get(f"/case-types/{type_id}/versions/x").status_code == 400

    assert alice.post(f"/case-types/{type_id}/retire").status_code == 403
    retired = ada.post(f"/case-types/{type_id}/retire")
    assert retired.status_code == 200 and retired.json()["retired"] is True
    refused = alice.post("/cases", json={"title": "Broken fan", "caseType": type_id, "priority": "LOW",
                                         "customerId": "CUST-9016"})
    assert refused.status_code == 400 and fields_of(refused) == {"caseType"}
    assert "retired" in refused.json()["error"]["details"][0]["issue"]
    assert alice.get(f"/cases/{first['id']}").status_code == 200
    unknown = alice.post("/cases", json={"title": "x", "caseType": "NO_SUCH_TYPE", "priority": "LOW",
                                         "customerId": "CUST-9016"})
    assert unknown.status_code == 400 and type_id not in unknown.json()["error"]["details"][0]["issue"]

    # Later tests assign by load: give the claims team back the capacity these cases took.
    tasks_of(ada, later["id"], 2)
    for case in (first, later):
        complete_open_tasks(api, case["id"])
