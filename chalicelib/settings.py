"""Runtime settings, read from the environment when first needed (never at import).

In the local stage `chalice local` may run on its own next to a running local system:
values it lacks (endpoint, user pool, app client) are then read from the stack file the
local system writes (LOCAL_STACK_FILE).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

_FROM_STACK_FILE = {
    "AWS_ENDPOINT_URL": "awsEndpoint",
    "AWS_REGION": "region",
    "COGNITO_USER_POOL_ID": "userPoolId",
    "COGNITO_CLIENT_ID": "userPoolClientId",
    "BUCKET_NAME": "bucketName",
    "REDIS_URL": "redisUrl",
    "CACHE_KEY_PREFIX": "cacheKeyPrefix",
    "DATA_CATALOG_DIR": "dataCatalogDir",
    "DATA_PRODUCT_BUCKET": "dataProductBucket",
}


DAY = 24 * 3600
DEFAULT_WAIT_SECONDS = {"DOCUMENTS": 7 * DAY, "APPROVAL": 3 * DAY, "PAYMENT": 5 * DAY, "TASKS": 14 * DAY}


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    table_name: str
    auth_mode: str  # "verify": check JWTs here (local); "apigateway": trust the Cognito authorizer's claims
    endpoint_url: Optional[str] = None
    user_pool_id: Optional[str] = None
    client_id: Optional[str] = None
    jwks_url: Optional[str] = None
    issuer: Optional[str] = None
    case_number_block: int = 10
    log_level: str = "INFO"
    case_workflow_arn: Optional[str] = None
    document_workflow_arn: Optional[str] = None
    bucket_name: str = "cms-local-documents"  # the versioned documents bucket
    # How long each wait stage waits before it escalates (and waits again), in seconds.
    wait_seconds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WAIT_SECONDS))
    # The read cache: Redis when REDIS_URL is set (redis://, or rediss:// for TLS), else in-process locally.
    redis_url: Optional[str] = None
    cache_key_prefix: Optional[str] = None  # default: "<table name>:" (entries mirror one table)
    redis_connect_timeout: float = 0.1  # seconds; short, so a dead Redis costs little before the breaker opens
    redis_socket_timeout: float = 0.1
    redis_breaker_failures: int = 3  # failures in a row that open the circuit
    redis_breaker_reset_seconds: float = 10.0  # how long it stays open before one trial call
    case_cache_ttl: int = 300  # seconds; writes invalidate sooner, the TTL bounds what a lost invalidation costs
    personnel_cache_ttl: int = 60
    cache_delete_hold: float = 5.0  # seconds a deleted key refuses fills from reads that raced the write
    customer_cache_ttl: int = 60  # a data product's answer is reused this long (its age is still shown)
    # Per-user request budgets (token buckets in the same Redis; off without one): every request, and downloads
    # on their own, tighter budget. Deployed stages set theirs in .chalice/config.json; these defaults are for
    # the local system and tests, which must never meet them. 0 per minute turns a budget off.
    request_budget_per_minute: int = 60_000
    request_budget_burst: int = 10_000
    download_budget_per_minute: int = 6_000
    download_budget_burst: int = 1_000
    # The data mesh: a catalog of descriptor files (local) or a Glue database (AWS), and one lookup's budget.
    data_catalog_dir: Optional[str] = None
    data_catalog_database: Optional[str] = None
    mesh_timeout_seconds: float = 1.0
    # The case data product: its bucket and the key that pseudonymises customer ids (or the secret holding it).
    data_product_bucket: str = "cms-local-data-products"
    pseudonym_key: Optional[str] = field(default=None, repr=False)
    pseudonym_key_secret_arn: Optional[str] = None
    # Notifications for people: the verified SES identity their e-mails come from; none: no e-mail is sent.
    notification_sender: Optional[str] = None
    # Integration events and webhooks: the stage's EventBridge bus (default cms-<stage>), the delivery queue the
    # bus's rule feeds (retries go back on it) and the dead-letter queue for deliveries that failed every attempt.
    event_bus_name: str = "cms-local"
    webhook_queue_url: Optional[str] = None
    webhook_dead_letter_url: Optional[str] = None
    webhook_allow_loopback_http: bool = False  # webhooks may be http://127.0.0.1/... (the local stage); else https
    webhook_timeout_seconds: float = 3.0  # a receiver's time to answer one attempt
    webhook_max_attempts: int = 6
    webhook_retry_base_seconds: int = 30  # the delay after the first failed attempt; doubles with each one

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        env = dict(environ)
        stack_file = env.get("LOCAL_STACK_FILE")
        if stack_file and Path(stack_file).is_file():
            stack = json.loads(Path(stack_file).read_text())
            for var, key in _FROM_STACK_FILE.items():
                if not env.get(var) and stack.get(key):
                    env[var] = stack[key]
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        endpoint = env.get("AWS_ENDPOINT_URL") or None
        pool = env.get("COGNITO_USER_POOL_ID") or None
        issuer = env.get("COGNITO_ISSUER") or None
        jwks = env.get("COGNITO_JWKS_URL") or None
        if pool:  # without a pool, only what is set explicitly
            issuer = issuer or f"https://cognito-idp.{region}.amazonaws.com/{pool}"
            jwks = jwks or (f"{endpoint.rstrip('/')}/{pool}" if endpoint else issuer) + "/.well-known/jwks.json"
        stage = env.get("STAGE", "local")
        return cls(
            stage=stage,
            region=region,
            table_name=env.get("TABLE_NAME", "cms-local"),
            auth_mode=env.get("AUTH_MODE", "verify"),
            endpoint_url=endpoint,
            user_pool_id=pool,
            client_id=env.get("COGNITO_CLIENT_ID") or None,
            jwks_url=jwks or None,
            issuer=issuer or None,
            case_number_block=int(env.get("CASE_NUMBER_BLOCK", "10")),
            log_level=env.get("LOG_LEVEL", "INFO"),
            case_workflow_arn=env.get("CASE_WORKFLOW_ARN") or None,
            document_workflow_arn=env.get("DOCUMENT_WORKFLOW_ARN") or None,
            bucket_name=env.get("BUCKET_NAME") or "cms-local-documents",
            redis_url=_redis_url(env.get("REDIS_URL")),
            cache_key_prefix=env.get("CACHE_KEY_PREFIX") or None,
            redis_connect_timeout=int(env.get("REDIS_CONNECT_TIMEOUT_MS", "100")) / 1000,
            redis_socket_timeout=int(env.get("REDIS_SOCKET_TIMEOUT_MS", "100")) / 1000,
            redis_breaker_failures=int(env.get("REDIS_BREAKER_FAILURES", "3")),
            redis_breaker_reset_seconds=float(env.get("REDIS_BREAKER_RESET_SECONDS", "10")),
            case_cache_ttl=int(env.get("CASE_CACHE_TTL_SECONDS", "300")),
            personnel_cache_ttl=int(env.get("PERSONNEL_CACHE_TTL_SECONDS", "60")),
            cache_delete_hold=float(env.get("CACHE_DELETE_HOLD_SECONDS", "5")),
            customer_cache_ttl=int(env.get("CUSTOMER_CACHE_TTL_SECONDS", "60")),
            request_budget_per_minute=int(env.get("REQUEST_BUDGET_PER_MINUTE", "60000")),
            request_budget_burst=int(env.get("REQUEST_BUDGET_BURST", "10000")),
            download_budget_per_minute=int(env.get("DOWNLOAD_BUDGET_PER_MINUTE", "6000")),
            download_budget_burst=int(env.get("DOWNLOAD_BUDGET_BURST", "1000")),
            data_catalog_dir=env.get("DATA_CATALOG_DIR") or None,
            data_catalog_database=env.get("DATA_CATALOG_DATABASE") or None,
            mesh_timeout_seconds=float(env.get("MESH_TIMEOUT_SECONDS", "1.0")),
            data_product_bucket=env.get("DATA_PRODUCT_BUCKET") or "cms-local-data-products",
            pseudonym_key=env.get("PSEUDONYM_KEY") or None,
            pseudonym_key_secret_arn=env.get("PSEUDONYM_KEY_SECRET_ARN") or None,
            notification_sender=env.get("NOTIFICATION_SENDER") or None,
            event_bus_name=env.get("EVENT_BUS_NAME") or f"cms-{stage}",
            webhook_queue_url=env.get("WEBHOOK_QUEUE_URL") or None,
            webhook_dead_letter_url=env.get("WEBHOOK_DLQ_URL") or None,
            webhook_allow_loopback_http=env.get("WEBHOOK_ALLOW_HTTP_LOOPBACK", "false").lower() == "true",
            webhook_timeout_seconds=float(env.get("WEBHOOK_TIMEOUT_SECONDS", "3")),
            webhook_max_attempts=int(env.get("WEBHOOK_MAX_ATTEMPTS", "6")),
            webhook_retry_base_seconds=int(env.get("WEBHOOK_RETRY_BASE_SECONDS", "30")),
            wait_seconds={
                stage: int(env.get(f"WAIT_SECONDS_{stage}", default)) for stage, default in DEFAULT_WAIT_SECONDS.items()
            },
        )


def _redis_url(value: Optional[str]) -> Optional[str]:
    """A configuration error, not an outage: a malformed REDIS_URL fails loudly instead of caching nothing."""
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {value.split(':')[0]!r}")
    return value
