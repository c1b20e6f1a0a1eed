"""Token verification: every way a token can be wrong is a 401 (Unauthenticated)."""
from __future__ import annotations

import json
import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.auth import Authenticator, bearer_token, directory_team, parse_groups
from chalicelib.jwt_verifier import JwksCache, TokenVerifier
from chalicelib.errors import DependencyUnavailable, NotFound, Unauthenticated

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "client-1"


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


POOL_KEY = _key()
OTHER_KEY = _key()


def _jwks(*pairs):
    keys = []
    for kid, private in pairs:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}


class FakeFetch:
    def __init__(self, document=None, error=None):
        self.document, self.error, self.calls = document, error, 0

    def __call__(self, url):
        self.calls += 1
        if self.error:
            raise self.error
        return self.document


def _claims(**overrides):
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": CLIENT, "sub": "s-1", "token_use": "id", "iat": now, "exp": now + 3600,
        "cognito:username": "alice", "cognito:groups": ["caseworker"], "custom:team": "claims",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token(claims=None, key=POOL_KEY, kid="k1", alg="RS256"):
    return jwt.encode(claims or _claims(), key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def fetch():
    return FakeFetch(_jwks(("k1", POOL_KEY)))


@pytest.fixture
def verifier(fetch):
    return TokenVerifier(JwksCache("https://jwks", fetch=fetch), ISSUER, CLIENT)


DIRECTORY = {"alice": "claims", "bob": "complaints"}


def test_valid_id_token_gives_the_principal(verifier):
    auth = Authenticator(verifier, CLIENT, DIRECTORY.get)
    principal = auth.authenticate({"authorization": f"Bearer {_token()}"}, {})
    assert principal.username == "alice"
    assert principal.groups == frozenset({"caseworker"})
    assert principal.team == "claims"


@pytest.mark.parametrize(
    "token, reason",
    [
        ("not-a-jwt", "malformed"),
        ("a.b.c", "malformed"),
        (_token(_claims(exp=int(time.time()) - 120)), "expired"),
        (_token(_claims(iss="https://cognito-idp.us-east-1.amazonaws.com/other")), "another user pool"),
        (_token(_claims(aud="other-client")), "another app client"),
        (_token(key=OTHER_KEY), "signature"),
        (_token(kid="unknown"), "unknown key"),
        (_token(_claims(token_use="access")), "ID token"),
        (_token(_claims(aud=None, client_id=CLIENT, token_use="access")), "invalid"),
        (_token(_claims(sub=None)), "invalid"),
    ],
    ids=["garbage", "three-parts", "expired", "issuer", "audience", "forged", "kid", "access-use", "access-token",
         "no-sub"],
)
def test_bad_tokens_are_refused(verifier, token, reason):
    with pytest.raises(Unauthenticated, match=reason):
        verifier.verify(token)


def test_alg_none_is_refused(verifier):
    token = jwt.encode(_claims(), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated, match="RS256"):
        verifier.verify(token)


def test_hs256_signed_with_the_public_key_is_refused(verifier):
    header = json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode()
    payload = json.dumps(_claims()).encode()
    b64 = lambda raw: jwt.utils.base64url_encode(raw).decode()  # noqa: E731
    token = f"{b64(header)}.{b64(payload)}.{b64(b'sig')}"
    with pytest.raises(Unauthenticated, match="RS256"):
        verifier.verify(token)


def test_unknown_kid_refreshes_the_keys_once_then_waits():
    fetch = FakeFetch(_jwks(("k1", POOL_KEY)))
    clock = [0.0]
    jwks = JwksCache("u", fetch=fetch, min_refresh_seconds=30, clock=lambda: clock[0])
    verifier = TokenVerifier(jwks, ISSUER, CLIENT)
    verifier.verify(_token())
    assert fetch.calls == 1
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            verifier.verify(_token(kid="k2", key=OTHER_KEY))
    assert fetch.calls == 1  # forged kids do not hammer the JWKS endpoint
    fetch.document = _jwks(("k1", POOL_KEY), ("k2", OTHER_KEY))  # the pool rotated its keys
    clock[0] = 31
    assert verifier.verify(_token(kid="k2", key=OTHER_KEY))["cognito:username"] == "alice"
    assert fetch.calls == 2


def test_unreachable_jwks_is_a_503_not_a_401():
    verifier = TokenVerifier(JwksCache("u", fetch=FakeFetch(error=OSError("refused"))), ISSUER, CLIENT)
    with pytest.raises(DependencyUnavailable):
        verifier.verify(_token())


@pytest.mark.parametrize(
    "header, token",
    [("Bearer abc", "abc"), ("bearer abc", "abc"), ("abc", "abc"), ("  Bearer   abc  ", "abc")],
)
def test_bearer_token_accepts_both_forms(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "   ", "Bearer ", "Bearer    "])
def test_missing_token_is_refused(header):
    with pytest.raises(Unauthenticated):
        bearer_token(header)


