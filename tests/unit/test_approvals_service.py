"""Approvals on in-memory adapters, driven by the real workflow service with a fake engine that counts
resumes: the APPROVAL stage's condition, levels, four-eyes, delegation, one decision and one resume
under double and concurrent decisions, the inbox, and the saga's expiry."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chalicelib.domain import audit
from chalicelib.domain.approvals import ApprovalStatus, priority_locked
from chalicelib.domain.models import CaseStatus
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.services.workflow import Stage
from tests.support import changed, principal, save_case

ALICE = principal("alice", "caseworker", team="claims")
ANN, BEA, CAL = principal("ann", "approver"), principal("bea", "approver"), principal("cal", "approver")
APPROVE, REJECT = {"decision": "APPROVE"}, {"decision": "REJECT"}


def awaiting_approval(system, amount="500.00", priority="MEDIUM", case_type="CLAIM", creator=ALICE) -> str:
    body = {"title": "Water damage", "caseType": case_type, "priority": priority, "customerId": "CUST-1"}
    if amount:
        body["compensation"] = {"amount": amount, "currency": "EUR"}
    case = system.cases.create(creator, body)
    system.workflow.initiate(case.id, "exec-1")
    system.workflow.assign(case.id)
    system.workflow.wait(case.id, Stage.APPROVAL, "approval-token", "exec-1")
    return case.id


def pending(system, case_id):
    return [a for a in system.store.list_case_approvals(case_id) if a.status == ApprovalStatus.PENDING]


def event_types(system, case_id):
    return [e.type for e in system.repo.list_events(case_id)]


def chain_is_valid(system, case_id):
    case = system.repo.get_case(case_id)
    return audit.verify_chain(system.repo.list_events(case_id), head=(case.audit_seq, case.audit_hash)).valid


# -- the APPROVAL stage -------------------------------------------------------------------------------


def test_entering_the_stage_opens_one_approval_in_the_queue(system):
    case_id = awaiting_approval(system)
    for _ in range(3):  # the condition is asked again and again (retries, escalations): still one approval
        assert system.workflow.resume_if_ready(case_id, Stage.APPROVAL) is False
        assert system.approvals.decision_if_final(system.repo.get_case(case_id)) is None
    [approval] = system.store.list_case_approvals(case_id)
    assert (approval.id, approval.level, approval.assignee, approval.status, approval.amount, approval.currency) == (
        f"{case_id}-a1", 1, None, ApprovalStatus.PENDING, "500.00", "EUR"
    )
    assert system.repo.get_case(case_id).status == CaseStatus.PENDING_APPROVAL
    assert event_types(system, case_id)[-2:] == ["WORKFLOW_WAITING", "APPROVAL_REQUESTED"]
    assert system.engine.resumed == [] and chain_is_valid(system, case_id)


def test_one_level_approval_resumes_the_run_once_with_the_amount(system):
    case_id = awaiting_approval(system)
    decided = system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "comment": "covered"})
    assert (decided.status, decided.decided_by, decided.comment, decided.final, decided.version) == (
        ApprovalStatus.APPROVED, "ann", "covered", True, 2
    )
    assert system.engine.resumed == [("approval-token", {"decision": "APPROVED", "approvedAmount": "500.00"})]
    case = system.repo.get_case(case_id)
    assert case.status == CaseStatus.APPROVED and case.updated_by == "ann"
    last = system.repo.list_events(case_id)[-1]
    assert last.type == "APPROVAL_DECIDED" and last.actor == "ann"
    assert (last.data["decision"], last.data["from"], last.data["to"]) == ("APPROVED", "PENDING_APPROVAL", "APPROVED")
    assert chain_is_valid(system, case_id)


def test_a_second_decision_is_a_conflict_and_never_a_second_resume(system):
    case_id = awaiting_approval(system)
    system.approvals.decide(ANN, f"{case_id}-a1", APPROVE)
    for who, body in ((BEA, REJECT), (ANN, APPROVE)):
        with pytest.raises(Conflict, match="already APPROVED by ann"):
            system.approvals.decide(who, f"{case_id}-a1", body)
    assert len(system.engine.resumed) == 1 and system.resumes == [(case_id, Stage.APPROVAL)]
    assert event_types(system, case_id).count("APPROVAL_DECIDED") == 1


def test_concurrent_decisions_one_wins_one_resume(system):
    case_id = awaiting_approval(system)
    deciders = [principal(f"approver{i}", "approver") for i in range(8)]
    start, results, lock = threading.Barrier(len(deciders)), [], threading.Lock()

    def decide(who, body):
        start.wait()
        try:
            outcome = system.approvals.decide(who, f"{case_id}-a1", body).status.value
        except Conflict:
            outcome = "409"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=decide, args=(who, APPROVE if i % 2 else REJECT))
               for i, who in enumerate(deciders)]
    [t.start() for t in threads]
    [t.join(timeout=30) for t in threads]
    assert sorted(results).count("409") == 7 and len(results) == 8
    assert len(system.engine.resumed) == 1 and system.resumes == [(case_id, Stage.APPROVAL)]
    assert event_types(system, case_id).count("APPROVAL_DECIDED") == 1 and chain_is_valid(system, case_id)
    winner = system.store.get_approval(case_id, f"{case_id}-a1")
    expected = CaseStatus.APPROVED if winner.status == ApprovalStatus.APPROVED else CaseStatus.REJECTED
    assert system.repo.get_case(case_id).status == expected


@pytest.mark.parametrize("amount, priority", [("2000.00", "MEDIUM"), ("100.00", "CRITICAL")])
def test_two_levels_by_amount_or_priority(system, amount, priority):
    case_id = awaiting_approval(system, amount, priority)
    first = system.approvals.decide(ANN, f"{case_id}-a1", APPROVE)
    assert first.final is False and system.engine.resumed == []  # level 2 opened in the same write
    [second] = pending(system, case_id)
    assert (second.id, second.level, second.amount) == (f"{case_id}-a2", 2, amount)
    assert system.repo.get_case(case_id).status == CaseStatus.PENDING_APPROVAL
    with pytest.raises(Forbidden, match="someone other than the level 1 approver"):
        system.approvals.decide(ANN, second.id, APPROVE)
    with pytest.raises(Forbidden, match="someone other than the level 1 approver"):
        system.approvals.decide(BEA, second.id, {"decision": "APPROVE", "onBehalfOf": "ann"})
    system.approvals.decide(BEA, second.id, APPROVE)
    assert system.engine.resumed == [("approval-token", {"decision": "APPROVED", "approvedAmount": amount})]
    assert system.repo.get_case(case_id).status == CaseStatus.APPROVED
    assert chain_is_valid(system, case_id)


def test_priority_is_fixed_while_the_case_is_in_approval(system):
    """Issue 12 item 4: lowering a CRITICAL case's priority during approval used to remove level 2."""
    case_id = awaiting_approval(system, "100.00", "CRITICAL")
    case = system.repo.get_case(case_id)
    with pytest.raises(Conflict, match="fixed when its approval opened") as refused:
        system.cases.update(ALICE, case_id, {"priority": "LOW"}, str(case.version))
    assert [d.field for d in refused.value.details] == ["priority"]
    assert system.cases.update(ALICE, case_id, {"title": "Water damage, kitchen"}, str(case.version)).priority \
        == "CRITICAL"  # other fields stay editable
    assert system.repo.get_case(case_id).priority == "CRITICAL"


