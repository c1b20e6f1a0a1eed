"""Notifications for people on the running local system, over HTTP with real tokens: the table stream's
consumer (notify_people) turns audit events into each person's notifications, and e-mails the kinds they opted
into through moto's SES."""
from __future__ import annotations

import time
import uuid
from typing import Any, Callable

from local.mail import recipients, sent_messages

GENERAL = {"title": "Notify me", "caseType": "GENERAL", "priority": "MEDIUM", "customerId": "CUST-NOTE"}


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


def test_the_assignee_sees_the_task_assigned_and_marks_it_read(api):
    alice = api("alice")
    case = alice.post("/cases", json=GENERAL).json()
    [note] = eventually(lambda: notifications_of(alice, case["id"], "TASK_ASSIGNED"), "alice's task notification")
    assert note["recipient"] == "alice" and note["taskId"].startswith(case["id"]) and note["readAt"] is None
    assert note["actor"] != "alice" and case["number"] in note["text"]
    assert notifications_of(alice, case["id"], "TASK_ASSIGNED", unread="true") == [note]
    before = unread(alice)
    assert before >= 1

    read = alice.post(f"/notifications/{note['id']}/read")
    assert read.status_code == 200 and read.json()["readAt"]
    assert unread(alice) == before - 1
    assert notifications_of(alice, case["id"], "TASK_ASSIGNED", unread="true") == []
    assert alice.post(f"/notifications/{note['id']}/read").json()["readAt"] == read.json()["readAt"]


def test_nobody_reads_or_marks_anothers_notifications(api):
    alice, bob = api("alice"), api("bob")
    case = alice.post("/cases", json=GENERAL).json()
    [note] = eventually(lambda: notifications_of(alice, case["id"], "TASK_ASSIGNED"), "alice's task notification")
    response = bob.post(f"/notifications/{note['id']}/read")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    assert notifications_of(bob, case["id"], "TASK_ASSIGNED") == []
    assert alice.get("/notifications", params={"cursor": "bm90LWEtY3Vyc29y"}).status_code == 400
    assert api(None).get("/notifications").status_code == 401


def test_a_mention_notifies_the_mentioned_without_leaking_the_case(api):
    alice, bob = api("alice"), api("bob")
    case = alice.post("/cases", json={**GENERAL, "title": "Confidential relocation"}).json()
    posted = alice.post(f"/cases/{case['id']}/comments", json={"text": "@bob can you check the address? @nobody"})
    assert posted.status_code == 201
    [note] = eventually(lambda: notifications_of(bob, case["id"], "MENTIONED"), "bob's mention")
    assert note["actor"] == "alice" and note["text"].startswith("alice mentioned you")
    assert "Confidential" not in note["text"]  # bob (complaints) may not see alice's claims case
    assert bob.get(f"/cases/{case['id']}").status_code == 404


def test_read_all_and_preferences(api):
    sam = api("sam")
    assert sam.get("/me/preferences").json()["emailKinds"] == []
    assert sam.put("/me/preferences", json={"emailKinds": ["NOPE"]}).status_code == 400
    assert sam.post("/notifications/read-all").status_code == 200
    assert unread(sam) == 0


def test_an_opted_in_email_arrives_in_sess_outbox(api, local_stack):
    alice, bob = api("alice"), api("bob")
    assert alice.put("/me/preferences", json={"emailKinds": ["MENTIONED"]}).json()["emailKinds"] == ["MENTIONED"]
    case = bob.post("/cases", json={**GENERAL, "caseType": "COMPLAINT", "title": "Mail me"}).json()
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
    alice.put("/me/preferences", json={"emailKinds": []})
