"""One contract, two stores: the in-memory approvals and compensation store the unit tests use must behave
like the DynamoDB one. TestDecisionContract runs against InMemoryDecisionStore and against DynamoDecisionStore on
a fresh table in the moto server (the `backend` fixture)."""
from __future__ import annotations


import pytest

from chalicelib.domain import audit
from chalicelib.domain.approvals import (
    APPROVER_QUEUE, ApprovalStatus, Decision, case_write, decided, new_approval,
)
from chalicelib.domain.compensation import (
    Compensation, InstructionStatus, LedgerType, PaymentInstruction, entry, held, paid,
)
from chalicelib.domain.models import CaseStatus, WorkflowState
from chalicelib.ports import StaleWrite
from tests.support import add_comment, concurrently, create_case, iso_at, new_case

AT = iso_at(5)


def stored_case(cases, case_id="case-1", **overrides):
    values = dict(status="PENDING_APPROVAL", case_type="CLAIM", team="claims",
                  compensation={"amount": "800.00", "currency": "EUR"},
                  workflow=WorkflowState(stage="APPROVAL", execution_id="exec-1"))
    case, event = new_case(case_id, **{**values, **overrides})
    create_case(cases, case, event, None)
    return case


def write_for(cases, case_id="case-1", type="APPROVAL_REQUESTED", **kwargs):
    return case_write(cases.get_case(case_id), type=type, actor="ann", at=AT, data={"n": 1}, **kwargs)


def add_approval(cases, approval, write):
    write.put(approval)
    cases.apply(write)


def update_approval(cases, approval, expected_version, write, opened=None):
    """Replace a PENDING approval still at `expected_version`, with the case's write (and the next level)."""
    write.put(approval, expected=expected_version, status=ApprovalStatus.PENDING.value)
    if opened is not None:
        write.put(opened)
    cases.apply(write)


def add_compensation(cases, record, write):
    write.put(record)
    for line in record.ledger:
        write.put(line)
    cases.apply(write)


def update_compensation(cases, record, expected_version, expected_status, new_entries, write):
    write.put(record, expected=expected_version, status=expected_status.value)
    for line in new_entries:
        write.put(line)
    cases.apply(write)


def chain_valid(cases, case_id="case-1"):
    case = cases.get_case(case_id)
    return audit.verify_chain(cases.list_events(case_id), head=(case.audit_seq, case.audit_hash)).valid


def opened(cases, store, n=1, level=1, case_id="case-1", minute=5, assignee=None):
    approval = new_approval(cases.get_case(case_id), n, level, iso_at(minute), assignee)
    add_approval(cases, approval, write_for(cases, case_id))
    return approval


def race(*calls):
    """Run the calls at once; return what each returned or raised."""
    results = [None] * len(calls)

    def outcome(i, call):
        def run():
            try:
                call()
                results[i] = "ok"
            except StaleWrite:
                results[i] = "stale"
        return run

    concurrently(*(outcome(i, call) for i, call in enumerate(calls)))
    return results


def compensation_record(case_id="case-1", status=InstructionStatus.PENDING) -> Compensation:
    instruction = PaymentInstruction(id=f"{case_id}-p1", status=status, amount="800.00", currency="EUR", created_at=AT)
    ledger = [entry(1, LedgerType.REQUESTED, "800.00", "EUR", AT, "alice"),
              entry(2, LedgerType.APPROVED, "800.00", "EUR", AT, "workflow"),
              entry(3, LedgerType.INSTRUCTED, "800.00", "EUR", AT, "workflow", instruction.id)]
    return Compensation(case_id=case_id, requested="800.00", approved="800.00", paid="0.00", currency="EUR",
                        cap="50000.00", instruction=instruction, ledger=ledger, created_at=AT, updated_at=AT, version=1)


