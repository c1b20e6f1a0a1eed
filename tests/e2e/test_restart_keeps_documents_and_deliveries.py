"""Ctrl-C and a start on the same state folder lose nothing moto held in memory: an uploaded document downloads
after the restart with the same bytes under the same version id (the table names versions by id), and a webhook
delivery waiting in the delivery queue for its retry when the system stopped is delivered after the start."""
from __future__ import annotations

import threading

import requests

from tests.e2e.test_documents import post_form, upload_body, wait_for_versions
from tests.e2e.test_webhooks import Receiver
from tests.local_system import Api, LocalProcess, login_to

GENERAL = {"title": "Kept across a restart", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-1001"}
DOCUMENT = "Receipt, 12 March: 1 250,00 € for the boiler; signed Jürgen Ødegård.\n".encode() * 40


def test_a_document_and_a_queued_webhook_delivery_survive_a_restart(tmp_path):
    receiving = threading.Event()  # the receiver answers 503 until it is set: the delivery waits for a retry
    receiver = Receiver(lambda tries: 200 if receiving.is_set() else 503)
    first = LocalProcess(tmp_path, seed=False)
    try:
        stack = first.wait_ready()
        login = login_to(stack)
        alice, ada = Api(stack["apiUrl"], login("alice")), Api(stack["apiUrl"], login("ada"))
        case = alice.post("/cases", json=GENERAL).json()
        documents = f"/cases/{case['id']}/documents"
        ticket = alice.post(documents, json=upload_body(DOCUMENT, "receipt.txt")).json()
        assert post_form(ticket, DOCUMENT).status_code in (200, 201, 204)
        path = f"{documents}/{ticket['documentId']}"
        [version] = wait_for_versions(alice, path, 1, status="READY")["versions"]

        webhook = ada.post("/webhooks", json={"url": receiver.url, "events": ["case.created"]}).json()
        retried = alice.post("/cases", json={**GENERAL, "title": "Its delivery is retried"}).json()
        [failed] = receiver.wait_for("the first attempt", lambda: receiver.events(retried["id"])[:1])
    finally:
        first.stop()  # at once: the retry is queued with a delay of seconds
    assert failed.status == 503

    receiving.set()
    second = LocalProcess(tmp_path, seed=False)
    try:
        stack = second.wait_ready()
        login = login_to(stack)
        alice, ada = Api(stack["apiUrl"], login("alice")), Api(stack["apiUrl"], login("ada"))
        link = alice.get(f"{path}/download").json()
        assert link["versionId"] == version["versionId"]
        assert requests.get(link["url"], timeout=30).content == DOCUMENT

        delivered = receiver.wait_for("the retried delivery", lambda: [
            r for r in receiver.events(retried["id"]) if r.status == 200
        ], timeout=30)
        assert [r.headers["webhook-id"] for r in delivered] == [failed.headers["webhook-id"]]  # the same event
        [record] = receiver.wait_for("the delivery's record", lambda: [
            d for d in ada.get(f"/webhooks/{webhook['id']}/deliveries").json()["items"]
            if d["caseId"] == retried["id"] and d["status"] == "DELIVERED"
        ])
        assert record["attempts"] >= 2
    finally:
        second.stop()
        receiver.stop()
