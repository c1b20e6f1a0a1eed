"""The local system killed mid-workflow and started again: moto forgot every execution, the snapshot
kept the cases, and each case whose run was lost resumes by itself and finishes exactly once."""
from __future__ import annotations

import time

import requests

from tests.local_system import Api, LocalProcess, aws_client, login_to
from tests.e2e.test_document_processing import CLAIM, FORM, PROOF, processed, upload
from tests.e2e.test_workflow import COMPLAINT, GENERAL, approvals_of, open_tasks, stage_is, wait_until


def _session(stack, username):
    return Api(stack["apiUrl"], login_to(stack)(username))


def test_a_case_whose_run_was_lost_resumes_after_a_restart_and_closes_once(tmp_path):
    first = LocalProcess(tmp_path)
    stack = first.wait_ready()
    alice, ada = _session(stack, "alice"), _session(stack, "ada")
    case = alice.post("/cases", json=GENERAL).json()
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    tasks_before = open_tasks(ada, case["id"])
    first.stop()  # as Ctrl-C: the table is saved, moto's executions are gone

    second = LocalProcess(tmp_path)
    try:
        stack = second.wait_ready()
        alice, ada = _session(stack, "alice"), _session(stack, "ada")
        resumed = wait_until(
            ada, case["id"], lambda c: len(c["workflow"]["executions"]) == 2 and c["workflow"]["stage"] == "TASKS",
            "resumed its run")
        assert resumed["status"] == "IN_PROGRESS"
        tasks_after = open_tasks(ada, case["id"])
        assert [t["id"] for t in tasks_after] == [t["id"] for t in tasks_before]  # the same work, not a second set
        for task in tasks_after:
            assert _session(stack, task["assignee"]).post(f"/tasks/{task['id']}/complete", json={}).status_code == 200
        closed = wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")
        time.sleep(1)
        history = ada.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]
        assert [e["type"] for e in history].count("CASE_CLOSED") == 1
        assert closed["workflow"]["stage"] == "COMPLETED"
    finally:
        second.stop()


def _rows_of(stack, case_id):
    """The keys of the case data product's rows of a case (its events, one object each)."""
    s3 = aws_client(stack, "s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack["dataProductBucket"], Prefix="cases/v1/")
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []) if case_id in o["Key"])


def test_a_case_created_just_before_ctrl_c_gets_its_workflow_and_its_rows_after_the_restart(tmp_path):
    first = LocalProcess(tmp_path, seed=False)
    stack = first.wait_ready()
    case = _session(stack, "alice").post("/cases", json=GENERAL).json()
    first.stop()  # at once: its stream records may not have been handled (then they are saved and replayed)
    assert "unhandled stream records saved" in first.output()

    second = LocalProcess(tmp_path, seed=False)
    try:
        stack = second.wait_ready()
        ada = _session(stack, "ada")
        started = wait_until(ada, case["id"], lambda c: c["status"] != "NEW", "left NEW")
        assert started["workflow"]["executions"]  # its run started: the recovery thread or its stream record
        deadline, rows = time.monotonic() + 40, []
        while not rows and time.monotonic() < deadline:
            rows = _rows_of(stack, case["id"])
            time.sleep(0.25)
        assert rows, "the case's CREATED event never reached the case data product"
    finally:
        second.stop()


# The state each waiting stage's execution rests in (stepfunctions/case_workflow.asl.json).
RESTS_IN = {
    "DOCUMENTS": "AwaitDocuments", "APPROVAL": "AwaitApproval", "PAYMENT": "AwaitPayment", "TASKS": "AwaitTasks",
}


