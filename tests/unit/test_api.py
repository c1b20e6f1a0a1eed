"""The HTTP edge in-process (chalice.test.Client): real token verification with a test key,
in-memory repository. Every bad input is a 4xx in the one error format, never a 500."""
from __future__ import annotations

import time

import pytest

from app import app
from tests.api_support import POOL, expect

token = POOL.token


def call(client, method, path, user=None, body=None, headers=None, raw=None):
    return POOL.call(client, method, path, user, body, raw, headers)


NEW_CASE = {"title": "Burst pipe", "caseType": "GENERAL", "priority": "HIGH", "customerId": "CUST-1"}


def create(client, user="alice", **fields):
    status, data, _ = call(client, "POST", "/cases", user, {**NEW_CASE, **fields})
    assert status == 201, data
    return data


def assert_error(result, status, code, field=None):
    assert expect(result, status, code, field)["error"]["message"]


def test_health_and_openapi_need_no_token(client):
    assert call(client, "GET", "/health")[0] == 200
    status, doc, _ = call(client, "GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")


def test_create_returns_the_case_with_etag_and_location(client):
    status, case, headers = call(client, "POST", "/cases", "alice", NEW_CASE)
    assert status == 201
    assert headers["ETag"] == '"1"' and headers["Location"] == f"/cases/{case['id']}"
    assert case["number"].startswith("CASE-") and case["status"] == "NEW" and case["createdBy"] == "alice"
    assert "auditSeq" not in case and "auditHash" not in case


@pytest.mark.parametrize(
    "body, field",
    [
        ({k: v for k, v in NEW_CASE.items() if k != "title"}, "title"),
        ({**NEW_CASE, "colour": "red"}, "colour"),
        ({**NEW_CASE, "title": "x" * 201}, "title"),
        ({**NEW_CASE, "priority": 3}, "priority"),
        ({**NEW_CASE, "priority": "URGENT"}, "priority"),
        ({**NEW_CASE, "caseType": "NOPE"}, "caseType"),
        ({**NEW_CASE, "tags": "x"}, "tags"),
        ({**NEW_CASE, "tags": ["t"] * 21}, "tags"),
        ({**NEW_CASE, "compensation": {"amount": 12.5, "currency": "EUR"}}, "compensation.amount"),
        ({**NEW_CASE, "compensation": {"amount": "1.234", "currency": "EUR"}}, "compensation.amount"),
        ({**NEW_CASE, "compensation": {"amount": "10.00", "currency": "euro"}}, "compensation.currency"),
        ({**NEW_CASE, "caseType": "COMPLAINT", "compensation": {"amount": "9000.00", "currency": "EUR"}},
         "compensation.amount"),
        ({**NEW_CASE, "status": "CLOSED"}, "status"),
        ({**NEW_CASE, "assignee": "alice"}, "assignee"),
    ],
    ids=["missing", "unknown", "oversized", "type", "enum", "case-type", "tags-type", "too-many-tags",
         "amount-number", "amount-decimals", "currency", "over-cap", "status", "assignee"],
)
def test_bad_case_bodies_are_400_naming_the_field(client, body, field):
    assert_error(call(client, "POST", "/cases", "alice", body), 400, "VALIDATION_ERROR", field)


@pytest.mark.parametrize(
    "raw",
    ["not json", "[" * 10_000 + "]" * 10_000, '{"a":' * 5_000 + "1" + "}" * 5_000, "[1, 2]", '"text"', "null", "",
     "\xff"],
    ids=["non-json", "deep-array", "deep-object", "array", "string", "null", "empty", "bad-bytes"],
)
def test_bodies_that_are_not_a_json_object_are_400(client, raw):
    assert_error(call(client, "POST", "/cases", "alice", raw=raw), 400, "VALIDATION_ERROR", "body")