def test_levels_are_fixed_when_the_approval_opens(system):
    case_id = awaiting_approval(system, "100.00", "CRITICAL")
    [first] = pending(system, case_id)
    assert first.levels == 2
    # Even a priority changed behind the service's back (e.g. a stored case from before the lock) keeps level 2.
    current = system.repo.get_case(case_id)
    lowered, event = changed(current, priority="LOW")
    save_case(system.repo, lowered, current.version, current.audit_seq, event)
    system.approvals.decide(ANN, first.id, APPROVE)
    [second] = pending(system, case_id)
    assert (second.level, second.levels) == (2, 2) and system.engine.resumed == []


def test_the_priority_lock_lasts_until_the_case_is_reopened(system):
    case_id = awaiting_approval(system, "100.00")
    system.approvals.decide(ANN, f"{case_id}-a1", REJECT)
    system.workflow.complete(case_id, "REJECTED")
    for status in (CaseStatus.REJECTED, CaseStatus.CLOSED):
        assert priority_locked(system.repo.get_case(case_id).model_copy(update={"status": status}))
    case = system.repo.get_case(case_id)
    with pytest.raises(Conflict):
        system.cases.update(ALICE, case_id, {"priority": "HIGH"}, str(case.version))
    for status in (CaseStatus.IN_PROGRESS, CaseStatus.PENDING_DOCUMENTS, CaseStatus.REOPENED):
        assert not priority_locked(case.model_copy(update={"status": status}))


def test_a_rejection_at_level_one_is_final(system):
    case_id = awaiting_approval(system, "2000.00")
    system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "REJECT", "comment": "not covered"})
    assert pending(system, case_id) == []  # no level 2
    assert system.engine.resumed == [("approval-token", {"decision": "REJECTED"})]
    assert system.repo.get_case(case_id).status == CaseStatus.REJECTED
    system.workflow.complete(case_id, "REJECTED")  # the run's CloseRejected step can close it
    assert system.repo.get_case(case_id).status == CaseStatus.CLOSED


