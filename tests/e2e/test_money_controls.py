"""The controls around money and decisions (issue 12, items 3-8), tried over HTTP with real tokens the way an
insider would try to get around them."""
from __future__ import annotations

import pytest

from tests.e2e.test_workflow import approvals_of, complete_all_tasks, stage_is, wait_until

CLAIM = {"title": "Hail damage to car", "caseType": "CLAIM", "priority": "MEDIUM", "customerId": "CUST-9012"}
COMPLAINT = {"title": "Damaged parcel", "caseType": "COMPLAINT", "priority": "MEDIUM", "customerId": "CUST-9012",
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
    complete_all_tasks(api, api("ada"), more.json()["id"])  # leave alice's capacity to the other tests


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


@pytest.mark.parametrize("creator, approver", [("bob", "ada"), ("ada", "ava")], ids=["ada-approved", "ada-created"])
def test_the_admin_who_approved_or_created_a_case_may_not_confirm_its_payment(api, creator, approver):
    ada, fin = api("ada"), api("fin")
    case = api(creator).post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    [approval] = approvals_of(api(approver), case["id"])
    if creator == "ada":
        refused = ada.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
        assert refused.status_code == 403 and "four-eyes" in refused.json()["error"]["message"]
    decided = api(approver).post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
    assert decided.status_code == 200, decided.text
    wait_until(ada, case["id"], stage_is("PAYMENT"), "waited for payment")
    refused = ada.post(f"/cases/{case['id']}/compensation/payment", json={"reference": "SELF-1"})
    assert refused.status_code == 403 and "segregation of duties" in refused.json()["error"]["message"]
    paid = fin.post(f"/cases/{case['id']}/compensation/payment", json={"reference": f"PAY-SOD-{creator}"})
    assert paid.status_code == 200, paid.text


def test_whoever_edited_a_case_may_not_decide_it(api):
    bob, ada, ava = api("bob"), api("ada"), api("ava")
    case = bob.post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    read = ada.get(f"/cases/{case['id']}")
    edited = ada.patch(f"/cases/{case['id']}", json={"title": "Damaged parcel (photos attached)"},
                       headers={"If-Match": read.headers["ETag"]})
    assert edited.status_code == 200, edited.text
    [approval] = approvals_of(ava, case["id"])
    refused = ada.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
    assert refused.status_code == 403 and "four-eyes" in refused.json()["error"]["message"]
    assert ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"}).status_code == 200


def test_caps_and_thresholds_are_per_currency(api):
    bob = api("bob")
    unsupported = bob.post("/cases", json={**COMPLAINT, "compensation": {"amount": "80.00", "currency": "JPY"}})
    assert refused_field(unsupported, 400) == ["compensation.currency"]
    over_gbp_cap = bob.post("/cases", json={**COMPLAINT, "compensation": {"amount": "4300.01", "currency": "GBP"}})
    assert refused_field(over_gbp_cap, 400) == ["compensation.amount"]
    within_usd_cap = bob.post("/cases", json={**COMPLAINT, "compensation": {"amount": "5400.00", "currency": "USD"}})
    assert within_usd_cap.status_code == 201, within_usd_cap.text
    rules = {t["id"]: t["currencies"] for t in bob.get("/case-types").json()["items"]}
    assert rules["COMPLAINT"]["USD"] == {"cap": "5500.00", "secondLevelAbove": "2750.00"}