def test_a_body_over_64_kib_is_413(client):
    body = {**NEW_CASE, "description": "x" * (70 * 1024)}
    assert_error(call(client, "POST", "/cases", "alice", body), 413, "PAYLOAD_TOO_LARGE")


@pytest.mark.parametrize(
    "query, field",
    [("limit=100000", "limit"), ("limit=0", "limit"), ("limit=abc", "limit"), ("cursor=abc", "cursor"),
     ("cursor=" + "A" * 3000, "cursor"), ("status=DONE", "status"), ("priority=x", "priority"),
     ("colour=red", "colour")],
)
def test_bad_list_queries_are_400_naming_the_parameter(client, query, field):
    assert_error(call(client, "GET", f"/cases?{query}", "alice"), 400, "VALIDATION_ERROR", field)


def test_no_token_and_bad_tokens_are_401(client):
    assert_error(call(client, "GET", "/cases"), 401, "UNAUTHORIZED")
    for bad in ["garbage", token("alice", exp=int(time.time()) - 300), token("alice", iss="https://evil"),
                token("alice", aud="other"), token("alice", token_use="access")]:
        status, data, headers = call(client, "GET", "/cases", headers={"Authorization": f"Bearer {bad}"})
        assert status == 401, data
        assert headers.get("WWW-Authenticate") == "Bearer"


def test_other_teams_case_is_404_like_a_missing_one(client):
    case = create(client, "alice")
    missing = call(client, "GET", "/cases/doesnotexist", "bob")
    hidden = call(client, "GET", f"/cases/{case['id']}", "bob")
    assert_error(missing, 404, "NOT_FOUND")
    assert_error(hidden, 404, "NOT_FOUND")
    for path in ("comments", "history", "history/verify"):
        assert call(client, "GET", f"/cases/{case['id']}/{path}", "bob")[0] == 404
    assert call(client, "GET", f"/cases/{case['id']}", "sam")[0] == 200  # the team's supervisor
    assert call(client, "GET", f"/cases/{case['id']}", "aud")[0] == 200  # auditors read everything
    assert call(client, "GET", f"/cases/{case['id']}", "ava")[0] == 404  # approvers only see their cases


def test_odd_path_ids_are_404_not_500(client):
    for case_id in ("a%20b", "..", "%00", "x" * 64):
        assert call(client, "GET", f"/cases/{case_id}", "alice")[0] == 404


def test_an_over_long_path_id_is_a_400_naming_it(client):
    for path, field in (("/cases/{}", "caseId"), ("/cases/c1/documents/{}", "documentId"), ("/tasks/{}", "taskId")):
        status, body, _ = call(client, "GET", path.format("x" * 500), "alice")
        assert (status, [d["field"] for d in body["error"]["details"]]) == (400, [field]), body


def test_auditor_writing_is_403(client):
    case = create(client, "alice")
    assert_error(call(client, "POST", "/cases", "aud", NEW_CASE), 403, "FORBIDDEN")
    assert_error(
        call(client, "PATCH", f"/cases/{case['id']}", "aud", {"title": "x"}, {"If-Match": '"1"'}), 403, "FORBIDDEN"
    )
    assert_error(call(client, "POST", f"/cases/{case['id']}/comments", "aud", {"text": "x"}), 403, "FORBIDDEN")


def test_patch_with_if_match(client):
    case = create(client, "alice")
    path = f"/cases/{case['id']}"
    assert_error(call(client, "PATCH", path, "alice", {"title": "A"}), 400, "VALIDATION_ERROR", "If-Match")
    assert_error(call(client, "PATCH", path, "alice", {"title": "A"}, {"If-Match": "v1"}),
                 400, "VALIDATION_ERROR", "If-Match")
    status, updated, headers = call(client, "PATCH", path, "alice", {"title": "A", "tags": ["vip"]},
                                    {"If-Match": '"1"'})
    assert status == 200 and updated["version"] == 2 and headers["ETag"] == '"2"'
    assert_error(call(client, "PATCH", path, "alice", {"title": "B"}, {"If-Match": '"1"'}), 412, "PRECONDITION_FAILED")
    assert call(client, "GET", path, "alice")[1]["title"] == "A"  # the stale write changed nothing
    assert_error(call(client, "PATCH", path, "alice", {"status": "CLOSED"}, {"If-Match": '"2"'}),
                 400, "VALIDATION_ERROR", "status")
    assert_error(call(client, "PATCH", path, "alice", {}, {"If-Match": '"2"'}), 400, "VALIDATION_ERROR")
    assert_error(call(client, "PATCH", path, "bob", {"title": "C"}, {"If-Match": '"2"'}), 404, "NOT_FOUND")


