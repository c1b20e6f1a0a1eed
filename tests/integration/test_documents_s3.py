"""The documents bucket on moto: the S3 adapter's forms, links and legal holds, and the local wiring of the
bucket's notification (moto leaves out versionId and sequencer; local/ fills them in before the handler)."""
from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any, Callable, Iterator
from urllib.parse import unquote_plus

import boto3
import pytest
import requests
from chalice import Chalice

from chalicelib.adapters.s3 import S3DocumentStorage, s3_client_factory
from chalicelib.domain.documents import content_disposition, object_key
from local.functions import UPLOAD_FUNCTION, notify_uploads, register_functions, s3_version_filler
from local.lambdas import LambdaDispatcher

REGION = "us-east-1"


def s3(endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    name = f"docs-{uuid.uuid4().hex[:10]}"
    s3(moto_endpoint).create_bucket(Bucket=name)
    s3(moto_endpoint).put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def storage(moto_endpoint: str, bucket: str) -> S3DocumentStorage:
    return S3DocumentStorage(bucket, s3_client_factory(REGION, moto_endpoint))


def test_a_form_upload_lands_under_the_key_as_a_new_version_each_time(moto_endpoint, bucket, storage):
    key = object_key("case-1", "doc-1")
    versions = []
    for content in (b"first version", b"second version"):
        form = storage.upload_form(key, "text/plain", len(content), 600, {"document-id": "doc-1"})
        response = requests.post(form.url, data=form.fields, files={"file": ("ignored.txt", content, "text/plain")},
                                 timeout=10)
        assert response.status_code == 204, response.text
        versions.append(s3(moto_endpoint).head_object(Bucket=bucket, Key=key)["VersionId"])
    listed = s3(moto_endpoint).list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    assert {v["VersionId"] for v in listed} == set(versions) and len(set(versions)) == 2  # nothing overwritten
    link = storage.download_url(key, versions[0], "text/plain", content_disposition("notes é.txt"), 300)
    got = requests.get(link, timeout=10)
    assert got.status_code == 200 and got.content == b"first version"
    assert got.headers["Content-Disposition"] == (
        "attachment; filename=\"notes e.txt\"; filename*=UTF-8''notes%20%C3%A9.txt")


def test_each_version_keeps_the_grant_of_the_form_it_was_posted_with(moto_endpoint, bucket, storage):
    key = object_key("case-1", "doc-1")
    versions = {}
    for grant in ("grant-1", "grant-2"):
        form = storage.upload_form(key, "text/plain", 5, 600, {"grant-id": grant})
        assert ["content-length-range", 1, 5] in form_policy(form)["conditions"]
        assert {"x-amz-meta-grant-id": grant} in form_policy(form)["conditions"]  # S3 refuses another grant
        requests.post(form.url, data=form.fields, files={"file": ("f.txt", b"x", "text/plain")}, timeout=10)
        versions[grant] = s3(moto_endpoint).head_object(Bucket=bucket, Key=key)["VersionId"]
    assert {g: storage.object_metadata(key, v)["grant-id"] for g, v in versions.items()} == {
        "grant-1": "grant-1", "grant-2": "grant-2"}
    assert storage.object_metadata(key, "no-such-version") is None
    assert storage.object_metadata("cases/case-1/documents/none", versions["grant-1"]) is None


def form_policy(form: Any) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(form.fields["policy"])))


