"""Notifications for people on the running local system, over HTTP with real tokens: the table stream's
consumer (notify_people) turns audit events into each person's notifications, and e-mails the kinds they opted
into through moto's SES."""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from local.mail import recipients, sent_messages
from tests.e2e.test_workflow import complete_all_tasks, stage_is, wait_until

GENERAL = {"title": "Notify me", "caseType": "GENERAL", "priority": "MEDIUM", "customerId": "CUST-9015"}


def eventually(read: Callable[[], Any], what: str, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = read()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"never saw {what}")


def notifications_of(session: Any, case_id: str, kind: str, **params: Any) -> list[dict[str, Any]]:
    response = session.get("/notifications", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["caseId"] == case_id and n["kind"] == kind]


def unread(session: Any) -> int:
    return int(session.get("/notifications/unread-count").json()["unread"])


def finish(api: Callable[[str], Any], case: dict[str, Any]) -> None:
    """Complete the case's tasks: the demo people's capacity is the whole e2e session's."""
    ada = api("ada")
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    complete_all_tasks(api, ada, case["id"])


def test_the_assignee_sees_the_task_assigned_marks_it_read_and_nobody_else_can(api):
    alice, bob = api("alice"), api("bob")
    case = alice.post("/cases", json=GENERAL).json()
    try:
        [note] = eventually(lambda: notifications_of(alice, case["id"], "TASK_ASSIGNED"), "alice's task notification")
        assert note["recipient"] == "alice" and note["taskId"].startswith(case["id"]) and note["readAt"] is None
        assert note["actor"] != "alice" and case["number"] in note["text"]
        assert notifications_of(alice, case["id"], "TASK_ASSIGNED", unread="true") == [note]
        before = unread(alice)
        assert before >= 1

        response = bob.post(f"/notifications/{note['id']}/read")  # not his: as if it did not exist
        assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
        assert notifications_of(bob, case["id"], "TASK_ASSIGNED") == []
        assert unread(alice) == before

        read = alice.post(f"/notifications/{note['id']}/read")
        assert read.status_code == 200 and read.json()["readAt"]
        assert unread(alice) == before - 1
        assert notifications_of(alice, case["id"], "TASK_ASSIGNED", unread="true") == []
        assert alice.post(f"/notifications/{note['id']}/read").json()["readAt"] == read.json()["readAt"]
    finally:
        finish(api, case)


def test_bad_requests(api):
    alice = api("alice")
    assert alice.get("/notifications", params={"cursor": "bm90LWEtY3Vyc29y"}).status_code == 400
    assert alice.get("/notifications", params={"limit": 0}).status_code == 400
    assert alice.get("/notifications", params={"unread": "yes"}).status_code == 400
    assert api(None).get("/notifications").status_code == 401


def test_a_mention_notifies_the_mentioned_without_leaking_the_case(api):
    alice, bob = api("alice"), api("bob")
    case = alice.post("/cases", json={**GENERAL, "title": "Confidential relocation"}).json()
    try:
        posted = alice.post(f"/cases/{case['id']}/comments", json={"text": "@bob can you check the address? @nobody"})
        assert posted.status_code == 201
        [note] = eventually(lambda: notifications_of(bob, case["id"], "MENTIONED"), "bob's mention")
        assert note["actor"] == "alice" and note["text"].startswith("alice mentioned you")
        assert "Confidential" not in note["text"]  # bob (complaints) may not see alice's claims case
        assert bob.get(f"/cases/{case['id']}").status_code == 404
    finally:
        finish(api, case)


def test_read_all_and_preferences(api):
    sam = api("sam")
    assert sam.get("/me/preferences").json()["emailKinds"] == []
    assert sam.put("/me/preferences", json={"emailKinds": ["NOPE"]}).status_code == 400
    assert sam.post("/notifications/read-all").status_code == 200
    assert unread(sam) == 0


def test_an_opted_in_email_arrives_in_moto_ses(api, local_stack):
    alice, bob = api("alice"), api("bob")
    assert alice.put("/me/preferences", json={"emailKinds": ["MENTIONED"]}).json()["emailKinds"] == ["MENTIONED"]
    case = bob.post("/cases", json={**GENERAL, "caseType": "COMPLAINT", "title": "Mail me"}).json()
    try:
        marker = uuid.uuid4().hex[:8]
        assert bob.post(f"/cases/{case['id']}/comments", json={"text": f"@alice see {marker}"}).status_code == 201
        eventually(lambda: notifications_of(alice, case["id"], "MENTIONED"), "alice's mention")

        def mail_to_alice() -> list[dict[str, Any]]:
            return [m for m in sent_messages(local_stack["mailUrl"])
                    if "alice@example.com" in recipients(m) and case["number"] in m["body"]]

        [mail] = eventually(mail_to_alice, "the e-mail to alice")
        assert mail["source"] == local_stack["notificationSender"]
        assert "bob mentioned you" in mail["subject"]
        assert marker not in mail["body"]  # the comment stays in the case
    finally:
        alice.put("/me/preferences", json={"emailKinds": []})
        finish(api, case)