@pytest.mark.parametrize(
    "value, groups",
    [
        (["a", "b"], {"a", "b"}), ("a,b", {"a", "b"}), ("[a b]", {"a", "b"}), ("[a, b]", {"a", "b"}),
        ("a", {"a"}), (None, set()), ("", set()),
    ],
)
def test_groups_in_every_shape_api_gateway_sends(value, groups):
    assert parse_groups(value) == frozenset(groups)


def _gateway_claims(**overrides):
    claims = {"cognito:username": "bob", "cognito:groups": "caseworker", "custom:team": "complaints",
              "token_use": "id", "aud": CLIENT, **overrides}
    return {"authorizer": {"claims": {k: v for k, v in claims.items() if v is not None}}}


def test_apigateway_mode_reads_the_authorizer_claims():
    auth = Authenticator(None, CLIENT, DIRECTORY.get)
    principal = auth.authenticate({}, _gateway_claims())
    assert (principal.username, principal.groups, principal.team) == ("bob", frozenset({"caseworker"}), "complaints")
    with pytest.raises(Unauthenticated):
        auth.authenticate({}, {})


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"token_use": "access"}, "ID token"),
        ({"token_use": None}, "ID token"),
        ({"aud": "other-client"}, "another app client"),
        ({"aud": None, "client_id": CLIENT}, "another app client"),  # an access token's shape
    ],
    ids=["access-use", "no-use", "other-client", "no-aud"],
)
def test_apigateway_mode_checks_the_claims_the_app_relies_on(overrides, reason):
    """The authorizer checks signature and expiry; which token and which client are the app's to check."""
    with pytest.raises(Unauthenticated, match=reason):
        Authenticator(None, CLIENT, DIRECTORY.get).authenticate({}, _gateway_claims(**overrides))


def test_an_authenticator_without_the_app_client_id_is_a_configuration_error():
    with pytest.raises(RuntimeError, match="COGNITO_CLIENT_ID"):
        Authenticator(None, None, DIRECTORY.get)


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def mismatches():
    """The team mismatch lines the auth logger writes (a handler on it: once the app is imported the
    `chalicelib` loggers no longer propagate to the root logger pytest captures)."""
    auth_logger, lines = logging.getLogger("chalicelib.auth"), Lines()
    auth_logger.addHandler(lines)
    yield lambda: [r for r in lines.records if getattr(r, "event", None) == "team_claim_mismatch"]
    auth_logger.removeHandler(lines)


def test_the_team_comes_from_the_directory_and_a_differing_claim_is_logged(verifier, mismatches):
    """`custom:team` is a user attribute: the token's word is never taken for it."""
    token = _token(_claims(**{"custom:team": "complaints"}))  # alice moved herself into another team
    principal = Authenticator(verifier, CLIENT, DIRECTORY.get).authenticate({"authorization": token}, {})
    assert principal.team == "claims"
    [line] = mismatches()
    assert (line.user, line.token_team, line.directory_team) == ("alice", "complaints", "claims")


def test_someone_not_in_the_directory_has_no_team_whatever_the_token_says(mismatches):
    principal = Authenticator(None, CLIENT, DIRECTORY.get).authenticate(
        {}, _gateway_claims(**{"cognito:username": "mallory", "custom:team": "claims"})
    )
    assert principal.team is None
    assert [line.directory_team for line in mismatches()] == [None]


def test_a_matching_or_absent_claim_logs_nothing(mismatches):
    auth = Authenticator(None, CLIENT, DIRECTORY.get)
    auth.authenticate({}, _gateway_claims())
    auth.authenticate({}, _gateway_claims(**{"custom:team": None}))
    assert mismatches() == []


class FakePeople:
    """The personnel service's read as the authenticator uses it: who asked, and about whom."""

    def __init__(self, teams):
        self.teams, self.asked = teams, []

    def get(self, principal, username):
        self.asked.append((principal.username, principal.groups, username))
        if username not in self.teams:
            raise NotFound(f"no person {username} in the directory")
        return type("Person", (), {"team": self.teams[username]})()


def test_directory_team_reads_a_persons_own_entry_with_no_role():
    people = FakePeople({"alice": "claims"})
    team_of = directory_team(people)
    assert (team_of("alice"), team_of("nobody")) == ("claims", None)
    assert people.asked == [("alice", frozenset(), "alice"), ("nobody", frozenset(), "nobody")]
