"""The controls around money and decisions (issue 12, items 3-8), tried over HTTP with real tokens the way an
insider would try to get around them."""
from __future__ import annotations

from tests.e2e.test_workflow import approvals_of, stage_is, wait_until

CLAIM = {"title": "Hail damage to car", "caseType": "CLAIM", "priority": "MEDIUM", "customerId": "CUST-SEC"}
COMPLAINT = {"title": "Damaged parcel", "caseType": "COMPLAINT", "priority": "MEDIUM", "customerId": "CUST-SEC",
             "compensation": {"amount": "80.00", "currency": "EUR"}}


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


def test_lowering_the_priority_during_approval_is_refused_and_level_two_stays(api):
    bob, ava, ada = api("bob"), api("ava"), api("ada")
    case = bob.post("/cases", json={**COMPLAINT, "priority": "CRITICAL"}).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    [first] = approvals_of(ava, case["id"])
    assert (first["level"], first["levels"]) == (1, 2)
    read = bob.get(f"/cases/{case['id']}")
    lowered = bob.patch(f"/cases/{case['id']}", json={"priority": "LOW"}, headers={"If-Match": read.headers["ETag"]})
    assert refused_field(lowered, 409) == ["priority"]
    assert bob.get(f"/cases/{case['id']}").json()["priority"] == "CRITICAL"

    assert ava.post(f"/approvals/{first['id']}/decision", json={"decision": "APPROVE"}).status_code == 200
    levels = [(a["level"], a["status"]) for a in approvals_of(ava, case["id"])]
    assert levels == [(1, "APPROVED"), (2, "PENDING")]  # the run still needs its second level
