"""The case workflow's failure paths on a running local system, over HTTP with real tokens: Lambda tasks
made to fail through the local fault registry (local/faults.py), Step Functions' Retry and the saga
(Rollback) they lead to, a wait that times out and escalates, and a stream record delivered twice.

Faults on the session's system are scoped to one case (`caseId`), so work other tests left running
never trips over them; a fault that must be armed before its case exists (Assign runs right after the
case is written) uses a second, quiet system instead, which also has a short approval timeout."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any, Callable

import pytest
import requests

from tests.local_system import aws_client
from tests.e2e.test_workflow import (
    COMPLAINT, GENERAL, approvals_of, complete_all_tasks, open_tasks, stage_is, wait_until,
)

APPROVAL_TIMEOUT = 3  # seconds the quiet system's approval stage waits before it escalates
QUIET_ENV = {"WAIT_SECONDS_APPROVAL": str(APPROVAL_TIMEOUT)}
# Retry of every Lambda task in the ASL: MaxAttempts 3 after the first, 1 s then 2 s then 4 s apart.
ATTEMPTS = 4
RETRIES_TAKE = 1 + 2 + 4


@pytest.fixture(scope="module")
def quiet(local_system_with: Callable[..., Any]) -> Any:
    """A second local system for this module only: no demo cases, so nothing runs on it but these
    tests, and a 3 s approval timeout (the process environment reaches the app's settings)."""
    return local_system_with(QUIET_ENV, seed=False)


def raw_history(stack: dict[str, Any], execution_arn: str) -> list[dict[str, Any]]:
    history = aws_client(stack, "stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)
    return list(history["events"])


def events_of(session: Any, case_id: str, kind: str) -> list[dict[str, Any]]:
    history = session.get(f"/cases/{case_id}/history", params={"limit": 100}).json()["items"]
    return [e for e in history if e["type"] == kind]


def fired_for(faults: Any, case_id: str, function: str) -> int:
    return sum(1 for f in faults.state()["fired"] if f["caseId"] == case_id and f["function"] == function)


def poll(fetch: Callable[[], Any], done: Callable[[Any], bool], what: str, timeout: float = 20) -> Any:
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} never happened within {timeout:.0f}s; last seen: {value}")


def assert_saga_ran(session: Any, case_id: str, error: str) -> dict[str, Any]:
    """The run failed for good: case NEEDS_ATTENTION at stage FAILED, execution FAILED after Rollback,
    one WORKFLOW_FAILED event naming the error; returns that event's data."""
    case = wait_until(session, case_id, lambda c: c["status"] == "NEEDS_ATTENTION", "needed attention",
                      timeout=RETRIES_TAKE + 20)
    assert case["workflow"]["stage"] == "FAILED"
    view = poll(lambda: session.get(f"/cases/{case_id}/workflow").json(), lambda v: v["status"] == "FAILED",
                "the execution failing")
    states = [step["state"] for step in view["history"]]
    assert states[-2:] == ["Rollback", "Failed"] or states[-3:] == ["Rollback", "Failed", "ExecutionFailed"], states
    failed = events_of(session, case_id, "WORKFLOW_FAILED")
    assert len(failed) == 1, failed
    data = failed[0]["data"]
    assert data["error"] == error and isinstance(data["undone"], list), data
    assert session.get(f"/cases/{case_id}/history/verify").json()["valid"] is True
    return dict(data)


# -- the fault registry itself ----------------------------------------------------------------------

def test_the_fault_route_checks_what_it_is_given(local_stack, lambda_faults):
    url = local_stack["lambdaFaultsUrl"]
    assert url.startswith(local_stack["awsEndpoint"])  # on the local AWS endpoint, never on the API
    for bad in ({"function": "no_such_function"}, {"function": "wf_assign", "times": 0},
                {"function": "wf_assign", "when": "during"}, {"times": 1}, ["not a fault"]):
        response = requests.post(url, json=bad, timeout=10)
        assert response.status_code == 400, (bad, response.text)
    assert requests.post(url, data=b"{", timeout=10).status_code == 400
    lambda_faults.inject("wf_assign", times=2, caseId="no-such-case")
    lambda_faults.inject("wf_complete", times=-1, caseId="no-such-case")
    assert [(f["function"], f["times"]) for f in lambda_faults.state()["faults"]] == [
        ("wf_assign", 2), ("wf_complete", -1)]
    assert requests.delete(url, params={"function": "wf_assign"}, timeout=10).json()["removed"] == 1
    assert [f["function"] for f in lambda_faults.state()["faults"]] == ["wf_complete"]
    lambda_faults.clear()
    assert lambda_faults.state() == {"faults": [], "fired": []}


# -- a transient failure is retried ---------------------------------------------------------------

@pytest.mark.parametrize("when", ["before", "after"])
def test_a_transient_lambda_failure_is_retried_and_the_case_still_closes(quiet, when):
    """`after`: Assign did its work and then failed (its answer lost); the retry must not assign twice."""
    alice, ada = quiet.api("alice"), quiet.api("ada")
    quiet.faults.inject("wf_assign", times=1, error="DependencyUnavailable", when=when)  # nothing else runs here
    case = alice.post("/cases", json=GENERAL).json()
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    assert fired_for(quiet.faults, case["id"], "wf_assign") == 1 and quiet.faults.state()["faults"] == []
    assigned = events_of(ada, case["id"], "TASKS_ASSIGNED")
    tasks = ada.get("/tasks", params={"caseId": case["id"]}).json()["items"]
    assert len(assigned) == 1
    assert len(tasks) == assigned[0]["data"]["tasks"] == len(events_of(ada, case["id"], "TASK_CREATED"))

    # Step Functions saw the failure and retried the same state: one failed attempt, then success.
    execution = ada.get(f"/cases/{case['id']}/workflow").json()["executionId"]
    assign_events = [e for e in raw_history(quiet.stack, execution) if e["type"] in ("TaskFailed", "TaskSucceeded")]
    assert [(e["type"], e.get("taskFailedEventDetails", {}).get("error")) for e in assign_events[1:3]] == [
        ("TaskFailed", "DependencyUnavailable"), ("TaskSucceeded", None),
    ]
    assert assign_events[0]["type"] == "TaskSucceeded"  # Initiate

    complete_all_tasks(quiet.api, ada, case["id"])
    closed = wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")
    assert closed["workflow"]["stage"] == "COMPLETED"
    view = alice.get(f"/cases/{case['id']}/workflow").json()
    assert view["status"] == "SUCCEEDED" and view["executions"] == [execution]
    states = [step["state"] for step in view["history"]]
    assert states[:2] == ["Initiate", "Assign"] and states[-1] == "Close" and "Rollback" not in states
    assign = view["history"][1]  # one Assign state: the retry happened inside it, after its 1 s interval
    took = datetime.fromisoformat(assign["exitedAt"]) - datetime.fromisoformat(assign["enteredAt"])
    assert took.total_seconds() >= 0.9, assign
    assert not events_of(ada, case["id"], "WORKFLOW_FAILED")


# -- a step that fails for good runs the saga -----------------------------------------------------

def test_a_step_that_keeps_failing_runs_the_saga(api, lambda_faults):
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json=GENERAL).json()
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    lambda_faults.inject("wf_complete", times=-1, error="DependencyUnavailable", caseId=case["id"])
    complete_all_tasks(api, ada, case["id"])

    data = assert_saga_ran(ada, case["id"], "DependencyUnavailable")
    assert data["undone"] == []  # every task was done: nothing was left to cancel
    assert fired_for(lambda_faults, case["id"], "wf_complete") == ATTEMPTS  # retried, then caught
    assert not events_of(ada, case["id"], "CASE_CLOSED")
    assert ada.get(f"/cases/{case['id']}").json()["status"] == "NEEDS_ATTENTION"
    lambda_faults.clear()
    assert lambda_faults.state() == {"faults": [], "fired": []}


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_failed_compensation_is_undone_and_nothing_is_paid(api, lambda_faults, when):
    """`before`: Compensate fails before it does anything; `after`: it wrote the payment instruction and
    then failed (its answer lost), so the saga has a PENDING instruction to hold (finance may have paid it)."""
    bob, ava, fin, ada = api("bob"), api("ava"), api("fin"), api("ada")
    case = bob.post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    tasks = {t["id"] for t in open_tasks(ada, case["id"])}
    assert tasks
    lambda_faults.inject("wf_compensate", times=-1, error="PaymentSystemError", caseId=case["id"], when=when)
    approval = approvals_of(ava, case["id"])[0]
    decided = ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
    assert decided.status_code == 200, decided.text

    data = assert_saga_ran(ada, case["id"], "PaymentSystemError")
    assert fired_for(lambda_faults, case["id"], "wf_compensate") == 1  # not a retried error: caught at once
    assert {line.removeprefix("cancelled task ") for line in data["undone"]
            if line.startswith("cancelled task ")} == tasks
    assert not open_tasks(ada, case["id"])
    assert fin.post(f"/cases/{case['id']}/compensation/payment", json={"reference": "PAY-X"}).status_code in (404, 409)
    compensation = fin.get(f"/cases/{case['id']}/compensation")
    if when == "before":  # nothing was recorded, so nothing to void
        assert compensation.status_code == 404, compensation.text
        assert not [line for line in data["undone"] if line.startswith("held")]
    else:
        assert compensation.status_code == 200, compensation.text
        body = compensation.json()
        assert body["instruction"]["status"] == "ON_HOLD"
        assert f"held payment instruction {body['instruction']['id']} for finance to confirm it was not paid" \
            in data["undone"]
        assert "PAID" not in [entry["type"] for entry in body["ledger"]]
        assert "HELD" in [entry["type"] for entry in body["ledger"]]
        # The saga undoes later stages first: the payment before the tasks.
        assert data["undone"][0].startswith("held payment instruction"), data["undone"]


