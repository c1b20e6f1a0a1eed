"""Time to verify one Cognito-style ID token with chalicelib.auth.TokenVerifier (local stage).

Run from the repo root:  .venv/bin/python bench/token_verify.py [verifications]

A locally generated RSA-2048 key signs RS256 tokens; the JWKS is served from memory (`fetch=` of
JwksCache), so no network is involved. Prints figures only (no assertions on timing).
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

import jwt  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from chalicelib.auth import Authenticator  # noqa: E402
from chalicelib.jwt_verifier import JwksCache, TokenVerifier  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench"
CLIENT_ID = "bench-client"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}
    fetches = []

    def fetch(url: str) -> dict:
        fetches.append(url)
        return jwks

    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": CLIENT_ID, "sub": "s-1", "token_use": "id", "iat": now, "exp": now + 3600,
        "cognito:username": "alice", "cognito:groups": ["caseworker"], "custom:team": "claims",
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    verifier = TokenVerifier(JwksCache("memory://jwks", fetch=fetch), ISSUER, CLIENT_ID)
    authenticator = Authenticator(verifier)
    headers = {"authorization": f"Bearer {token}"}

    t = time.perf_counter()
    verifier.verify(token)  # first call fetches and parses the JWKS
    first_ms = (time.perf_counter() - t) * 1000

    def measure(fn) -> list[float]:  # type: ignore[no-untyped-def]
        for _ in range(100):
            fn()
        out = []
        for _ in range(RUNS):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
        return out

    verify_ms = measure(lambda: verifier.verify(token))
    auth_ms = measure(lambda: authenticator.authenticate(headers, {}))
    decode_ms = measure(  # PyJWT alone, the floor under TokenVerifier
        lambda: jwt.decode(token, key.public_key(), algorithms=["RS256"], audience=CLIENT_ID, issuer=ISSUER)
    )

    print(f"RSA-2048 / RS256, in-memory JWKS, {RUNS} timed calls each after 100 warm-up; PyJWT {jwt.__version__}")
    print(f"first verification (fetches + parses the JWKS): {first_ms:.2f} ms; JWKS fetches in total: {len(fetches)}")
    print("\n| call | p50 (ms) | p90 (ms) | p99 (ms) | mean (ms) |\n|---|---|---|---|---|")
    for label, ms in (
        ("TokenVerifier.verify", verify_ms),
        ("Authenticator.authenticate (Bearer header -> Principal)", auth_ms),
        ("jwt.decode alone (floor)", decode_ms),
    ):
        print(f"| {label} | {pct(ms, 0.5):.3f} | {pct(ms, 0.9):.3f} | {pct(ms, 0.99):.3f} | {statistics.mean(ms):.3f} |")


if __name__ == "__main__":
    main()
