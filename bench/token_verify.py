"""Time to verify one Cognito-style ID token with chalicelib.auth.TokenVerifier (local stage).

Run from the repo root:  .venv/bin/python bench/token_verify.py [verifications]

A locally generated RSA-2048 key signs RS256 tokens; the JWKS is served from memory (`fetch=` of
JwksCache), so no network is involved. Prints figures only (no assertions on timing).
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from harness.stats import percentile, timed_ms  # harness first: it makes chalicelib importable

from chalicelib.auth import Authenticator
from chalicelib.jwt_verifier import JwksCache, TokenVerifier

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench"
CLIENT_ID = "bench-client"


def main() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}
    fetches = []

    def fetch(url: str) -> dict[str, Any]:
        fetches.append(url)
        return jwks

    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": CLIENT_ID, "sub": "s-1", "token_use": "id", "iat": now, "exp": now + 3600,
        "cognito:username": "alice", "cognito:groups": ["caseworker"], "custom:team": "claims",
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    verifier = TokenVerifier(JwksCache("memory://jwks", fetch=fetch), ISSUER, CLIENT_ID)
    authenticator = Authenticator(verifier, CLIENT_ID, lambda username: "claims")  # the directory's answer
    headers = {"authorization": f"Bearer {token}"}

    t = time.perf_counter()
    verifier.verify(token)  # first call fetches and parses the JWKS
    first_ms = (time.perf_counter() - t) * 1000

    verify_ms = timed_ms(lambda _: verifier.verify(token), RUNS, warmup=100)
    auth_ms = timed_ms(lambda _: authenticator.authenticate(headers, {}), RUNS, warmup=100)
    decode_ms = timed_ms(  # PyJWT alone, the floor under TokenVerifier
        lambda _: jwt.decode(token, key.public_key(), algorithms=["RS256"], audience=CLIENT_ID, issuer=ISSUER),
        RUNS, warmup=100,
    )

    print(f"RSA-2048 / RS256, in-memory JWKS, {RUNS} timed calls each after 100 warm-up; PyJWT {jwt.__version__}")
    print(f"first verification (fetches + parses the JWKS): {first_ms:.2f} ms; JWKS fetches in total: {len(fetches)}")
    print("\n| call | p50 (ms) | p90 (ms) | p99 (ms) | mean (ms) |\n|---|---|---|---|---|")
    for label, ms in (
        ("TokenVerifier.verify", verify_ms),
        ("Authenticator.authenticate (Bearer header -> Principal)", auth_ms),
        ("jwt.decode alone (floor)", decode_ms),
    ):
        cells = [percentile(ms, q) for q in (0.5, 0.9, 0.99)] + [statistics.mean(ms)]
        print(f"| {label} | " + " | ".join(f"{v:.3f}" for v in cells) + " |")


if __name__ == "__main__":
    main()
