"""The personnel and task routes in-process (chalice.test.Client): real token verification with a
test key, in-memory repositories. Roles are 403, what the caller may not see is 404, races are 409."""
from __future__ import annotations

import pytest

from tests.api_support import POOL, STAFF, expect

DIRECTORY = {
    "alice": {"team": "claims", "skills": ["claims"], "capacity": 5},
    "amy": {"team": "claims", "skills": ["claims"], "capacity": 5},
    "sam": {"team": "claims", "skills": ["claims"], "capacity": 5, "supervisor": True},
    "bob": {"team": "complaints", "skills": ["complaints"], "capacity": 5},
    "sid": {"team": "complaints", "skills": ["complaints"], "capacity": 5, "supervisor": True},
}
token = POOL.token


def call(client, method, path, user=None, body=None, raw=None, headers=None):
    return POOL.call(client, method, path, user, body, raw, headers)[:2]


@pytest.fixture
def staffed(client):
    for username, body in DIRECTORY.items():
        expect(call(client, "PUT", f"/personnel/{username}", "ada", body), 200)


@pytest.fixture
def claim_case(client, container, staffed):
    """A HIGH claim opened by alice, its two tasks created as the workflow would: alice and amy get one each."""
    status, case = call(client, "POST", "/cases", "alice",
                        {"title": "Water damage", "caseType": "CLAIM", "priority": "HIGH", "customerId": "CUST-1"})
    assert status == 201
    tasks = container.tasks.create_for_case(container.cases.get(_principal("ada"), case["id"]))
    return case, [t.to_api() for t in tasks]


def _principal(username):
    from chalicelib.domain.access import Principal

    groups, team = STAFF[username]
    return Principal(username, frozenset(groups), team)


# -- personnel -----------------------------------------------------------------------------------------


def test_admins_manage_the_directory(client, staffed):
    data = expect(call(client, "GET", "/personnel/alice", "alice"), 200)
    assert data == {"username": "alice", "team": "claims", "skills": ["claims"], "capacity": 5, "outOfOffice": False,
                    "supervisor": False, "openTasks": 0, "updatedAt": data["updatedAt"], "updatedBy": "ada"}
    away = {**DIRECTORY["alice"], "outOfOffice": {"from": "2026-03-01", "to": "2026-03-05"}}
    assert expect(call(client, "PUT", "/personnel/alice", "ada", away), 200)["outOfOffice"] == {
        "from": "2026-03-01", "to": "2026-03-05"}
    expect(call(client, "PUT", "/personnel/alice", "sam", DIRECTORY["alice"]), 403, "FORBIDDEN")
    expect(call(client, "PUT", "/personnel/alice", "alice", DIRECTORY["alice"]), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "body, field",
    [({"skills": ["x"], "capacity": 2}, "team"), ({"team": "claims", "capacity": 0}, "capacity"),
     ({"team": "claims", "capacity": 2.5}, "capacity"),
     ({"team": "claims", "capacity": 2, "openTasks": 0}, "openTasks"),
     ({"team": "claims", "capacity": 2, "outOfOffice": {"from": "2026-03-05", "to": "2026-03-01"}}, "outOfOffice"),
     ({"team": "claims", "capacity": 2, "supervisor": "yes"}, "supervisor")],
    ids=["no-team", "zero-capacity", "fractional", "counter", "window-backwards", "supervisor-string"],
)
def test_bad_person_bodies_are_400(client, body, field):
    data = expect(call(client, "PUT", "/personnel/alice", "ada", body), 400, "VALIDATION_ERROR")
    assert any(d["field"].startswith(field) for d in data["error"]["details"]), data


def test_reading_the_directory(client, staffed):
    names = lambda data: [p["username"] for p in data["items"]]  # noqa: E731
    assert names(expect(call(client, "GET", "/personnel?team=claims", "sam"), 200)) == ["alice", "amy", "sam"]
    assert names(expect(call(client, "GET", "/personnel", "ada"), 200)) == ["alice", "amy", "sam", "bob", "sid"]
    assert names(expect(call(client, "GET", "/personnel?team=nobody", "aud"), 200)) == []
    expect(call(client, "GET", "/personnel", "alice"), 403, "FORBIDDEN")
    expect(call(client, "GET", "/personnel/bob", "alice"), 403, "FORBIDDEN")
    expect(call(client, "GET", "/personnel/nobody", "ada"), 404, "NOT_FOUND")
    expect(call(client, "GET", "/personnel?colour=red", "ada"), 400, "VALIDATION_ERROR", "colour")
    expect(call(client, "GET", "/personnel"), 401, "UNAUTHORIZED")


# -- tasks -----------------------------------------------------------------------------------------------


