"""Who is calling: claims API Gateway's Cognito authorizer verified (AWS), or claims of a token
the app verified itself (local stage, see jwt_verifier.py)."""
from __future__ import annotations

from typing import Any, Mapping, Optional, Protocol

from .domain.access import Principal
from .errors import Unauthenticated


class ClaimsVerifier(Protocol):
    def verify(self, token: str) -> dict[str, Any]: ...

def bearer_token(authorization: Optional[str]) -> str:
    parts = (authorization or "").split()
    if parts and parts[0].lower() == "bearer":
        parts = parts[1:]
    if len(parts) != 1:
        raise Unauthenticated("send `Authorization: Bearer <ID token>`")
    return parts[0]


def parse_groups(value: Any) -> frozenset[str]:
    """`cognito:groups` is a list in a JWT but arrives as "a,b" or "[a b]" from API Gateway."""
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple)):
        return frozenset(str(v) for v in value)
    text = str(value).strip().strip("[]")
    return frozenset(part for part in text.replace(",", " ").split() if part)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    username = claims.get("cognito:username") or claims.get("username")
    if not username:
        raise Unauthenticated("the token names no user")
    return Principal(
        username=str(username), groups=parse_groups(claims.get("cognito:groups")),
        team=claims.get("custom:team") or None,
    )


class Authenticator:
    """Turns a request's headers and API Gateway context into a Principal."""

    def __init__(self, verifier: Optional[ClaimsVerifier]) -> None:
        self._verifier = verifier  # None: trust the claims API Gateway's authorizer verified

    def authenticate(self, headers: Mapping[str, str], context: Mapping[str, Any]) -> Principal:
        if self._verifier is None:
            claims = (context.get("authorizer") or {}).get("claims")
            if not claims:
                raise Unauthenticated("the request carries no verified identity")
            return principal_from_claims(claims)
        return principal_from_claims(self._verifier.verify(bearer_token(headers.get("authorization"))))
