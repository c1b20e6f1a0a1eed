"""Two things Cognito does that moto's user pools (pinned moto 5.2.5) do not, and the local pool relies on:

- `RevokeToken`: the console revokes its refresh token when the user signs out. moto has no such action; here
  it forgets the refresh token (a later REFRESH_TOKEN_AUTH is NotAuthorized) and the access and ID tokens
  issued from it (GetUser, UpdateUserAttributes with them are NotAuthorized), as Cognito does.
- An app client's `WriteAttributes`: Cognito refuses `UpdateUserAttributes` (a user's own call, with their
  access token) for an attribute the client may not write; moto writes any attribute. The team a user works
  in must not be theirs to change.

Applied to moto's response class in this process (the embedded moto server runs here); `check_moto` in
lambdas.py pins the version these patches were written against."""
from __future__ import annotations

import base64
import json
from typing import Any

WRITE_ATTRIBUTES_ERROR = "A client attempted to write unauthorized attribute"


def patch_cognito() -> None:
    from moto.cognitoidp.responses import CognitoIdpResponse

    if getattr(CognitoIdpResponse, "_cms_patched", False):
        return
    original_update = CognitoIdpResponse.update_user_attributes

    def update_user_attributes(self: Any) -> Any:
        _check_write_attributes(self._get_param("AccessToken"), self._get_param("UserAttributes") or [])
        return original_update(self)

    CognitoIdpResponse.update_user_attributes = update_user_attributes
    CognitoIdpResponse.revoke_token = _revoke_token
    CognitoIdpResponse._cms_patched = True


def _pools() -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    for backends in cognitoidp_backends.values():
        for backend in backends.values():
            yield from backend.user_pools.values()


def _check_write_attributes(access_token: str, attributes: list[dict[str, str]]) -> None:
    from moto.cognitoidp.exceptions import NotAuthorizedError

    for pool in _pools():
        if access_token in pool.access_tokens:
            client_id, _ = pool.access_tokens[access_token]
            client = pool.clients.get(client_id)
            writable = client.extended_config.get("WriteAttributes") if client is not None else None
            if writable is not None and any(a["Name"] not in writable for a in attributes):
                raise NotAuthorizedError(WRITE_ATTRIBUTES_ERROR)
            return  # moto's own handler answers unknown tokens


def _revoke_token(self: Any) -> Any:
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.core.responses import EmptyResult

    token, client_id = self._get_param("Token"), self._get_param("ClientId")
    for pool in _pools():
        issued = pool.refresh_tokens.get(token)
        if issued is None:
            continue
        issued_to, _, origin_jti = issued
        if issued_to != client_id:
            raise NotAuthorizedError("the refresh token was not issued to this client")
        pool.refresh_tokens[token] = None  # what moto's own sign-out does: refreshing then fails
        for tokens in (pool.access_tokens, pool.id_tokens):
            for issued_token in [t for t in tokens if _claims(t).get("origin_jti") == origin_jti]:
                tokens.pop(issued_token)
    return EmptyResult()  # an unknown or already revoked token: nothing to do, as on Cognito


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
