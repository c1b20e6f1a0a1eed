"""A moto server for the session; every test that asks for `dynamo_models` gets its own fresh table. The
contract tests ask for `backend`: each runs on the in-memory twin and again on DynamoDB."""
from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto.server import ThreadedMotoServer

from chalicelib.adapters.dynamo.cases import DynamoCaseRepository
from chalicelib.adapters.dynamo.decisions import DynamoDecisionStore
from chalicelib.adapters.dynamo.documents import DynamoDocumentStore
from chalicelib.adapters.dynamo.models import TableModels, create_table, table_models
from chalicelib.adapters.dynamo.work import DynamoWorkRepository
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.decisions import InMemoryDecisionStore
from chalicelib.adapters.memory.documents import InMemoryDocumentStore
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.ports import CaseRepository, DecisionStore, DocumentStore, WorkRepository
from local.moto_atomic import serialise_dynamodb
from local.moto_speedups import install_dynamodb_speedups

REGION = "us-east-1"
_LOADER = botocore.loaders.create_loader()


def _session_with_shared_loader() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"), ("AWS_DEFAULT_REGION", REGION),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ):
            env.setenv(name, value)
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
            env.delenv(name, raising=False)
        # pynamodb builds a botocore session per connection and thread, and each session parses
        # botocore's JSON data files again (~0.2 s): with a fresh table per test that doubled the
        # suite's time. The data files are read-only, so the sessions may share one loader.
        env.setattr("pynamodb.connection.base.get_session", _session_with_shared_loader)
        install_dynamodb_speedups()  # the repositories' contract tests run on the emulator `make run` uses
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        serialise_dynamodb(server)
        host, port = server.get_host_and_port()
        env.setenv("MOTO_PORT", str(port))
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="session")
def aws(moto_endpoint: str) -> Callable[[str], Any]:
    """`aws("s3")`: a boto3 client on the session's moto server."""
    return lambda service: boto3.client(service, endpoint_url=moto_endpoint, region_name=REGION)


@pytest.fixture
def dynamo_models(moto_endpoint: str) -> TableModels:
    models = table_models(f"cases-{uuid.uuid4().hex[:12]}", REGION, moto_endpoint)
    create_table(models)
    return models


@pytest.fixture
def down_endpoint(moto_endpoint: str) -> str:
    """An address where nothing listens (the AWS env from moto_endpoint still applies)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Backend:
    """One implementation of the case table's ports: the case repository and the stores beside it."""

    cases: CaseRepository
    decisions: DecisionStore
    documents: DocumentStore
    work: WorkRepository


@pytest.fixture(params=["memory", "dynamo"])
def backend(request: pytest.FixtureRequest) -> Backend:
    """The in-memory twin, then DynamoDB on a fresh table: a contract test asking for it runs on both, so the
    fake the unit tests use stays honest. `@pytest.mark.parametrize("backend", ["dynamo"], indirect=True)`
    picks one."""
    if request.param == "memory":
        table = InMemoryCaseRepository()
        return Backend(table, InMemoryDecisionStore(table), InMemoryDocumentStore(table), InMemoryWorkRepository(table))
    models = request.getfixturevalue("dynamo_models")
    return Backend(
        DynamoCaseRepository(models), DynamoDecisionStore(models), DynamoDocumentStore(models),
        DynamoWorkRepository(models),
    )


@pytest.fixture
def cases(backend: Backend) -> CaseRepository:
    return backend.cases
