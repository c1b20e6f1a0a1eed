"""Delegation of approvals (issue 12 item 6): who may set, read and revoke a delegation, what a request must
hold (400 naming the field), and a decision's `onBehalfOf` accepted only under a delegation to the decider that
covers the moment of the decision; the decision records the delegation it relied on."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.approvals import ApprovalStatus
from chalicelib.domain.delegations import DelegationChange
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.support import principal
from tests.unit.test_approvals_service import ANN, BEA, awaiting_approval, chain_is_valid, pending

ROOT, SAM, AUD = principal("root", "admin"), principal("sam", "supervisor", team="claims"), principal("aud", "auditor")
CAL = principal("cal", "approver")


def period(system, start_hours=0.0, hours=24.0):
    now = system.clock()
    start = now + timedelta(hours=start_hours)
    return {"from": start.isoformat(), "until": (start + timedelta(hours=hours)).isoformat()}


def fields_of(excinfo):
    return [issue.field for issue in excinfo.value.details]


# -- setting, reading, revoking --------------------------------------------------------------------------------


def test_an_approver_delegates_and_the_log_keeps_who_did_what(system):
    view = system.delegations.put(BEA, "bea", {"to": "ann", **period(system)})
    assert (view.delegation.username, view.delegation.to, view.delegation.set_by, view.delegation.version) == (
        "bea", "ann", "bea", 1)
    assert view.delegation.from_.endswith("Z") and view.delegation.revoked_at is None
    system.clock.advance(minutes=5)
    replaced = system.delegations.put(ROOT, "bea", {"to": "cal", **period(system)})  # an admin may set it for her
    assert (replaced.delegation.to, replaced.delegation.set_by, replaced.delegation.version) == ("cal", "root", 2)
    revoked = system.delegations.revoke(BEA, "bea")
    assert (revoked.delegation.revoked_by, revoked.delegation.version) == ("bea", 3)
    assert [(e.type, e.to, e.actor) for e in revoked.log] == [
        (DelegationChange.REVOKED, "cal", "bea"), (DelegationChange.SET, "cal", "root"),
        (DelegationChange.SET, "ann", "bea"),
    ]
    with pytest.raises(Conflict, match="already revoked by bea"):
        system.delegations.revoke(ROOT, "bea")


@pytest.mark.parametrize("who", [ANN, SAM, AUD, principal("alice", "caseworker", team="claims")])
def test_nobody_else_sets_or_revokes_a_delegation(system, who):
    with pytest.raises(Forbidden):
        system.delegations.put(who, "bea", {"to": who.username if who is not ANN else "cal", **period(system)})
    system.delegations.put(BEA, "bea", {"to": "cal", **period(system)})
    with pytest.raises(Forbidden):
        system.delegations.revoke(who, "bea")
    assert system.delegations.current("bea").revoked_at is None


def test_only_people_who_decide_approvals_delegate_their_own(system):
    alice = principal("alice", "caseworker", team="claims")
    with pytest.raises(Forbidden, match="decide approvals"):
        system.delegations.put(alice, "alice", {"to": "ann", **period(system)})


def test_the_person_their_delegate_and_directory_readers_read_it(system):
    with pytest.raises(NotFound):
        system.delegations.get(BEA, "bea")
    system.delegations.put(BEA, "bea", {"to": "ann", **period(system)})
    for who in (BEA, ANN, SAM, AUD, ROOT):
        assert system.delegations.get(who, "bea").delegation.to == "ann"
    for who in (CAL, principal("alice", "caseworker", team="claims")):
        with pytest.raises(Forbidden):
            system.delegations.get(who, "bea")


@pytest.mark.parametrize("change, field", [
    ({"to": "bea"}, "to"),
    ({"to": "not a name"}, "to"),
    ({"until": "2026-03-01T11:00:00Z"}, "until"),  # before `from`
    ({"from": "2026-03-01T12:00:00Z", "until": "2026-03-01T12:00:00Z"}, "until"),  # empty
    ({"from": "2026-03-01T12:00:00Z", "until": "2026-06-02T12:00:00Z"}, "until"),  # longer than 92 days
    ({"from": "2026-02-01T00:00:00Z", "until": "2026-02-02T00:00:00Z"}, "until"),  # over already
    ({"from": "2026-03-01T12:00:00"}, "from"),  # no offset
    ({"from": "next monday"}, "from"),
    ({"extra": 1}, "extra"),
])
def test_a_bad_request_is_a_400_naming_the_field_and_stores_nothing(system, change, field):
    body = {"to": "ann", "from": "2026-03-01T12:00:00Z", "until": "2026-03-08T12:00:00Z", **change}
    with pytest.raises(InvalidInput) as excinfo:
        system.delegations.put(BEA, "bea", body)
    assert fields_of(excinfo) == [field]
    assert system.delegations.current("bea") is None


# -- onBehalfOf on a decision --------------------------------------------------------------------------------


def test_on_behalf_of_without_a_delegation_is_refused_naming_why(system):
    case_id = awaiting_approval(system)
    with pytest.raises(Forbidden, match="bea has recorded no delegation"):
        system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "bea"})
    assert pending(system, case_id)


def test_a_delegation_to_someone_else_does_not_count(system):
    case_id = awaiting_approval(system)
    system.delegations.put(BEA, "bea", {"to": "cal", **period(system)})
    with pytest.raises(Forbidden, match="delegated to someone else, not to ann"):
        system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "bea"})
    assert system.approvals.decide(CAL, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "bea"}).on_behalf_of \
        == "bea"


def test_a_delegation_counts_only_within_its_period(system):
    case_id = awaiting_approval(system)
    system.delegations.put(BEA, "bea", {"to": "ann", **period(system, start_hours=1, hours=2)})
    on_behalf = {"decision": "APPROVE", "onBehalfOf": "bea"}
    with pytest.raises(Forbidden, match="starts at"):
        system.approvals.decide(ANN, f"{case_id}-a1", on_behalf)
    system.clock.advance(hours=3)  # from + 2 h: the end itself is outside
    with pytest.raises(Forbidden, match="ended at"):
        system.approvals.decide(ANN, f"{case_id}-a1", on_behalf)
    system.clock.advance(hours=-1)
    assert system.approvals.decide(ANN, f"{case_id}-a1", on_behalf).status == ApprovalStatus.APPROVED


def test_a_revoked_delegation_does_not_count(system):
    case_id = awaiting_approval(system)
    system.delegations.put(BEA, "bea", {"to": "ann", **period(system)})
    system.delegations.revoke(ROOT, "bea")
    with pytest.raises(Forbidden, match="revoked by root"):
        system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "bea"})


def test_the_decision_records_the_delegation_it_relied_on(system):
    case_id = awaiting_approval(system)
    set_view = system.delegations.put(ROOT, "bea", {"to": "ann", **period(system)})
    system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "REJECT", "onBehalfOf": "bea"})
    event = system.repo.list_events(case_id)[-1]
    assert event.type == "APPROVAL_DECIDED" and event.data["onBehalfOf"] == "bea"
    assert event.data["delegation"] == {
        "from": set_view.delegation.from_, "until": set_view.delegation.until, "setBy": "root",
        "setAt": set_view.delegation.set_at, "version": 1,
    }
    assert chain_is_valid(system, case_id)


def test_four_eyes_still_applies_to_the_delegator_and_the_decider(system):
    creator = principal("alice", "caseworker", "approver", team="claims")
    case_id = awaiting_approval(system, creator=creator)
    system.delegations.put(creator, "alice", {"to": "ann", **period(system)})
    with pytest.raises(Forbidden, match="four-eyes: alice"):
        system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "alice"})
    system.delegations.put(BEA, "bea", {"to": "alice", **period(system)})
    with pytest.raises(Forbidden, match="four-eyes: alice"):
        system.approvals.decide(creator, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "bea"})
    assert pending(system, case_id)
