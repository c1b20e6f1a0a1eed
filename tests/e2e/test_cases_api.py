"""The cases API over HTTP on the running local system, with real tokens from the local user pool:
what a front end (or a newcomer with curl) sees, including every 401/403/404/409/412."""
from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path

import boto3
import jwt
import moto
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

NEW_CASE = {
    "title": "Burst pipe in kitchen", "caseType": "CLAIM", "priority": "HIGH", "customerId": "CUST-7",
    "compensation": {"amount": "1250.00", "currency": "EUR"}, "tags": ["water"],
}


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _pool_private_key() -> dict:
    """moto signs every pool's tokens with the one key it ships; we use it to forge tokens that are
    correctly signed but wrong in one claim, so the signature check alone cannot save us."""
    path = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    return json.loads(gzip.decompress(path.read_bytes()))


def _resign(token: str, **changes) -> str:
    claims = {**_claims(token), **changes}
    key = jwt.PyJWK(_pool_private_key()).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def wait_for_stage(session, case_id: str, stage: str, timeout: float = 30) -> dict:
    """The workflow moves a new case on its own; wait until it rests in `stage`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        case = session.get(f"/cases/{case_id}").json()
        if (case.get("workflow") or {}).get("stage") == stage:
            return case
        time.sleep(0.2)
    raise AssertionError(f"case {case_id} never reached stage {stage}: {case}")


@pytest.fixture(scope="module")
def case(api):
    response = api("alice").post("/cases", json=NEW_CASE)
    assert response.status_code == 201, response.text
    created = response.json()
    # A CLAIM needs documents: its workflow rests in the DOCUMENTS stage until they are processed.
    wait_for_stage(api("alice"), created["id"], "DOCUMENTS")
    return created


def test_a_caseworker_creates_lists_reads_updates_and_comments(api, case):
    alice = api("alice")
    assert case["number"].startswith("CASE-") and case["status"] == "NEW" and case["team"] == "claims"
    assert case["requiredDocuments"] == ["claim-form", "proof-of-loss"]  # from the CLAIM case type

    listed = alice.get("/cases", params={"customerId": "CUST-7"}).json()
    assert [c["id"] for c in listed["items"]] == [case["id"]]

    read = alice.get(f"/cases/{case['id']}")
    version = read.json()["version"]
    assert read.status_code == 200 and read.headers["ETag"] == f'"{version}"' and read.headers.get("X-Request-Id")
    assert read.json()["status"] == "PENDING_DOCUMENTS" and version > 1  # the workflow moved it

    patched = alice.patch(f"/cases/{case['id']}", json={"priority": "CRITICAL"},
                          headers={"If-Match": read.headers["ETag"]})
    assert patched.status_code == 200 and patched.json()["version"] == version + 1
    assert patched.headers["ETag"] == f'"{version + 1}"'

    stale = alice.patch(f"/cases/{case['id']}", json={"title": "Lost update?"}, headers={"If-Match": f'"{version}"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "PRECONDITION_FAILED"
    assert alice.get(f"/cases/{case['id']}").json()["title"] == NEW_CASE["title"]

    comment = alice.post(f"/cases/{case['id']}/comments", json={"text": "Called the customer"})
    assert comment.status_code == 201 and comment.json()["author"] == "alice"
    assert alice.get(f"/cases/{case['id']}/comments").json()["items"] == [comment.json()]

    history = alice.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]
    types = [e["type"] for e in history]
    assert types[0] == "CASE_CREATED" and types[-2:] == ["CASE_UPDATED", "COMMENT_ADDED"]
    assert "WORKFLOW_STARTED" in types and "TASKS_ASSIGNED" in types
    assert all(later["prevHash"] == earlier["hash"] for earlier, later in zip(history, history[1:]))
    assert alice.get(f"/cases/{case['id']}/history/verify").json() == {
        "valid": True, "events": len(history), "firstInvalidSeq": None
    }


def test_idempotent_create_over_http(api):
    alice = api("alice")
    headers = {"Idempotency-Key": "e2e-key-1"}
    first = alice.post("/cases", json={**NEW_CASE, "customerId": "CUST-9008"}, headers=headers)
    again = alice.post("/cases", json={**NEW_CASE, "customerId": "CUST-9008"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    other = alice.post("/cases", json={**NEW_CASE, "customerId": "CUST-9009"}, headers=headers)
    assert other.status_code == 409
    assert len(alice.get("/cases", params={"customerId": "CUST-9008"}).json()["items"]) == 1


def test_roles_and_record_level_access(api, case):
    assert api("bob").get(f"/cases/{case['id']}").status_code == 404  # other team: as if it did not exist
    assert api("bob").get("/cases/does-not-exist").status_code == 404
    assert case["id"] not in [c["id"] for c in api("bob").get("/cases", params={"limit": 100}).json()["items"]]
    assert api("sam").get(f"/cases/{case['id']}").status_code == 200  # the claims supervisor
    auditor = api("aud")
    assert auditor.get(f"/cases/{case['id']}").status_code == 200
    refused = auditor.post("/cases", json=NEW_CASE)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert auditor.patch(f"/cases/{case['id']}", json={"title": "x"}, headers={"If-Match": '"99"'}).status_code == 403


def test_bad_input_is_400_naming_the_field(api):
    alice = api("alice")
    cases = [
        ({**NEW_CASE, "unknown": 1}, "unknown"),
        ({**NEW_CASE, "priority": "SOON"}, "priority"),
        ({k: v for k, v in NEW_CASE.items() if k != "customerId"}, "customerId"),
    ]
    for body, field in cases:
        response = alice.post("/cases", json=body)
        assert response.status_code == 400, response.text
        assert field in [d["field"] for d in response.json()["error"]["details"]]
    deep = alice.post("/cases", data="[" * 10_000 + "]" * 10_000, headers={"Content-Type": "application/json"})
    assert deep.status_code == 400
    assert alice.post("/cases", data="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    for params, field in (({"limit": 100000}, "limit"), ({"cursor": "bogus"}, "cursor")):
        response = alice.get("/cases", params=params)
        assert response.status_code == 400 and response.json()["error"]["details"][0]["field"] == field


def test_pagination_over_http_visits_each_case_once(api):
    bob = api("bob")
    created = {bob.post("/cases", json={**NEW_CASE, "caseType": "COMPLAINT", "customerId": "CUST-9010",
                                        "compensation": None, "title": f"page {i}"}).json()["id"] for i in range(5)}
    seen, params = [], {"customerId": "CUST-9010", "limit": 2}
    while True:
        page = bob.get("/cases", params=params).json()
        seen += [c["id"] for c in page["items"]]
        if not page["nextCursor"]:
            break
        params["cursor"] = page["nextCursor"]
    assert len(seen) == len(set(seen)) and set(seen) == created


def test_every_bad_token_is_401(api, token, local_stack):
    good = token("alice")
    other_client = boto3.client(
        "cognito-idp", endpoint_url=local_stack["awsEndpoint"], region_name=local_stack["region"],
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    client_id = other_client.create_user_pool_client(
        UserPoolId=local_stack["userPoolId"], ClientName="another-app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    alice = next(u for u in local_stack["users"] if u["username"] == "alice")
    tokens = other_client.initiate_auth(
        AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
        AuthParameters={"USERNAME": "alice", "PASSWORD": alice["password"]},
    )["AuthenticationResult"]
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header, payload, _ = good.split(".")
    bad = {
        "malformed": "not-a-token",
        "alg none": jwt.encode(_claims(good), None, algorithm="none"),
        "forged signature": jwt.encode(_claims(good), forger, algorithm="RS256", headers={"kid": "dummy"}),
        "tampered payload": f"{header}.{_b64(json.dumps({**_claims(good), 'cognito:groups': ['admin']}))}"
                            f".{good.split('.')[2]}",
        "expired": _resign(good, exp=int(time.time()) - 600, iat=int(time.time()) - 4000),
        "wrong issuer": _resign(good, iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"),
        "access token": tokens["AccessToken"],
        "another app client": tokens["IdToken"],
    }
    assert api(None).get("/cases").status_code == 401
    resigned = api(None).get("/cases", headers={"Authorization": f"Bearer {_resign(good)}"})
    assert resigned.status_code == 200  # the forging works: each 401 below is for the one wrong claim
    for name, bad_token in bad.items():
        response = api(None).get("/cases", headers={"Authorization": f"Bearer {bad_token}"})
        assert response.status_code == 401, name
        assert response.json()["error"]["code"] == "UNAUTHORIZED", name
    assert api(None).get("/cases", headers={"Authorization": good}).status_code == 200  # without "Bearer" too


def test_logs_are_json_lines_without_tokens(api, token, local_process):
    api("alice").get("/cases")
    output = local_process.output()
    request_lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"level"')]
    assert any(line.get("user") == "alice" and line.get("request_id") and line.get("status") for line in request_lines)
    for username in ("alice", "bob", "aud"):
        assert token(username).split(".")[2] not in output
