"""`AWS_ENDPOINT_URL=... make run`: the local system provisions at that endpoint (as it would at LocalStack),
starts no moto of its own, serves the API, and says that the app's Lambda handlers are not run. A second moto
server stands in for the other endpoint: LocalStack itself cannot run here (see the README)."""
from __future__ import annotations

import logging
import socket
import urllib.request
from pathlib import Path

import boto3
import pytest

from local.system import LocalSystem
from tests.integration.lambda_app import build_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stepfunctions"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_another_endpoint_is_provisioned_and_no_moto_is_started(
    moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    moto_port = free_port()
    system = LocalSystem(port=free_port(), moto_port=moto_port, state_dir=tmp_path, seed=False, app=build_app()[0],
                         stepfunctions_dir=FIXTURES)
    with caplog.at_level(logging.WARNING, logger="local"):
        system.start()
    try:
        assert system.stack["awsEndpoint"] == moto_endpoint
        assert system.dispatcher is None and system.fargate is None  # nothing runs the handlers here
        assert system.inprocess_aws is None  # calls to the other endpoint go over HTTP
        assert "Lambda handlers are not run in-process" in caplog.text
        with socket.socket() as sock:  # no moto of its own: nothing listens on its port
            # (connecting, not binding: an outgoing connection may take the port as its own end meanwhile)
            assert sock.connect_ex(("127.0.0.1", moto_port)) != 0
        dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=system.stack["region"])
        table = dynamodb.describe_table(TableName=system.stack["tableName"])["Table"]
        assert table["StreamSpecification"]["StreamEnabled"]
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(system.stack["apiUrl"] + "/ping") as r:
            assert r.status == 200
    finally:
        system.stop()
    assert system.saved_items is None  # snapshots are for the embedded moto only
