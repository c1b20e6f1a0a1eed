"""The document routes and the upload Lambda in-process (chalice.test.Client): real token verification with
a test key, the container's in-memory stores and object storage. Roles are 403, what the caller may not see
is 404, a quarantined download or a delete under legal hold is 409."""
from __future__ import annotations

from urllib.parse import parse_qs, quote_plus, urlparse

import pytest

from chalicelib import bootstrap
from tests.api_support import POOL, expect

BUCKET = "cms-test-documents"
CLAIM = {"title": "Water damage", "caseType": "CLAIM", "priority": "HIGH", "customerId": "CUST-1"}
PDF = {"filename": "claim form.pdf", "contentType": "application/pdf", "size": 2048, "kind": "claim-form"}
token = POOL.token


@pytest.fixture
def container():
    return POOL.container(env={"BUCKET_NAME": BUCKET})


def call(client, method, path, user=None, body=None, raw=None, headers=None):
    return POOL.call(client, method, path, user, body, raw, headers)[:2]


def uploaded(client, case_id, document_id, version_id, sequencer, post=True):
    """A new version's form requested and posted (with `post`), then what S3 sends once the form was used: the
    upload Lambda registers the version."""
    if post:
        ticket = expect(call(client, "POST", f"/cases/{case_id}/documents/{document_id}/versions", "alice", PDF), 201)
        bootstrap.container().documents._storage.post(ticket["upload"]["fields"], b"%PDF", version_id)
    event = {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
        "eventTime": "2026-03-01T12:00:00.000Z",
        "s3": {"bucket": {"name": BUCKET}, "object": {
            "key": quote_plus(f"cases/{case_id}/documents/{document_id}"), "size": 2048, "eTag": "e-" + version_id,
            "versionId": version_id, "sequencer": sequencer,
        }},
    }]}
    return client.lambda_.invoke("on_document_uploaded", event).payload


@pytest.fixture
def case(client):
    return expect(call(client, "POST", "/cases", "alice", CLAIM), 201)


@pytest.fixture
def document(client, case):
    ticket = expect(call(client, "POST", f"/cases/{case['id']}/documents", "alice", PDF), 201)
    return ticket["documentId"]


def test_requesting_an_upload(client, case):
    ticket = expect(call(client, "POST", f"/cases/{case['id']}/documents", "alice",
                         {**PDF, "filename": "..\\..\\c:\\evil\u202efdp.exe", "sha256": "AB" * 32}), 201)
    assert set(ticket) == {"documentId", "upload", "expiresIn", "maxSize"}
    assert ticket["expiresIn"] == 600 and ticket["maxSize"] == 2048
    fields = ticket["upload"]["fields"]
    assert fields["key"] == f"cases/{case['id']}/documents/{ticket['documentId']}"
    assert fields["Content-Type"] == "application/pdf" and fields["x-amz-meta-sha256"] == "ab" * 32
    detail = expect(call(client, "GET", f"/cases/{case['id']}/documents/{ticket['documentId']}", "alice"), 200)
    assert detail["filename"] == "evilfdp.exe" and detail["status"] == "PENDING" and detail["versions"] == []
    assert detail["kind"] == "claim-form" and "upload" not in detail and "revision" not in detail


@pytest.mark.parametrize("body, status, field", [
    ({**PDF, "contentType": "application/octet-stream"}, 400, "contentType"),
    ({**PDF, "size": 25 * 1024 * 1024 + 1}, 413, "size"),
    ({**PDF, "size": -1}, 400, "size"),
    ({**PDF, "size": "2048"}, 400, "size"),
    ({**PDF, "size": 1.5}, 400, "size"),
    ({**PDF, "filename": "../.."}, 400, "filename"),
    ({**PDF, "filename": "x" * 1025}, 400, "filename"),
    ({**PDF, "sha256": "not-a-hash"}, 400, "sha256"),
    ({**PDF, "kind": "passport"}, 400, "kind"),
    ({**PDF, "bucket": "elsewhere"}, 400, "bucket"),
    ({k: v for k, v in PDF.items() if k != "filename"}, 400, "filename"),
], ids=["type", "too-large", "negative", "string", "fraction", "empty-name", "long-name", "hash", "kind", "unknown",
        "missing"])
