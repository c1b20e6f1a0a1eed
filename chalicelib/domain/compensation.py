"""Compensation: what a case asked for, what was approved (never above the case type's cap), the payment
instruction finance confirms, and an append-only ledger of every step. Nothing is ever paid twice: an
instruction is paid only while PENDING, and a PAID one is never voided or replaced.

Nothing is voided that finance may already have paid: the saga puts a PENDING instruction ON_HOLD, and only
finance resolves the hold, with what the bank says: it was paid (PAID, with the payment's reference) or it was
not (VOIDED). A new instruction replaces only a VOIDED one."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Annotated, Any, Optional

from pydantic import Field, StringConstraints

from ..errors import Conflict, FieldIssue, Forbidden
from .access import Principal, Role, can_view
from .base import NOT_BLANK, ApiModel, RequestModel
from .clock import ISO_FORM
from .models import Case

_CENT = Decimal("0.01")


def _amount(meaning: str) -> Any:
    """A response field holding an amount, its format stated once: `money()` writes every amount of a record."""
    return Field(description=f"{meaning}: a decimal string with 2 decimals, in the record's currency",
                 examples=["1250.00"])


class InstructionStatus(str, Enum):
    PENDING = "PENDING"
    ON_HOLD = "ON_HOLD"  # its run was undone: finance says whether it was paid before anything else happens
    PAID = "PAID"
    VOIDED = "VOIDED"


class LedgerType(str, Enum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    INSTRUCTED = "INSTRUCTED"
    PAID = "PAID"
    HELD = "HELD"
    VOIDED = "VOIDED"


class PaymentInstruction(ApiModel):
    id: str
    status: InstructionStatus
    amount: str = _amount("the amount to pay")
    currency: str
    created_at: str
    reference: Optional[str] = Field(default=None, description="the payment's reference, once paid")
    paid_at: Optional[str] = None
    paid_by: Optional[str] = None
    held_at: Optional[str] = Field(default=None, description="when the saga put the instruction on hold")
    held_by: Optional[str] = None
    voided_at: Optional[str] = None
    voided_by: Optional[str] = Field(default=None, description="who confirmed the held instruction was not paid")


class LedgerEntry(ApiModel):
    """One line of a compensation's append-only ledger."""

    seq: int = Field(description="position in the ledger, from 1, in the order the entries were written")
    type: LedgerType
    amount: str = _amount("the amount the entry records")
    currency: str = Field(description="ISO 4217 code")
    at: str = Field(description=f"when the entry was written: {ISO_FORM}")
    actor: str = Field(description="username of who caused the entry, or \"workflow\" for its automatic steps")
    instruction_id: Optional[str] = Field(default=None, description="the payment instruction the entry is about")
    note: Optional[str] = Field(
        default=None, description="why the approved amount differs from the requested one, the payment's reference, "
                                  "or why an instruction was held or voided"
    )


class Compensation(ApiModel):
    case_id: str
    requested: str = _amount("the amount the case asked for")
    approved: str = _amount("the amount approved, held to the cap")
    paid: str = _amount("the amount confirmed paid so far")
    currency: str = Field(description="ISO 4217 code of every amount of the compensation")
    cap: Optional[str] = Field(default=None, description="the case type's cap the approved amount was held to")
    instruction: PaymentInstruction
    ledger: list[LedgerEntry] = []
    created_at: str = Field(description=f"when the workflow created the record: {ISO_FORM}")
    updated_at: str = Field(description=f"when the record last changed: {ISO_FORM}")
    version: int = Field(description="1 when created, +1 on every change (instruction held, paid, voided or issued)")


Reference = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[\w .:/#-]*[\w.:/#-][\w .:/#-]*$")
]


class PaymentConfirmation(RequestModel):
    reference: Reference = Field(description="the bank's or payment system's reference of the transfer")


class HoldOutcome(str, Enum):
    PAID = "PAID"  # the bank paid the held instruction
    NOT_PAID = "NOT_PAID"  # it did not: the instruction is voided, and a new one may be issued


class HoldResolution(RequestModel):
    outcome: HoldOutcome = Field(description="what finance found the bank did with the held instruction")
    reference: Optional[Reference] = Field(
        default=None, description="the payment's reference: required with PAID, refused with NOT_PAID",
    )
    note: Optional[Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NOT_BLANK)]] = Field(
        default=None, description="how it was checked, e.g. the statement looked at",
    )


def resolution_issues(request: HoldResolution) -> list[FieldIssue]:
    if request.outcome == HoldOutcome.PAID and request.reference is None:
        return [FieldIssue("reference", "is required when the held instruction was PAID")]
    if request.outcome == HoldOutcome.NOT_PAID and request.reference is not None:
        return [FieldIssue("reference", "is only given when the held instruction was PAID")]
    return []