def test_idempotency_key(client):
    headers = {"Idempotency-Key": "order-42"}
    first = call(client, "POST", "/cases", "alice", NEW_CASE, headers)
    again = call(client, "POST", "/cases", "alice", NEW_CASE, headers)
    assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
    assert_error(call(client, "POST", "/cases", "alice", {**NEW_CASE, "title": "Other"}, headers),
                 409, "CONFLICT", "Idempotency-Key")
    assert_error(call(client, "POST", "/cases", "alice", NEW_CASE, {"Idempotency-Key": "x" * 200}), 400,
                 "VALIDATION_ERROR", "Idempotency-Key")
    assert len(call(client, "GET", "/cases", "alice")[1]["items"]) == 1


def test_list_pages_through_every_visible_case_once(client):
    ids = {create(client, "alice", title=f"c{i}")["id"] for i in range(7)}
    create(client, "bob")
    seen, cursor = [], None
    while True:
        status, page, _ = call(client, "GET", "/cases?limit=3" + (f"&cursor={cursor}" if cursor else ""), "alice")
        assert status == 200 and len(page["items"]) <= 3
        seen += [c["id"] for c in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7 and set(seen) == ids
    status, page, _ = call(client, "GET", "/cases?limit=100", "ada")
    assert len(page["items"]) == 8


def test_comments_and_history_chain(client):
    case = create(client, "alice")
    status, comment, _ = call(client, "POST", f"/cases/{case['id']}/comments", "alice", {"text": "Called the customer"})
    assert status == 201 and comment["author"] == "alice"
    assert_error(call(client, "POST", f"/cases/{case['id']}/comments", "alice", {"text": ""}),
                 400, "VALIDATION_ERROR", "text")
    assert call(client, "GET", f"/cases/{case['id']}/comments", "alice")[1]["items"] == [comment]
    events = call(client, "GET", f"/cases/{case['id']}/history", "alice")[1]["items"]
    assert [e["type"] for e in events] == ["CASE_CREATED", "COMMENT_ADDED"]
    assert events[1]["prevHash"] == events[0]["hash"]
    assert call(client, "GET", f"/cases/{case['id']}/history/verify", "alice")[1] == {
        "valid": True, "events": 2, "firstInvalidSeq": None
    }


def test_openapi_describes_every_route_and_is_valid(client):
    from openapi_spec_validator import validate

    doc = call(client, "GET", "/openapi.json")[1]
    validate(doc)
    served = {(path.replace("{case_id}", "{case_id}"), method.lower()) for path, methods in app.routes.items()
              for method in methods}
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented
    create_op = doc["paths"]["/cases"]["post"]
    schema_name = create_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = doc["components"]["schemas"][schema_name]
    assert schema["additionalProperties"] is False and set(schema["required"]) >= {"title", "caseType", "priority"}


def test_a_body_that_is_not_declared_json_is_415(client):
    for content_type in ("application/x-www-form-urlencoded", "text/plain"):
        result = call(client, "POST", "/cases", "alice", NEW_CASE, {"Content-Type": content_type})
        assert_error(result, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type")
    charset = {"Content-Type": "application/json; charset=utf-8"}
    assert call(client, "POST", "/cases", "alice", NEW_CASE, charset)[0] == 201
