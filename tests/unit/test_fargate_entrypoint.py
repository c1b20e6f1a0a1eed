"""`python -m processor`: configuration from the environment, results to S3 and DynamoDB, and the exit
status Step Functions acts on (0 processed, READY or QUARANTINED; 1 retry; 2 bad task configuration).
Clients are fakes; no network."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "fargate"))

import processor.__main__ as entry  # noqa: E402



def _blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer, out = PdfWriter(), io.BytesIO()
    writer.add_blank_page(200, 200)
    writer.write(out)
    return out.getvalue()


PDF = _blank_pdf()
ENV = {
    "BUCKET": "evidence", "KEY": "uploads/c-1/d-1", "VERSION_ID": "v-7", "CASE_ID": "c-1", "DOCUMENT_ID": "d-1",
    "DECLARED_CONTENT_TYPE": "application/pdf", "DECLARED_FILENAME": "claim.pdf", "RESULT_TABLE": "cases",
}


class Body:
    def __init__(self, data: bytes, fail_after: int = -1) -> None:
        self._data, self._fail_after = data, fail_after
        self.closed = False

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        for index, start in enumerate(range(0, len(self._data), size)):
            if index == self._fail_after:
                raise ReadTimeoutError(endpoint_url="http://s3")
            yield self._data[start:start + size]

    def close(self) -> None:
        self.closed = True


class FakeS3:
    def __init__(self, objects: dict[tuple[str, str, str], bytes], fail_reads_after: int = -1,
                 fail_puts: bool = False) -> None:
        self.objects, self.fail_reads_after, self.fail_puts = objects, fail_reads_after, fail_puts
        self.puts: dict[str, dict[str, Any]] = {}

    def get_object(self, Bucket: str, Key: str, VersionId: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        data = self.objects.get((Bucket, Key, VersionId))
        if data is None:
            raise ClientError({"Error": {"Code": "NoSuchVersion", "Message": "gone"}}, "GetObject")
        return {"Body": Body(data, self.fail_reads_after), "ContentLength": len(data), "VersionId": VersionId}

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail_puts:
            raise EndpointConnectionError(endpoint_url="http://s3")
        self.puts[kwargs["Key"]] = kwargs
        return {}


class FakeDynamo:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put_item(self, TableName: str, Item: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        self.items.append({"table": TableName, **Item})
        return {}


@pytest.fixture
def clients(monkeypatch):
    s3, dynamo = FakeS3({("evidence", "uploads/c-1/d-1", "v-7"): PDF}), FakeDynamo()
    monkeypatch.setattr(entry, "_clients", lambda env: (s3, dynamo))
    return s3, dynamo


def test_a_processed_document_exits_0_with_result_json_and_a_dynamodb_item(clients, capsys):
    s3, dynamo = clients
    assert entry.main(ENV) == 0
    result = json.loads(s3.puts["derived/c-1/d-1/v-7/result.json"]["Body"])
    assert result["status"] == "READY" and result["versionId"] == "v-7" and result["pages"] == 1
    assert s3.puts["derived/c-1/d-1/v-7/metadata.json"]["ContentType"] == "application/json"
    [item] = dynamo.items
    assert item["table"] == "cases"
    assert (item["PK"], item["SK"]) == ({"S": "CASE#c-1"}, {"S": "DOCRESULT#d-1#v-7"})
    assert json.loads(item["result"]["S"]) == result and item["status"] == {"S": "READY"}
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["status"] == "READY" and summary["sha256"] == result["sha256"]


def test_a_quarantined_document_is_processed_too_so_it_exits_0(clients):
    s3, dynamo = clients
    assert entry.main({**ENV, "EXPECTED_SHA256": "0" * 64}) == 0
    assert json.loads(dynamo.items[0]["result"]["S"])["reasonCodes"] == ["sha256-mismatch"]


def test_without_a_result_table_only_s3_gets_the_result(clients):
    s3, dynamo = clients
    assert entry.main({k: v for k, v in ENV.items() if k != "RESULT_TABLE"}) == 0
    assert "derived/c-1/d-1/v-7/result.json" in s3.puts and dynamo.items == []


def test_a_missing_object_version_exits_1_for_a_retry_and_writes_nothing(clients):
    s3, dynamo = clients
    assert entry.main({**ENV, "VERSION_ID": "v-8"}) == 1
    assert s3.puts == {} and dynamo.items == []


def test_a_connection_lost_mid_object_exits_1(clients):
    s3, dynamo = clients
    s3.objects[("evidence", "uploads/c-1/d-1", "v-7")] = PDF * 50_000  # several chunks
    s3.fail_reads_after = 1
    assert entry.main(ENV) == 1
    assert s3.puts == {} and dynamo.items == []


def test_results_that_cannot_be_written_exit_1(clients):
    s3, _ = clients
    s3.fail_puts = True
    assert entry.main(ENV) == 1


@pytest.mark.parametrize("broken", [{"BUCKET": ""}, {"CASE_ID": "a/b"}, {"MAX_BYTES": "-1"}])
def test_a_malformed_task_exits_2_before_touching_aws(clients, broken):
    s3, _ = clients
    assert entry.main({**ENV, **broken}) == 2
    assert s3.puts == {}


def test_the_real_entry_point_runs_as_a_module_from_the_fargate_directory():
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    done = subprocess.run([sys.executable, "-m", "processor"], cwd=ROOT / "fargate", env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "missing environment: BUCKET, KEY, VERSION_ID, CASE_ID, DOCUMENT_ID" in done.stderr


def test_every_log_line_names_the_work_it_is_for():
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    env.update({"CASE_ID": "case-7", "EXECUTION_ID": "arn:aws:states:us-east-1:1:execution:docs:d1-v1"})
    done = subprocess.run([sys.executable, "-m", "processor"], cwd=ROOT / "fargate", env=env,
                          capture_output=True, text=True, timeout=60)
    (line,) = done.stderr.splitlines()
    assert "[case_id=case-7 execution_id=arn:aws:states:us-east-1:1:execution:docs:d1-v1]" in line
    assert line.endswith("missing environment: BUCKET, KEY, VERSION_ID, DOCUMENT_ID")
