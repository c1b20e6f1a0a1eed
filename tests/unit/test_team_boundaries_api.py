"""Team boundaries over the HTTP edge with the app's own team lookup: the personnel directory decides a
principal's team, whatever `custom:team` a token carries (a user who rewrites the attribute, item 1 of
issue 12). In-process, with real token verification and the in-memory stores."""
from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.auth import Authenticator, directory_team
from chalicelib.jwt_verifier import JwksCache, TokenVerifier
from tests.api_support import JWKS_URL, TestUserPool, expect

USERS = {
    "alice": (["caseworker"], "claims"),
    "bob": (["caseworker"], "complaints"),
    "sam": (["supervisor"], "complaints"),
    "ada": (["admin"], None),
}
POOL = TestUserPool(USERS, pool="us-east-1_teams", client_id="teams-client")
CASE = {"title": "Burst pipe", "caseType": "GENERAL", "priority": "HIGH", "customerId": "CUST-1"}


@pytest.fixture
def client() -> Any:
    container = POOL.container()
    container.authenticator = Authenticator(
        TokenVerifier(JwksCache(JWKS_URL, fetch=POOL.jwks), POOL.issuer, POOL.client_id), POOL.client_id,
        directory_team(container.personnel),
    )
    with bootstrap.override(container), Client(app) as test_client:
        for username in ("alice", "bob", "sam"):
            team = USERS[username][1]
            body = {"team": team, "capacity": 5, "supervisor": username == "sam"}
            expect(call(test_client, "PUT", f"/personnel/{username}", "ada", body), 200)
        yield test_client


def call(client: Any, method: str, path: str, user: str, body: Any = None, **claims: Any) -> tuple[int, Any, Any]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {POOL.token(user, **claims)}"}
    payload = None if body is None else json.dumps(body)
    response = getattr(client.http, method.lower())(path, headers=headers, body=payload)
    return response.status_code, (json.loads(response.body) if response.body else None), response.headers


def test_a_rewritten_team_claim_opens_no_other_teams_cases(client: Any) -> None:
    case = expect(call(client, "POST", "/cases", "alice", CASE), 201)
    assert case["team"] == "claims"
    moved = {"custom:team": "claims"}  # bob (complaints) rewrote his attribute
    assert expect(call(client, "GET", f"/cases/{case['id']}", "bob", **moved), 404, "NOT_FOUND")
    listed = expect(call(client, "GET", "/cases", "bob", **moved), 200)
    assert case["id"] not in [c["id"] for c in listed["items"]]
    expect(call(client, "GET", "/tasks?team=claims", "bob", **moved), 403, "FORBIDDEN")


def test_a_new_case_belongs_to_the_directory_team_not_the_claimed_one(client: Any) -> None:
    case = expect(call(client, "POST", "/cases", "bob", CASE, **{"custom:team": "claims"}), 201)
    assert case["team"] == "complaints"
    seen = expect(call(client, "GET", f"/cases/{case['id']}", "sam", **{"custom:team": "claims"}), 200)
    assert seen["id"] == case["id"]
    expect(call(client, "GET", f"/cases/{case['id']}", "alice"), 404, "NOT_FOUND")


def test_a_supervisor_claiming_another_team_supervises_only_their_own(client: Any) -> None:
    case = expect(call(client, "POST", "/cases", "alice", CASE), 201)
    expect(call(client, "GET", f"/cases/{case['id']}", "sam", **{"custom:team": "claims"}), 404, "NOT_FOUND")
    expect(call(client, "GET", "/tasks?team=claims", "sam", **{"custom:team": "claims"}), 403, "FORBIDDEN")


def test_a_move_in_the_directory_applies_at_once_whatever_the_token_says(client: Any) -> None:
    expect(call(client, "GET", "/tasks?team=claims", "alice"), 200)
    expect(call(client, "PUT", "/personnel/alice", "ada", {"team": "elsewhere", "capacity": 5}), 200)
    expect(call(client, "GET", "/tasks?team=claims", "alice"), 403, "FORBIDDEN")  # her token still says claims
    expect(call(client, "GET", "/tasks?team=elsewhere", "alice"), 200)


def test_someone_not_in_the_directory_has_no_team(client: Any) -> None:
    case = expect(call(client, "POST", "/cases", "alice", CASE), 201)
    expect(call(client, "GET", f"/cases/{case['id']}", "ada"), 200)
    # mallory is a caseworker in the user pool, with a team attribute, but the directory does not know her.
    POOL.users["mallory"] = (["caseworker"], "claims")
    try:
        expect(call(client, "GET", f"/cases/{case['id']}", "mallory"), 404, "NOT_FOUND")
        expect(call(client, "GET", "/tasks?team=claims", "mallory"), 403, "FORBIDDEN")
    finally:
        del POOL.users["mallory"]
