"""In-memory twin of the DynamoDB approvals and compensation store, for unit tests. It shares the in-memory
case repository's lock, cases and events, so a decision and its case write are atomic here as in DynamoDB;
the integration suite runs the same contract tests against both."""
from __future__ import annotations

from typing import Optional

from ..domain.approvals import Approval, ApprovalStatus, CaseWrite, approval_number, inbox_key, inbox_sort_key
from ..domain.compensation import Compensation, InstructionStatus, LedgerEntry
from ..ports import StaleWrite
from .memory import InMemoryCaseRepository


class InMemoryDecisionStore:
    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self._cases = cases
        self._lock = cases._lock  # one lock for the case and its decisions: transactions span both
        self.approvals: dict[str, dict[str, Approval]] = {}
        self.compensations: dict[str, Compensation] = {}
        self.ledgers: dict[str, list[LedgerEntry]] = {}

    # -- approvals -----------------------------------------------------------------------------------

    def get_approval(self, case_id: str, approval_id: str) -> Optional[Approval]:
        with self._lock:
            return self.approvals.get(case_id, {}).get(approval_id)

    def list_case_approvals(self, case_id: str) -> list[Approval]:
        with self._lock:
            found = list(self.approvals.get(case_id, {}).values())
        return sorted(found, key=approval_number)

    def list_inbox(self, key: str) -> list[Approval]:
        with self._lock:
            found = [a for per_case in self.approvals.values() for a in per_case.values() if inbox_key(a) == key]
        return sorted(found, key=inbox_sort_key)

    def add_approval(self, approval: Approval, write: CaseWrite) -> None:
        with self._lock:
            if approval.id in self.approvals.get(approval.case_id, {}):
                raise StaleWrite()
            self._check_case(write)
            self._apply_case(write)
            self.approvals.setdefault(approval.case_id, {})[approval.id] = approval

    def update_approval(
        self, approval: Approval, expected_version: int, write: CaseWrite, opened: Optional[Approval] = None
    ) -> None:
        with self._lock:
            per_case = self.approvals.get(approval.case_id, {})
            current = per_case.get(approval.id)
            if current is None or current.status != ApprovalStatus.PENDING or current.version != expected_version:
                raise StaleWrite()
            if opened is not None and opened.id in per_case:
                raise StaleWrite()
            self._check_case(write)
            self._apply_case(write)
            per_case[approval.id] = approval
            if opened is not None:
                per_case[opened.id] = opened

    # -- compensation --------------------------------------------------------------------------------

    def get_compensation(self, case_id: str) -> Optional[Compensation]:
        with self._lock:
            record = self.compensations.get(case_id)
            if record is None:
                return None
            return record.model_copy(update={"ledger": list(self.ledgers.get(case_id, []))})

    def add_compensation(self, record: Compensation, write: CaseWrite) -> None:
        with self._lock:
            if record.case_id in self.compensations:
                raise StaleWrite()
            self._check_case(write)
            self._apply_case(write)
            self.compensations[record.case_id] = record.model_copy(update={"ledger": []})
            self.ledgers[record.case_id] = list(record.ledger)

    def update_compensation(
        self, record: Compensation, expected_version: int, expected_status: InstructionStatus,
        new_entries: list[LedgerEntry], write: CaseWrite,
    ) -> None:
        with self._lock:
            current = self.compensations.get(record.case_id)
            if current is None or current.version != expected_version or current.instruction.status != expected_status:
                raise StaleWrite()
            ledger = self.ledgers.setdefault(record.case_id, [])
            taken = {e.seq for e in ledger}
            if any(e.seq in taken for e in new_entries):
                raise StaleWrite()
            self._check_case(write)
            self._apply_case(write)
            self.compensations[record.case_id] = record.model_copy(update={"ledger": []})
            ledger.extend(new_entries)

    # -- the case side of every transaction ----------------------------------------------------------

    def _check_case(self, write: CaseWrite) -> None:
        current = self._cases.cases.get(write.case.id)
        if (
            current is None or current.version != write.expected_version
            or current.audit_seq != write.expected_audit_seq
        ):
            raise StaleWrite()

    def _apply_case(self, write: CaseWrite) -> None:
        self._cases.cases[write.case.id] = write.case
        self._cases.events.setdefault(write.case.id, []).append(write.event)