# -- a wait that times out escalates, and still resumes ---------------------------------------------

def test_an_approval_that_times_out_is_escalated_and_the_run_still_resumes(quiet):
    bob, ava, ada = quiet.api("bob"), quiet.api("ava"), quiet.api("ada")
    case = bob.post("/cases", json=COMPLAINT).json()
    waiting = wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    assert waiting["status"] == "PENDING_APPROVAL"
    # WAIT_SECONDS_APPROVAL from the process environment reached the run (the Chalice stage config does not set it).
    execution = waiting["workflow"]["executionId"]
    initiated = next(e for e in raw_history(quiet.stack, execution) if e["type"] == "TaskStateExited")
    facts = json.loads(initiated["stateExitedEventDetails"]["output"])["facts"]
    assert facts["timeouts"]["approval"] == APPROVAL_TIMEOUT

    escalations = poll(
        lambda: [t for t in ada.get("/tasks", params={"caseId": case["id"]}).json()["items"]
                 if t["type"] == "ESCALATION"],
        bool, "an escalation task", timeout=APPROVAL_TIMEOUT + 15,
    )
    escalation = escalations[0]
    assert escalation["status"] == "OPEN" and "approval" in escalation["reason"], escalation
    assert escalation["team"] == case["team"]
    people = ada.get("/personnel", params={"team": case["team"]}).json()["items"]
    supervisors = {p["username"] for p in people if p["supervisor"]}
    # The team's supervisor, or its queue when it has none present (complaints has none in the demo data).
    assert escalation["assignee"] in supervisors if supervisors else escalation["assignee"] is None, \
        (escalation, people)
    assert events_of(ada, case["id"], "WORKFLOW_ESCALATED")[0]["data"]["stage"] == "APPROVAL"
    still = ada.get(f"/cases/{case['id']}").json()
    assert still["status"] == "PENDING_APPROVAL" and still["workflow"]["stage"] == "APPROVAL"
    states = [step["state"] for step in ada.get(f"/cases/{case['id']}/workflow").json()["history"]]
    assert "EscalateApproval" in states and states.count("AwaitApproval") >= 2 and "Rollback" not in states

    approval = approvals_of(ava, case["id"])[0]
    decided = ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
    assert decided.status_code == 200, decided.text
    resumed = wait_until(ada, case["id"], stage_is("PAYMENT"), "waited for payment", timeout=APPROVAL_TIMEOUT + 15)
    assert resumed["workflow"]["executionId"] == execution and resumed["workflow"]["executions"] == [execution]
    assert ada.get(f"/cases/{case['id']}/workflow").json()["status"] == "RUNNING"