def test_bad_upload_requests(client, case, body, status, field):
    expect(call(client, "POST", f"/cases/{case['id']}/documents", "alice", body), status, field=field)
    assert expect(call(client, "GET", f"/cases/{case['id']}/documents", "alice"), 200)["items"] == []


def test_who_may_upload_and_see(client, case, document):
    path = f"/cases/{case['id']}/documents"
    expect(call(client, "POST", path, "bob", PDF), 404, "NOT_FOUND")  # another team's caseworker
    expect(call(client, "GET", path, "bob"), 404, "NOT_FOUND")
    expect(call(client, "GET", f"{path}/{document}", "bob"), 404, "NOT_FOUND")
    expect(call(client, "GET", f"{path}/{document}/download", "bob"), 404, "NOT_FOUND")
    expect(call(client, "POST", f"{path}/{document}/versions", "bob", PDF), 404, "NOT_FOUND")
    expect(call(client, "POST", path, "aud", PDF), 403, "FORBIDDEN")
    expect(call(client, "POST", path, "ava", PDF), 403, "FORBIDDEN")
    expect(call(client, "POST", path, "sam", PDF), 201)
    assert len(expect(call(client, "GET", path, "aud"), 200)["items"]) == 2  # auditors read
    expect(call(client, "GET", path), 401, "UNAUTHORIZED")
    expect(call(client, "GET", "/cases/nope/documents", "ada"), 404, "NOT_FOUND")
    expect(call(client, "GET", f"{path}/nope", "ada"), 404, "NOT_FOUND")


def test_the_upload_lambda_registers_versions_once_and_in_order(client, case, document):
    path = f"/cases/{case['id']}/documents/{document}"
    assert uploaded(client, case["id"], document, "v2", "0200")["registered"] == [f"{case['id']}/{document}/v2"]
    again = uploaded(client, case["id"], document, "v2", "0200", post=False)
    assert again["duplicates"] == [f"{case['id']}/{document}/v2"]
    uploaded(client, case["id"], document, "v1", "01FF")  # older, late
    detail = expect(call(client, "GET", path, "alice"), 200)
    assert detail["latestVersionId"] == "v2" and detail["versionCount"] == 2
    assert [(v["versionId"], v["latest"], v["status"]) for v in detail["versions"]] == [
        ("v1", False, "PENDING"), ("v2", True, "PENDING")]
    assert set(detail["versions"][0]) >= {"sha256", "size", "status", "reasons", "metadata", "eTag", "uploadedAt"}
    listed = expect(call(client, "GET", f"/cases/{case['id']}/documents", "alice"), 200)["items"]
    assert [(d["id"], d["versionCount"], d["status"]) for d in listed] == [(document, 2, "PENDING")]
    again = expect(call(client, "POST", f"{path}/versions", "alice", {**PDF, "filename": "claim form v3.pdf"}), 201)
    assert again["documentId"] == document and again["upload"]["fields"]["key"].endswith(f"/documents/{document}")


def test_downloads_name_a_version_and_are_recorded(client, container, case, document):
    path = f"/cases/{case['id']}/documents/{document}/download"
    expect(call(client, "GET", path, "alice"), 409, "CONFLICT")  # nothing uploaded yet
    uploaded(client, case["id"], document, "v1", "01")
    uploaded(client, case["id"], document, "v2", "02")
    expect(call(client, "GET", path, "alice"), 409, "CONFLICT", "versionId")  # PENDING: not yet verified
    for version in ("v1", "v2"):
        container.documents.record_processing_result(case["id"], document, version, {"status": "READY"})
    link = expect(call(client, "GET", path, "aud"), 200)
    assert link["versionId"] == "v2" and link["expiresIn"] == 300
    query = parse_qs(urlparse(link["url"]).query)
    assert query["versionId"] == ["v2"]
    assert query["response-content-disposition"] == [
        "attachment; filename=\"claim form.pdf\"; filename*=UTF-8''claim%20form.pdf"]
    assert expect(call(client, "GET", f"{path}?versionId=v1", "alice"), 200)["versionId"] == "v1"
    expect(call(client, "GET", f"{path}?versionId=v9", "alice"), 404, "NOT_FOUND")
    expect(call(client, "GET", f"{path}?version=v1", "alice"), 400, "VALIDATION_ERROR", "version")
    uploaded(client, case["id"], document, "v3", "03")  # a verdict is final: quarantine a newer version
    verdict = {"status": "QUARANTINED", "reasons": ["polyglot"]}
    container.documents.record_processing_result(case["id"], document, "v3", verdict)
    expect(call(client, "GET", path, "alice"), 409, "CONFLICT", "versionId")
    assert expect(call(client, "GET", path, "ada"), 200)["versionId"] == "v3"
    history = expect(call(client, "GET", f"/cases/{case['id']}/history", "alice"), 200)["items"]
    downloads = [(e["actor"], e["data"]["versionId"]) for e in history if e["type"] == "DOCUMENT_DOWNLOADED"]
    assert downloads == [("aud", "v2"), ("alice", "v1"), ("ada", "v3")]
    assert "DOCUMENT_QUARANTINED" in [e["type"] for e in history]
    assert expect(call(client, "GET", f"/cases/{case['id']}/history/verify", "alice"), 200)["valid"] is True


