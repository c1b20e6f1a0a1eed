"""Compensation use cases: the workflow's Compensate step, the PAYMENT wait stage's condition, finance's
payment confirmation, the saga step that puts an unpaid instruction on hold, and finance's resolution of a hold.

Each change writes the record, its ledger entries and the case's audit event in one transaction, conditional
on the record's version and instruction status, so a payment is confirmed once and nothing is paid twice.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from ..domain.access import Action, Principal, require
from ..domain.approvals import case_write
from ..domain.compensation import (
    Compensation, HoldOutcome, HoldResolution, InstructionStatus, LedgerEntry, LedgerType, PaymentConfirmation,
    PaymentInstruction, capped, check_may_confirm, entry, held, instruction_id, may_see, money, paid, reinstructed,
    resolution_issues, voided,
)
from ..domain.models import Case, CaseStatus
from ..errors import Conflict, InvalidInput, NotFound
from ..domain.changes import CaseChange
from ..domain.clock import Clock, iso, utc_now
from ..ports import CaseRepository, CompensationStore
from .case_types import CaseTypeCatalog
from .validation import parse
from .workflow import Stage, run_is_past
from .retry import Decided, retrying
from .. import metrics

log = logging.getLogger(__name__)
ACTOR = "workflow"


class CompensationService:
    def __init__(
        self,
        repository: CaseRepository,
        store: CompensationStore,
        case_types: CaseTypeCatalog,
        approved_amount: Callable[[Case], Optional[str]],
        approvers: Callable[[Case], set[str]],
        resume: Callable[[str, str], Any] = lambda case_id, stage: False,
        clock: Clock = utc_now,
    ) -> None:
        """
        Parameters
        ----------
        approved_amount
            The amount the case's final approval approved (`ApprovalService.approved_amount`).
        approvers
            Who approved the case's compensation (`ApprovalService.approvers`): they may not confirm its payment.
        resume
            `WorkflowService.resume_if_ready`, injected (the workflow is built after this service).
        """
        self._repo, self._store = repository, store
        self._case_types = case_types
        self._approved_amount, self._approvers = approved_amount, approvers
        self._resume, self._clock = resume, clock

    # -- the workflow's side -------------------------------------------------------------------------

    def compensate(self, case_id: str) -> dict[str, Any]:
        """The Compensate step (idempotent): record, payment instruction and ledger; case → COMPENSATION."""

        def decide(case: Case) -> Decided[Optional[Compensation]]:
            if case.compensation is None:
                return None, None
            record = self._store.get_compensation(case_id)
            if record is not None and run_is_past(case.workflow, Stage.COMPENSATION):
                return None, record  # a resumed run (services/workflow.py `initiate`): compensated before
            now = iso(self._clock())
            if record is None:
                return self._create(case, now)
            if record.instruction.status == InstructionStatus.VOIDED:
                return self._reinstruct(case, record, now)  # a new run after a failed one: pay it now
            if case.status != CaseStatus.COMPENSATION:
                # A held instruction stays held: the PAYMENT stage waits until finance resolves it.
                waiting = "finance to resolve the hold" if record.instruction.status == InstructionStatus.ON_HOLD \
                    else None
                return case_write(case, type="COMPENSATION_RESUMED", actor=ACTOR, at=now,
                                  status=CaseStatus.COMPENSATION, stage=Stage.COMPENSATION,
                                  data={"instructionId": record.instruction.id,
                                        "instructionStatus": record.instruction.status.value,
                                        "waitingFor": waiting}), record
            return None, record

        record = retrying(
            self._repo.apply, lambda: self._case(case_id), decide, f"case {case_id} is changing too fast; retry",
        )
        if record is None:
            return {"caseId": case_id, "compensation": None}
        return {
            "caseId": case_id, "requested": record.requested, "approved": record.approved,
            "currency": record.currency, "instructionId": record.instruction.id,
            "instructionStatus": record.instruction.status.value,
        }

    def payment_if_confirmed(self, case: Case) -> Optional[dict[str, Any]]:
        """The PAYMENT stage's condition: {} once the instruction is paid, else None."""
        record = self._store.get_compensation(case.id)
        return {} if record is not None and record.instruction.status == InstructionStatus.PAID else None

    def hold_unpaid(self, case_id: str, actor: str) -> list[str]:
        """Saga step (idempotent): put a PENDING payment instruction on hold, never void it (finance may have
        paid it already); any other is not touched. Returns what was undone, for the rollback's audit event."""

        def read() -> tuple[Optional[Compensation], Optional[Case]]:
            return self._store.get_compensation(case_id), self._repo.get_case(case_id)

        def decide(seen: tuple[Optional[Compensation], Optional[Case]]) -> Decided[list[str]]:
            record, case = seen
            if record is None or case is None or record.instruction.status != InstructionStatus.PENDING:
                return None, []
            now = iso(self._clock())
            change = case_write(case, type="PAYMENT_HELD", actor=actor, at=now,
                                data={"instructionId": record.instruction.id, "amount": record.instruction.amount,
                                      "currency": record.currency})
            _replace(change, held(record, actor, now), record, InstructionStatus.PENDING, [
                entry(len(record.ledger) + 1, LedgerType.HELD, record.instruction.amount, record.currency, now,
                      actor, record.instruction.id, note="the run was undone; finance to confirm whether it was paid"),
            ])
            return change, [f"held payment instruction {record.instruction.id} for finance to confirm it was not paid"]

        return retrying(self._repo.apply, read, decide, f"case {case_id} is changing too fast; retry")

    # -- people --------------------------------------------------------------------------------------

    def get(self, principal: Principal, case_id: str) -> Compensation:
        require(principal, Action.READ_CASES)
        self._visible_case(principal, case_id)
        record = self._store.get_compensation(case_id)
        if record is None:
            raise NotFound(f"case {case_id} has no compensation")
        return record

    def confirm_payment(self, principal: Principal, case_id: str, payload: Any) -> Compensation:
        require(principal, Action.CONFIRM_PAYMENT)
        request = parse(PaymentConfirmation, payload)

        def decide(case: Case) -> Decided[tuple[Compensation, float]]:
            record = self._store.get_compensation(case_id)
            if record is None:
                raise NotFound(f"case {case_id} has no compensation")
            check_may_confirm(principal, case, self._approvers(case))
            now = iso(self._clock())
            updated = paid(record, principal.username, now, request.reference)  # Conflict unless PENDING
            ledger = [entry(len(record.ledger) + 1, LedgerType.PAID, record.instruction.amount, record.currency,
                            now, principal.username, record.instruction.id, note=request.reference)]
            change = case_write(case, type="PAYMENT_CONFIRMED", actor=principal.username, at=now,
                                data={"instructionId": record.instruction.id, "amount": record.instruction.amount,
                                      "currency": record.currency, "reference": request.reference})
            _replace(change, updated, record, InstructionStatus.PENDING, ledger)
            shown = updated.model_copy(update={"ledger": [*record.ledger, *ledger]})
            return change, (shown, float(record.instruction.amount))

        # A lost race is read again: paid or voided meanwhile (409), or only the case's audit head moved.
        updated, amount = retrying(
            self._repo.apply, lambda: self._visible_case(principal, case_id), decide,
            f"case {case_id} is changing too fast; retry",
        )
        metrics.count(metrics.COMPENSATION_PAID)
        metrics.amount(metrics.COMPENSATION_PAID_AMOUNT, amount)
        self._resume_safely(case_id)
        return updated

    def resolve_hold(self, principal: Principal, case_id: str, payload: Any) -> Compensation:
        """Finance says what the bank did with a held instruction: PAID (with its reference) or NOT_PAID (it is
        voided; if a run waits for the payment, a new instruction replaces it in the same write). Segregation
        of duties as for confirming a payment."""
        require(principal, Action.CONFIRM_PAYMENT)
        request = parse(HoldResolution, payload)
        issues = resolution_issues(request)
        if issues:
            raise InvalidInput("invalid hold resolution", issues)

        def decide(case: Case) -> Decided[Compensation]:
            record = self._store.get_compensation(case_id)
            if record is None:
                raise NotFound(f"case {case_id} has no compensation")
            check_may_confirm(principal, case, self._approvers(case))
            if record.instruction.status != InstructionStatus.ON_HOLD:
                raise Conflict(f"the payment instruction {record.instruction.id} is "
                               f"{record.instruction.status.value}, not ON_HOLD: there is no hold to resolve")
            now, me, held_one = iso(self._clock()), principal.username, record.instruction
            seq = len(record.ledger) + 1
            facts = {"instructionId": held_one.id, "amount": held_one.amount, "currency": record.currency,
                     "held": True, "note": request.note}
            if request.outcome == HoldOutcome.PAID:
                assert request.reference is not None  # resolution_issues
                updated = paid(record, me, now, request.reference, held=True)
                ledger = [entry(seq, LedgerType.PAID, held_one.amount, record.currency, now, me, held_one.id,
                                note=request.reference)]
                change = case_write(case, type="PAYMENT_CONFIRMED", actor=me, at=now,
                                    data={**facts, "reference": request.reference})
            else:
                updated = voided(record, me, now)
                ledger = [entry(seq, LedgerType.VOIDED, held_one.amount, record.currency, now, me, held_one.id,
                                note=request.note or "finance confirmed it was not paid")]
                change = case_write(case, type="PAYMENT_VOIDED", actor=me, at=now, data=facts)
                if case.status == CaseStatus.COMPENSATION:  # a run waits for this payment: pay it now
                    updated, instructed = reinstructed(updated, seq + 1, now, ACTOR)
                    ledger.append(instructed)
                    change.append("COMPENSATION_INSTRUCTED", {
                        "approved": record.approved, "currency": record.currency,
                        "instructionId": updated.instruction.id, "replaces": held_one.id,
                    })
            _replace(change, updated, record, InstructionStatus.ON_HOLD, ledger)
            return change, updated.model_copy(update={"ledger": [*record.ledger, *ledger]})

        # A lost race is read again: resolved meanwhile (409), or only the case's audit head moved.
        updated = retrying(
            self._repo.apply, lambda: self._visible_case(principal, case_id), decide,
            f"case {case_id} is changing too fast; retry",
        )
        if updated.instruction.status == InstructionStatus.PAID:
            metrics.count(metrics.COMPENSATION_PAID)
            metrics.amount(metrics.COMPENSATION_PAID_AMOUNT, float(updated.instruction.amount))
        self._resume_safely(case_id)
        return updated

    # -- internals -----------------------------------------------------------------------------------

    def _create(self, case: Case, now: str) -> tuple[CaseChange, Compensation]:
        assert case.compensation is not None
        approved_raw = self._approved_amount(case)
        if approved_raw is None:
            raise Conflict(f"case {case.id} has no final approval to compensate")
        currency = case.compensation.currency
        rules = self._case_types.of_case(case).currencies.get(currency)
        cap = rules.cap if rules else None
        approved = capped(approved_raw, cap)
        instruction = PaymentInstruction(id=instruction_id(case.id, 1), status=InstructionStatus.PENDING,
                                         amount=approved, currency=currency, created_at=now)
        note = f"held to the case type's cap of {cap}" if money(approved_raw) != approved else None
        ledger = [
            entry(1, LedgerType.REQUESTED, case.compensation.amount, currency, now, case.created_by),
            entry(2, LedgerType.APPROVED, approved, currency, now, ACTOR, note=note),
            entry(3, LedgerType.INSTRUCTED, approved, currency, now, ACTOR, instruction.id),
        ]
        record = Compensation(
            case_id=case.id, requested=money(case.compensation.amount), approved=approved, paid=money("0"),
            currency=currency, cap=cap, instruction=instruction, ledger=ledger, created_at=now, updated_at=now,
            version=1,
        )
        change = case_write(case, type="COMPENSATION_INSTRUCTED", actor=ACTOR, at=now,
                            status=CaseStatus.COMPENSATION, stage=Stage.COMPENSATION,
                            data={"requested": record.requested, "approved": approved, "currency": currency,
                                  "cap": cap, "instructionId": instruction.id})
        change.put(record)
        for line in ledger:
            change.put(line)
        return change, record

    def _reinstruct(self, case: Case, record: Compensation, now: str) -> tuple[CaseChange, Compensation]:
        updated, instructed = reinstructed(record, len(record.ledger) + 1, now, ACTOR)
        ledger = [instructed]
        change = case_write(case, type="COMPENSATION_INSTRUCTED", actor=ACTOR, at=now,
                            status=CaseStatus.COMPENSATION, stage=Stage.COMPENSATION,
                            data={"approved": record.approved, "currency": record.currency,
                                  "instructionId": updated.instruction.id, "replaces": record.instruction.id})
        _replace(change, updated, record, InstructionStatus.VOIDED, ledger)
        return change, updated.model_copy(update={"ledger": [*record.ledger, *ledger]})

    def _case(self, case_id: str) -> Case:
        case = self._repo.get_case(case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    def _visible_case(self, principal: Principal, case_id: str) -> Case:
        case = self._repo.get_case(case_id)
        if case is None or not may_see(principal, case):
            raise NotFound(f"case {case_id} not found")
        return case

    def _resume_safely(self, case_id: str) -> None:
        # The payment is stored; if the engine cannot be reached now, the stage re-checks its condition
        # when its wait times out, escalates and waits again.
        try:
            self._resume(case_id, Stage.PAYMENT)
        except Exception:
            log.exception("could not resume the payment stage of case %s", case_id)


def _replace(
    change: CaseChange, updated: Compensation, read: Compensation, status: InstructionStatus,
    new_entries: list[LedgerEntry],
) -> None:
    """Write the record only while it is at the version read with its instruction in `status`, and append
    the new ledger entries: a payment is confirmed once and nothing is paid twice."""
    change.put(updated, expected=read.version, status=status.value)
    for line in new_entries:
        change.put(line)
