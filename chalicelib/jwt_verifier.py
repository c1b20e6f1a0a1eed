"""Cognito ID token verification for stages where no API Gateway authorizer runs (local).

We accept ID tokens, as API Gateway's Cognito authorizer does without OAuth scopes; they carry the user's
groups. An access token is refused (`token_use` must be "id"), and so is an ID token issued to another app
client (`aud`), by the same check the app applies to API Gateway's claims on AWS (auth.check_id_token_claims).
"""
from __future__ import annotations

import json
import threading
import time
import urllib.request
from typing import Any, Callable, Optional

import jwt

from .auth import check_id_token_claims
from .errors import DependencyUnavailable, Unauthenticated

Fetch = Callable[[str], dict[str, Any]]


def _fetch_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=3) as response:  # the URL comes from settings
        return json.loads(response.read())


class JwksCache:
    """The user pool's signing keys, cached; an unknown `kid` triggers a refresh (key rotation),
    at most once per `min_refresh_seconds` so forged kids cannot hammer the JWKS endpoint."""

    def __init__(
        self, url: str, fetch: Fetch = _fetch_json, min_refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url, self._fetch, self._min_refresh, self._clock = url, fetch, min_refresh_seconds, clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: Optional[float] = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys and self._may_refresh():
                self._refresh()
            try:
                return self._keys[kid]
            except KeyError:
                raise Unauthenticated("the token was signed by an unknown key") from None

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refresh

    def _refresh(self) -> None:
        try:
            document = self._fetch(self._url)
        except (OSError, ValueError) as exc:
            raise DependencyUnavailable("the identity provider's keys are unavailable; retry shortly") from exc
        self._fetched_at = self._clock()
        keys = {}
        for entry in document.get("keys", []):
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry)
            except (KeyError, jwt.PyJWTError):
                continue  # a key we cannot use cannot have signed a token we accept
        self._keys = keys


class TokenVerifier:
    def __init__(self, keys: JwksCache, issuer: str, client_id: str, leeway_seconds: int = 30) -> None:
        self._keys, self._issuer, self._client_id, self._leeway = keys, issuer, client_id, leeway_seconds

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the token is malformed") from None
        if header.get("alg") != "RS256":
            raise Unauthenticated("the token must be signed with RS256")
        key = self._keys.key(str(header.get("kid")))
        try:
            claims = jwt.decode(
                token, key.key, algorithms=["RS256"], audience=self._client_id, issuer=self._issuer,
                leeway=self._leeway, options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token was issued to another app client") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token was issued by another user pool") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature is invalid") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"the token is invalid: {exc}") from None
        check_id_token_claims(claims, self._client_id)
        return claims
