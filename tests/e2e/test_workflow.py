"""The case workflow on the running local system, driven over HTTP with real tokens: Step Functions
(moto's interpreter) runs the ASL, its Lambda tasks run the app's handlers, people act through the API."""
from __future__ import annotations

import time


GENERAL = {"title": "Change of address", "caseType": "GENERAL", "priority": "MEDIUM", "customerId": "CUST-9005"}
COMPLAINT = {"title": "Late delivery refund", "caseType": "COMPLAINT", "priority": "HIGH", "customerId": "CUST-9005",
             "compensation": {"amount": "120.00", "currency": "EUR"}}


def wait_until(session, case_id, predicate, what, timeout=40):
    deadline, case = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        case = session.get(f"/cases/{case_id}").json()
        if predicate(case):
            return case
        time.sleep(0.25)
    raise AssertionError(f"case {case_id} never {what}; last seen: {case}")


def stage_is(stage):
    return lambda case: (case.get("workflow") or {}).get("stage") == stage


def approvals_of(session, case_id, timeout=20):
    """The approval opens just after the case shows the APPROVAL stage: poll briefly for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = session.get("/approvals", params={"caseId": case_id}).json()["items"]
        if items:
            return items
        time.sleep(0.2)
    raise AssertionError(f"no approval was opened for case {case_id}")


def open_tasks(session, case_id):
    return [t for t in session.get("/tasks", params={"caseId": case_id}).json()["items"] if t["status"] == "OPEN"]


def complete_all_tasks(api, admin, case_id):
    for task in open_tasks(admin, case_id):
        # A task nobody could take (everyone at capacity) waits in the team queue; an admin may complete it.
        worker = api(task["assignee"]) if task["assignee"] else admin
        response = worker.post(f"/tasks/{task['id']}/complete", json={"outcome": "done"})
        assert response.status_code == 200, response.text


def test_a_general_case_is_assigned_worked_and_closed(api):
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json=GENERAL).json()
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    tasks = open_tasks(ada, case["id"])
    # alice's team, its caseworker
    assert tasks and all(t["team"] == "claims" and t["assignee"] == "alice" for t in tasks)
    mine = api("alice").get("/tasks", params={"assignee": "me"}).json()["items"]
    assert {t["id"] for t in tasks} <= {t["id"] for t in mine}  # visible in her inbox
    complete_all_tasks(api, ada, case["id"])
    closed = wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")
    assert closed["workflow"]["stage"] == "COMPLETED"

    view = alice.get(f"/cases/{case['id']}/workflow").json()
    assert view["status"] == "SUCCEEDED"
    states = [step["state"] for step in view["history"]]
    assert states[0] == "Initiate" and states[-1] == "Close"
    assert len(states) <= 15, states  # the goal for a happy path
    assert alice.get(f"/cases/{case['id']}/history/verify").json()["valid"] is True


def test_a_complaint_with_compensation_is_approved_paid_once_and_closed(api):
    bob, ava, fin, ada = api("bob"), api("ava"), api("fin"), api("ada")
    case = bob.post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    approvals = approvals_of(ava, case["id"])
    assert [a["status"] for a in approvals] == ["PENDING"] and approvals[0]["amount"] == "120.00"
    assert "token" not in str(approvals).lower()
    assert ava.get(f"/cases/{case['id']}").status_code == 200  # the approver reads what she decides
    assert ava.get(f"/cases/{case['id']}/documents").status_code == 200
    decided = ava.post(f"/approvals/{approvals[0]['id']}/decision", json={"decision": "APPROVE", "comment": "ok"})
    assert decided.status_code == 200, decided.text
    again = ava.post(f"/approvals/{approvals[0]['id']}/decision", json={"decision": "REJECT"})
    assert again.status_code == 409  # a second decision never resumes the run again

    wait_until(ada, case["id"], stage_is("PAYMENT"), "waited for payment")
    assert ava.get(f"/cases/{case['id']}").status_code == 404  # decided: no longer hers to read
    assert fin.get(f"/cases/{case['id']}").status_code == 200
    compensation = fin.get(f"/cases/{case['id']}/compensation").json()
    assert compensation["approved"] == "120.00" and compensation["instruction"]["status"] == "PENDING"
    paid = fin.post(f"/cases/{case['id']}/compensation/payment", json={"reference": "PAY-1"})
    assert paid.status_code == 200, paid.text
    assert fin.post(f"/cases/{case['id']}/compensation/payment", json={"reference": "PAY-2"}).status_code == 409

    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    complete_all_tasks(api, ada, case["id"])
    wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")
    ledger = fin.get(f"/cases/{case['id']}/compensation").json()["ledger"]
    assert [entry["type"] for entry in ledger].count("PAID") == 1


def test_a_rejected_case_is_closed_without_payment(api):
    bob, ava, ada = api("bob"), api("ava"), api("ada")
    case = bob.post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    approval = approvals_of(ava, case["id"])[0]
    assert ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "REJECT"}).status_code == 200
    closed = wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")
    assert not open_tasks(ada, case["id"])  # the rejection cancelled the remaining work
    assert closed["workflow"]["stage"] == "COMPLETED"


def test_four_eyes_nobody_approves_their_own_case(api):
    ada = api("ada")  # an admin may decide approvals, but not on a case she opened
    case = ada.post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    approval = approvals_of(ada, case["id"])[0]
    refused = ada.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
    assert refused.status_code == 403 and "four-eyes" in refused.json()["error"]["message"]


def test_reopening_a_closed_case_starts_a_new_run(api):
    alice, sam, ada = api("alice"), api("sam"), api("ada")
    case = alice.post("/cases", json=GENERAL).json()
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    assert sam.post(f"/cases/{case['id']}/reopen").status_code == 409  # not closed yet
    complete_all_tasks(api, ada, case["id"])
    wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")
    assert api("aud").post(f"/cases/{case['id']}/reopen").status_code == 403
    reopened = sam.post(f"/cases/{case['id']}/reopen")
    assert reopened.status_code == 200 and reopened.json()["status"] == "REOPENED"
    again = wait_until(
        ada, case["id"], lambda c: len(c["workflow"]["executions"]) == 2 and c["workflow"]["stage"] == "TASKS",
        "started its second run")
    assert again["workflow"]["run"] == 2 and open_tasks(ada, case["id"])  # fresh work for the new run
    complete_all_tasks(api, ada, case["id"])
    wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed again")
    types = [e["type"] for e in ada.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]]
    assert types.count("CASE_REOPENED") == 1 and types.count("CASE_CLOSED") == 2