def test_the_inbox_lists_my_open_tasks(client, claim_case):
    case, tasks = claim_case
    mine = expect(call(client, "GET", "/tasks?assignee=me", "alice"), 200)["items"]
    assert [t["id"] for t in mine] == [tasks[0]["id"]]
    assert set(mine[0]) >= {"id", "caseId", "type", "title", "assignee", "team", "status", "required", "dueAt",
                            "createdAt", "completedAt", "outcome", "comment", "version"}
    assert "run" not in mine[0]
    assert expect(call(client, "GET", "/tasks", "amy"), 200)["items"][0]["id"] == tasks[1]["id"]  # default: me
    assert len(expect(call(client, "GET", f"/tasks?caseId={case['id']}", "sam"), 200)["items"]) == 2
    assert len(expect(call(client, "GET", "/tasks?assignee=alice", "sam"), 200)["items"]) == 1
    expect(call(client, "GET", "/tasks?assignee=alice", "amy"), 403, "FORBIDDEN")
    expect(call(client, "GET", f"/tasks?caseId={case['id']}", "bob"), 404, "NOT_FOUND")
    expect(call(client, "GET", "/tasks?team=claims", "bob"), 403, "FORBIDDEN")
    assert expect(call(client, "GET", "/tasks?team=claims", "amy"), 200)["items"] == []
    expect(call(client, "GET", "/tasks?status=DONE", "alice"), 400, "VALIDATION_ERROR", "status")
    expect(call(client, "GET", "/tasks?status=LATE&caseId=x", "alice"), 400, "VALIDATION_ERROR", "status")
    expect(call(client, "GET", "/tasks?sort=due", "alice"), 400, "VALIDATION_ERROR", "sort")


def test_completing_a_task(client, claim_case):
    case, tasks = claim_case
    path = f"/tasks/{tasks[0]['id']}/complete"
    expect(call(client, "POST", path, "amy"), 403, "FORBIDDEN")
    expect(call(client, "POST", path, "bob"), 404, "NOT_FOUND")
    expect(call(client, "POST", path, "aud"), 403, "FORBIDDEN")
    expect(call(client, "POST", path, "alice", {"outcome": "x" * 201}), 400, "VALIDATION_ERROR", "outcome")
    expect(call(client, "POST", path, "alice", {"verdict": "ok"}), 400, "VALIDATION_ERROR", "verdict")
    done = expect(call(client, "POST", path, "alice"), 200)  # no body: both fields are optional
    assert (done["status"], done["completedBy"], done["outcome"], done["version"]) == ("DONE", "alice", None, 2)
    assert expect(call(client, "POST", path, "alice", {}), 200) == done  # a retry gets the same answer
    expect(call(client, "POST", path, "alice", {"outcome": "rejected"}), 409, "CONFLICT")
    second = expect(call(client, "POST", f"/tasks/{tasks[1]['id']}/complete", "sam", {"outcome": "assessed"}), 200)
    assert second["outcome"] == "assessed"
    assert expect(call(client, "GET", "/tasks", "alice"), 200)["items"] == []
    assert expect(call(client, "GET", "/personnel/alice", "alice"), 200)["openTasks"] == 0
    done_items = expect(call(client, "GET", f"/tasks?caseId={case['id']}&status=DONE", "alice"), 200)["items"]
    assert len(done_items) == 2
    events = expect(call(client, "GET", f"/cases/{case['id']}/history", "alice"), 200)["items"]
    assert [e["type"] for e in events] == ["CASE_CREATED", "TASK_CREATED", "TASK_CREATED", "TASK_COMPLETED",
                                           "TASK_COMPLETED"]
    assert expect(call(client, "GET", f"/cases/{case['id']}/history/verify", "alice"), 200)["valid"] is True


def test_claiming_from_the_team_queue(client, container, staffed):
    for name in ("alice", "amy"):
        expect(call(client, "PUT", f"/personnel/{name}", "ada", {**DIRECTORY[name], "outOfOffice": True}), 200)
    status, case = call(client, "POST", "/cases", "alice",
                        {"title": "Lost bike", "caseType": "CLAIM", "priority": "LOW", "customerId": "CUST-2"})
    tasks = container.tasks.create_for_case(container.cases.get(_principal("ada"), case["id"]))
    queue = expect(call(client, "GET", "/tasks?team=claims", "amy"), 200)["items"]
    assert {t["id"] for t in queue} >= {t.id for t in tasks} and all(t["assignee"] is None for t in queue)
    sams = expect(call(client, "GET", "/tasks", "sam"), 200)["items"]
    assert [t["type"] for t in sams] == ["ESCALATION", "ESCALATION"]  # nobody was available
    claimed = expect(call(client, "POST", f"/tasks/{tasks[0].id}/claim", "amy"), 200)
    assert claimed["assignee"] == "amy"
    expect(call(client, "POST", f"/tasks/{tasks[0].id}/claim", "alice"), 409, "CONFLICT")
    expect(call(client, "POST", f"/tasks/{tasks[1].id}/claim", "bob"), 404, "NOT_FOUND")
    expect(call(client, "POST", f"/tasks/{tasks[1].id}/claim", "aud"), 403, "FORBIDDEN")


