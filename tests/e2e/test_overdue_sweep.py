"""The quarter-hourly overdue sweep (the `escalate_overdue_tasks` schedule), invoked on the running local system as
EventBridge would: an OPEN task past its due time is escalated once, and one 80 % through its SLA window is warned
about once (an audit event, the `sla.warning` integration event, an SLA_WARNING notification for its assignee)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone


from tests.event_contract import assert_valid
from tests.local_system import aws_client
from tests.e2e.test_integration_events_bus import subscriber  # noqa: F401  (a fixture this module uses)
from tests.e2e.test_notifications import eventually, notifications_of
from tests.e2e.test_workflow import GENERAL, complete_all_tasks, open_tasks, stage_is, wait_until

SCHEDULED_EVENT = {"version": "0", "id": "sweep-1", "detail-type": "Scheduled Event", "source": "aws.events",
                   "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
                   "resources": [], "detail": {}}


def sweep(local_stack) -> list[str]:
    response = aws_client(local_stack, "lambda").invoke(FunctionName="escalate_overdue_tasks",
                                                 Payload=json.dumps(SCHEDULED_EVENT).encode())
    assert "FunctionError" not in response, response["Payload"].read()
    return list(json.loads(response["Payload"].read())["escalated"])


def make_overdue(local_stack, task, suffix: str = "") -> None:
    """Tasks are due days after they open: put a due marker (what the sweep reads) a minute in the past, as
    the clock would after those days."""
    due = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    aws_client(local_stack, "dynamodb").put_item(TableName=local_stack["tableName"], Item={
        "PK": {"S": f"DUE#{due[:10]}"}, "SK": {"S": f"{due}#{task['id']}{suffix}"},
        "caseId": {"S": task["caseId"]}, "taskId": {"S": task["id"]}, "dueAt": {"S": due},
    })


def make_nearly_due(local_stack, task) -> None:
    """Likewise its warning marker: 80 % of its SLA window has passed."""
    make_overdue(local_stack, task, suffix="#WARNING")


def history_types(session, case_id) -> list[str]:
    return [e["type"] for e in session.get(f"/cases/{case_id}/history", params={"limit": 100}).json()["items"]]


def test_the_sweep_escalates_an_overdue_task_once(api, local_stack):
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json={**GENERAL, "title": "Overdue address change"}).json()
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    task = open_tasks(ada, case["id"])[0]
    make_overdue(local_stack, task)
    escalated = sweep(local_stack)
    assert len(escalated) == 1
    assert ada.get(f"/tasks/{task['id']}").json()["escalation"] == escalated[0]
    assert sweep(local_stack) == []  # once
    assert "TASK_ESCALATED" in history_types(ada, case["id"])
    complete_all_tasks(api, ada, case["id"])


def test_a_task_80_percent_through_its_sla_is_warned_once_then_escalated_as_ever(api, local_stack, subscriber):  # noqa: F811
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json={**GENERAL, "title": "Nearly due address change"}).json()
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    task = open_tasks(ada, case["id"])[0]
    assert task["assignee"], "the demo team has room for a GENERAL task"
    assignee = api(task["assignee"])
    try:
        make_nearly_due(local_stack, task)
        assert sweep(local_stack) == []  # a warning escalates nothing
        assert sweep(local_stack) == []
        assert history_types(ada, case["id"]).count("TASK_SLA_WARNING") == 1  # once
        warned = ada.get(f"/tasks/{task['id']}").json()
        assert warned["slaWarnedAt"] and warned["escalation"] is None

        [event] = [e for e in subscriber(case["id"], "sla.warning") if e["type"] == "sla.warning"]
        assert_valid(event)
        assert event["data"] == {"scope": "task", "taskId": task["id"], "dueAt": task["dueAt"]}

        [note] = eventually(lambda: notifications_of(assignee, case["id"], "SLA_WARNING"), "the SLA warning")
        assert (note["taskId"], note["recipient"]) == (task["id"], task["assignee"]) and "80 %" in note["text"]

        make_overdue(local_stack, task)
        [escalation] = sweep(local_stack)
        assert ada.get(f"/tasks/{task['id']}").json()["escalation"] == escalation
        assert eventually(lambda: notifications_of(assignee, case["id"], "SLA_BREACHED"), "the SLA breach")
    finally:
        complete_all_tasks(api, ada, case["id"])
