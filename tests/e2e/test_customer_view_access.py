"""Who may see a customer (issue 12, item 15), over HTTP with real tokens on the running local system: people
who work cases look any customer up; approvers, finance and auditors only a customer one of whose cases they may
see, and are otherwise answered 404 exactly as for a customer that does not exist. A data product that fails is
named with a generic status: its internal address and the exception's text never reach the client."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from tests.e2e.test_workflow import approvals_of, complete_all_tasks, stage_is, wait_until

ONE_CASE = "CUST-17"  # each customer here is used by this module only
NO_CASE = "CUST-18"
FAILING = "CUST-19"


def refused_as_missing(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_approvers_finance_and_auditors_see_only_customers_of_cases_they_may_see(api):
    bob, ava, fin, aud, ada = api("bob"), api("ava"), api("fin"), api("aud"), api("ada")
    for user in (ava, fin, aud):
        refused_as_missing(user.get(f"/customers/{NO_CASE}"))
        refused_as_missing(user.get(f"/customers/{ONE_CASE}"))
    assert bob.get(f"/customers/{NO_CASE}").status_code == 200  # people who work cases look customers up

    case = bob.post("/cases", json={
        "title": "Refund for a damaged parcel", "caseType": "COMPLAINT", "priority": "MEDIUM",
        "customerId": ONE_CASE, "compensation": {"amount": "40.00", "currency": "EUR"},
    }).json()
    assert aud.get(f"/customers/{ONE_CASE}").status_code == 200  # auditors read every case
    wait_until(ada, case["id"], stage_is("APPROVAL"), "asked for approval")
    assert ava.get(f"/customers/{ONE_CASE}").status_code == 200  # the approver reads the case she decides
    refused_as_missing(fin.get(f"/customers/{ONE_CASE}"))  # nothing to pay yet
    [approval] = approvals_of(ava, case["id"])
    assert ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE"}).status_code == 200
    wait_until(ada, case["id"], stage_is("PAYMENT"), "waited for payment")
    assert fin.get(f"/customers/{ONE_CASE}").status_code == 200  # finance reads the case it pays
    refused_as_missing(ava.get(f"/customers/{ONE_CASE}"))  # decided: no longer hers to read
    refused_as_missing(fin.get(f"/customers/{NO_CASE}"))

    assert fin.post(f"/cases/{case['id']}/compensation/payment", json={"reference": "PAY-CV-1"}).status_code == 200
    wait_until(ada, case["id"], stage_is("TASKS"), "waited for its tasks")
    complete_all_tasks(api, ada, case["id"])  # leave bob's capacity to the other tests


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe is closed


def test_a_failing_product_reveals_no_internal_address_or_error(api, local_stack):
    """A product registered in the catalog whose port refuses connections: the view still answers, naming the
    product with a generic status; neither its URL nor the connection error reaches the client."""
    catalog = Path(local_stack["mesh"]["catalogDir"])
    crm = json.loads((catalog / "crm.customer-profile.json").read_text())
    internal = f"http://127.0.0.1:{closed_port()}/internal/crm-replica"
    broken = {**crm, "id": "crm.customer-replica", "name": "CRM replica",
              "outputPorts": [{**crm["outputPorts"][0], "location": internal}]}
    added = catalog / "crm.customer-replica.json"
    added.write_text(json.dumps(broken))
    try:
        response = api("alice").get(f"/customers/{FAILING}")
    finally:
        added.unlink()
    assert response.status_code == 200, response.text
    view = response.json()
    [failed] = [s for s in view["sources"] if s["product"] == "crm.customer-replica"]
    assert failed["status"] == "UNAVAILABLE" and failed["error"]
    assert view["fields"]["name"]["source"] == "crm.customer-profile"  # the others still answer
    for detail in (internal, "127.0.0.1", "internal", "refused", "Errno", "urlopen"):
        assert detail not in response.text
