"""The saga never voids a payment instruction finance may have paid (issue 12 item 7), over HTTP with real
tokens: a run that fails after its instruction was issued puts it ON_HOLD; nobody pays around the hold, nobody
but finance (segregation of duties as for paying) resolves it, and no new instruction is issued until finance
says the held one was not paid. A rejected case is reopened only by a supervisor or an admin, with a reason."""
from __future__ import annotations

from tests.e2e.test_money_controls import COMPLAINT, refused_field
from tests.e2e.test_workflow import approvals_of, complete_all_tasks, stage_is, wait_until
from tests.e2e.test_workflow_failures import RETRIES_TAKE, events_of, poll

COMPLAINT_AMOUNT = "80.00"  # COMPLAINT's compensation
GENERAL_WITH_MONEY = {"title": "Goodwill refund", "caseType": "GENERAL", "priority": "MEDIUM",
                      "customerId": "CUST-9012",
                      "compensation": {"amount": "60.00", "currency": "EUR"}}


def held_case(api, lambda_faults, approver: str = "ava") -> dict:
    """A complaint whose Compensate step wrote its payment instruction and then failed for good: the saga ran."""
    bob, ada = api("bob"), api("ada")
    case = bob.post("/cases", json=COMPLAINT).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    lambda_faults.inject("wf_compensate", times=-1, error="PaymentSystemError", caseId=case["id"], when="after")
    [approval] = approvals_of(api(approver), case["id"])
    decided = api(approver).post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"})
    assert decided.status_code == 200, decided.text
    wait_until(ada, case["id"], lambda c: c["status"] == "NEEDS_ATTENTION", "needed attention",
               timeout=RETRIES_TAKE + 20)
    lambda_faults.clear()
    return case


def resolve(session, case_id: str, **body):
    return session.post(f"/cases/{case_id}/compensation/hold/resolve", json=body)


def resumed_and_approved_again(api, case_id: str, approver: str = "ava") -> None:
    """An admin resumes the failed run; the saga undid its approval, so the new run asks for one again."""
    ada = api("ada")
    assert ada.post(f"/cases/{case_id}/workflow/resume").status_code == 200
    wait_until(ada, case_id, lambda c: c["workflow"]["run"] == 2 and c["workflow"]["stage"] == "APPROVAL",
               "asked for approval again")
    [again] = poll(lambda: [a for a in approvals_of(api(approver), case_id) if a["run"] == 2], bool,
                   "the second run's approval")  # it opens just after the case shows the stage
    decided = api(approver).post(f"/approvals/{again['id']}/decision", json={"decision": "APPROVE"})
    assert decided.status_code == 200, decided.text


def test_a_held_instruction_is_not_paid_around_its_hold_and_replaced_only_once_found_unpaid(api, lambda_faults):
    fin, ada = api("fin"), api("ada")
    case = held_case(api, lambda_faults)
    record = fin.get(f"/cases/{case['id']}/compensation").json()
    held = record["instruction"]
    assert held["status"] == "ON_HOLD" and held["heldBy"] == "workflow" and record["ledger"][-1]["type"] == "HELD"
    assert [e["type"] for e in events_of(ada, case["id"], "PAYMENT_HELD")] == ["PAYMENT_HELD"]

    paid_around = fin.post(f"/cases/{case['id']}/compensation/payment", json={"reference": "PAY-AROUND"})
    assert paid_around.status_code == 409 and "resolve its hold" in paid_around.json()["error"]["message"]
    for insider in ("bob", "ava", "sam", "aud"):  # the creator, the approver, others who do not pay
        assert resolve(api(insider), case["id"], outcome="NOT_PAID").status_code in (403, 404), insider
    assert refused_field(resolve(fin, case["id"], outcome="PAID"), 400) == ["reference"]
    assert refused_field(resolve(fin, case["id"], outcome="NOT_PAID", reference="X-1"), 400) == ["reference"]

    # A new run (supervisor or admin resumes it) reaches Compensate: it issues nothing and waits for finance.
    resumed_and_approved_again(api, case["id"])
    waiting = wait_until(ada, case["id"], stage_is("PAYMENT"), "waited for payment")
    assert waiting["status"] == "COMPENSATION"
    resumed = events_of(ada, case["id"], "COMPENSATION_RESUMED")[-1]["data"]
    assert (resumed["instructionStatus"], resumed["waitingFor"]) == ("ON_HOLD", "finance to resolve the hold")
    assert fin.get(f"/cases/{case['id']}/compensation").json()["instruction"]["id"] == held["id"]

    resolved = resolve(fin, case["id"], outcome="NOT_PAID", note="not on the statement of the payment account")
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["instruction"]["status"] == "PENDING" and body["instruction"]["id"] != held["id"]
    assert [e["type"] for e in body["ledger"]][-3:] == ["HELD", "VOIDED", "INSTRUCTED"]
    assert resolve(fin, case["id"], outcome="NOT_PAID").status_code == 409  # resolved once
    assert fin.post(f"/cases/{case['id']}/compensation/payment", json={"reference": "PAY-HOLD-1"}).status_code == 200
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    complete_all_tasks(api, ada, case["id"])
    wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")
    ledger = [e["type"] for e in fin.get(f"/cases/{case['id']}/compensation").json()["ledger"]]
    assert ledger.count("PAID") == 1 and ledger.count("INSTRUCTED") == 2
    assert ada.get(f"/cases/{case['id']}/history/verify").json()["valid"] is True


