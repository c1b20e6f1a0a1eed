"""In-memory twin of the DynamoDB approvals and compensation store, over the shared in-memory table."""
from __future__ import annotations

from typing import Optional, Sequence

from ...domain.approvals import Approval, approval_number
from ...ports import StartKey
from .. import keyed_pages
from ..dynamo.keys import approval_inbox_list, case_approvals_list
from ..keyed_pages import in_memory
from ...domain.compensation import Compensation
from .table import InMemoryTable


class InMemoryDecisionStore:
    def __init__(self, table: InMemoryTable) -> None:
        self._lock = table._lock
        self.approvals, self.compensations, self.ledgers = table.approvals, table.compensations, table.ledgers

    def get_approval(self, case_id: str, approval_id: str) -> Optional[Approval]:
        with self._lock:
            return self.approvals.get(case_id, {}).get(approval_id)

    def list_case_approvals(self, case_id: str) -> list[Approval]:
        with self._lock:
            found = list(self.approvals.get(case_id, {}).values())
        return sorted(found, key=approval_number)

    def case_approvals_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Approval], StartKey]:
        with self._lock:
            read = in_memory(list(self.approvals.get(case_id, {}).values()))
        return keyed_pages.page(read, case_approvals_list(case_id), limit, start_key)

    def inbox_page(self, inboxes: Sequence[str], limit: int, start_key: StartKey) -> tuple[list[Approval], StartKey]:
        with self._lock:
            read = in_memory([a for per_case in self.approvals.values() for a in per_case.values()])
        lists = [approval_inbox_list(inbox) for inbox in inboxes]
        return keyed_pages.merged_page(read, lists, limit, start_key)

    def get_compensation(self, case_id: str) -> Optional[Compensation]:
        with self._lock:
            record = self.compensations.get(case_id)
            if record is None:
                return None
            ledger = [entry for _, entry in sorted(self.ledgers.get(case_id, {}).items())]
            return record.model_copy(update={"ledger": ledger})