def test_reassigning(client, claim_case):
    case, tasks = claim_case
    path = f"/tasks/{tasks[0]['id']}/reassign"
    expect(call(client, "POST", path, "alice", {"assignee": "amy"}), 403, "FORBIDDEN")
    expect(call(client, "POST", path, "sid", {"assignee": "amy"}), 404, "NOT_FOUND")
    expect(call(client, "POST", path, "sam", {"assignee": "bob"}), 400, "VALIDATION_ERROR", "assignee")
    expect(call(client, "POST", path, "sam", {}), 400, "VALIDATION_ERROR", "assignee")
    expect(call(client, "PUT", "/personnel/amy", "ada", {**DIRECTORY["amy"], "outOfOffice": True}), 200)
    expect(call(client, "POST", path, "sam", {"assignee": "amy"}), 409, "CONFLICT", "assignee")
    expect(call(client, "PUT", "/personnel/amy", "ada", DIRECTORY["amy"]), 200)
    moved = expect(call(client, "POST", path, "sam", {"assignee": "amy"}), 200)
    assert moved["assignee"] == "amy"
    assert [t["id"] for t in expect(call(client, "GET", "/tasks", "amy"), 200)["items"]] == sorted(
        [tasks[0]["id"], tasks[1]["id"]])  # the same due time: by id
    queued = expect(call(client, "POST", path, "ada", {"assignee": None}), 200)
    assert queued["assignee"] is None
    assert [t["id"] for t in expect(call(client, "GET", "/tasks?team=claims", "sam"), 200)["items"]] == [tasks[0]["id"]]


def test_bulk_reassignment(client, claim_case):
    case, tasks = claim_case
    result = expect(call(client, "POST", "/tasks/reassign", "sam", {"from": "amy", "to": "alice"}), 200)
    assert [t["id"] for t in result["reassigned"]] == [tasks[1]["id"]] and result["failed"] == []
    reassign = {"taskIds": [tasks[0]["id"], "nope-t2"], "to": "amy"}
    result = expect(call(client, "POST", "/tasks/reassign", "sam", reassign), 200)
    assert [t["id"] for t in result["reassigned"]] == [tasks[0]["id"]]
    assert result["failed"] == [{"id": "nope-t2", "code": "NOT_FOUND", "message": "task nope-t2 not found"}]
    expect(call(client, "POST", "/tasks/reassign", "alice", {"from": "amy", "to": "alice"}), 403, "FORBIDDEN")
    expect(call(client, "POST", "/tasks/reassign", "sam", {"from": "amy", "taskIds": ["x"], "to": "alice"}), 400,
           "VALIDATION_ERROR")


def test_reading_one_task(client, claim_case):
    case, tasks = claim_case
    assert expect(call(client, "GET", f"/tasks/{tasks[0]['id']}", "amy"), 200)["id"] == tasks[0]["id"]  # same team
    expect(call(client, "GET", f"/tasks/{tasks[0]['id']}", "bob"), 404, "NOT_FOUND")
    for odd in ("nope", "a%20b", f"{case['id']}-t999"):
        expect(call(client, "GET", f"/tasks/{odd}", "ada"), 404, "NOT_FOUND")
    expect(call(client, "GET", f"/tasks/{'x' * 70}", "ada"), 400, "VALIDATION_ERROR")  # longer than any id


def test_openapi_documents_the_new_routes(client):
    from openapi_spec_validator import validate

    doc = expect(call(client, "GET", "/openapi.json"), 200)
    validate(doc)
    for path, method in [("/personnel/{username}", "put"), ("/personnel", "get"), ("/tasks", "get"),
                         ("/tasks/{task_id}/complete", "post"), ("/tasks/{task_id}/claim", "post"),
                         ("/tasks/{task_id}/reassign", "post"), ("/tasks/reassign", "post")]:
        assert method in doc["paths"][path], (path, method)
    person_schema = doc["paths"]["/personnel/{username}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    name = person_schema["$ref"].rsplit("/", 1)[1]
    assert doc["components"]["schemas"][name]["additionalProperties"] is False


def test_the_scheduled_sweep_escalates_overdue_tasks(client, container, claim_case):
    from datetime import timedelta

    from chalicelib.services.cases import utc_now

    assert container.tasks.escalate_overdue() == []
    escalations = container.tasks.escalate_overdue(utc_now() + timedelta(days=4))
    assert {e.escalates for e in escalations} == {t["id"] for t in claim_case[1]}
    assert {e.assignee for e in escalations} == {"sam"}
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    assert client.lambda_.invoke("escalate_overdue_tasks", event).payload == {"escalated": []}  # nothing due yet


def test_completing_a_task_lets_the_workflow_resume_its_tasks_stage(client, container, claim_case):
    calls = []
    container.workflow.resume_if_ready = lambda case_id, stage: calls.append((case_id, stage)) or False
    case, tasks = claim_case
    expect(call(client, "POST", f"/tasks/{tasks[0]['id']}/complete", "alice"), 200)
    assert calls == [(case["id"], "TASKS")]