def test_a_held_instruction_found_paid_is_never_paid_again(api, lambda_faults):
    fin, ada = api("fin"), api("ada")
    case = held_case(api, lambda_faults, approver="ada")
    refused = resolve(ada, case["id"], outcome="PAID", reference="SELF-1")  # she approved it
    assert refused.status_code == 403 and "segregation of duties" in refused.json()["error"]["message"]
    resolved = resolve(fin, case["id"], outcome="PAID", reference="PAY-HOLD-2")
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["instruction"]["status"], resolved.json()["paid"]) == ("PAID", COMPLAINT_AMOUNT)

    resumed_and_approved_again(api, case["id"], approver="ava")
    wait_until(ada, case["id"], stage_is("TASKS"), "passed the payment it found made")
    ledger = [e["type"] for e in fin.get(f"/cases/{case['id']}/compensation").json()["ledger"]]
    assert ledger.count("INSTRUCTED") == 1 and ledger.count("PAID") == 1
    complete_all_tasks(api, ada, case["id"])
    wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")


def test_a_rejected_case_is_reopened_only_by_a_supervisor_or_admin_with_a_reason(api):
    alice, sam, ava, ada = api("alice"), api("sam"), api("ava"), api("ada")
    case = alice.post("/cases", json=GENERAL_WITH_MONEY).json()
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    [approval] = approvals_of(ava, case["id"])
    assert ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "REJECT"}).status_code == 200
    wait_until(ada, case["id"], lambda c: c["status"] == "CLOSED", "closed")

    refused = alice.post(f"/cases/{case['id']}/reopen", json={"reason": "the customer insists"})
    assert refused.status_code == 403 and "supervisor or an admin" in refused.json()["error"]["message"]
    assert refused_field(sam.post(f"/cases/{case['id']}/reopen"), 400) == ["reason"]
    assert refused_field(sam.post(f"/cases/{case['id']}/reopen", json={"reason": "  "}), 400) == ["reason"]
    assert alice.get(f"/cases/{case['id']}").json()["status"] == "CLOSED"

    reason = "the customer sent the receipt the rejection missed"
    reopened = sam.post(f"/cases/{case['id']}/reopen", json={"reason": reason})
    assert reopened.status_code == 200 and reopened.json()["status"] == "REOPENED", reopened.text
    [event] = events_of(ada, case["id"], "CASE_REOPENED")
    assert (event["data"]["by"], event["data"]["reason"], event["data"]["closedAs"]) == ("sam", reason, "REJECTED")
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval again")
    again = poll(lambda: [a for a in approvals_of(ava, case["id"]) if a["status"] == "PENDING"], bool,
                 "the second run's approval")
    assert len(again) == 1 and again[0]["run"] == 2
    assert ava.post(f"/approvals/{again[0]['id']}/decision", json={"decision": "REJECT"}).status_code == 200
