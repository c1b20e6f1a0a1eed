"""Documents on the running local system, over HTTP as a client does: ask for an upload form, POST the file
to S3 (moto) with it, wait for the bucket's notification to register the version, download it through a
short-lived URL, upload a second version of the same document; another team's caseworker sees none of it."""
from __future__ import annotations

import hashlib
import time

import boto3
import pytest
import requests

from tests.e2e.test_workflow import complete_all_tasks, open_tasks

CLAIM = {"title": "Storm damage to roof", "caseType": "CLAIM", "priority": "MEDIUM", "customerId": "CUST-9017"}
FIRST = "Roof inspection notes, 3 March.\nTiles missing on the north side.\n".encode()
SECOND = "Roof inspection notes, revised.\nTiles and flashing missing on the north side.\n".encode()


def upload_body(content: bytes, filename: str, **more):
    return {"filename": filename, "contentType": "text/plain", "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(), **more}


def post_form(ticket: dict, content: bytes) -> requests.Response:
    """The browser's side: multipart/form-data with every returned field, the file last."""
    return requests.post(ticket["upload"]["url"], data=ticket["upload"]["fields"],
                         files={"file": ("upload.txt", content, "text/plain")}, timeout=30)


def wait_for_versions(session, path: str, count: int, timeout: float = 30.0, status: str = "") -> dict:
    """The document once it has `count` versions (each `status`, when given)."""
    deadline, document = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        document = session.get(path).json()
        versions = document.get("versions", [])
        if len(versions) >= count and all(v["status"] == status for v in versions if status):
            return document
        time.sleep(0.2)
    raise AssertionError(f"{path} never had {count} {status} version(s); last seen: {document}")


@pytest.fixture(scope="module")
def case(api):
    """One claim for the module. Its workflow gives alice's team tasks; they are done at the end, so other
    tests on the shared system find the team's capacity as it was."""
    created = api("alice").post("/cases", json=CLAIM).json()
    yield created
    ada, deadline = api("ada"), time.monotonic() + 30
    while not open_tasks(ada, created["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    complete_all_tasks(api, ada, created["id"])


def test_upload_register_download_and_a_new_version(api, case):
    alice, bob, aud = api("alice"), api("bob"), api("aud")
    documents = f"/cases/{case['id']}/documents"

    response = alice.post(documents, json=upload_body(FIRST, "../site/field\u202enotes\r\n.txt", kind="claim-form"))
    assert response.status_code == 201, response.text
    ticket = response.json()
    document_id = ticket["documentId"]
    assert ticket["upload"]["fields"]["key"] == f"cases/{case['id']}/documents/{document_id}"
    pending = alice.get(f"{documents}/{document_id}").json()
    assert pending["status"] == "PENDING" and pending["versions"] == []
    assert pending["filename"] == "fieldnotes .txt"

    upload = post_form(ticket, FIRST)
    assert upload.status_code in (200, 201, 204), upload.text
    document = wait_for_versions(alice, f"{documents}/{document_id}", 1, status="READY")  # downloadable once verified
    (version,) = document["versions"]
    assert version["size"] == len(FIRST) and version["declaredSha256"] == hashlib.sha256(FIRST).hexdigest()
    assert document["latestVersionId"] == version["versionId"] and version["latest"]

    link = alice.get(f"{documents}/{document_id}/download")
    assert link.status_code == 200, link.text
    assert link.json()["versionId"] == version["versionId"] and link.json()["expiresIn"] <= 300
    got = requests.get(link.json()["url"], timeout=30)
    assert got.status_code == 200 and got.content == FIRST
    assert got.headers["Content-Disposition"].startswith('attachment; filename="fieldnotes .txt"')

    # Another caseworker's team: the case, its documents and their download URLs do not exist for him.
    assert bob.get(documents).status_code == 404
    assert bob.get(f"{documents}/{document_id}").status_code == 404
    assert bob.get(f"{documents}/{document_id}/download").status_code == 404
    assert bob.get(f"{documents}/{document_id}/download", params={"versionId": version["versionId"]}).status_code == 404
    assert bob.post(documents, json=upload_body(FIRST, "x.txt")).status_code == 404
    assert aud.post(documents, json=upload_body(FIRST, "x.txt")).status_code == 403

    # A new version of the same document: the same key, a second S3 version, still one document.
    again = alice.post(f"{documents}/{document_id}/versions", json=upload_body(SECOND, "inspection v2.txt"))
    assert again.status_code == 201, again.text
    assert again.json()["upload"]["fields"]["key"] == ticket["upload"]["fields"]["key"]
    assert post_form(again.json(), SECOND).status_code in (200, 201, 204)
    document = wait_for_versions(alice, f"{documents}/{document_id}", 2, status="READY")
    newest = [v for v in document["versions"] if v["latest"]]
    assert len(newest) == 1 and newest[0]["versionId"] != version["versionId"]
    assert document["latestVersionId"] == newest[0]["versionId"] and document["filename"] == "inspection v2.txt"
    assert [d["id"] for d in alice.get(documents).json()["items"]] == [document_id]

    latest = requests.get(alice.get(f"{documents}/{document_id}/download").json()["url"], timeout=30)
    older = alice.get(f"{documents}/{document_id}/download", params={"versionId": version["versionId"]}).json()
    assert latest.content == SECOND and requests.get(older["url"], timeout=30).content == FIRST

    history = aud.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]
    uploads = [e["data"] for e in history if e["type"] == "DOCUMENT_UPLOADED"]
    assert [u["versionId"] for u in uploads] == [version["versionId"], newest[0]["versionId"]]
    assert [e["actor"] for e in history if e["type"] == "DOCUMENT_DOWNLOADED"] == ["alice", "alice", "alice"]
    assert aud.get(f"/cases/{case['id']}/history/verify").json()["valid"] is True


def test_bad_upload_requests_are_refused(api, case):
    alice = api("alice")
    documents = f"/cases/{case['id']}/documents"
    before = [d["id"] for d in alice.get(documents).json()["items"]]  # statuses move on as processing runs
    too_big = {**upload_body(FIRST, "big.txt"), "size": 25 * 1024 * 1024 + 1}
    assert alice.post(documents, json=too_big).status_code == 413
    executable = {**upload_body(FIRST, "run.exe"), "contentType": "application/x-msdownload"}
    assert alice.post(documents, json=executable).status_code == 400
    assert alice.post(documents, json=upload_body(FIRST, "../../")).status_code == 400
    assert [d["id"] for d in alice.get(documents).json()["items"]] == before  # no document was created


def test_a_legal_hold_locks_every_version_in_s3_and_blocks_deletion(api, case, local_stack):
    alice, ada = api("alice"), api("ada")
    documents = f"/cases/{case['id']}/documents"
    ticket = alice.post(documents, json=upload_body(FIRST, "held.txt")).json()
    assert post_form(ticket, FIRST).status_code in (200, 201, 204)
    (version,) = wait_for_versions(alice, f"{documents}/{ticket['documentId']}", 1)["versions"]
    s3 = boto3.client("s3", endpoint_url=local_stack["awsEndpoint"], region_name=local_stack["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")

    def object_hold(version_id: str) -> str:
        # moto answers a version that never had a hold with an empty LegalHold: no hold, as AWS's OFF
        return s3.get_object_legal_hold(Bucket=local_stack["bucketName"], Key=ticket["upload"]["fields"]["key"],
                                        VersionId=version_id)["LegalHold"].get("Status", "OFF")

    held = ada.put(f"/cases/{case['id']}/legal-hold", json={"enabled": True, "reason": "litigation 7"})
    assert held.status_code == 200, held.text
    assert held.json()["enabled"] and held.json()["objectLock"]["applied"] >= 1
    assert object_hold(version["versionId"]) == "ON"
    assert ada.delete(f"{documents}/{ticket['documentId']}").status_code == 409
    # A version uploaded while the case is held is held as it is registered.
    again = alice.post(f"{documents}/{ticket['documentId']}/versions", json=upload_body(SECOND, "held.txt")).json()
    assert post_form(again, SECOND).status_code in (200, 201, 204)
    newer = [v for v in wait_for_versions(alice, f"{documents}/{ticket['documentId']}", 2)["versions"]
             if v["versionId"] != version["versionId"]][0]
    deadline = time.monotonic() + 30  # the upload handler holds it just after it registers the version
    while object_hold(newer["versionId"]) != "ON" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert object_hold(newer["versionId"]) == "ON"
    lifted = ada.put(f"/cases/{case['id']}/legal-hold", json={"enabled": False})
    assert lifted.status_code == 200 and not lifted.json()["enabled"]
    assert object_hold(version["versionId"]) == object_hold(newer["versionId"]) == "OFF"


def test_a_version_is_downloaded_only_once_verified(api, case, lambda_faults):
    """An insider asks for the download URL of an upload before the processor has looked at it: refused
    while the version is PROCESSING (its processor held back by a failing start the workflow retries)."""
    alice, ada = api("alice"), api("ada")
    documents = f"/cases/{case['id']}/documents"
    lambda_faults.inject("doc_process_start", times=3, error="DependencyUnavailable", caseId=case["id"])
    ticket = alice.post(documents, json=upload_body(FIRST, "unverified.txt")).json()
    assert post_form(ticket, FIRST).status_code in (200, 201, 204)
    path = f"{documents}/{ticket['documentId']}"
    deadline = time.monotonic() + 30
    while not lambda_faults.state()["fired"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lambda_faults.state()["fired"], "the processor's start was never attempted"
    (version,) = alice.get(path).json()["versions"]
    assert version["status"] in ("PENDING", "PROCESSING")  # a retried start is armed: no verdict yet
    for session, params in ((alice, {}), (ada, {}), (alice, {"versionId": version["versionId"]})):
        refused = session.get(f"{path}/download", params=params)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["details"][0]["field"] == "versionId"
        assert "once processing has verified it" in refused.json()["error"]["message"]
    wait_for_versions(alice, path, 1, timeout=60, status="READY")
    assert requests.get(alice.get(f"{path}/download").json()["url"], timeout=30).content == FIRST
    history = ada.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]
    downloads = [e["data"] for e in history if e["type"] == "DOCUMENT_DOWNLOADED"]
    assert [d["versionId"] for d in downloads].count(version["versionId"]) == 1  # refusals leave no download


def rejections(session, case_id: str, document_id: str, timeout: float = 30.0) -> list[dict]:
    """The document's DOCUMENT_UPLOAD_REJECTED events, once there is one."""
    deadline, found = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        history = session.get(f"/cases/{case_id}/history", params={"limit": 100}).json()["items"]
        found = [e for e in history
                 if e["type"] == "DOCUMENT_UPLOAD_REJECTED" and e["data"]["documentId"] == document_id]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no upload of document {document_id} was rejected")


def test_an_upload_form_posts_one_file_only(api, case, local_stack):
    """An insider keeps the upload form of a verified document and posts a second file with it: S3 stores the
    object, but the system records it as rejected, never processes it and never shows it as a version."""
    alice, ada = api("alice"), api("ada")
    documents = f"/cases/{case['id']}/documents"
    ticket = alice.post(documents, json=upload_body(FIRST, "grant.txt")).json()
    path = f"{documents}/{ticket['documentId']}"
    assert post_form(ticket, FIRST).status_code in (200, 201, 204)
    (version,) = wait_for_versions(alice, path, 1, status="READY")["versions"]

    assert post_form(ticket, SECOND).status_code in (200, 201, 204)  # the same form, another file
    (attempt,) = rejections(ada, case["id"], ticket["documentId"])
    assert attempt["data"]["grantId"] == ticket["upload"]["fields"]["x-amz-meta-grant-id"]
    assert "already used" in attempt["data"]["reason"] and attempt["data"]["versionId"] != version["versionId"]
    s3 = boto3.client("s3", endpoint_url=local_stack["awsEndpoint"], region_name=local_stack["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    stored = s3.list_object_versions(Bucket=local_stack["bucketName"], Prefix=ticket["upload"]["fields"]["key"])
    assert attempt["data"]["versionId"] in {v["VersionId"] for v in stored["Versions"]}  # in S3, kept as evidence

    document = alice.get(path).json()
    assert [v["versionId"] for v in document["versions"]] == [version["versionId"]]
    assert document["latestVersionId"] == version["versionId"] and document["status"] == "READY"
    history = ada.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]
    started = [e["data"]["versionId"] for e in history if e["type"] == "DOCUMENT_PROCESSING_STARTED"]
    assert attempt["data"]["versionId"] not in started  # no document workflow, no Fargate task for it
    refused = alice.get(f"{path}/download", params={"versionId": attempt["data"]["versionId"]})
    assert refused.status_code == 409 and "rejected" in refused.json()["error"]["message"]
    assert requests.get(alice.get(f"{path}/download").json()["url"], timeout=30).content == FIRST

    # A new form for a new version is the way to send another file.
    again = alice.post(f"{path}/versions", json=upload_body(SECOND, "grant v2.txt")).json()
    assert post_form(again, SECOND).status_code in (200, 201, 204)
    assert len(wait_for_versions(alice, path, 2)["versions"]) == 2


def test_no_upload_form_for_a_deleted_document(api, case):
    alice, ada = api("alice"), api("ada")
    documents = f"/cases/{case['id']}/documents"
    ticket = alice.post(documents, json=upload_body(FIRST, "withdrawn.txt")).json()
    assert ada.delete(f"{documents}/{ticket['documentId']}").status_code == 200
    refused = ada.post(f"{documents}/{ticket['documentId']}/versions", json=upload_body(FIRST, "again.txt"))
    assert refused.status_code == 409 and "deleted" in refused.json()["error"]["message"]
    assert post_form(ticket, FIRST).status_code in (200, 201, 204)  # the form handed out before the deletion
    (attempt,) = rejections(ada, case["id"], ticket["documentId"])
    assert attempt["data"]["reason"] == "the document was deleted"


def test_no_upload_form_for_a_closed_case(api):
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json={**CLAIM, "caseType": "GENERAL", "title": "Closed, then a late upload"}).json()
    ticket = alice.post(f"/cases/{case['id']}/documents", json=upload_body(FIRST, "late.txt")).json()
    deadline = time.monotonic() + 30
    while not open_tasks(ada, case["id"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    complete_all_tasks(api, ada, case["id"])
    while ada.get(f"/cases/{case['id']}").json()["status"] != "CLOSED" and time.monotonic() < deadline + 30:
        time.sleep(0.2)
    documents = f"/cases/{case['id']}/documents"
    refused = alice.post(documents, json=upload_body(FIRST, "after.txt"))
    assert refused.status_code == 409 and "closed" in refused.json()["error"]["message"]
    refused = alice.post(f"{documents}/{ticket['documentId']}/versions", json=upload_body(FIRST, "after.txt"))
    assert refused.status_code == 409 and "closed" in refused.json()["error"]["message"]
    assert post_form(ticket, FIRST).status_code in (200, 201, 204)  # a form handed out while it was open
    (attempt,) = rejections(ada, case["id"], ticket["documentId"])
    assert attempt["data"]["reason"] == "the case is closed"
    assert alice.get(f"{documents}/{ticket['documentId']}").json()["versions"] == []
