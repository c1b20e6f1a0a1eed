"""Issue 15's scenario in one piece, over HTTP with real tokens: an admin defines a calendar and a case type with
custom fields, that calendar and two tasks; a caseworker's bad field values are 400s naming each field; a good
case's workflow creates both tasks due in working time; the admin publishes version 2 with a new required field:
the running case keeps version 1, a new case needs the field, and a migration preview names it as missing.

Expectations are computed with the domain's own due-date function from the instants the API returns."""
from __future__ import annotations

import uuid
from datetime import datetime

from chalicelib.domain.calendars import Calendar
from chalicelib.domain.clock import iso
from chalicelib.domain.sla import due_after
from tests.e2e.test_case_types import fields_of, tasks_of
from tests.e2e.test_workflow import complete_all_tasks

SLA = {"LOW": 40, "MEDIUM": 20, "HIGH": 6, "CRITICAL": 2}
# Mornings only, every day: a due date differs from the wall clock's whatever the hour the test runs.
MORNINGS = {"name": "Mornings", "timeZone": "Europe/Amsterdam",
            "workingHours": {day: [{"start": "08:00", "end": "12:00"}]
                             for day in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")}}
FIELDS = [
    {"name": "model", "label": "Model", "type": "enum", "enum": ["K1", "K2"], "required": True},
    {"name": "units", "label": "Units", "type": "integer", "min": 1, "max": 10},
]
TASKS = [{"type": "INSPECT", "title": "Inspect the appliance"}, {"type": "REPLY", "title": "Reply to the customer"}]


def test_a_type_with_fields_calendar_and_tasks_evolves_while_its_running_case_keeps_its_rules(api):
    ada, alice = api("ada"), api("alice")
    calendar_id, type_id = f"cal-{uuid.uuid4().hex[:8]}", f"APPLIANCE_{uuid.uuid4().hex[:6].upper()}"
    stored = ada.put(f"/calendars/{calendar_id}", json=MORNINGS)
    assert stored.status_code == 201, stored.text
    calendar = Calendar.model_validate(stored.json())
    definition = {"name": "Appliance fault", "team": "claims", "slaHours": SLA, "calendar": calendar_id,
                  "assignment": [{"policy": "LEAST_LOADED"}], "tasks": TASKS, "fields": FIELDS}
    created = ada.post("/case-types", json={"id": type_id, **definition})
    assert created.status_code == 201, created.text

    body = {"title": "Kettle sparks", "caseType": type_id, "priority": "HIGH", "customerId": "CUST-4242"}
    bad = alice.post("/cases", json={**body, "fields": {"model": "K9", "units": 0, "colour": "red"}})
    assert bad.status_code == 400 and fields_of(bad) == {"fields.model", "fields.units", "fields.colour"}
    missing = alice.post("/cases", json=body)
    assert missing.status_code == 400 and fields_of(missing) == {"fields.model"}

    case = alice.post("/cases", json={**body, "fields": {"model": "K2", "units": 3}}).json()
    later = None
    try:
        assert (case["caseTypeVersion"], case["fields"]) == (1, {"model": "K2", "units": 3})
        assert case["dueAt"] == iso(due_after(datetime.fromisoformat(case["createdAt"]), SLA["HIGH"], calendar))
        tasks = tasks_of(ada, case["id"], 2, timeout=120)
        assert sorted(t["type"] for t in tasks) == ["INSPECT", "REPLY"]
        for task in tasks:
            planned = due_after(datetime.fromisoformat(task["createdAt"]), SLA["HIGH"], calendar)
            assert task["dueAt"] == iso(planned), task

        serial = {"name": "serial", "label": "Serial number", "type": "string", "required": True}
        published = ada.put(f"/case-types/{type_id}", json={**definition, "fields": [*FIELDS, serial]},
                            headers={"If-Match": '"1"'})
        assert published.status_code == 200 and published.json()["version"] == 2, published.text

        running = alice.get(f"/cases/{case['id']}").json()
        assert (running["caseTypeVersion"], running["fields"]) == (1, {"model": "K2", "units": 3})
        refused = alice.post("/cases", json={**body, "fields": {"model": "K1"}})
        assert refused.status_code == 400 and fields_of(refused) == {"fields.serial"}
        later = alice.post("/cases", json={**body, "fields": {"model": "K1", "serial": "SN-1"}}).json()
        assert later["caseTypeVersion"] == 2

        preview = ada.post(f"/case-types/{type_id}/migrations", json={"targetVersion": 2, "caseIds": [case["id"]]})
        assert preview.status_code == 200, preview.text
        (planned_move,) = preview.json()["cases"]
        assert planned_move["canMigrate"] is False and planned_move["changes"]["missingFields"] == ["serial"]
        assert any("serial" in reason for reason in planned_move["reasons"])
        assert alice.get(f"/cases/{case['id']}").json()["caseTypeVersion"] == 1  # a preview writes nothing
    finally:
        # later tests assign by load: give the claims team back the capacity these cases took
        if later is not None:
            tasks_of(ada, later["id"], 2, timeout=120)
        for opened in (case, later):
            if opened is not None:
                complete_all_tasks(api, ada, opened["id"])
