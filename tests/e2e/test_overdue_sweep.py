"""The quarter-hourly overdue sweep (the `escalate_overdue_tasks` schedule), invoked on the running local system as
EventBridge would: an OPEN task past its due time is escalated once."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone


from tests.local_system import aws_client
from tests.e2e.test_workflow import GENERAL, complete_all_tasks, open_tasks, stage_is, wait_until

SCHEDULED_EVENT = {"version": "0", "id": "sweep-1", "detail-type": "Scheduled Event", "source": "aws.events",
                   "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
                   "resources": [], "detail": {}}


def sweep(local_stack) -> list[str]:
    response = aws_client(local_stack, "lambda").invoke(FunctionName="escalate_overdue_tasks",
                                                 Payload=json.dumps(SCHEDULED_EVENT).encode())
    assert "FunctionError" not in response, response["Payload"].read()
    return list(json.loads(response["Payload"].read())["escalated"])


def make_overdue(local_stack, task) -> None:
    """Tasks are due days after they open: put a due marker (what the sweep reads) a minute in the past, as
    the clock would after those days."""
    due = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    aws_client(local_stack, "dynamodb").put_item(TableName=local_stack["tableName"], Item={
        "PK": {"S": f"DUE#{due[:10]}"}, "SK": {"S": f"{due}#{task['id']}"},
        "caseId": {"S": task["caseId"]}, "taskId": {"S": task["id"]}, "dueAt": {"S": due},
    })


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
    history = [e["type"] for e in ada.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]]
    assert "TASK_ESCALATED" in history
    complete_all_tasks(api, ada, case["id"])
