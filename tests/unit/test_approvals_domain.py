"""Approval rules without storage: levels by amount and priority, four-eyes, ids and inbox keys,
visibility, and the run's outcome."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo.keys import approval_inbox_pk as inbox_key, approval_inbox_sk as inbox_sort_key
from chalicelib.domain.approvals import (
    APPROVER_QUEUE, Approval, ApprovalStatus, Decision, DecisionRequest, approval_id, case_id_of, case_write,
    check_may_decide, decided, expired, involved, levels_required, may_see,
    new_approval, outcome, require_reader,
)
from chalicelib.domain.case_types import CaseType, CurrencyPolicy
from chalicelib.domain.models import CaseStatus, WorkflowState
from chalicelib.errors import Conflict, Forbidden
from tests.support import new_case, principal, SEED_TYPES

TYPES = {t.id: t for t in SEED_TYPES}
AT = "2026-03-01T12:00:00.000Z"


def claim(amount: str | None = "500.00", priority: str = "MEDIUM", currency: str = "EUR", **overrides):
    compensation = {"amount": amount, "currency": currency} if amount else None
    case, _ = new_case("case-1", case_type="CLAIM", priority=priority, compensation=compensation, team="claims",
                       **overrides)
    return case


def approval(level: int = 1, n: int | None = None, **overrides) -> Approval:
    base = new_approval(claim(), n or level, level, AT)
    return base.model_copy(update=overrides)


@pytest.mark.parametrize(
    "amount, priority, levels",
    [
        ("500.00", "MEDIUM", 1),
        ("1000.00", "HIGH", 1),  # up to the threshold: one level
        ("1000.01", "LOW", 2),  # above it: two
        ("50.00", "CRITICAL", 2),  # a critical claim needs two whatever the amount
        (None, "MEDIUM", 1),
        (None, "CRITICAL", 2),
    ],
)
def test_claim_levels_by_amount_and_priority(amount, priority, levels):
    assert levels_required(claim(amount, priority), TYPES["CLAIM"]) == levels


def test_policy_is_per_case_type():
    case = claim("2000.00")
    assert levels_required(case, TYPES["COMPLAINT"]) == 1  # complaints go to level 2 only above 2500.00
    assert levels_required(case, CaseType(id="X", name="x", sla_hours={})) == 1  # no policy: one level
    strict = CaseType(id="X", name="x", sla_hours={}, currencies={"EUR": CurrencyPolicy(second_level_above="0.00")})
    assert levels_required(claim("0.01"), strict) == 2


def test_case_types_publish_their_policy_in_camel_case():
    published = TYPES["CLAIM"].to_api()
    # Issue 12 item 8: caps and thresholds are per currency (they were one amount for every currency).
    assert published["approvalPolicy"] == {"secondLevelPriorities": ["CRITICAL"]}
    assert published["currencies"]["EUR"] == {"cap": "50000.00", "secondLevelAbove": "1000.00"}
    assert set(published["currencies"]) == {"EUR", "USD", "GBP"}


def test_thresholds_are_per_currency():
    assert levels_required(claim("1000.01"), TYPES["CLAIM"]) == 2
    assert levels_required(claim("1000.01", currency="USD"), TYPES["CLAIM"]) == 1  # USD's threshold is 1100.00
    assert levels_required(claim("900.00", currency="GBP"), TYPES["CLAIM"]) == 2  # GBP's is 850.00


def test_ids_name_their_case():
    assert approval_id("abc123", 2) == "abc123-a2"
    assert case_id_of("abc123-a2") == "abc123"
    assert case_id_of("my-case-a1-a3") == "my-case-a1"
    for bad in ("abc123", "abc123-a", "abc123-ax", "-a1", "a#b-a1", "abc-t1"):
        assert case_id_of(bad) is None


def test_a_new_approval_carries_the_case_amount_and_run():
    case = claim("750.00").model_copy(update={"workflow": WorkflowState(stage="APPROVAL", run=2)})
    created = new_approval(case, 3, 1, AT)
    assert (created.id, created.level, created.status, created.amount, created.currency, created.run) == (
        "case-1-a3", 1, ApprovalStatus.PENDING, "750.00", "EUR", 2
    )
    assert created.assignee is None and created.version == 1


def test_inbox_keys_only_while_pending():
    queued = approval()
    assert inbox_key(queued) == APPROVER_QUEUE == "ROLE#approver"
    assert inbox_key(queued.model_copy(update={"assignee": "ann"})) == "USER#ann"
    assert inbox_sort_key(queued) == f"APPROVAL#{AT}#case-1-a1"
    assert inbox_key(decided(queued, Decision.APPROVE, "ann", None, AT, None, True)) is None


def test_deciding_twice_is_a_conflict():
    done = decided(approval(), Decision.REJECT, "ann", "carl", AT, "no cover", True)
    assert (done.status, done.decided_by, done.on_behalf_of, done.comment, done.final, done.version) == (
        ApprovalStatus.REJECTED, "ann", "carl", "no cover", True, 2
    )
    with pytest.raises(Conflict):
        decided(done, Decision.APPROVE, "ann", None, AT, None, True)
    with pytest.raises(Conflict):
        expired(done, "workflow", AT)


def test_outcome_of_a_run():
    first = approval(1)
    assert outcome([first], 1) is None
    approved_1 = decided(first, Decision.APPROVE, "ann", None, AT, None, False)
    assert outcome([approved_1, approval(2)], 1) is None  # level 2 still pending
    final = decided(approval(2), Decision.APPROVE, "bea", None, AT, None, True)
    assert outcome([approved_1, final], 1) == {"decision": "APPROVED", "approvedAmount": "500.00"}
    rejected = decided(approval(2), Decision.REJECT, "bea", None, AT, None, True)
    assert outcome([approved_1, rejected], 1) == {"decision": "REJECTED"}
    assert outcome([approved_1, final], 2) is None  # an earlier run's decision does not decide this one


# -- four-eyes ---------------------------------------------------------------------------------------


ANN = principal("ann", "approver")


def test_creator_assignee_participants_and_task_people_may_not_decide():
    case = claim(created_by="carl", assignee="dora", participants=["erin"])
    people = involved(case, ["fred", None, ""])
    assert people == {"carl", "dora", "erin", "fred"}
    for name in sorted(people):
        with pytest.raises(Forbidden, match="four-eyes"):
            check_may_decide(approval(), principal(name, "approver"), None, people, [])
    check_may_decide(approval(), ANN, None, people, [])


def test_four_eyes_holds_for_the_person_decided_for():
    people = {"carl"}
    with pytest.raises(Forbidden, match="four-eyes: carl"):
        check_may_decide(approval(), ANN, "carl", people, [])
    with pytest.raises(Forbidden, match="yourself"):
        check_may_decide(approval(), ANN, "ann", people, [])
    check_may_decide(approval(), ANN, "bea", people, [])


def test_level_two_needs_another_approver_than_level_one():
    level_1 = decided(approval(1), Decision.APPROVE, "ann", "bea", AT, None, False)
    level_2 = approval(2)
    for who, for_whom in (("ann", None), ("bea", None), ("carl", "ann"), ("carl", "bea")):
        with pytest.raises(Forbidden, match="level 2 must be decided by someone other"):
            check_may_decide(level_2, principal(who, "approver"), for_whom, set(), [level_1, level_2])
    check_may_decide(level_2, principal("carl", "approver"), None, set(), [level_1, level_2])
    earlier_run = level_1.model_copy(update={"run": 0})
    check_may_decide(level_2, ANN, None, set(), [earlier_run, level_2])  # another run's approver may


def test_an_assigned_approval_is_decided_by_its_assignee_or_for_them():
    mine = approval(assignee="bea")
    with pytest.raises(Forbidden, match="assigned to bea"):
        check_may_decide(mine, ANN, None, set(), [])
    check_may_decide(mine, ANN, "bea", set(), [])  # delegated
    check_may_decide(mine, principal("bea", "approver"), None, set(), [])
    check_may_decide(mine, principal("root", "admin"), None, set(), [])


# -- who reads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role, allowed", [
    ("approver", True), ("admin", True), ("auditor", True),
    ("caseworker", False), ("supervisor", False), ("finance", False),
])
def test_readers(role, allowed):
    if allowed:
        require_reader(principal("u", role))
    else:
        with pytest.raises(Forbidden):
            require_reader(principal("u", role))


def test_approvers_see_the_queue_and_their_own_but_not_others_assigned():
    case = claim(created_by="carl")
    assert may_see(ANN, case, approval())
    assert may_see(ANN, case, approval(assignee="ann"))
    assert not may_see(ANN, case, approval(assignee="bea"))
    assert may_see(ANN, case, approval(assignee="bea", decided_by="ann"))
    assert may_see(principal("aud", "auditor"), case, approval(assignee="bea"))
    assert may_see(principal("x", "caseworker", team="claims"), case, approval(assignee="bea"))
    assert not may_see(principal("x", "caseworker", team="general"), case, approval())


def test_decision_request_is_strict():
    request = DecisionRequest.model_validate({"decision": "APPROVE", "onBehalfOf": "bea", "comment": " ok "})
    assert (request.decision, request.on_behalf_of, request.comment) == (Decision.APPROVE, "bea", "ok")
    for bad in ({"decision": "MAYBE"}, {"decision": "APPROVE", "extra": 1},
                {"decision": "APPROVE", "onBehalfOf": "a#b"}, {"decision": "APPROVE", "comment": "x" * 2001}, {}):
        with pytest.raises(ValueError):
            DecisionRequest.model_validate(bad)


def test_case_write_moves_status_by_the_lifecycle_and_chains_the_event():
    case = claim(status="PENDING_APPROVAL")
    write = case_write(case, type="APPROVAL_DECIDED", actor="ann", at=AT, data={"x": 1}, status=CaseStatus.APPROVED)
    assert write.expected_version == case.version and write.expected_audit_seq == case.audit_seq
    assert write.case.status == CaseStatus.APPROVED and write.case.version == case.version + 1
    assert write.event.prev_hash == case.audit_hash and write.case.audit_hash == write.event.hash
    assert write.event.data == {"x": 1, "from": "PENDING_APPROVAL", "to": "APPROVED"}
    audit_only = case_write(case, type="APPROVAL_REQUESTED", actor="workflow", at=AT, data={})
    assert audit_only.case.version == case.version and audit_only.case.audit_seq == case.audit_seq + 1
    with pytest.raises(Conflict):
        case_write(case, type="X", actor="a", at=AT, data={}, status=CaseStatus.COMPENSATION)
