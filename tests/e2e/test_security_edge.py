"""Issue 12 items 1 and 2 over HTTP, with real tokens from the local user pool, as an insider would try them:
moving oneself into another team through Cognito, and presenting tokens the API must not take."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import boto3
import pytest

from local.cognito import WRITE_ATTRIBUTES_ERROR
from tests.e2e.conftest import Api, LocalProcess


@pytest.fixture(scope="module")
def idp(local_stack: dict[str, Any]) -> Any:
    return boto3.client("cognito-idp", endpoint_url=local_stack["awsEndpoint"], region_name=local_stack["region"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def sign_in(local_stack: dict[str, Any], idp: Any) -> Callable[..., dict[str, str]]:
    """`sign_in("bob")`: a fresh sign-in's tokens (ID, access, refresh), with the app's client or another."""
    passwords = {u["username"]: u["password"] for u in local_stack["users"]}

    def sign_in(username: str, client_id: str = local_stack["userPoolClientId"]) -> dict[str, str]:
        return dict(idp.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
            AuthParameters={"USERNAME": username, "PASSWORD": passwords[username]},
        )["AuthenticationResult"])

    return sign_in


@pytest.fixture
def bob_claims_claims(local_stack: dict[str, Any], idp: Any) -> Iterator[None]:
    """bob's `custom:team` says claims though the directory files him under complaints, as if the pool let him
    write it; restored afterwards (the local system is shared by the session's tests)."""
    pool = local_stack["userPoolId"]
    idp.admin_update_user_attributes(UserPoolId=pool, Username="bob",
                                     UserAttributes=[{"Name": "custom:team", "Value": "claims"}])
    try:
        yield
    finally:
        idp.admin_update_user_attributes(UserPoolId=pool, Username="bob",
                                         UserAttributes=[{"Name": "custom:team", "Value": "complaints"}])


def _claims_case(api: Callable[[str], Api]) -> dict[str, Any]:
    """A claims-team case bob has no part in (alice's demo cases)."""
    cases = api("alice").get("/cases", params={"limit": 100}).json()["items"]
    return next(c for c in cases if c["team"] == "claims" and c["createdBy"] == "alice"
                and "bob" not in (c["assignee"], *c["participants"]))


def test_a_caseworker_cannot_write_their_team_with_their_own_access_token(idp, sign_in, local_stack):
    tokens = sign_in("bob")
    with pytest.raises(idp.exceptions.NotAuthorizedException, match=WRITE_ATTRIBUTES_ERROR):
        idp.update_user_attributes(AccessToken=tokens["AccessToken"],
                                   UserAttributes=[{"Name": "custom:team", "Value": "claims"}])
    attributes = idp.admin_get_user(UserPoolId=local_stack["userPoolId"], Username="bob")["UserAttributes"]
    assert {"Name": "custom:team", "Value": "complaints"} in attributes


def test_a_token_claiming_another_team_opens_none_of_its_work(
    api, sign_in, local_stack, local_process: LocalProcess, bob_claims_claims,
):
    case = _claims_case(api)
    id_token = sign_in("bob")["IdToken"]
    bob = Api(local_stack["apiUrl"], id_token)
    listed = bob.get("/cases", params={"limit": 100})
    assert listed.status_code == 200 and case["id"] not in [c["id"] for c in listed.json()["items"]]
    assert bob.get(f"/cases/{case['id']}").status_code == 404
    queue = bob.get("/tasks", params={"team": "claims"})
    assert queue.status_code == 403 and queue.json()["error"]["code"] == "FORBIDDEN"
    assert bob.get("/tasks", params={"team": "complaints"}).status_code == 200  # his team is the directory's
    assert '"event":"team_claim_mismatch"' in local_process.output()  # the disagreement is logged


def test_an_id_token_of_another_app_client_is_refused(local_stack, idp, sign_in):
    other = idp.create_user_pool_client(
        UserPoolId=local_stack["userPoolId"], ClientName="insider-tool", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    try:
        response = Api(local_stack["apiUrl"], sign_in("alice", other["ClientId"])["IdToken"]).get("/cases")
    finally:
        idp.delete_user_pool_client(UserPoolId=local_stack["userPoolId"], ClientId=other["ClientId"])
    error = response.json()["error"]
    assert response.status_code == 401 and error["code"] == "UNAUTHORIZED" and "another app client" in error["message"]


def test_an_access_token_is_refused_as_an_id_token(local_stack, sign_in):
    response = Api(local_stack["apiUrl"], sign_in("alice")["AccessToken"]).get("/cases")
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"


def test_a_revoked_sign_in_refreshes_nothing(local_stack, idp, sign_in):
    """What the console's sign-out does (RevokeToken), seen from the pool."""
    tokens = sign_in("alice")
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=local_stack["userPoolClientId"])
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=local_stack["userPoolClientId"],
                          AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