# -- amounts -----------------------------------------------------------------------------------------


def money(value: Decimal | str) -> str:
    return str(Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP))


def capped(approved: str, cap: Optional[str]) -> str:
    """The approved amount held to the cap: never above it."""
    amount = Decimal(approved)
    if cap is not None and amount > Decimal(cap):
        amount = Decimal(cap)
    return money(amount)


# -- transitions (pure) ------------------------------------------------------------------------------


def instruction_id(case_id: str, n: int) -> str:
    return f"{case_id}-p{n}"


def entry(seq: int, type: LedgerType, amount: str, currency: str, at: str, actor: str,
          instruction: Optional[str] = None, note: Optional[str] = None) -> LedgerEntry:
    return LedgerEntry(seq=seq, type=type, amount=money(amount), currency=currency, at=at, actor=actor,
                       instruction_id=instruction, note=note)


def paid(record: Compensation, by: str, at: str, reference: str, held: bool = False) -> Compensation:
    """The instruction paid: a PENDING one confirmed, or (`held`) an ON_HOLD one found paid."""
    expected = InstructionStatus.ON_HOLD if held else InstructionStatus.PENDING
    if record.instruction.status != expected:
        hint = "; resolve its hold instead" if record.instruction.status == InstructionStatus.ON_HOLD else ""
        raise Conflict(
            f"the payment instruction {record.instruction.id} is {record.instruction.status.value}, not "
            f"{expected.value}; nothing is paid twice{hint}"
        )
    instruction = record.instruction.model_copy(
        update={"status": InstructionStatus.PAID, "reference": reference, "paid_at": at, "paid_by": by}
    )
    return record.model_copy(update={
        "instruction": instruction, "paid": money(Decimal(record.paid) + Decimal(instruction.amount)),
        "updated_at": at, "version": record.version + 1,
    })


def held(record: Compensation, by: str, at: str) -> Compensation:
    """A PENDING instruction on hold: its run was undone, but the bank may have paid it already."""
    if record.instruction.status != InstructionStatus.PENDING:
        raise Conflict(f"the payment instruction {record.instruction.id} is {record.instruction.status.value}")
    instruction = record.instruction.model_copy(
        update={"status": InstructionStatus.ON_HOLD, "held_at": at, "held_by": by}
    )
    return record.model_copy(update={"instruction": instruction, "updated_at": at, "version": record.version + 1})


def voided(record: Compensation, by: str, at: str) -> Compensation:
    """A held instruction finance found unpaid: it never will be."""
    if record.instruction.status != InstructionStatus.ON_HOLD:
        raise Conflict(
            f"the payment instruction {record.instruction.id} is {record.instruction.status.value}, not ON_HOLD; "
            "only a held instruction is voided, once finance found it unpaid"
        )
    instruction = record.instruction.model_copy(
        update={"status": InstructionStatus.VOIDED, "voided_at": at, "voided_by": by}
    )
    return record.model_copy(update={"instruction": instruction, "updated_at": at, "version": record.version + 1})


def reinstructed(record: Compensation, seq: int, at: str, actor: str) -> tuple[Compensation, LedgerEntry]:
    """A new PENDING instruction for the approved amount, replacing a VOIDED one, and its ledger entry at `seq`."""
    if record.instruction.status != InstructionStatus.VOIDED:
        raise Conflict(
            f"the payment instruction {record.instruction.id} is {record.instruction.status.value}: a new one "
            "replaces only a voided instruction"
        )
    n = sum(1 for e in record.ledger if e.type == LedgerType.INSTRUCTED) + 1
    instruction = PaymentInstruction(id=instruction_id(record.case_id, n), status=InstructionStatus.PENDING,
                                     amount=record.approved, currency=record.currency, created_at=at)
    updated = record.model_copy(update={"instruction": instruction, "updated_at": at, "version": record.version + 1})
    return updated, entry(seq, LedgerType.INSTRUCTED, record.approved, record.currency, at, actor, instruction.id)


def check_may_confirm(principal: Principal, case: Case, approvers: set[str]) -> None:
    """Segregation of duties, admins included: the case's creator and whoever approved its compensation (or had
    it approved for them) may not confirm its payment."""
    me = principal.username
    if me == case.created_by:
        raise Forbidden(f"segregation of duties: {me} created case {case.id} and may not confirm its payment")
    if me in approvers:
        raise Forbidden(f"segregation of duties: {me} approved case {case.id} and may not confirm its payment")


def may_see(principal: Principal, case: Case) -> bool:
    """Those who may see the case; and finance, whose role is to pay the compensations of every case."""
    return can_view(principal, case) or Role.FINANCE in principal.roles