def test_a_rejection_at_level_two_is_final(system):
    case_id = awaiting_approval(system, "2000.00")
    system.approvals.decide(ANN, f"{case_id}-a1", APPROVE)
    system.approvals.decide(BEA, f"{case_id}-a2", REJECT)
    assert system.engine.resumed == [("approval-token", {"decision": "REJECTED"})]
    assert system.repo.get_case(case_id).status == CaseStatus.REJECTED
    assert system.approvals.approved_amount(system.repo.get_case(case_id)) is None


def test_a_decision_before_the_stage_resumes_nothing_but_is_kept(system):
    """The condition holds when the stage is (re)entered: the run resumes then, once."""
    case_id = awaiting_approval(system)
    system.tokens.take(case_id, Stage.APPROVAL)  # as if the wait timed out and escalated
    system.approvals.decide(ANN, f"{case_id}-a1", APPROVE)
    assert system.engine.resumed == []
    # What wait() does when the stage is entered again (its status move is the workflow's concern).
    system.tokens.put(case_id, Stage.APPROVAL, "approval-token-2", "exec-1")
    assert system.workflow.resume_if_ready(case_id, Stage.APPROVAL) is True
    assert system.engine.resumed == [("approval-token-2", {"decision": "APPROVED", "approvedAmount": "500.00"})]


def test_an_unreachable_engine_does_not_undo_the_decision(system):
    case_id = awaiting_approval(system)

    def down(case_id, stage):
        raise RuntimeError("step functions is down")

    system.approvals._resume = down
    assert system.approvals.decide(ANN, f"{case_id}-a1", APPROVE).status == ApprovalStatus.APPROVED
    assert system.repo.get_case(case_id).status == CaseStatus.APPROVED


# -- four-eyes and delegation -------------------------------------------------------------------------


def test_people_who_work_on_the_case_may_not_decide_it(system):
    creator = principal("alice", "caseworker", "approver", team="claims")
    case_id = awaiting_approval(system, creator=creator)
    system.task_people[case_id] = ["tom"]
    for who, body in (
        (creator, APPROVE),
        (principal("tom", "approver"), REJECT),
        (ANN, {"decision": "APPROVE", "onBehalfOf": "alice"}),
        (ANN, {"decision": "APPROVE", "onBehalfOf": "tom"}),
    ):
        with pytest.raises(Forbidden, match="four-eyes"):
            system.approvals.decide(who, f"{case_id}-a1", body)
    assert pending(system, case_id) and system.engine.resumed == []


def test_anyone_who_acted_on_the_case_may_not_decide_it(system):
    """Issue 12 item 5: four-eyes covers every actor of the case's audit events, admins included."""
    case_id = awaiting_approval(system)
    editor = principal("root", "admin")
    case = system.repo.get_case(case_id)
    system.cases.update(editor, case_id, {"title": "Water damage, kitchen"}, str(case.version))
    with pytest.raises(Forbidden, match="four-eyes: root"):
        system.approvals.decide(editor, f"{case_id}-a1", APPROVE)
    with pytest.raises(Forbidden, match="four-eyes: root"):
        system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "root"})
    assert pending(system, case_id)


def test_reading_or_commenting_is_not_working_on_the_case(system):
    case_id = awaiting_approval(system)
    system.cases.add_comment(ANN, case_id, {"text": "Is there a plumber's invoice?"})
    assert system.approvals.decide(ANN, f"{case_id}-a1", APPROVE).decided_by == "ann"


def delegate(system, delegator, to, hours=24):
    """`delegator` lets `to` decide in their name from now for `hours`."""
    now = system.clock()
    period = {"from": now.isoformat(), "until": (now + timedelta(hours=hours)).isoformat()}
    return system.delegations.put(principal(delegator, "approver"), delegator, {"to": to, **period})


def test_delegation_records_both_names(system):
    case_id = awaiting_approval(system)
    delegate(system, "bea", "ann")
    decided = system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "bea"})
    assert (decided.decided_by, decided.on_behalf_of) == ("ann", "bea")
    event = system.repo.list_events(case_id)[-1]
    assert event.data["decidedBy"] == "ann" and event.data["onBehalfOf"] == "bea"


def test_only_approvers_and_admins_decide(system):
    case_id = awaiting_approval(system)
    others = (principal("sam", "supervisor", team="claims"), principal("fay", "finance"), principal("aud", "auditor"))
    for who in others:
        with pytest.raises(Forbidden):
            system.approvals.decide(who, f"{case_id}-a1", APPROVE)
    assert system.approvals.decide(principal("root", "admin"), f"{case_id}-a1", APPROVE).decided_by == "root"


