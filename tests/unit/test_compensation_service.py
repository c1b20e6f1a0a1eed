"""Compensation on in-memory adapters with the real workflow service and a counting fake engine: the
Compensate step (idempotent, capped), the PAYMENT stage, one payment and one resume under double and
concurrent confirmations, the saga's hold and finance's resolution of it, visibility."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chalicelib.domain.case_types import CurrencyPolicy
from chalicelib.domain.compensation import InstructionStatus, LedgerType
from chalicelib.domain.models import CaseStatus
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.services.compensation import CompensationService
from chalicelib.services.workflow import Stage
from tests.support import SEED_TYPES, case_types, principal
from tests.unit.test_approvals_service import ANN, awaiting_approval, chain_is_valid, event_types

FAY = principal("fay", "finance")
PAY = {"reference": "SEPA-2026-0001"}


def approved(system, amount="500.00", **kwargs) -> str:
    case_id = awaiting_approval(system, amount, **kwargs)
    system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE"})
    return case_id


def compensated(system, amount="500.00") -> str:
    case_id = approved(system, amount)
    system.compensation.compensate(case_id)
    system.workflow.wait(case_id, Stage.PAYMENT, "payment-token", "exec-1")
    return case_id


def test_compensate_records_instructs_and_moves_the_case(system):
    case_id = approved(system, "750.00")
    summary = system.compensation.compensate(case_id)
    assert summary == {"caseId": case_id, "requested": "750.00", "approved": "750.00", "currency": "EUR",
                       "instructionId": f"{case_id}-p1", "instructionStatus": "PENDING"}
    case = system.repo.get_case(case_id)
    assert case.status == CaseStatus.COMPENSATION and case.workflow.stage == Stage.COMPENSATION
    record = system.compensation.get(principal("alice", "caseworker", team="claims"), case_id)
    assert (record.requested, record.approved, record.paid, record.currency, record.cap) == (
        "750.00", "750.00", "0.00", "EUR", "50000.00"
    )
    assert record.instruction.status == InstructionStatus.PENDING and record.instruction.amount == "750.00"
    assert [(e.seq, e.type, e.amount) for e in record.ledger] == [
        (1, LedgerType.REQUESTED, "750.00"), (2, LedgerType.APPROVED, "750.00"), (3, LedgerType.INSTRUCTED, "750.00"),
    ]
    assert event_types(system, case_id)[-1] == "COMPENSATION_INSTRUCTED" and chain_is_valid(system, case_id)


def test_compensate_is_idempotent(system):
    case_id = approved(system)
    first = system.compensation.compensate(case_id)
    events = event_types(system, case_id)
    assert system.compensation.compensate(case_id) == first
    assert event_types(system, case_id) == events
    assert len(system.store.get_compensation(case_id).ledger) == 3


def test_the_approved_amount_never_exceeds_the_cap(system):
    case_id = approved(system, "900.00")
    capped_types = [t.model_copy(update={"currencies": {"EUR": CurrencyPolicy(cap="600.00")}}) if t.id == "CLAIM"
                    else t for t in SEED_TYPES]
    service = CompensationService(system.repo, system.store, case_types(*capped_types),
                                  system.approvals.approved_amount, system.approvals.approvers, clock=system.clock)
    assert service.compensate(case_id)["approved"] == "600.00"
    record = system.store.get_compensation(case_id)
    assert (record.requested, record.approved, record.cap, record.instruction.amount) == (
        "900.00", "600.00", "600.00", "600.00"
    )
    assert record.ledger[1].note == "held to the case type's cap of 600.00"


def test_no_final_approval_no_compensation(system):
    case_id = awaiting_approval(system)
    with pytest.raises(Conflict, match="no final approval"):
        system.compensation.compensate(case_id)
    assert system.store.get_compensation(case_id) is None


def test_the_payment_stage_waits_for_the_confirmation_and_resumes_once(system):
    case_id = compensated(system)
    assert [t for t, _ in system.engine.resumed] == ["approval-token"]  # nothing paid yet
    record = system.compensation.confirm_payment(FAY, case_id, PAY)
    assert record.instruction.status == InstructionStatus.PAID and record.paid == "500.00"
    assert (record.instruction.reference, record.instruction.paid_by) == ("SEPA-2026-0001", "fay")
    assert [(e.type, e.note) for e in record.ledger][-1] == (LedgerType.PAID, "SEPA-2026-0001")
    assert system.engine.resumed[-1] == ("payment-token", {})
    with pytest.raises(Conflict, match="nothing is paid twice"):
        system.compensation.confirm_payment(FAY, case_id, {"reference": "SEPA-2026-0002"})
    assert len(system.engine.resumed) == 2
    stored = system.store.get_compensation(case_id)
    assert [e.type for e in stored.ledger].count(LedgerType.PAID) == 1
    assert stored.instruction.reference == "SEPA-2026-0001"
    assert event_types(system, case_id)[-1] == "PAYMENT_CONFIRMED" and chain_is_valid(system, case_id)


def test_concurrent_confirmations_pay_once_and_resume_once(system):
    case_id = compensated(system)
    start, results, lock = threading.Barrier(6), [], threading.Lock()

    def confirm(i):
        start.wait()
        try:
            system.compensation.confirm_payment(principal(f"fin{i}", "finance"), case_id, {"reference": f"REF-{i}"})
            outcome = "paid"
        except Conflict:
            outcome = "409"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(6)]
    [t.start() for t in threads]
    [t.join(timeout=30) for t in threads]
    assert sorted(results) == ["409"] * 5 + ["paid"]
    assert [t for t, _ in system.engine.resumed] == ["approval-token", "payment-token"]
    assert [e.type for e in system.store.get_compensation(case_id).ledger].count(LedgerType.PAID) == 1


def test_the_saga_holds_an_unpaid_instruction_and_never_touches_a_payment(system):
    case_id = compensated(system)
    assert system.compensation.hold_unpaid(case_id, "workflow") == [
        f"held payment instruction {case_id}-p1 for finance to confirm it was not paid"]
    assert system.compensation.hold_unpaid(case_id, "workflow") == []
    record = system.store.get_compensation(case_id)
    assert record.instruction.status == InstructionStatus.ON_HOLD and record.ledger[-1].type == LedgerType.HELD
    assert (record.instruction.held_by, record.paid) == ("workflow", "0.00")
    with pytest.raises(Conflict, match="resolve its hold instead"):
        system.compensation.confirm_payment(FAY, case_id, PAY)
    assert event_types(system, case_id)[-1] == "PAYMENT_HELD" and chain_is_valid(system, case_id)

    paid_case = compensated(system)
    system.compensation.confirm_payment(FAY, paid_case, PAY)
    assert system.compensation.hold_unpaid(paid_case, "workflow") == []
    assert system.store.get_compensation(paid_case).instruction.status == InstructionStatus.PAID
    assert system.compensation.hold_unpaid("no-such-case", "workflow") == []


def held_after_a_failed_run(system) -> str:
    """A case whose run failed after its payment instruction was issued: the saga held the instruction."""
    case_id = compensated(system)
    system.compensation.hold_unpaid(case_id, "workflow")
    system.workflow.rollback(case_id, {"Error": "States.TaskFailed"})
    assert system.repo.get_case(case_id).status == CaseStatus.NEEDS_ATTENTION
    return case_id


def test_a_held_instruction_found_paid_is_paid_once_and_never_issued_again(system):
    case_id = held_after_a_failed_run(system)
    resolved = system.compensation.resolve_hold(FAY, case_id, {"outcome": "PAID", "reference": "BANK-7",
                                                               "note": "on the statement of 3 March"})
    assert (resolved.instruction.status, resolved.instruction.reference, resolved.paid) == (
        InstructionStatus.PAID, "BANK-7", "500.00")
    assert [e.type for e in resolved.ledger][-2:] == [LedgerType.HELD, LedgerType.PAID]
    event = system.repo.list_events(case_id)[-1]
    assert event.type == "PAYMENT_CONFIRMED" and event.data["held"] is True and event.data["reference"] == "BANK-7"
    with pytest.raises(Conflict, match="no hold to resolve"):
        system.compensation.resolve_hold(FAY, case_id, {"outcome": "NOT_PAID"})

    summary = system.compensation.compensate(case_id)  # the next run finds it paid: nothing new to pay
    assert (summary["instructionId"], summary["instructionStatus"]) == (f"{case_id}-p1", "PAID")
    assert system.compensation.payment_if_confirmed(system.repo.get_case(case_id)) == {}
    assert chain_is_valid(system, case_id)


def test_a_held_instruction_found_unpaid_is_voided_and_the_next_run_instructs_again(system):
    case_id = held_after_a_failed_run(system)
    resolved = system.compensation.resolve_hold(FAY, case_id, {"outcome": "NOT_PAID", "note": "not on the statement"})
    assert (resolved.instruction.id, resolved.instruction.status, resolved.instruction.voided_by) == (
        f"{case_id}-p1", InstructionStatus.VOIDED, "fay")  # the case waits for no payment: nothing issued yet
    assert event_types(system, case_id)[-1] == "PAYMENT_VOIDED"
    summary = system.compensation.compensate(case_id)
    assert summary["instructionId"] == f"{case_id}-p2" and summary["instructionStatus"] == "PENDING"
    ledger = system.store.get_compensation(case_id).ledger
    assert [e.type for e in ledger][-3:] == [LedgerType.HELD, LedgerType.VOIDED, LedgerType.INSTRUCTED]
    assert system.compensation.confirm_payment(FAY, case_id, PAY).paid == "500.00"


def test_a_new_run_waits_for_finance_while_the_instruction_is_held(system):
    case_id = held_after_a_failed_run(system)
    summary = system.compensation.compensate(case_id)  # the resumed run reaches Compensate
    assert (summary["instructionId"], summary["instructionStatus"]) == (f"{case_id}-p1", "ON_HOLD")
    resumed = system.repo.list_events(case_id)[-1]
    assert resumed.type == "COMPENSATION_RESUMED" and resumed.data["waitingFor"] == "finance to resolve the hold"
    system.workflow.wait(case_id, Stage.PAYMENT, "payment-token-2", "exec-2")
    assert system.engine.resumed[-1][0] != "payment-token-2"  # waits: nothing new was issued, nothing paid
    assert system.store.get_compensation(case_id).instruction.status == InstructionStatus.ON_HOLD

    resolved = system.compensation.resolve_hold(FAY, case_id, {"outcome": "NOT_PAID"})
    assert (resolved.instruction.id, resolved.instruction.status) == (f"{case_id}-p2", InstructionStatus.PENDING)
    assert event_types(system, case_id)[-2:] == ["PAYMENT_VOIDED", "COMPENSATION_INSTRUCTED"]  # one write
    assert [e.type for e in resolved.ledger][-3:] == [LedgerType.HELD, LedgerType.VOIDED, LedgerType.INSTRUCTED]
    system.compensation.confirm_payment(FAY, case_id, PAY)
    assert system.engine.resumed[-1][0] == "payment-token-2" and chain_is_valid(system, case_id)


def test_who_may_resolve_a_hold_and_what_they_must_say(system):
    creator = principal("alice", "caseworker", "finance", team="claims")
    case_id = approved(system, creator=creator)
    system.compensation.compensate(case_id)
    system.compensation.hold_unpaid(case_id, "workflow")
    for who in (creator, ANN, principal("aud", "auditor"), principal("sam", "supervisor", team="claims")):
        with pytest.raises(Forbidden):
            system.compensation.resolve_hold(who, case_id, {"outcome": "NOT_PAID"})
    with pytest.raises(InvalidInput) as excinfo:
        system.compensation.resolve_hold(FAY, case_id, {"outcome": "PAID"})
    assert [issue.field for issue in excinfo.value.details] == ["reference"]
    with pytest.raises(InvalidInput):
        system.compensation.resolve_hold(FAY, case_id, {"outcome": "MAYBE"})
    assert system.store.get_compensation(case_id).instruction.status == InstructionStatus.ON_HOLD
    with pytest.raises(Conflict, match="no hold to resolve"):
        system.compensation.resolve_hold(FAY, compensated(system), {"outcome": "NOT_PAID"})


def test_payment_condition(system):
    case_id = compensated(system)
    case = system.repo.get_case(case_id)
    assert system.compensation.payment_if_confirmed(case) is None
    system.compensation.confirm_payment(FAY, case_id, PAY)
    assert system.compensation.payment_if_confirmed(case) == {}


def test_who_may_read_and_confirm(system):
    case_id = compensated(system)
    for who in (ANN, principal("x", "caseworker", team="general")):
        with pytest.raises(NotFound):
            system.compensation.get(who, case_id)  # approvers and other teams do not see the case
    assert system.compensation.get(FAY, case_id).case_id == case_id
    assert system.compensation.get(principal("aud", "auditor"), case_id).case_id == case_id
    for who in (principal("alice", "caseworker", team="claims"), ANN, principal("aud", "auditor")):
        with pytest.raises(Forbidden):
            system.compensation.confirm_payment(who, case_id, PAY)
    with pytest.raises(InvalidInput):
        system.compensation.confirm_payment(FAY, case_id, {"reference": ""})
    with pytest.raises(NotFound):
        system.compensation.confirm_payment(FAY, "missing", PAY)
    assert system.compensation.confirm_payment(principal("root", "admin"), case_id, PAY).instruction.paid_by == "root"


def test_segregation_of_duties_holds_for_admins_too(system):
    """Issue 12 item 5: whoever approved may not confirm the payment; the creator neither."""
    creator = principal("boss", "caseworker", "admin", team="claims")
    case_id = awaiting_approval(system, creator=creator)
    approver = principal("root", "approver", "admin")
    system.approvals.decide(approver, f"{case_id}-a1", {"decision": "APPROVE"})
    system.compensation.compensate(case_id)
    system.workflow.wait(case_id, Stage.PAYMENT, "payment-token", "exec-1")
    for who in (approver, creator):
        with pytest.raises(Forbidden, match="segregation of duties"):
            system.compensation.confirm_payment(who, case_id, PAY)
    assert system.store.get_compensation(case_id).instruction.status == InstructionStatus.PENDING
    assert system.compensation.confirm_payment(FAY, case_id, PAY).instruction.paid_by == "fay"


def test_whoever_a_decision_was_taken_for_may_not_confirm_either(system):
    case_id = awaiting_approval(system)
    now = system.clock()
    system.delegations.put(principal("root", "admin"), "fay",
                           {"to": "ann", "from": now.isoformat(), "until": (now + timedelta(days=1)).isoformat()})
    system.approvals.decide(ANN, f"{case_id}-a1", {"decision": "APPROVE", "onBehalfOf": "fay"})
    system.compensation.compensate(case_id)
    with pytest.raises(Forbidden, match="segregation of duties"):
        system.compensation.confirm_payment(FAY, case_id, PAY)


def test_a_case_without_compensation(system):
    case_id = approved(system, amount=None)
    assert system.compensation.compensate(case_id) == {"caseId": case_id, "compensation": None}
    with pytest.raises(NotFound, match="no compensation"):
        system.compensation.get(FAY, case_id)


def test_a_run_carried_on_past_its_payment_passes_approval_compensation_and_payment_without_writing(system):
    """The local system restarted and moto forgot exec-1: a new execution carries the run on. Its decision, its
    payment instruction and the payment are facts of the run: each stage passes with the run's output and no write."""
    case_id = compensated(system)
    system.compensation.confirm_payment(FAY, case_id, PAY)
    system.workflow.wait(case_id, Stage.TASKS, "tasks-token", "exec-1")
    before, events = system.repo.get_case(case_id), event_types(system, case_id)
    system.clock.advance(minutes=5)
    workflow = system.workflow
    workflow.initiate(case_id, "exec-2")
    workflow.assign(case_id)
    workflow.wait(case_id, Stage.APPROVAL, "approval-token-2", "exec-2")
    assert system.compensation.compensate(case_id)["instructionStatus"] == "PAID"
    workflow.wait(case_id, Stage.PAYMENT, "payment-token-2", "exec-2")
    workflow.wait(case_id, Stage.TASKS, "tasks-token-2", "exec-2")
    assert event_types(system, case_id) == events
    carried_on = before.workflow.model_copy(update={"execution_id": "exec-2", "executions": ["exec-1", "exec-2"]})
    assert system.repo.get_case(case_id) == before.model_copy(update={"workflow": carried_on})
    assert system.engine.resumed[-3:] == [
        ("approval-token-2", {"decision": "APPROVED", "approvedAmount": "500.00"}), ("payment-token-2", {}),
        ("tasks-token-2", {}),
    ]
    assert [e.type for e in system.store.get_compensation(case_id).ledger] == [
        LedgerType.REQUESTED, LedgerType.APPROVED, LedgerType.INSTRUCTED, LedgerType.PAID,
    ]
