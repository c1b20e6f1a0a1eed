"""Uploads go through the document workflow on the running local system: Step Functions runs the Fargate
processor (the local runner executes fargate/'s entry point) on each object version, the verdict lands on
the version, and a claim whose required documents are all READY leaves its DOCUMENTS stage by itself."""
from __future__ import annotations

import hashlib
import json
import time

import requests

from tests.e2e.test_documents import post_form, upload_body
from tests.e2e.test_workflow import complete_all_tasks, open_tasks, stage_is, wait_until

CLAIM = {"title": "Burst pipe, kitchen", "caseType": "CLAIM", "priority": "LOW", "customerId": "CUST-9014"}
FORM = b"Claim form\nPolicy 12345\nDate of loss: 2 March\n"
PROOF = b"Plumber invoice 0042\nReplace burst pipe under sink\nTotal 310.00 EUR\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200


def upload(session, case_id, content, filename, kind=None, content_type="text/plain"):
    body = upload_body(content, filename, **({"kind": kind} if kind else {}))
    body["contentType"] = content_type
    ticket = session.post(f"/cases/{case_id}/documents", json=body)
    assert ticket.status_code == 201, ticket.text
    ticket = ticket.json()
    assert post_form(ticket, content).status_code in (200, 201, 204)
    return ticket["documentId"]


def processed(session, case_id, document_id, timeout=60):
    deadline, document = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        document = session.get(f"/cases/{case_id}/documents/{document_id}").json()
        versions = document.get("versions") or []
        if versions and versions[-1]["status"] in ("READY", "QUARANTINED"):
            return versions[-1]
        time.sleep(0.3)
    raise AssertionError(f"document {document_id} was never processed; last seen: {document}")


def finish_work(api, case_id, timeout=30):
    """Claims give alice's team tasks: do them, so other tests on the shared system find capacity as it was."""
    ada, deadline = api("ada"), time.monotonic() + timeout
    while not open_tasks(ada, case_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    complete_all_tasks(api, ada, case_id)


def test_required_documents_processed_ready_let_the_claim_move_on(api):
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json=CLAIM).json()
    wait_until(ada, case["id"], stage_is("DOCUMENTS"), "waited for documents")
    form = processed(alice, case["id"], upload(alice, case["id"], FORM, "claim-form.txt", "claim-form"))
    assert form["status"] == "READY" and form["sha256"] == hashlib.sha256(FORM).hexdigest()
    assert ada.get(f"/cases/{case['id']}").json()["status"] == "PENDING_DOCUMENTS"  # one is still missing
    proof = processed(alice, case["id"], upload(alice, case["id"], PROOF, "invoice.txt", "proof-of-loss"))
    assert proof["status"] == "READY"
    moved = wait_until(ada, case["id"], stage_is("APPROVAL"), "moved on to approval")
    assert moved["status"] == "PENDING_APPROVAL"
    history = [e["type"] for e in ada.get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]]
    assert history.count("DOCUMENT_UPLOADED") == 2 and history.count("DOCUMENT_VERIFIED") == 2
    export_evidence(api("sam"), case["id"], {form["sha256"], proof["sha256"]})
    finish_work(api, case["id"])


def export_evidence(supervisor, case_id, expected_hashes):
    """The exported files and the manifest check out against each other and against the history."""
    response = supervisor.post(f"/cases/{case_id}/exports", json={"reason": "insurer's loss adjuster"})
    assert response.status_code == 201, response.text
    export = response.json()
    manifest = requests.get(export["manifestUrl"], timeout=30)
    assert manifest.status_code == 200 and hashlib.sha256(manifest.content).hexdigest() == export["manifestSha256"]
    assert {d["sha256"] for d in json.loads(manifest.content)["documents"]} == expected_hashes
    for document in export["documents"]:
        assert hashlib.sha256(requests.get(document["url"], timeout=30).content).hexdigest() == document["sha256"]
    history = supervisor.get(f"/cases/{case_id}/history", params={"limit": 100}).json()["items"]
    (exported,) = [e for e in history if e["type"] == "DOCUMENTS_EXPORTED"]
    assert exported["data"]["manifestSha256"] == export["manifestSha256"] and exported["actor"] == "sam"
    assert supervisor.get(f"/cases/{case_id}/history/verify").json()["valid"] is True


def test_an_executable_named_like_a_pdf_is_quarantined_with_a_reason(api):
    alice = api("alice")
    case = alice.post("/cases", json={**CLAIM, "title": "Suspicious upload"}).json()
    document_id = upload(alice, case["id"], ELF, "report.pdf", content_type="application/pdf")
    version = processed(alice, case["id"], document_id)
    assert version["status"] == "QUARANTINED" and version["reasons"], version
    link = alice.get(f"/cases/{case['id']}/documents/{document_id}/download")
    assert link.status_code == 409  # nobody but an admin downloads quarantined evidence
    history = [e["type"] for e in api("ada").get(f"/cases/{case['id']}/history", params={"limit": 100}).json()["items"]]
    assert "DOCUMENT_QUARANTINED" in history
    finish_work(api, case["id"])


def test_a_version_whose_processing_cannot_start_is_quarantined_with_the_error(api, lambda_faults):
    alice = api("alice")
    case = alice.post("/cases", json={**CLAIM, "title": "Processor down"}).json()
    wait_until(api("ada"), case["id"], stage_is("DOCUMENTS"), "waited for documents")
    # Not an error the workflow retries: it goes straight to the Quarantine state (doc_process_failed).
    lambda_faults.inject("doc_process_start", times=1, error="ProcessorMisconfigured", caseId=case["id"])
    version = processed(alice, case["id"], upload(alice, case["id"], FORM, "claim-form.txt", "claim-form"))
    assert version["status"] == "QUARANTINED" and version["reasons"] == ["processing failed: ProcessorMisconfigured"]
    assert [f["function"] for f in lambda_faults.state()["fired"]] == ["doc_process_start"]
    finish_work(api, case["id"])


def test_a_run_resumed_after_its_documents_arrived_does_not_wait_for_them(api, lambda_faults):
    alice, ada = api("alice"), api("ada")
    case = alice.post("/cases", json={**CLAIM, "title": "Documents first"}).json()
    # The first run fails as it enters its documents stage (an error no Retry covers: straight to the saga).
    lambda_faults.inject("wf_wait", times=1, error="StageMisconfigured", caseId=case["id"])
    wait_until(ada, case["id"], lambda c: c["status"] == "NEEDS_ATTENTION", "failed its run")
    for content, filename, kind in ((FORM, "claim-form.txt", "claim-form"), (PROOF, "invoice.txt", "proof-of-loss")):
        assert processed(alice, case["id"], upload(alice, case["id"], content, filename, kind))["status"] == "READY"
    resumed = ada.post(f"/cases/{case['id']}/workflow/resume")
    assert resumed.status_code == 200, resumed.text
    # The new run's documents stage finds them ready as it begins, and resumes itself.
    wait_until(ada, case["id"], stage_is("APPROVAL"), "moved on to approval")
    finish_work(api, case["id"])