class TestDecisionContract:
    @pytest.fixture
    def store(self, backend):
        return backend.decisions

    @pytest.fixture
    def case(self, cases):
        return stored_case(cases)

    # -- approvals -----------------------------------------------------------------------------------

    def test_missing_approvals(self, store, case):
        assert store.get_approval(case.id, f"{case.id}-a1") is None
        assert store.list_case_approvals(case.id) == [] and store.inbox_page([APPROVER_QUEUE], 100, None)[0] == []

    def test_added_approval_round_trips_with_its_event(self, cases, store, case):
        approval = opened(cases, store)
        assert store.get_approval(case.id, approval.id) == approval
        assert store.list_case_approvals(case.id) == [approval]
        head = cases.get_case(case.id)
        assert head.audit_seq == case.audit_seq + 1 and head.version == case.version
        assert cases.list_events(case.id)[-1].type == "APPROVAL_REQUESTED" and chain_valid(cases)

    def test_case_approvals_are_listed_in_number_order(self, cases, store, case):
        for n in (2, 10, 1):
            opened(cases, store, n=n, minute=n)
        assert [a.id for a in store.list_case_approvals(case.id)] == ["case-1-a1", "case-1-a2", "case-1-a10"]

    def test_an_existing_approval_is_not_overwritten(self, cases, store, case):
        approval = opened(cases, store)
        events = len(cases.list_events(case.id))
        with pytest.raises(StaleWrite):
            add_approval(cases, approval.model_copy(update={"level": 2}), write_for(cases))
        assert store.get_approval(case.id, approval.id).level == 1 and len(cases.list_events(case.id)) == events

    def test_a_stale_case_writes_no_approval(self, cases, store, case):
        stale = write_for(cases)
        opened(cases, store)  # moves the audit head
        with pytest.raises(StaleWrite):
            add_approval(cases, new_approval(case, 2, 1, AT), stale)
        assert [a.id for a in store.list_case_approvals(case.id)] == ["case-1-a1"]

    def test_approval_on_a_missing_case_is_stale(self, cases, store, case):
        other, _ = new_case("ghost", status="PENDING_APPROVAL")
        write = case_write(other, type="APPROVAL_REQUESTED", actor="ann", at=AT, data={})
        with pytest.raises(StaleWrite):
            add_approval(cases, new_approval(other, 1, 1, AT), write)
        assert store.list_case_approvals("ghost") == []

    def test_inbox_lists_pending_approvals_by_key_oldest_first(self, cases, store, case):
        stored_case(cases, "case-2")
        late = opened(cases, store, minute=9)
        early = opened(cases, store, case_id="case-2", minute=7)
        mine = opened(cases, store, n=2, minute=8, assignee="bea")
        assert [a.id for a in store.inbox_page([APPROVER_QUEUE], 100, None)[0]] == [early.id, late.id]
        assert store.inbox_page(["USER#bea"], 100, None)[0] == [mine]
        assert store.inbox_page(["USER#ann"], 100, None)[0] == []
        done = decided(late, Decision.APPROVE, "ann", None, AT, None, True)
        update_approval(cases, done, late.version, write_for(cases, type="APPROVAL_DECIDED"))
        queue = store.inbox_page([APPROVER_QUEUE], 100, None)[0]
        assert [a.id for a in queue] == [early.id]  # decided: out of the inbox

    def test_decision_moves_the_case_and_opens_the_next_level_atomically(self, cases, store, case):
        first = opened(cases, store)
        done = decided(first, Decision.APPROVE, "ann", "bea", AT, "ok", False)
        level_2 = new_approval(cases.get_case(case.id), 2, 2, AT)
        update_approval(cases, done, first.version, write_for(cases, type="APPROVAL_DECIDED"), level_2)
        assert store.list_case_approvals(case.id) == [done, level_2]
        final = decided(level_2, Decision.APPROVE, "cal", None, AT, None, True)
        write = write_for(cases, type="APPROVAL_DECIDED", status=CaseStatus.APPROVED)
        update_approval(cases, final, level_2.version, write)
        moved = cases.get_case(case.id)
        assert moved == write.case  # status, version, updatedAt/By, audit head, workflow: all stored
        assert (moved.status, moved.version, moved.updated_by) == (CaseStatus.APPROVED, case.version + 1, "ann")
        assert chain_valid(cases)

    def test_stage_moves_with_the_case(self, cases, store, case):
        first = opened(cases, store)
        write = write_for(cases, type="APPROVAL_DECIDED", status=CaseStatus.APPROVED, stage="COMPENSATION")
        update_approval(cases, decided(first, Decision.APPROVE, "ann", None, AT, None, True), first.version, write)
        assert cases.get_case(case.id).workflow.stage == "COMPENSATION"

    @pytest.mark.parametrize("change", ["decided", "version", "case", "opened-exists"])
    def test_a_lost_condition_writes_nothing(self, cases, store, case, change):
        first = opened(cases, store)
        second = opened(cases, store, n=2)
        write = write_for(cases, type="APPROVAL_DECIDED", status=CaseStatus.REJECTED)
        expected_version, next_level = first.version, None
        if change == "decided":
            update_approval(cases, decided(first, Decision.REJECT, "x", None, AT, None, True), first.version,
                                  write_for(cases, type="APPROVAL_DECIDED"))
            write = write_for(cases, type="APPROVAL_DECIDED", status=CaseStatus.REJECTED)
        elif change == "version":
            expected_version = first.version + 1
        elif change == "case":
            opened(cases, store, n=3)  # the audit head moved after `write` was built
        else:
            next_level = second
        before = (store.list_case_approvals(case.id), cases.get_case(case.id), len(cases.list_events(case.id)))
        rejected = decided(first, Decision.REJECT, "ann", None, AT, None, True)
        with pytest.raises(StaleWrite):
            update_approval(cases, rejected, expected_version, write, next_level)
        assert (store.list_case_approvals(case.id), cases.get_case(case.id), len(cases.list_events(case.id))) == before

    def test_two_deciders_racing_on_one_approval_one_wins(self, cases, store, case):
        first = opened(cases, store)
        write = write_for(cases, type="APPROVAL_DECIDED", status=CaseStatus.APPROVED)
        rejected_write = case_write(cases.get_case(case.id), type="APPROVAL_DECIDED", actor="bea", at=AT, data={},
                                    status=CaseStatus.REJECTED)
        results = race(
            lambda: update_approval(cases, decided(first, Decision.APPROVE, "ann", None, AT, None, True), 1, write),
            lambda: update_approval(
                cases, decided(first, Decision.REJECT, "bea", None, AT, None, True), 1, rejected_write,
            ),
        )
        assert sorted(results) == ["ok", "stale"]
        winner = store.get_approval(case.id, first.id)
        assert winner.version == 2 and winner.status in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)
        expected = CaseStatus.APPROVED if winner.status == ApprovalStatus.APPROVED else CaseStatus.REJECTED
        assert cases.get_case(case.id).status == expected and chain_valid(cases)

    # -- compensation --------------------------------------------------------------------------------

    def test_missing_compensation_is_none(self, store, case):
        assert store.get_compensation(case.id) is None

    def test_compensation_round_trips_with_its_ledger(self, cases, store):
        stored_case(cases, status="APPROVED")
        record = compensation_record()
        write = write_for(cases, type="COMPENSATION_INSTRUCTED", status=CaseStatus.COMPENSATION)
        add_compensation(cases, record, write)
        assert store.get_compensation("case-1") == record
        assert cases.get_case("case-1").status == CaseStatus.COMPENSATION and chain_valid(cases)

    def test_compensation_is_created_once(self, cases, store):
        stored_case(cases, status="APPROVED")
        add_compensation(cases, compensation_record(), write_for(cases, type="COMPENSATION_INSTRUCTED"))
        again = compensation_record().model_copy(update={"approved": "1.00"})
        with pytest.raises(StaleWrite):
            add_compensation(cases, again, write_for(cases, type="COMPENSATION_INSTRUCTED"))
        assert store.get_compensation("case-1") == compensation_record()

    def test_compensation_on_a_stale_case_writes_nothing(self, cases, store):
        case = stored_case(cases, status="APPROVED")
        stale = case_write(case, type="COMPENSATION_INSTRUCTED", actor="workflow", at=AT, data={})
        add_comment(cases, *_comment(case))
        with pytest.raises(StaleWrite):
            add_compensation(cases, compensation_record(), stale)
        assert store.get_compensation("case-1") is None

    def test_payment_updates_the_record_and_appends_to_the_ledger(self, cases, store):
        stored_case(cases, status="APPROVED")
        record = compensation_record()
        add_compensation(cases, record, write_for(cases, type="COMPENSATION_INSTRUCTED"))
        done = paid(record, "fay", AT, "REF-1")
        paid_entry = entry(4, LedgerType.PAID, "800.00", "EUR", AT, "fay", record.instruction.id, "REF-1")
        update_compensation(cases, done, record.version, InstructionStatus.PENDING, [paid_entry],
                                  write_for(cases, type="PAYMENT_CONFIRMED"))
        stored = store.get_compensation("case-1")
        assert stored == done.model_copy(update={"ledger": [*record.ledger, paid_entry]}) and chain_valid(cases)

    @pytest.mark.parametrize("change", ["status", "version", "ledger-seq", "case"])
    def test_a_lost_payment_condition_writes_nothing(self, cases, store, change):
        stored_case(cases, status="APPROVED")
        record = compensation_record()
        add_compensation(cases, record, write_for(cases, type="COMPENSATION_INSTRUCTED"))
        expected_status, expected_version, seq = InstructionStatus.PENDING, record.version, 4
        write = write_for(cases, type="PAYMENT_CONFIRMED")
        if change == "status":
            expected_status = InstructionStatus.VOIDED
        elif change == "version":
            expected_version = 7
        elif change == "ledger-seq":
            seq = 3
        else:
            add_comment(cases, *_comment(cases.get_case("case-1")))
        before = (store.get_compensation("case-1"), cases.get_case("case-1"))
        with pytest.raises(StaleWrite):
            update_compensation(cases, paid(record, "fay", AT, "R"), expected_version, expected_status,
                                      [entry(seq, LedgerType.PAID, "800", "EUR", AT, "fay")], write)
        assert (store.get_compensation("case-1"), cases.get_case("case-1")) == before

    def test_pay_and_the_sagas_hold_racing_one_wins(self, cases, store):
        case = stored_case(cases, status="APPROVED")
        record = compensation_record()
        add_compensation(cases, record, write_for(cases, type="COMPENSATION_INSTRUCTED"))
        head = cases.get_case(case.id)
        pay_write = case_write(head, type="PAYMENT_CONFIRMED", actor="fay", at=AT, data={})
        hold_write = case_write(head, type="PAYMENT_HELD", actor="workflow", at=AT, data={})
        results = race(
            lambda: update_compensation(cases, paid(record, "fay", AT, "R"), 1, InstructionStatus.PENDING,
                                              [entry(4, LedgerType.PAID, "800", "EUR", AT, "fay")], pay_write),
            lambda: update_compensation(cases, held(record, "workflow", AT), 1, InstructionStatus.PENDING,
                                              [entry(4, LedgerType.HELD, "800", "EUR", AT, "workflow")], hold_write),
        )
        assert sorted(results) == ["ok", "stale"]
        stored = store.get_compensation(case.id)
        assert len(stored.ledger) == 4
        assert stored.instruction.status in (InstructionStatus.PAID, InstructionStatus.ON_HOLD)
        assert {InstructionStatus.PAID: LedgerType.PAID, InstructionStatus.ON_HOLD: LedgerType.HELD}[
            stored.instruction.status] == stored.ledger[-1].type
        assert chain_valid(cases)


def _comment(case):
    from tests.support import comment_on

    comment, event = comment_on(case, "cm-1")
    return comment, case.audit_seq, event
