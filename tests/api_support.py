"""What the in-process API tests share: a user pool stand-in that signs ID tokens with a test key and serves
the matching JWKS, so the app's real token verification runs, and a container built around it."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Optional

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib import bootstrap
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.settings import Settings

JWKS_URL = "https://jwks.test"
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # one per test run: generating is slow


class TestUserPool:
    """`users`: username -> (Cognito groups, team or None). The teams stand in for the personnel directory's
    (the app's source of a principal's team) and are also put in the tokens as `custom:team`, as the local pool
    does; tests of the directory lookup itself build their authenticator over the container's directory."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, users: dict[str, tuple[list[str], Optional[str]]], *, pool: str = "us-east-1_test",
                 client_id: str = "test-client") -> None:
        self.users, self.client_id = users, client_id
        self.issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{pool}"

    def token(self, username: str, **overrides: Any) -> str:
        groups, team = self.users[username]
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "sub": str(uuid.uuid4()), "token_use": "id", "iat": now,
            "exp": now + 600, "cognito:username": username, "cognito:groups": groups,
            **({"custom:team": team} if team else {}), **overrides,
        }
        return jwt.encode(claims, _KEY, algorithm="RS256", headers={"kid": "test"})

    def team_of(self, username: str) -> Optional[str]:
        return self.users[username][1] if username in self.users else None

    def jwks(self, url: str) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_KEY.public_key()))
        return {"keys": [{**jwk, "kid": "test", "alg": "RS256"}]}

    def container(self, *, repository: Any = "memory", env: Optional[dict[str, str]] = None, **build: Any) -> Any:
        """The app's container verifying this pool's tokens: on a new in-memory repository, on the one given,
        or (None) on the table the settings name; `build` goes to bootstrap.build (e.g. an engine)."""
        from chalicelib.auth import Authenticator
        from chalicelib.jwt_verifier import JwksCache, TokenVerifier

        settings = Settings.from_env({
            "AUTH_MODE": "verify", "COGNITO_ISSUER": self.issuer, "COGNITO_CLIENT_ID": self.client_id,
            "COGNITO_JWKS_URL": JWKS_URL, "CASE_NUMBER_BLOCK": "1", **(env or {}),
        })
        if repository == "memory":
            repository = InMemoryCaseRepository()
        built = bootstrap.build(settings, repository=repository, **build)
        built.authenticator = Authenticator(
            TokenVerifier(JwksCache(JWKS_URL, fetch=self.jwks), self.issuer, self.client_id), self.client_id,
            self.team_of,
        )
        return built

    def call(self, client: Any, method: str, path: str, user: Optional[str] = None, body: Any = None,
             raw: Optional[str] = None, headers: Optional[dict[str, str]] = None) -> tuple[int, Any, Any]:
        """(status, JSON body, headers) of one request through chalice's test client, signed in as `user`."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if user:
            all_headers["Authorization"] = f"Bearer {self.token(user)}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(client.http, method.lower())(path, headers=all_headers, body=payload)
        return response.status_code, (json.loads(response.body) if response.body else None), response.headers


# The people of the API tests: username -> (Cognito groups, team).
STAFF: dict[str, tuple[list[str], Optional[str]]] = {
    "alice": (["caseworker"], "claims"),
    "amy": (["caseworker"], "claims"),
    "bob": (["caseworker"], "complaints"),
    "sam": (["supervisor"], "claims"),
    "sid": (["supervisor"], "complaints"),
    "ava": (["approver"], "claims"),
    "aud": (["auditor"], "audit"),
    "ada": (["admin"], "ops"),
}
POOL = TestUserPool(STAFF)


def expect(result: tuple[Any, ...], status: int, code: Optional[str] = None, field: Optional[str] = None) -> Any:
    """The body of a response that must have `status` (and, for an error, its code and a detail naming `field`)."""
    got, data = result[0], result[1]
    assert got == status, data
    if code is not None:
        assert data["error"]["code"] == code
    if field is not None:
        assert field in [d["field"] for d in data["error"]["details"]], data
    return data
