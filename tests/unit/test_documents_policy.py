"""What the presigned forms and links grant, read from what boto3 generates (offline: signing needs no
request). moto enforces none of it, so the policy's own content is what is tested."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from botocore.config import Config

from chalicelib.adapters.s3 import S3DocumentStorage
from chalicelib.domain.documents import content_disposition, object_key

BUCKET = "cms-test-documents"


@pytest.fixture
def storage() -> S3DocumentStorage:
    def client():
        return boto3.client(
            "s3", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            config=Config(signature_version="s3v4"),
        )

    return S3DocumentStorage(BUCKET, client)


def _policy(fields: dict[str, str]) -> dict:
    return json.loads(base64.b64decode(fields["policy"]))


def test_the_upload_policy_bounds_size_type_and_key(storage):
    key = object_key("case-1", "doc-1")
    form = storage.upload_form(key, "application/pdf", 1234, 600, {"document-id": "doc-1", "sha256": "ab" * 32})
    policy = _policy(form.fields)
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 1234] in conditions
    assert {"Content-Type": "application/pdf"} in conditions  # exact, not starts-with
    assert {"key": key} in conditions and {"bucket": BUCKET} in conditions
    assert {"x-amz-meta-sha256": "ab" * 32} in conditions and {"x-amz-meta-document-id": "doc-1"} in conditions
    assert not any(isinstance(c, list) and c[0] == "starts-with" for c in conditions)
    assert form.fields["key"] == key and "${filename}" not in json.dumps(policy)
    assert form.fields["Content-Type"] == "application/pdf"
    assert form.fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and form.fields["x-amz-signature"]
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert 590 <= (expires - datetime.now(timezone.utc)).total_seconds() <= 601
    assert BUCKET in form.url


def test_the_download_link_names_the_version_and_a_safe_disposition(storage):
    url = storage.download_url(
        object_key("case-1", "doc-1"), "v-123", "image/png", content_disposition("scan ü.png"), 300,
    )
    query = parse_qs(urlparse(url).query)
    assert query["versionId"] == ["v-123"]
    assert query["response-content-type"] == ["image/png"]
    assert query["response-content-disposition"] == [
        "attachment; filename=\"scan u.png\"; filename*=UTF-8''scan%20%C3%BC.png"]
    assert query["X-Amz-Expires"] == ["300"]
    assert urlparse(url).path.endswith("/cases/case-1/documents/doc-1")
