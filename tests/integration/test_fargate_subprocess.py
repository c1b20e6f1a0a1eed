"""`python -m processor` as the local Fargate runner starts it: a subprocess in fargate/ whose only
inputs are environment variables, against moto's server with real S3 object versions and a real
DynamoDB table. Checks the exit status and what it wrote."""
from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def _pdf(text: str) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def aws(moto_endpoint: str) -> dict[str, Any]:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name=REGION)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name=REGION)
    bucket, table = f"evidence-{uuid.uuid4().hex[:8]}", f"cases-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    dynamodb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
    )
    return {"s3": s3, "dynamodb": dynamodb, "bucket": bucket, "table": table, "endpoint": moto_endpoint}


def _run(aws: dict[str, Any], key: str, version: str, **overrides: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
    env.update({
        "AWS_ENDPOINT_URL": aws["endpoint"], "AWS_DEFAULT_REGION": REGION,
        "BUCKET": aws["bucket"], "KEY": key, "VERSION_ID": version, "CASE_ID": "case-1", "DOCUMENT_ID": "doc-1",
        "DECLARED_CONTENT_TYPE": "application/pdf", "DECLARED_FILENAME": "claim.pdf", "RESULT_TABLE": aws["table"],
        **overrides,
    })
    return subprocess.run([sys.executable, "-m", "processor"], cwd=ROOT / "fargate", env=env,
                          capture_output=True, text=True, timeout=120)


def _result_json(aws: dict[str, Any], version: str) -> dict[str, Any]:
    body = aws["s3"].get_object(Bucket=aws["bucket"], Key=f"derived/case-1/doc-1/{version}/result.json")["Body"]
    return json.loads(body.read())


def test_the_processor_reads_the_named_version_and_writes_its_results(aws):
    s3, bucket, key = aws["s3"], aws["bucket"], "uploads/case-1/doc-1"
    good = _pdf("Invoice 2026-17 for the broken window")
    v1 = s3.put_object(Bucket=bucket, Key=key, Body=good)["VersionId"]
    # A later version of the same key is an executable: version 1 must still be what gets processed.
    v2 = s3.put_object(Bucket=bucket, Key=key, Body=b"MZ\x90\x00" + bytes(200))["VersionId"]

    done = _run(aws, key, v1, EXPECTED_SHA256=hashlib.sha256(good).hexdigest())
    assert done.returncode == 0, done.stderr
    result = _result_json(aws, v1)
    assert result["status"] == "READY", result["reasons"]
    assert result["sha256"] == hashlib.sha256(good).hexdigest() and result["size"] == len(good)
    assert result["versionId"] == v1 and result["pages"] == 1 and "broken window" in result["text"]
    text = s3.get_object(Bucket=bucket, Key=result["artifacts"]["text"])["Body"].read()
    assert b"broken window" in text
    item = aws["dynamodb"].get_item(TableName=aws["table"], Key={"PK": {"S": "CASE#case-1"},
                                                                 "SK": {"S": f"DOCRESULT#doc-1#{v1}"}})["Item"]
    assert json.loads(item["result"]["S"])["sha256"] == result["sha256"]
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "READY"

    done = _run(aws, key, v2)
    assert done.returncode == 0, done.stderr  # quarantining is successful processing
    result = _result_json(aws, v2)
    assert result["status"] == "QUARANTINED" and "executable-content" in result["reasonCodes"]
    assert "text" not in result["artifacts"]


def test_a_version_that_does_not_exist_fails_the_task_so_step_functions_retries(aws):
    s3, bucket, key = aws["s3"], aws["bucket"], "uploads/case-1/doc-1"
    s3.put_object(Bucket=bucket, Key=key, Body=_pdf("x"))
    done = _run(aws, key, "no-such-version")
    assert done.returncode == 1
    assert "cannot read the object" in done.stderr
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="derived/").get("Contents", [])
    assert listed == []


def test_an_unreachable_endpoint_fails_the_task(aws, down_endpoint):
    done = _run({**aws, "endpoint": down_endpoint}, "uploads/x", "v1")
    assert done.returncode == 1, done.stderr
