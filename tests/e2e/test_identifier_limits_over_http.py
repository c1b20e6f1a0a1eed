"""Identifiers too long for a DynamoDB key, sent over HTTP with real tokens as an insider probing for a 500
would: each is a 400 naming the field, and the system answers normally afterwards."""
from __future__ import annotations

import pytest

LONG = "x" * 2000
CASE = {"title": "Key limits", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-9003"}


@pytest.mark.parametrize("user, path, name", [
    ("alice", "/cases", "assignee"),
    ("alice", "/cases", "customerId"),
    ("alice", "/cases", "caseType"),
    ("alice", "/tasks", "assignee"),
    ("sam", "/tasks", "caseId"),
    ("ava", "/approvals", "assignee"),
    ("ava", "/approvals", "caseId"),
    ("ada", "/personnel", "team"),
])
def test_a_2000_character_filter_is_a_400_naming_it(api, user, path, name):
    response = api(user).get(path, params={name: LONG})
    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [name]


def test_a_2000_character_version_id_is_a_400(api):
    # Checked before anything is read: the case need not exist (nor is one created, so no team's tasks wait).
    response = api("alice").get("/cases/any-case/documents/doc-1/download", params={"versionId": LONG})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"][0]["field"] == "versionId"


def test_a_2000_character_customer_id_is_refused_before_anything_is_written(api):
    alice = api("alice")
    before = [c["id"] for c in alice.get("/cases", params={"customerId": "CUST-9003"}).json()["items"]]
    response = alice.post("/cases", json={**CASE, "customerId": LONG})
    assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == "customerId"
    multibyte = alice.get("/cases", params={"assignee": "\U0001F600" * 201})  # 804 bytes in 201 characters
    assert multibyte.status_code == 400
    assert [c["id"] for c in alice.get("/cases", params={"customerId": "CUST-9003"}).json()["items"]] == before
    assert alice.get("/cases", params={"assignee": "me"}).status_code == 200


@pytest.mark.parametrize("path, name", [
    ("/cases/{long}", "caseId"),
    ("/cases/{long}/history", "caseId"),
    ("/cases/any-case/documents/{long}", "documentId"),
    ("/tasks/{long}", "taskId"),
])
def test_a_2000_character_path_id_is_a_400_naming_it(api, path, name):
    response = api("alice").get(path.format(long=LONG))
    assert response.status_code == 400, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [name]