def test_bad_bodies_and_unknown_approvals(system):
    case_id = awaiting_approval(system)
    with pytest.raises(InvalidInput):
        system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "approve"})
    with pytest.raises(InvalidInput):
        system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "amount": "1"})
    for missing in (f"{case_id}-a9", "nope-a1", "garbage"):
        with pytest.raises(NotFound):
            system.approvals.decide(ANN, missing, APPROVE)


def test_a_case_no_longer_awaiting_approval_cannot_be_decided(system):
    case_id = awaiting_approval(system)
    system.workflow.rollback(case_id, {"Error": "Boom"})  # NEEDS_ATTENTION; the approval stays pending here
    with pytest.raises(Conflict, match="not awaiting approval"):
        system.approvals.decide(ANN, f"{case_id}-a1", APPROVE)


# -- reading ------------------------------------------------------------------------------------------


def test_inbox_and_filters(system):
    one = awaiting_approval(system)
    two = awaiting_approval(system, "2000.00")
    system.approvals.decide(ANN, f"{two}-a1", APPROVE)
    ids = lambda items: [a.id for a in items]  # noqa: E731
    assert ids(system.approvals.list(BEA).items) == [f"{one}-a1", f"{two}-a2"]
    assert ids(system.approvals.list(BEA, assignee="me").items) == [f"{one}-a1", f"{two}-a2"]
    assert ids(system.approvals.list(BEA, assignee="someone").items) == []
    assert ids(system.approvals.list(BEA, case_id=two).items) == [f"{two}-a1", f"{two}-a2"]
    assert ids(system.approvals.list(BEA, case_id=two, status="APPROVED").items) == [f"{two}-a1"]
    assert ids(system.approvals.list(principal("aud", "auditor"), status="PENDING").items) == [f"{one}-a1", f"{two}-a2"]
    assert ids(system.approvals.list(BEA, case_id="unknown").items) == []
    with pytest.raises(InvalidInput):
        system.approvals.list(BEA, status="APPROVED").items  # decided ones are listed per case
    with pytest.raises(InvalidInput):
        system.approvals.list(BEA, status="DONE", case_id=one)
    for role in ("caseworker", "supervisor", "finance"):
        with pytest.raises(Forbidden):
            system.approvals.list(principal("x", role, team="claims"))


def test_approvals_assigned_to_others_of_cases_you_cannot_see_are_not_listed(system):
    case_id = awaiting_approval(system)
    [approval] = pending(system, case_id)
    with system.repo._lock:  # assigned to bea (no route assigns yet; the store supports it)
        system.store.approvals[case_id][approval.id] = approval.model_copy(update={"assignee": "bea"})
    assert [a.id for a in system.approvals.list(BEA, assignee="me").items] == [approval.id]
    assert system.approvals.list(ANN).items == [] and system.approvals.list(ANN, case_id=case_id).items == []
    with pytest.raises(NotFound):
        system.approvals.get(ANN, approval.id)
    assert [a.id for a in system.approvals.list(principal("root", "admin"), assignee="bea").items] == [approval.id]


def test_detail_shows_what_a_rejection_would_undo_while_pending(system):
    case_id = awaiting_approval(system)
    detail = system.approvals.get(ANN, f"{case_id}-a1")
    assert detail.on_reject == [f"cancel open task {case_id}-t2"]
    system.approvals.decide(ANN, f"{case_id}-a1", APPROVE)
    assert system.approvals.get(ANN, f"{case_id}-a1").on_reject == []


# -- the saga -----------------------------------------------------------------------------------------


def test_expire_pending_is_idempotent(system):
    case_id = awaiting_approval(system)
    assert system.approvals.expire_pending(case_id, "workflow") == [f"expired approval {case_id}-a1"]
    assert system.approvals.expire_pending(case_id, "workflow") == []
    [approval] = system.store.list_case_approvals(case_id)
    assert approval.status == ApprovalStatus.EXPIRED and system.approvals.list(ANN).items == []
    assert event_types(system, case_id)[-1] == "APPROVAL_EXPIRED" and chain_is_valid(system, case_id)
    with pytest.raises(Conflict):
        system.approvals.decide(ANN, approval.id, APPROVE)


def test_a_later_run_gets_new_approvals(system):
    case_id = awaiting_approval(system)
    system.approvals.expire_pending(case_id, "workflow")  # the stage is entered again (e.g. a resumed run)
    assert system.approvals.decision_if_final(system.repo.get_case(case_id)) is None
    assert [a.id for a in pending(system, case_id)] == [f"{case_id}-a2"]
    assert pending(system, case_id)[0].level == 1
