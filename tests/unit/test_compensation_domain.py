"""Compensation rules without storage: caps, amounts, paying and voiding an instruction."""
from __future__ import annotations

import pytest

from chalicelib.domain.compensation import (
    Compensation, HoldResolution, InstructionStatus, LedgerType, PaymentConfirmation, PaymentInstruction, capped,
    entry, held, may_see, money, paid, reinstructed, resolution_issues, voided,
)
from chalicelib.errors import Conflict
from tests.support import new_case, principal

AT = "2026-03-01T12:00:00.000Z"


@pytest.mark.parametrize("approved, cap, expected", [
    ("1200.00", "5000.00", "1200.00"),
    ("5000.00", "5000.00", "5000.00"),
    ("9000.5", "5000.00", "5000.00"),  # never above the cap
    ("9000.5", None, "9000.50"),  # no cap configured
    ("12", "50000.00", "12.00"),
])
def test_capped(approved, cap, expected):
    assert capped(approved, cap) == expected


def test_money_has_two_decimals():
    assert money("1") == "1.00" and money("0.005") == "0.01" and money("12.3") == "12.30"


def record(status: InstructionStatus = InstructionStatus.PENDING) -> Compensation:
    instruction = PaymentInstruction(id="c1-p1", status=status, amount="800.00", currency="EUR", created_at=AT)
    return Compensation(case_id="c1", requested="900.00", approved="800.00", paid="0.00", currency="EUR",
                        cap="800.00", instruction=instruction, created_at=AT, updated_at=AT, version=1,
                        ledger=[entry(1, LedgerType.REQUESTED, "900", "EUR", AT, "alice")])


def test_paying_a_pending_instruction():
    done = paid(record(), "fay", AT, "BANK-42")
    assert done.instruction.status == InstructionStatus.PAID and done.paid == "800.00" and done.version == 2
    assert (done.instruction.reference, done.instruction.paid_by, done.instruction.paid_at) == ("BANK-42", "fay", AT)


@pytest.mark.parametrize("status", [InstructionStatus.PAID, InstructionStatus.VOIDED])
def test_nothing_is_paid_twice_or_after_voiding(status):
    with pytest.raises(Conflict, match="not PENDING"):
        paid(record(status), "fay", AT, "BANK-42")


def test_the_saga_holds_an_unpaid_instruction_and_only_a_held_one_is_voided():
    on_hold = held(record(), "workflow", AT)
    assert (on_hold.instruction.status, on_hold.instruction.held_by, on_hold.version) == (
        InstructionStatus.ON_HOLD, "workflow", 2)
    for status in (InstructionStatus.PAID, InstructionStatus.VOIDED, InstructionStatus.ON_HOLD):
        with pytest.raises(Conflict):
            held(record(status), "workflow", AT)
    done = voided(on_hold, "fay", AT)
    assert done.instruction.status == InstructionStatus.VOIDED and done.instruction.voided_by == "fay"
    assert done.paid == "0.00"
    for status in (InstructionStatus.PENDING, InstructionStatus.PAID):
        with pytest.raises(Conflict, match="not ON_HOLD"):
            voided(record(status), "fay", AT)


def test_a_held_instruction_is_paid_only_through_its_hold():
    with pytest.raises(Conflict, match="resolve its hold instead"):
        paid(record(InstructionStatus.ON_HOLD), "fay", AT, "BANK-42")
    done = paid(record(InstructionStatus.ON_HOLD), "fay", AT, "BANK-42", held=True)
    assert done.instruction.status == InstructionStatus.PAID and done.paid == "800.00"
    with pytest.raises(Conflict, match="not ON_HOLD"):
        paid(record(), "fay", AT, "BANK-42", held=True)


def test_a_new_instruction_replaces_only_a_voided_one():
    for status in (InstructionStatus.PENDING, InstructionStatus.ON_HOLD, InstructionStatus.PAID):
        with pytest.raises(Conflict, match="replaces only a voided"):
            reinstructed(record(status), 2, AT, "workflow")
    replaced, line = reinstructed(record(InstructionStatus.VOIDED), 2, AT, "workflow")
    assert (replaced.instruction.id, replaced.instruction.status, replaced.instruction.amount) == (
        "c1-p1", InstructionStatus.PENDING, "800.00")  # the record's ledger has no INSTRUCTED line yet
    assert (line.seq, line.type, line.instruction_id) == (2, LedgerType.INSTRUCTED, "c1-p1")


@pytest.mark.parametrize("body, field", [
    ({"outcome": "PAID"}, "reference"),
    ({"outcome": "NOT_PAID", "reference": "BANK-1"}, "reference"),
])
def test_a_hold_resolution_states_the_reference_only_when_paid(body, field):
    assert [issue.field for issue in resolution_issues(HoldResolution.model_validate(body))] == [field]
    assert resolution_issues(HoldResolution.model_validate({"outcome": "PAID", "reference": "BANK-1"})) == []
    assert resolution_issues(HoldResolution.model_validate({"outcome": "NOT_PAID", "note": "statement"})) == []


def test_ledger_entries_serialise_in_camel_case():
    data = entry(3, LedgerType.INSTRUCTED, "800", "EUR", AT, "workflow", "c1-p1").to_api()
    assert data == {"seq": 3, "type": "INSTRUCTED", "amount": "800.00", "currency": "EUR", "at": AT,
                    "actor": "workflow", "instructionId": "c1-p1", "note": None}


def test_payment_confirmation_is_strict():
    assert PaymentConfirmation.model_validate({"reference": " SEPA-2026/0001 "}).reference == "SEPA-2026/0001"
    for bad in ({}, {"reference": ""}, {"reference": "x" * 101}, {"reference": "a<b"}, {"reference": "r", "x": 1}):
        with pytest.raises(ValueError):
            PaymentConfirmation.model_validate(bad)


def test_finance_sees_compensations_of_cases_it_does_not_work_on():
    case, _ = new_case("c1", team="claims", created_by="carl")
    assert may_see(principal("fay", "finance"), case)
    assert may_see(principal("x", "caseworker", team="claims"), case)
    assert not may_see(principal("ann", "approver"), case)
    assert not may_see(principal("x", "caseworker", team="general"), case)
