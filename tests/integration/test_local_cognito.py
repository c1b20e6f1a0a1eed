"""The local user pool behaves as Cognito where the app's security relies on it (local/cognito.py patches
moto 5.2.5): a user cannot write `custom:team` with their own access token (the app client's WriteAttributes),
and RevokeToken ends a session (the console's sign-out). Fails loudly if a moto upgrade changes either."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from local.cognito import WRITE_ATTRIBUTES_ERROR, patch_cognito
from local.demo import DEMO_PASSWORD, DemoUser
from local.provision import APP_CLIENT_WRITE_ATTRIBUTES, client, provision

NAME = f"cms-cognito-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def pool(moto_endpoint: str) -> tuple[Any, str, str]:
    patch_cognito()
    user = DemoUser("cara", ("caseworker",), "claims")
    resources = provision(moto_endpoint, table_name=NAME, bucket_name=NAME, pool_name=NAME, users=[user])
    idp = client("cognito-idp", moto_endpoint, resources.region)
    return idp, resources.user_pool_id, resources.user_pool_client_id


def _sign_in(idp: Any, client_id: str) -> dict[str, str]:
    return dict(idp.initiate_auth(
        ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "cara", "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"])


def test_the_app_client_lets_users_write_no_team(pool: tuple[Any, str, str]) -> None:
    idp, pool_id, client_id = pool
    described = idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    assert described["WriteAttributes"] == APP_CLIENT_WRITE_ATTRIBUTES
    assert "custom:team" not in APP_CLIENT_WRITE_ATTRIBUTES
    tokens = _sign_in(idp, client_id)
    with pytest.raises(idp.exceptions.NotAuthorizedException, match=WRITE_ATTRIBUTES_ERROR):
        idp.update_user_attributes(
            AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "custom:team", "Value": "complaints"}],
        )
    attributes = idp.admin_get_user(UserPoolId=pool_id, Username="cara")["UserAttributes"]
    assert {"Name": "custom:team", "Value": "claims"} in attributes
    # What the client allows still works.
    email = [{"Name": "email", "Value": "cara@example.org"}]
    idp.update_user_attributes(AccessToken=tokens["AccessToken"], UserAttributes=email)


def test_revoking_the_refresh_token_ends_the_session(pool: tuple[Any, str, str]) -> None:
    idp, _, client_id = pool
    tokens, other = _sign_in(idp, client_id), _sign_in(idp, client_id)
    refreshed = idp.initiate_auth(
        ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
    )["AuthenticationResult"]
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.initiate_auth(
            ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )
    for access_token in (tokens["AccessToken"], refreshed["AccessToken"]):  # issued from the revoked token
        with pytest.raises(idp.exceptions.NotAuthorizedException):
            idp.get_user(AccessToken=access_token)
    assert idp.get_user(AccessToken=other["AccessToken"])["Username"] == "cara"  # another session lives on
    idp.revoke_token(Token=tokens["RefreshToken"], ClientId=client_id)  # signing out twice is no error


def test_a_refresh_token_is_revoked_only_by_its_own_client(pool: tuple[Any, str, str]) -> None:
    idp, pool_id, client_id = pool
    tokens = _sign_in(idp, client_id)
    other_client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName=f"{NAME}-other")["UserPoolClient"]
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.revoke_token(Token=tokens["RefreshToken"], ClientId=other_client["ClientId"])
    assert idp.get_user(AccessToken=tokens["AccessToken"])["Username"] == "cara"