def test_a_wait_whose_escalation_fails_for_good_expires_the_pending_approval(quiet):
    bob, ava, ada = quiet.api("bob"), quiet.api("ava"), quiet.api("ada")
    case = bob.post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    quiet.faults.inject("wf_escalate", times=-1, error="DirectoryError", caseId=case["id"])
    approval = approvals_of(ava, case["id"])[0]

    data = assert_saga_ran(ada, case["id"], "DirectoryError")
    assert data["undone"][0] == f"expired approval {approval['id']}", data["undone"]  # later stages first
    assert len(data["undone"]) == 1 + len([line for line in data["undone"] if line.startswith("cancelled task ")])
    assert [a["status"] for a in ava.get("/approvals", params={"caseId": case["id"]}).json()["items"]] == ["EXPIRED"]
    late = ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
    assert late.status_code == 409, late.text  # nothing is left to resume
    assert not open_tasks(ada, case["id"])
    quiet.faults.clear()


# -- a stream record delivered twice starts one run -------------------------------------------------

def test_a_duplicate_stream_record_starts_no_second_execution(api, local_stack, drain_lambdas):
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json=GENERAL).json()
    before = wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    execution = before["workflow"]["executionId"]
    assert before["workflow"]["executions"] == [execution]

    table = aws_client(local_stack, "dynamodb").describe_table(TableName=local_stack["tableName"])["Table"]
    stream_arn = table["LatestStreamArn"]
    lam = aws_client(local_stack, "lambda")
    baseline, event_ids = drain_lambdas(), []
    for _ in range(2):  # two fresh event IDs: the dispatcher's de-duplication does not hide them
        record = {
            "eventID": uuid.uuid4().hex, "eventName": "INSERT", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": local_stack["region"], "eventSourceARN": stream_arn,
            "dynamodb": {
                "Keys": {"PK": {"S": f"CASE#{case['id']}"}, "SK": {"S": "CASE"}},
                "NewImage": {"PK": {"S": f"CASE#{case['id']}"}, "SK": {"S": "CASE"}},
                "SequenceNumber": str(uuid.uuid4().int)[:21], "SizeBytes": 64, "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
        }
        event_ids.append(record["eventID"])
        response = lam.invoke(FunctionName="on_case_stream", Payload=json.dumps({"Records": [record]}).encode())
        assert response["StatusCode"] == 200 and "FunctionError" not in response, response
    after = drain_lambdas()
    assert after["delivered"] - baseline["delivered"] >= 2  # the handler ran on both
    assert not [e for e in after["errors"] if any(event_id in e for event_id in event_ids)], after["errors"]

    view = ada.get(f"/cases/{case['id']}/workflow").json()
    assert view["executions"] == [execution] and view["status"] == "RUNNING"
    sfn = aws_client(local_stack, "stepfunctions")
    machine = sfn.describe_execution(executionArn=execution)["stateMachineArn"]
    names = [e["name"] for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
             for e in page["executions"]]
    assert [n for n in names if n == case["id"] or n.startswith(f"{case['id']}-")] == [case["id"]]
    assert ada.get(f"/cases/{case['id']}").json()["workflow"]["stage"] == "TASKS"
