"""A restart of the local system keeps its data: the table's items and the case data product's rows (with their
time of writing) are saved on stop and put back on the next start, into a moto that had forgotten them."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.mesh import DATA_PRODUCT_BUCKET
from local.system import LocalSystem
from tests.integration.lambda_app import build_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stepfunctions"
ROW_KEY = "cases/v1/dt=2026-12-06/case-1-1.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(state_dir: Path) -> LocalSystem:
    system = LocalSystem(port=free_port(), moto_port=free_port(), state_dir=state_dir, seed=False,
                         app=build_app()[0], stepfunctions_dir=FIXTURES)
    system.start()
    return system


def aws(system: LocalSystem, service: str) -> Any:
    return boto3.client(service, endpoint_url=system.stack["awsEndpoint"], region_name=system.stack["region"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_items_and_case_data_product_rows_survive_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.moto_api._internal.models import moto_api_backend

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # always its own moto
    first = start(tmp_path)
    try:
        table = first.stack["tableName"]
        aws(first, "dynamodb").put_item(TableName=table, Item={
            "PK": {"S": "KEEP#1"}, "SK": {"S": "ITEM"}, "tags": {"SS": ["a"]}, "n": {"N": "7"},
        })
        s3 = aws(first, "s3")
        s3.put_object(Bucket=DATA_PRODUCT_BUCKET, Key=ROW_KEY, Body=b'{"caseId": "1"}\n',
                      ContentType="application/x-ndjson")
        written = s3.head_object(Bucket=DATA_PRODUCT_BUCKET, Key=ROW_KEY)["LastModified"]
    finally:
        first.stop()
    assert first.saved_items and first.rows_snapshot_file.is_file()
    moto_api_backend.reset()  # what a new process starts with: a moto that holds nothing

    second = start(tmp_path)
    try:
        item = aws(second, "dynamodb").get_item(TableName=second.stack["tableName"],
                                                Key={"PK": {"S": "KEEP#1"}, "SK": {"S": "ITEM"}})["Item"]
        assert item == {"PK": {"S": "KEEP#1"}, "SK": {"S": "ITEM"}, "tags": {"SS": ["a"]}, "n": {"N": "7"}}
        row = aws(second, "s3").get_object(Bucket=DATA_PRODUCT_BUCKET, Key=ROW_KEY)
        assert row["Body"].read() == b'{"caseId": "1"}\n'
        assert (row["ContentType"], row["LastModified"]) == ("application/x-ndjson", written)
    finally:
        second.stop()
