"""The local system killed mid-workflow and started again: moto forgot every execution, the snapshot
kept the cases, and each case whose run was lost resumes by itself and finishes exactly once."""
from __future__ import annotations

import time

from tests.local_system import Api, LocalProcess, aws_client, login_to
from tests.e2e.test_workflow import GENERAL, open_tasks, stage_is, wait_until


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