def test_soft_delete_and_legal_hold(client, container, case, document):
    base = f"/cases/{case['id']}"
    uploaded(client, case["id"], document, "v1", "01")
    expect(call(client, "DELETE", f"{base}/documents/{document}", "alice"), 403, "FORBIDDEN")
    hold = {"enabled": True, "reason": "court order"}
    expect(call(client, "PUT", f"{base}/legal-hold", "sam", hold), 403, "FORBIDDEN")
    expect(call(client, "PUT", f"{base}/legal-hold", "ada", {"enabled": True}), 400, "VALIDATION_ERROR", "reason")
    expect(call(client, "PUT", f"{base}/legal-hold", "ada", {"enabled": "yes", "reason": "x"}), 400, field="enabled")
    held = expect(call(client, "PUT", f"{base}/legal-hold", "ada", {"enabled": True, "reason": "court order"}), 200)
    assert held["enabled"] and held["reason"] == "court order" and held["updatedBy"] == "ada"
    assert held["objectLock"]["applied"] == 1
    storage = container.documents._storage
    assert storage.legal_holds == {(f"cases/{case['id']}/documents/{document}", "v1"): True}
    assert expect(call(client, "GET", f"{base}/legal-hold", "alice"), 200)["enabled"] is True
    expect(call(client, "GET", f"{base}/legal-hold", "bob"), 404, "NOT_FOUND")
    expect(call(client, "DELETE", f"{base}/documents/{document}", "ada"), 409, "CONFLICT")
    expect(call(client, "PUT", f"{base}/legal-hold", "ada", {"enabled": False}), 200)
    deleted = expect(call(client, "DELETE", f"{base}/documents/{document}", "ada"), 200)
    assert deleted["deleted"] and deleted["deletedBy"] == "ada"
    assert expect(call(client, "GET", f"{base}/documents", "alice"), 200)["items"] == []
    expect(call(client, "GET", f"{base}/documents/{document}", "alice"), 404, "NOT_FOUND")
    assert expect(call(client, "GET", f"{base}/documents/{document}", "aud"), 200)["versions"][0]["versionId"] == "v1"
    types = [e["type"] for e in expect(call(client, "GET", f"{base}/history", "aud"), 200)["items"]]
    assert types[-3:] == ["LEGAL_HOLD_SET", "LEGAL_HOLD_RELEASED", "DOCUMENT_DELETED"]


def test_openapi_documents_the_document_routes(client):
    from openapi_spec_validator import validate

    doc = expect(call(client, "GET", "/openapi.json"), 200)
    validate(doc)
    for path, method in [
        ("/cases/{case_id}/documents", "post"), ("/cases/{case_id}/documents", "get"),
        ("/cases/{case_id}/documents/{document_id}", "get"), ("/cases/{case_id}/documents/{document_id}", "delete"),
        ("/cases/{case_id}/documents/{document_id}/versions", "post"),
        ("/cases/{case_id}/documents/{document_id}/download", "get"),
        ("/cases/{case_id}/legal-hold", "put"), ("/cases/{case_id}/legal-hold", "get"),
    ]:
        assert method in doc["paths"][path], (path, method)
    upload = doc["paths"]["/cases/{case_id}/documents"]["post"]
    assert "201" in upload["responses"] and "413" in upload["responses"]
    download = doc["paths"]["/cases/{case_id}/documents/{document_id}/download"]["get"]
    assert [p["name"] for p in download["parameters"] if p["in"] == "query"] == ["versionId"]