def _case_record(ada, stack, case_id):
    """What a person or a consumer sees of a case: its version, status and stage, its history, its data product
    rows (every contract version)."""
    case = ada.get(f"/cases/{case_id}").json()
    history = ada.get(f"/cases/{case_id}/history", params={"limit": 100}).json()["items"]
    s3 = aws_client(stack, "s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack["dataProductBucket"], Prefix="cases/")
    rows = sorted(o["Key"] for page in pages for o in page.get("Contents", []) if case_id in o["Key"])
    return {
        "version": case["version"], "status": case["status"], "updatedAt": case["updatedAt"],
        "stage": case["workflow"]["stage"], "history": [(e["seq"], e["type"]) for e in history], "rows": rows,
    }


def _unread(stack, usernames):
    return {name: _session(stack, name).get("/notifications/unread-count").json() for name in usernames}


def _drain(stack):
    response = requests.get(stack["lambdaDrainUrl"], params={"timeout": 30}, timeout=40)
    assert response.status_code == 200, response.text


def _resting(session, case_id, executions, timeout=60):
    """The case's run carried on by a new execution, which rests in the wait state of the case's stage."""
    deadline, view = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        view = session.get(f"/cases/{case_id}/workflow").json()
        last = view["history"][-1] if view["history"] else {}
        if len(view["executions"]) == executions and last.get("state") == RESTS_IN[view["stage"]] \
                and not last.get("exitedAt"):
            return view
        time.sleep(0.25)
    raise AssertionError(f"the run of case {case_id} was not carried on to its wait; last seen: {view}")


def test_a_restart_carries_open_runs_on_without_a_new_event_version_row_or_notification(tmp_path):
    """Cases waiting for documents, for an approval, for a payment, for their tasks (one past approval and
    payment, one past its documents), and a closed one: after a restart each open run goes on in a new
    execution, and none of the cases has a new history event, version, data product row or notification."""
    people = ("alice", "bob", "ava", "fin", "ada")
    first = LocalProcess(tmp_path, seed=False)
    stack = first.wait_ready()
    alice, bob, ava, fin, ada = (_session(stack, name) for name in people)
    tasks = alice.post("/cases", json=GENERAL).json()["id"]
    documents = alice.post("/cases", json=CLAIM).json()["id"]
    approval = bob.post("/cases", json=COMPLAINT).json()["id"]
    payment = bob.post("/cases", json={**COMPLAINT, "title": "Paid later"}).json()["id"]
    paid = bob.post("/cases", json={**COMPLAINT, "title": "Paid"}).json()["id"]
    past_documents = alice.post("/cases", json={**CLAIM, "title": "Documents in"}).json()["id"]
    closed = alice.post("/cases", json={**GENERAL, "title": "Answered"}).json()["id"]
    for case_id in (payment, paid):
        wait_until(ada, case_id, stage_is("APPROVAL"), "asked for approval")
        (pending,) = approvals_of(ava, case_id)
        assert ava.post(f"/approvals/{pending['id']}/decision", json={"decision": "APPROVE"}).status_code == 200
        wait_until(ada, case_id, stage_is("PAYMENT"), "waited for payment")
    assert fin.post(f"/cases/{paid}/compensation/payment", json={"reference": "PAY-1"}).status_code == 200
    wait_until(ada, documents, stage_is("DOCUMENTS"), "waited for documents")
    for content, filename, kind in ((FORM, "claim-form.txt", "claim-form"), (PROOF, "invoice.txt", "proof-of-loss")):
        assert processed(alice, past_documents, upload(alice, past_documents, content, filename, kind))["status"] \
            == "READY"
    wait_until(ada, closed, stage_is("TASKS"), "waited for its tasks")
    for task in open_tasks(ada, closed):
        worker = _session(stack, task["assignee"]) if task["assignee"] else ada  # a queued task: the admin
        assert worker.post(f"/tasks/{task['id']}/complete", json={}).status_code == 200
    stages = {tasks: "TASKS", documents: "DOCUMENTS", approval: "APPROVAL", payment: "PAYMENT", paid: "TASKS",
              past_documents: "APPROVAL", closed: "COMPLETED"}
    for case_id, stage in stages.items():
        wait_until(ada, case_id, stage_is(stage), f"reached {stage}", timeout=60)
    _drain(stack)
    before = {case_id: _case_record(ada, stack, case_id) for case_id in stages}
    executions = {case_id: len(ada.get(f"/cases/{case_id}").json()["workflow"]["executions"]) for case_id in stages}
    unread = _unread(stack, people)
    first.stop()

    second = LocalProcess(tmp_path, seed=False)
    try:
        stack = second.wait_ready()
        ada = _session(stack, "ada")
        for case_id in stages:
            if case_id != closed:
                view = _resting(ada, case_id, executions[case_id] + 1)
                assert view["status"] == "RUNNING" and view["executionId"] == view["executions"][-1]
        _drain(stack)
        after = {case_id: _case_record(ada, stack, case_id) for case_id in stages}
        assert after == before
        assert _unread(stack, people) == unread
        assert len(ada.get(f"/cases/{closed}").json()["workflow"]["executions"]) == executions[closed]
        # The carried-on runs go on: the decision still resumes the new execution of the case waiting for it.
        (pending,) = approvals_of(_session(stack, "ava"), approval)
        decided = _session(stack, "ava").post(f"/approvals/{pending['id']}/decision", json={"decision": "APPROVE"})
        assert decided.status_code == 200, decided.text
        wait_until(ada, approval, stage_is("PAYMENT"), "waited for payment")
    finally:
        second.stop()
