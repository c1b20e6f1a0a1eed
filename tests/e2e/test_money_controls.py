"""The controls around money and decisions (issue 12, items 3-8), tried over HTTP with real tokens the way an
insider would try to get around them."""
from __future__ import annotations

from tests.e2e.test_workflow import stage_is, wait_until

CLAIM = {"title": "Hail damage to car", "caseType": "CLAIM", "priority": "MEDIUM", "customerId": "CUST-SEC"}


def refused_field(response, status):
    assert response.status_code == status, response.text
    return [detail["field"] for detail in response.json()["error"]["details"]]


def test_a_claim_cannot_drop_its_required_documents(api):
    alice = api("alice")
    for documents in ([], ["police-report"], ["claim-form"]):
        refused = alice.post("/cases", json={**CLAIM, "requiredDocuments": documents})
        assert refused_field(refused, 400) == ["requiredDocuments"]
    more = alice.post("/cases", json={**CLAIM, "requiredDocuments": ["claim-form", "proof-of-loss", "police-report"]})
    assert more.status_code == 201, more.text
    assert more.json()["requiredDocuments"] == ["claim-form", "proof-of-loss", "police-report"]
    wait_until(api("ada"), more.json()["id"], stage_is("DOCUMENTS"), "waited for its documents")
