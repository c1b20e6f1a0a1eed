"""Approvals and compensation on the table: a case's approvals, the approvers' inbox, the compensation record
with its ledger. Their writes are CaseChanges, conditional on the approval's status and version (or the
instruction's status and the record's version) as well as on the case."""
from __future__ import annotations

from typing import Optional, Sequence

from ...domain.approvals import Approval, approval_number
from ...domain.compensation import Compensation, LedgerEntry
from ...ports import StartKey
from .. import keyed_pages
from . import keys
from .errors import stored, translated
from .models import OnTable
from .pages import reader


class DynamoDecisionStore(OnTable):
    """The approval store and the compensation store on one table."""

    def get_approval(self, case_id: str, approval_id: str) -> Optional[Approval]:
        item = stored(self._m.approval, keys.case_pk(case_id), keys.approval_sk(approval_id))
        return None if item is None else Approval.model_validate(item.body)

    def list_case_approvals(self, case_id: str) -> list[Approval]:
        approval = self._m.approval
        with translated():
            items = approval.query(
                keys.case_pk(case_id), approval.sk.startswith(keys.APPROVAL_PREFIX), consistent_read=True,
            )
            return sorted((Approval.model_validate(item.body) for item in items), key=approval_number)

    def case_approvals_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Approval], StartKey]:
        return keyed_pages.page(self._read(), keys.case_approvals_list(case_id), limit, start_key)

    def inbox_page(self, inboxes: Sequence[str], limit: int, start_key: StartKey) -> tuple[list[Approval], StartKey]:
        lists = [keys.approval_inbox_list(inbox) for inbox in inboxes]
        return keyed_pages.merged_page(self._read(), lists, limit, start_key)

    def _read(self) -> keyed_pages.Read[Approval]:
        return reader(self._m.approval, lambda item: Approval.model_validate(item.body))

    def get_compensation(self, case_id: str) -> Optional[Compensation]:
        ledger, pk = self._m.ledger, keys.case_pk(case_id)
        item = stored(self._m.compensation, pk, keys.COMPENSATION_SK)
        if item is None:
            return None
        with translated():
            entries = [
                LedgerEntry.model_validate(entry.body)
                for entry in ledger.query(pk, ledger.sk.startswith(keys.LEDGER_PREFIX), consistent_read=True)
            ]
        return Compensation.model_validate({**item.body, "ledger": [e.to_api() for e in entries]})
