"""Delegation of approvals (issue 12 item 6) over HTTP with real tokens, tried the way an insider would: naming
someone as `onBehalfOf` who never delegated, forging someone else's delegation, using a delegation before it
starts or after it was revoked, and using one to get around four-eyes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.e2e.test_money_controls import COMPLAINT, refused_field
from tests.e2e.test_workflow import approvals_of, stage_is, wait_until


def period(start_hours: float = -1, hours: float = 24) -> dict[str, str]:
    start = datetime.now(timezone.utc) + timedelta(hours=start_hours)
    return {"from": start.isoformat(), "until": (start + timedelta(hours=hours)).isoformat()}


def awaiting_approval(api, creator: str = "bob") -> tuple[dict, dict]:
    case = api(creator).post("/cases", json=COMPLAINT).json()
    wait_until(api("ada"), case["id"], stage_is("APPROVAL"), "asked for approval")
    [approval] = approvals_of(api("ava"), case["id"])
    return case, approval


def refused(response, *words: str) -> None:
    assert response.status_code == 403, response.text
    message = response.json()["error"]["message"]
    assert all(word in message for word in words), message


def on_behalf_of(session, approval: dict, delegator: str):
    return session.post(f"/approvals/{approval['id']}/decision", json={"decision": "APPROVE", "onBehalfOf": delegator})


def test_on_behalf_of_someone_who_never_delegated_is_refused(api):
    _, approval = awaiting_approval(api)
    refused(on_behalf_of(api("ava"), approval, "nobody-delegated"), "nobody-delegated has recorded no delegation")
    assert api("ava").get(f"/approvals/{approval['id']}").json()["status"] == "PENDING"
    assert api("ava").post(f"/approvals/{approval['id']}/decision", json={"decision": "REJECT"}).status_code == 200


def test_nobody_sets_a_delegation_for_someone_else_but_an_admin(api):
    for insider in ("ava", "sam", "fin", "aud"):  # ava would delegate ada's approvals to herself
        response = api(insider).put("/personnel/ada/delegation", json={"to": insider, **period()})
        assert response.status_code == 403, (insider, response.text)
        assert api(insider).delete("/personnel/ada/delegation").status_code == 403
    caseworker = api("alice").put("/personnel/alice/delegation", json={"to": "ava", **period()})
    assert caseworker.status_code == 403  # she has no approvals to delegate
    by_admin = api("ada").put("/personnel/ava/delegation", json={"to": "ada", **period()})
    assert by_admin.status_code == 200 and by_admin.json()["delegation"]["setBy"] == "ada", by_admin.text
    assert api("ada").delete("/personnel/ava/delegation").json()["delegation"]["revokedBy"] == "ada"


def test_a_delegation_request_is_checked_field_by_field(api):
    ava = api("ava")
    assert refused_field(ava.put("/personnel/ava/delegation", json={"to": "ava", **period()}), 400) == ["to"]
    backwards = {"from": period()["until"], "until": period()["from"]}
    assert refused_field(ava.put("/personnel/ava/delegation", json={"to": "ada", **backwards}), 400) == ["until"]
    too_long = period(hours=24 * 93)
    assert refused_field(ava.put("/personnel/ava/delegation", json={"to": "ada", **too_long}), 400) == ["until"]
    no_offset = {**period(), "from": "2026-03-01T08:00:00"}
    assert refused_field(ava.put("/personnel/ava/delegation", json={"to": "ada", **no_offset}), 400) == ["from"]


def test_a_delegation_is_used_within_its_period_and_recorded(api):
    ava, ada, aud = api("ava"), api("ada"), api("aud")
    _, approval = awaiting_approval(api)
    later = ada.put("/personnel/ada/delegation", json={"to": "ava", **period(start_hours=2)})
    assert later.status_code == 200, later.text
    refused(on_behalf_of(ava, approval, "ada"), "starts at")

    version = later.json()["delegation"]["version"] + 1
    now = ada.put("/personnel/ada/delegation", json={"to": "ava", **period()})
    assert now.status_code == 200 and now.json()["delegation"]["version"] == version
    assert ava.get("/personnel/ada/delegation").json()["delegation"]["to"] == "ava"  # the delegate reads it
    assert api("bob").get("/personnel/ada/delegation").status_code == 403
    decided = on_behalf_of(ava, approval, "ada")
    assert decided.status_code == 200, decided.text
    assert (decided.json()["decidedBy"], decided.json()["onBehalfOf"]) == ("ava", "ada")
    history = aud.get(f"/cases/{approval['caseId']}/history").json()["items"]
    event = next(e for e in history if e["type"] == "APPROVAL_DECIDED")
    assert event["data"]["onBehalfOf"] == "ada" and event["data"]["delegation"]["version"] == version
    assert event["data"]["delegation"]["setBy"] == "ada"

    log = aud.get("/personnel/ada/delegation").json()["log"]  # auditors read who delegated what when
    assert [(e["type"], e["seq"], e["actor"]) for e in log[:2]] == [("DELEGATION_SET", version, "ada"),
                                                                    ("DELEGATION_SET", version - 1, "ada")]


def test_a_revoked_delegation_no_longer_counts(api):
    ava, ada = api("ava"), api("ada")
    _, approval = awaiting_approval(api)
    assert ada.put("/personnel/ada/delegation", json={"to": "ava", **period()}).status_code == 200
    revoked = ada.delete("/personnel/ada/delegation")
    assert revoked.status_code == 200 and revoked.json()["delegation"]["revokedBy"] == "ada"
    assert ada.delete("/personnel/ada/delegation").status_code == 409  # revoked once
    refused(on_behalf_of(ava, approval, "ada"), "revoked by ada")
    assert revoked.json()["log"][0]["type"] == "DELEGATION_REVOKED"
    assert ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "REJECT"}).status_code == 200


def test_a_delegation_does_not_get_around_four_eyes(api):
    """ada edited the case, so she may not decide it; delegating it to ava in her name does not help."""
    ava, ada = api("ava"), api("ada")
    case, approval = awaiting_approval(api)
    read = ada.get(f"/cases/{case['id']}")
    edited = ada.patch(f"/cases/{case['id']}", json={"title": "Late delivery refund (edited)"},
                       headers={"If-Match": read.headers["ETag"]})
    assert edited.status_code == 200, edited.text
    assert ada.put("/personnel/ada/delegation", json={"to": "ava", **period()}).status_code == 200
    refused(on_behalf_of(ava, approval, "ada"), "four-eyes", "ada")
    assert ada.delete("/personnel/ada/delegation").status_code == 200
    assert ava.post(f"/approvals/{approval['id']}/decision", json={"decision": "REJECT"}).status_code == 200
