"""Approvals and compensation over HTTP in-process (chalice.test.Client) with real token verification,
the container's in-memory services and a workflow whose engine is a counting fake: 400/403/404/409, one
resume per stage, task tokens never in a response, the Compensate Lambda, the OpenAPI document."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.services.workflow import Stage
from tests.api_support import TestUserPool
from tests.support import FakeEngine

USERS = {
    "alice": (["caseworker"], "claims"),
    "bob": (["caseworker"], "complaints"),
    "cara": (["caseworker", "approver"], "claims"),
    "tom": (["caseworker", "approver"], "claims"),
    "ava": (["approver"], None),
    "bea": (["approver"], None),
    "fay": (["finance"], None),
    "aud": (["auditor"], "audit"),
    "ada": (["admin"], "ops"),
}
APPROVAL_TOKEN, PAYMENT_TOKEN = "sfn-approval-token-secret", "sfn-payment-token-secret"
CLAIM = {"title": "Burst pipe", "caseType": "CLAIM", "priority": "MEDIUM", "customerId": "CUST-1",
         "compensation": {"amount": "800.00", "currency": "EUR"}}
POOL = TestUserPool(USERS)
_NOW = datetime.now(timezone.utc)
DELEGATION_PERIOD = {"from": (_NOW - timedelta(hours=1)).isoformat(), "until": (_NOW + timedelta(days=7)).isoformat()}
token = POOL.token


class Harness:
    def __init__(self, client, container, workflow, engine, tokens):
        self.client, self.container, self.workflow = client, container, workflow
        self.engine, self.tokens = engine, tokens
        self.bodies: list[str] = []  # every response body, to prove no task token ever leaves

    def call(self, method, path, user=None, body=None):
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {token(user)}"
        response = getattr(self.client.http, method.lower())(
            path, headers=headers, body=json.dumps(body) if body is not None else None
        )
        text = response.body.decode() if isinstance(response.body, bytes) else (response.body or "")
        self.bodies.append(text)
        return response.status_code, json.loads(text) if text else None

    def awaiting_approval(self, creator="alice", **fields) -> str:
        status, case = self.call("POST", "/cases", creator, {**CLAIM, **fields})
        assert status == 201, case
        self.workflow.initiate(case["id"], "exec-1")
        self.workflow.assign(case["id"])
        self.workflow.wait(case["id"], Stage.APPROVAL, APPROVAL_TOKEN, "exec-1")
        return case["id"]


@pytest.fixture
def api():
    engine = FakeEngine()
    container = POOL.container(engine=lambda: engine)
    workflow = container.workflow
    tokens = workflow._tokens
    with bootstrap.override(container), Client(app) as client:
        harness = Harness(client, container, workflow, engine, tokens)
        yield harness
        for body in harness.bodies:
            assert APPROVAL_TOKEN not in body and PAYMENT_TOKEN not in body and "taskToken" not in body


def error(result, status, code):
    got, data = result
    assert got == status, data
    assert data["error"]["code"] == code and data["error"]["message"]
    return data["error"]


def test_the_whole_way_through_approval_and_payment(api):
    case_id = api.awaiting_approval()
    status, inbox = api.call("GET", "/approvals?assignee=me", "ava")
    assert status == 200 and [a["id"] for a in inbox["items"]] == [f"{case_id}-a1"]
    item = inbox["items"][0]
    assert {k: item[k] for k in ("caseId", "level", "assignee", "status", "amount", "currency")} == {
        "caseId": case_id, "level": 1, "assignee": None, "status": "PENDING", "amount": "800.00", "currency": "EUR"
    }
    status, detail = api.call("GET", f"/approvals/{case_id}-a1", "ava")
    assert status == 200 and isinstance(detail["onReject"], list)

    status, _ = api.call("PUT", "/personnel/bea/delegation", "bea", {"to": "ava", **DELEGATION_PERIOD})
    assert status == 200
    status, decided = api.call("POST", f"/approvals/{case_id}-a1/decision", "ava",
                               {"decision": "APPROVE", "comment": "covered", "onBehalfOf": "bea"})
    assert status == 200, decided
    assert (decided["status"], decided["decidedBy"], decided["onBehalfOf"], decided["comment"]) == (
        "APPROVED", "ava", "bea", "covered"
    )
    error(api.call("POST", f"/approvals/{case_id}-a1/decision", "bea", {"decision": "REJECT"}), 409, "CONFLICT")
    assert api.engine.resumed == [(APPROVAL_TOKEN, {"decision": "APPROVED", "approvedAmount": "800.00"})]
    assert api.call("GET", f"/cases/{case_id}", "alice")[1]["status"] == "APPROVED"

    summary = api.client.lambda_.invoke("wf_compensate", {"caseId": case_id}).payload
    assert summary["approved"] == "800.00" and summary["instructionStatus"] == "PENDING"
    assert api.client.lambda_.invoke("wf_compensate", {"caseId": case_id}).payload == summary  # idempotent
    api.workflow.wait(case_id, Stage.PAYMENT, PAYMENT_TOKEN, "exec-1")
    status, record = api.call("GET", f"/cases/{case_id}/compensation", "alice")
    assert status == 200
    assert (record["requested"], record["approved"], record["paid"], record["currency"]) == (
        "800.00", "800.00", "0.00", "EUR"
    )
    assert record["instruction"]["status"] == "PENDING"
    assert [e["type"] for e in record["ledger"]] == ["REQUESTED", "APPROVED", "INSTRUCTED"]
    assert len(api.engine.resumed) == 1

    status, record = api.call("POST", f"/cases/{case_id}/compensation/payment", "fay", {"reference": "SEPA-1"})
    assert status == 200, record
    assert record["instruction"]["status"] == "PAID" and record["paid"] == "800.00"
    assert record["ledger"][-1]["type"] == "PAID"
    error(api.call("POST", f"/cases/{case_id}/compensation/payment", "fay", {"reference": "SEPA-2"}), 409, "CONFLICT")
    assert api.engine.resumed[-1] == (PAYMENT_TOKEN, {}) and len(api.engine.resumed) == 2

    history = api.call("GET", f"/cases/{case_id}/history", "aud")[1]["items"]
    types = [e["type"] for e in history]
    assert {"APPROVAL_REQUESTED", "APPROVAL_DECIDED", "COMPENSATION_INSTRUCTED", "PAYMENT_CONFIRMED"} <= set(types)
    assert api.call("GET", f"/cases/{case_id}/history/verify", "aud")[1]["valid"] is True


def test_rejection_shows_what_it_would_undo_and_resumes_rejected(api):
    case_id = api.awaiting_approval()
    open_tasks = [t for t in api.container.tasks._tasks.list_case_tasks(case_id) if t.status == "OPEN"]
    assert open_tasks  # the claim's tasks wait in the team queue (nobody is filed in the directory)
    detail = api.call("GET", f"/approvals/{case_id}-a1", "ava")[1]
    assert len(detail["onReject"]) == len(open_tasks) and all(t.id in " ".join(detail["onReject"]) for t in open_tasks)
    status, decided = api.call("POST", f"/approvals/{case_id}-a1/decision", "ava", {"decision": "REJECT"})
    assert status == 200 and decided["status"] == "REJECTED" and decided["final"] is True
    assert api.engine.resumed == [(APPROVAL_TOKEN, {"decision": "REJECTED"})]


def test_two_levels_and_four_eyes(api):
    case_id = api.awaiting_approval(creator="cara", compensation={"amount": "4000.00", "currency": "EUR"})
    err = error(api.call("POST", f"/approvals/{case_id}-a1/decision", "cara", {"decision": "APPROVE"}),
                403, "FORBIDDEN")
    assert "four-eyes" in err["message"]
    assert api.call("POST", f"/approvals/{case_id}-a1/decision", "ava", {"decision": "APPROVE"})[0] == 200
    assert api.engine.resumed == []
    err = error(api.call("POST", f"/approvals/{case_id}-a2/decision", "ava", {"decision": "APPROVE"}), 403, "FORBIDDEN")
    assert "level 1 approver" in err["message"]
    status, level_2 = api.call("POST", f"/approvals/{case_id}-a2/decision", "bea", {"decision": "APPROVE"})
    assert status == 200 and level_2["level"] == 2
    assert api.engine.resumed == [(APPROVAL_TOKEN, {"decision": "APPROVED", "approvedAmount": "4000.00"})]


def test_a_task_assignee_may_not_decide(api):
    status, _ = api.call("PUT", "/personnel/tom", "ada", {"team": "claims", "skills": ["claims"], "capacity": 5})
    assert status == 200
    case_id = api.awaiting_approval()
    assert any(t.assignee == "tom" for t in api.container.tasks._tasks.list_case_tasks(case_id))
    err = error(api.call("POST", f"/approvals/{case_id}-a1/decision", "tom", {"decision": "APPROVE"}), 403, "FORBIDDEN")
    assert "four-eyes: tom" in err["message"]


def test_roles(api):
    case_id = api.awaiting_approval()
    for user in ("alice", "fay"):
        error(api.call("GET", "/approvals", user), 403, "FORBIDDEN")
        error(api.call("GET", f"/approvals/{case_id}-a1", user), 403, "FORBIDDEN")
        error(api.call("POST", f"/approvals/{case_id}-a1/decision", user, {"decision": "APPROVE"}), 403, "FORBIDDEN")
    error(api.call("POST", f"/approvals/{case_id}-a1/decision", "aud", {"decision": "APPROVE"}), 403, "FORBIDDEN")
    assert api.call("GET", "/approvals", "aud")[0] == 200
    error(api.call("POST", f"/cases/{case_id}/compensation/payment", "ava", {"reference": "R1"}), 403, "FORBIDDEN")
    error(api.call("POST", f"/cases/{case_id}/compensation/payment", "alice", {"reference": "R1"}), 403, "FORBIDDEN")


def test_not_found(api):
    case_id = api.awaiting_approval()
    for path in (f"/approvals/{case_id}-a7", "/approvals/nothing-here", "/approvals/has%23hash"):
        error(api.call("GET", path, "ava"), 404, "NOT_FOUND")
    error(api.call("POST", f"/approvals/{case_id}-a7/decision", "ava", {"decision": "APPROVE"}), 404, "NOT_FOUND")
    error(api.call("GET", f"/cases/{case_id}/compensation", "alice"), 404, "NOT_FOUND")  # none yet
    error(api.call("POST", f"/cases/{case_id}/compensation/payment", "fay", {"reference": "R1"}), 404, "NOT_FOUND")
    api.call("POST", f"/approvals/{case_id}-a1/decision", "ava", {"decision": "APPROVE"})
    api.client.lambda_.invoke("wf_compensate", {"caseId": case_id})
    error(api.call("GET", f"/cases/{case_id}/compensation", "bob"), 404, "NOT_FOUND")  # another team's case
    error(api.call("GET", f"/cases/{case_id}/compensation", "ava"), 404, "NOT_FOUND")
    assert api.call("GET", f"/cases/{case_id}/compensation", "fay")[0] == 200
    error(api.call("GET", "/cases/missing/compensation", "fay"), 404, "NOT_FOUND")


def test_bad_input_is_400_naming_the_field(api):
    case_id = api.awaiting_approval()
    for body, field in (
        ({"decision": "MAYBE"}, "decision"), ({"decision": "APPROVE", "note": "x"}, "note"), ({}, "decision"),
        ({"decision": "APPROVE", "onBehalfOf": "not a name"}, "onBehalfOf"),
    ):
        err = error(api.call("POST", f"/approvals/{case_id}-a1/decision", "ava", body), 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in err["details"]], err
    for query, field in (("status=DONE", "status"), ("assignee=a%23b", "assignee"), ("status=APPROVED", "caseId"),
                         ("colour=red", "colour")):
        err = error(api.call("GET", f"/approvals?{query}", "ava"), 400, "VALIDATION_ERROR")
        assert field in [d["field"] for d in err["details"]], err
    err = error(api.call("POST", f"/cases/{case_id}/compensation/payment", "fay", {"reference": ""}), 400,
                "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "reference"
    assert api.engine.resumed == []


def test_listing_filters(api):
    first, second = api.awaiting_approval(), api.awaiting_approval()
    api.call("POST", f"/approvals/{first}-a1/decision", "ava", {"decision": "REJECT"})
    assert [a["id"] for a in api.call("GET", "/approvals", "bea")[1]["items"]] == [f"{second}-a1"]
    status, data = api.call("GET", f"/approvals?caseId={first}&status=REJECTED", "aud")
    assert status == 200 and [a["id"] for a in data["items"]] == [f"{first}-a1"]
    assert api.call("GET", f"/approvals?caseId={first}&status=PENDING", "aud")[1]["items"] == []


def test_openapi_documents_the_new_routes(api):
    from openapi_spec_validator import validate

    doc = api.call("GET", "/openapi.json")[1]
    validate(doc)
    for path, method in (("/approvals", "get"), ("/approvals/{approval_id}", "get"),
                         ("/approvals/{approval_id}/decision", "post"), ("/cases/{case_id}/compensation", "get"),
                         ("/cases/{case_id}/compensation/payment", "post")):
        assert method in doc["paths"][path], path
    decision = doc["paths"]["/approvals/{approval_id}/decision"]["post"]
    assert set(decision["responses"]) >= {"200", "400", "401", "403", "404", "409"}
    ref = decision["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][ref]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"decision", "comment", "onBehalfOf"}