def test_legal_holds_need_object_lock(moto_endpoint, bucket, storage):
    key = object_key("case-1", "doc-1")
    version = s3(moto_endpoint).put_object(Bucket=bucket, Key=key, Body=b"x")["VersionId"]
    assert storage.set_legal_hold(key, version, True) is False  # no Object Lock: skipped, not an error
    locked_name = f"locked-{uuid.uuid4().hex[:10]}"
    s3(moto_endpoint).create_bucket(Bucket=locked_name, ObjectLockEnabledForBucket=True)
    locked = S3DocumentStorage(locked_name, s3_client_factory(REGION, moto_endpoint))
    version = s3(moto_endpoint).put_object(Bucket=locked_name, Key=key, Body=b"x")["VersionId"]
    assert locked.set_legal_hold(key, version, True) is True
    status = s3(moto_endpoint).get_object_legal_hold(Bucket=locked_name, Key=key, VersionId=version)
    assert status["LegalHold"]["Status"] == "ON"
    assert locked.set_legal_hold(key, version, False) is True
    status = s3(moto_endpoint).get_object_legal_hold(Bucket=locked_name, Key=key, VersionId=version)
    assert status["LegalHold"]["Status"] == "OFF"


def test_the_filler_names_the_version_just_written_and_orders_them(moto_endpoint, bucket):
    client = s3(moto_endpoint)
    key = "cases/c 1/documents/d+1"
    first = client.put_object(Bucket=bucket, Key=key, Body=b"one")
    second = client.put_object(Bucket=bucket, Key=key, Body=b"two")
    fill = s3_version_filler(client)

    def moto_event(etag: str) -> dict:  # as moto sends it: no versionId, no sequencer, key quote_plus-encoded
        return {"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {
            "bucket": {"name": bucket}, "object": {"key": "cases/c+1/documents/d%2B1", "size": 3, "eTag": etag}}}]}

    latest = fill(moto_event(second["ETag"].strip('"')))["Records"][0]["s3"]["object"]
    assert latest["versionId"] == second["VersionId"]
    earlier = fill(moto_event(first["ETag"].strip('"')))["Records"][0]["s3"]["object"]
    assert earlier["versionId"] == first["VersionId"]  # not the latest: found by its ETag
    assert int(earlier["sequencer"], 16) > int(latest["sequencer"], 16)  # filled later, numbered later
    aws_sent = {"key": "k", "versionId": "v", "sequencer": "01"}
    given = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": bucket}, "object": aws_sent}}]}
    assert fill(given) == given  # what AWS sends is left alone


@pytest.fixture
def notified(aws: Callable[[str], Any], bucket: str) -> Iterator[tuple[list[dict], LambdaDispatcher]]:
    app = Chalice(app_name="documents-it")
    seen: list[dict] = []

    @app.lambda_function(name=UPLOAD_FUNCTION)
    def on_document_uploaded(event: dict, context: Any) -> dict:
        seen.append(event)
        return {"ok": True}

    dispatcher = LambdaDispatcher(app)
    dispatcher.install()
    try:
        arns = register_functions(aws("lambda"), aws("iam"), [UPLOAD_FUNCTION])
        dispatcher.event_fillers[UPLOAD_FUNCTION] = s3_version_filler(aws("s3"))
        notify_uploads(aws("s3"), bucket, arns[UPLOAD_FUNCTION])
        yield seen, dispatcher
    finally:
        dispatcher.uninstall()


def test_uploads_reach_the_handler_asynchronously_with_version_and_sequencer(moto_endpoint, bucket, storage, notified):
    seen, dispatcher = notified
    key = object_key("case-1", "doc-1")
    written = []
    for content in (b"v1", b"v2"):
        form = storage.upload_form(key, "text/plain", 10, 600, {})
        assert requests.post(form.url, data=form.fields, files={"file": ("f", content)}, timeout=10).status_code == 204
        written.append(s3(moto_endpoint).head_object(Bucket=bucket, Key=key)["VersionId"])
    s3(moto_endpoint).put_object(Bucket=bucket, Key="exports/elsewhere.csv", Body=b"x")  # outside the prefix
    assert dispatcher.drain(10)
    deadline = time.monotonic() + 10
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    objects = [event["Records"][0]["s3"]["object"] for event in seen]
    assert [o["versionId"] for o in objects] == written
    assert all(unquote_plus(o["key"]) == key for o in objects)  # still encoded, as S3 sends it
    assert int(objects[1]["sequencer"], 16) > int(objects[0]["sequencer"], 16)
    assert len(seen) == 2
