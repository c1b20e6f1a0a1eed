"""The app in this process against moto's DynamoDB, as bench/api_requests.py and bench/cache.py drive it.

AUTH_MODE=apigateway is set before `app` is imported (`load_app`), so the routes carry the Cognito authorizer:
chalice's local gateway copies the claims of the unsigned JWT in `Authorization` (`user_headers`) into
requestContext.authorizer.claims, where the real Authenticator reads them on AWS. Every botocore client made in
the process after `DynamoCalls.install()`, pynamodb's included, reports its DynamoDB requests.
"""
from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Iterator

import botocore.session
from chalice.test import Client
from moto.server import ThreadedMotoServer

from chalicelib import bootstrap
from chalicelib.adapters.dynamo.models import create_table, table_models
from chalicelib.domain.access import Principal
from chalicelib.settings import Settings
from harness import ROOT

REGION = "us-east-1"
CLIENT_ID = "bench-client"  # the app client whose ID tokens the app accepts (their `aud`)
BENCH_TEAMS = {"alice": "claims", "bob": "complaints"}  # the users the bench scripts act as


def configure_environment(moto_port: int, table: str, **extra: str) -> None:
    """What the app and botocore read from the environment: set before `load_app`, and before any client."""
    os.environ.update(
        MOTO_PORT=str(moto_port), AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing", AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_XRAY_SDK_ENABLED="false",
        AUTH_MODE="apigateway", POWERTOOLS_LOG_LEVEL="WARNING", LOG_LEVEL="WARNING", TABLE_NAME=table,
        POWERTOOLS_METRICS_DISABLED="true",  # no EMF line per request on stdout, as in the local system
        COGNITO_CLIENT_ID=CLIENT_ID,
    )
    os.environ.update(extra)
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "LOCAL_STACK_FILE", "COGNITO_USER_POOL_ID",
                "REDIS_URL", "CACHE_KEY_PREFIX"):
        if var not in extra:
            os.environ.pop(var, None)
    os.chdir(ROOT)  # as `make run`: chalice and the app find .chalice/ and stepfunctions/ from here


def load_app() -> ModuleType:
    app_module = importlib.import_module("app")
    if app_module.authorizer is None:
        raise SystemExit("app has no Cognito authorizer: AUTH_MODE=apigateway was not seen at import")
    warnings.filterwarnings("ignore", message=".*CognitoUserPoolAuthorizer is not a supported in local mode.*")
    return app_module


def start_moto(port: int) -> ThreadedMotoServer:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per moto request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def create_case_table(table: str, endpoint: str) -> None:
    # Uncached model classes, so the container's own (cached) ones start without botocore clients, as in a
    # new Lambda container whose table exists already.
    create_table(table_models.__wrapped__(table, REGION, endpoint))


def build_container(table: str, endpoint: str, repository: Any = None, **env: str) -> Any:
    """The container the app builds for these settings (AUTH_MODE=apigateway, the table on moto)."""
    settings = Settings.from_env({
        "AUTH_MODE": "apigateway", "TABLE_NAME": table, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION,
        "LOG_LEVEL": "WARNING", "COGNITO_CLIENT_ID": CLIENT_ID, **env,
    })
    container = bootstrap.build(settings, repository=repository)
    # The app takes a user's team from the personnel directory, not from the token: file the bench's users there.
    admin = Principal("bench-admin", frozenset({"admin"}))
    for username, team in BENCH_TEAMS.items():
        container.personnel.put(admin, username, {"team": team, "capacity": 50})
    return container


def test_client(app_module: ModuleType) -> Client:
    return Client(app_module.app, stage_name="dev", project_dir=str(ROOT))


@contextmanager
def serving(app_module: ModuleType, container: Any) -> Iterator[Any]:
    """chalice's test client on the app, with `container` in place of the one the app would build."""
    with bootstrap.override(container), test_client(app_module) as client:
        yield client


def unsigned_token(username: str, groups: str, team: str) -> str:
    """chalice's local Cognito authorizer only decodes the payload, as API Gateway hands over claims it has
    verified; `cognito:groups` arrives as a string, as from API Gateway."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    claims = {"sub": username, "cognito:username": username, "cognito:groups": groups, "custom:team": team,
              "token_use": "id", "aud": CLIENT_ID}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"


def user_headers(username: str, groups: str, team: str) -> dict[str, str]:
    return {"authorization": unsigned_token(username, groups, team), "content-type": "application/json"}


@dataclass
class Counted:
    calls: list[str] = field(default_factory=list)  # one per API call (before-call)
    sends: list[str] = field(default_factory=list)  # one per HTTP request, retries included (before-send)


class DynamoCalls:
    """DynamoDB requests of every botocore client created after `install()`, by operation name."""

    def __init__(self) -> None:
        self.clients: list[str] = []  # the service of every client created since
        self._now = Counted()

    def install(self) -> DynamoCalls:
        original = botocore.session.Session.create_client

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            self.clients.append(service_name)
            client.meta.events.register("before-call.dynamodb", self._on_call)
            client.meta.events.register("before-send.dynamodb", self._on_send)
            return client

        botocore.session.Session.create_client = create_client
        return self

    def _on_call(self, event_name: str, **_: Any) -> None:
        self._now.calls.append(event_name.rsplit(".", 1)[-1])

    def _on_send(self, event_name: str, **_: Any) -> None:
        self._now.sends.append(event_name.rsplit(".", 1)[-1])

    @contextmanager
    def counting(self) -> Iterator[Counted]:
        """The requests made inside the block (the yielded lists fill as they are made)."""
        self._now = Counted()
        yield self._now
