"""Who is calling: claims API Gateway's Cognito authorizer verified (AWS), or claims of a token
the app verified itself (local stage, see jwt_verifier.py).

Either way the app checks the claims it relies on itself (`token_use` = id, `aud` = our app client), and the
team comes from the personnel directory, never from the token: `custom:team` is a user attribute, and a user
attribute is only as trustworthy as the app client's write settings."""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Optional, Protocol

from .domain.access import Principal
from .errors import NotFound, Unauthenticated
from .settings import Settings

log = logging.getLogger("chalicelib.auth")

TeamOf = Callable[[str], Optional[str]]  # username -> their team in the personnel directory (None: not in it)


class ClaimsVerifier(Protocol):
    def verify(self, token: str) -> dict[str, Any]: ...


class PersonLookup(Protocol):
    def get(self, principal: Principal, username: str) -> Any: ...


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


def check_id_token_claims(claims: Mapping[str, Any], client_id: str) -> None:
    """The claims the app relies on, whoever verified the signature: an ID token, issued to our app client.
    (An access token carries no `aud` but `client_id`, and no user attributes.)"""
    if claims.get("token_use") != "id":
        raise Unauthenticated("send the ID token, not the access token")
    audience = claims.get("aud")
    if audience != client_id and not (isinstance(audience, (list, tuple)) and client_id in audience):
        raise Unauthenticated("the token was issued to another app client")


def username_of(claims: Mapping[str, Any]) -> str:
    username = claims.get("cognito:username") or claims.get("username")
    if not username:
        raise Unauthenticated("the token names no user")
    return str(username)


def directory_team(people: PersonLookup) -> TeamOf:
    """`team_of` over the personnel service (its read-through cache included): everyone may read their own
    entry, so the lookup runs as the user it is about."""

    def team_of(username: str) -> Optional[str]:
        try:
            return str(people.get(Principal(username=username), username).team)
        except NotFound:
            return None

    return team_of


class Authenticator:
    """Turns a request's headers and API Gateway context into a Principal.

    `verifier`: checks a bearer token's signature (None: API Gateway's authorizer did, and its claims are in the
    request context); `client_id`: the app client whose ID tokens are accepted; `team_of`: the directory."""

    def __init__(self, verifier: Optional[ClaimsVerifier], client_id: Optional[str], team_of: TeamOf) -> None:
        if not client_id:
            raise RuntimeError("authentication needs the app client's id (COGNITO_CLIENT_ID)")
        self._verifier, self._client_id, self._team_of = verifier, client_id, team_of

    def authenticate(self, headers: Mapping[str, str], context: Mapping[str, Any]) -> Principal:
        if self._verifier is None:
            claims = (context.get("authorizer") or {}).get("claims")
            if not claims:
                raise Unauthenticated("the request carries no verified identity")
        else:
            claims = self._verifier.verify(bearer_token(headers.get("authorization")))
        check_id_token_claims(claims, self._client_id)
        return self.principal(claims)

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        username = username_of(claims)
        team = self._team_of(username)
        claimed = claims.get("custom:team") or None
        if claimed is not None and claimed != team:
            log.warning(
                "the token's team differs from the personnel directory's; the directory's applies",
                extra={"event": "team_claim_mismatch", "user": username, "token_team": claimed,
                       "directory_team": team, "in_directory": team is not None},
            )
        return Principal(username=username, groups=parse_groups(claims.get("cognito:groups")), team=team)


def authenticator_for(settings: Settings, people: PersonLookup) -> Authenticator:
    """On AWS API Gateway's Cognito authorizer verified the signature; elsewhere (local) the app verifies it
    against the user pool's keys. Teams come from the personnel directory (`people`: the personnel service,
    so through its read cache, as every other personnel read)."""
    team_of = directory_team(people)
    if settings.auth_mode == "apigateway":
        return Authenticator(None, settings.client_id, team_of)
    if not (settings.jwks_url and settings.issuer and settings.client_id):
        raise RuntimeError(
            "token verification needs COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID (or LOCAL_STACK_FILE); "
            "start the local system with `make run`"
        )
    from .jwt_verifier import JwksCache, TokenVerifier

    verifier = TokenVerifier(JwksCache(settings.jwks_url), settings.issuer, settings.client_id)
    return Authenticator(verifier, settings.client_id, team_of)
