"""Approvals and compensation on the cases table (single-table design, pynamodb).

Items (PK / SK):
  CASE#<caseId> / APPROVAL#<approvalId>   an approval; inboxPk = USER#<assignee> | ROLE#approver, inboxSk =
                                          APPROVAL#<createdAt>#<approvalId> while PENDING, removed after
  CASE#<caseId> / COMPENSATION            the compensation record with its payment instruction
  CASE#<caseId> / LEDGER#<seq>            the compensation ledger, append-only

Every change, with the case's new state (status, version, audit head) and its audit event, is one
TransactWriteItems conditional on the case's version and audit head and on the approval's status and
version (or the instruction's status and the record's version): all of it or none of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.approvals import Approval, ApprovalStatus, CaseWrite, approval_number, inbox_key, inbox_sort_key
from ..domain.compensation import Compensation, InstructionStatus, LedgerEntry
from .dynamodb import INBOX_INDEX, TableModels, _case_key, _event_sk, _stale_on_condition, _translated

COMPENSATION_SK = "COMPENSATION"


@dataclass(frozen=True)
class DecisionModels:
    approval: Any
    compensation: Any
    ledger: Any


@lru_cache(maxsize=8)
def decision_models(models: TableModels) -> DecisionModels:
    """Item models for approvals and compensation on the table of `models`, sharing its connection."""
    table_meta = models.case.Meta

    class Inbox(GlobalSecondaryIndex):
        class Meta:
            index_name = INBOX_INDEX
            projection = AllProjection()

        inbox_pk = UnicodeAttribute(hash_key=True, attr_name="inboxPk")
        inbox_sk = UnicodeAttribute(range_key=True, attr_name="inboxSk")

    class Item(Model):
        Meta = table_meta
        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")

    class ApprovalItem(Item):
        body = JSONAttribute()
        status = UnicodeAttribute()
        version = NumberAttribute()
        inbox_pk = UnicodeAttribute(attr_name="inboxPk", null=True)
        inbox_sk = UnicodeAttribute(attr_name="inboxSk", null=True)
        inbox = Inbox()

    class CompensationItem(Item):
        body = JSONAttribute()
        instruction_status = UnicodeAttribute(attr_name="instructionStatus")
        version = NumberAttribute()

    class LedgerItem(Item):
        body = JSONAttribute()

    shared = models.case._get_connection()
    for model in (ApprovalItem, CompensationItem, LedgerItem):
        model._connection = shared
    return DecisionModels(ApprovalItem, CompensationItem, LedgerItem)


def _approval_sk(approval_id: str) -> str:
    return f"APPROVAL#{approval_id}"


def _ledger_sk(seq: int) -> str:
    return f"LEDGER#{seq:06d}"


class DynamoDecisionStore:
    """The approval store and the compensation store on one table."""

    def __init__(self, models: TableModels) -> None:
        self._m = models
        self._d = decision_models(models)

    # -- approvals -----------------------------------------------------------------------------------

    def get_approval(self, case_id: str, approval_id: str) -> Optional[Approval]:
        approval = self._d.approval
        with _translated():
            try:
                item = approval.get(_case_key(case_id), _approval_sk(approval_id), consistent_read=True)
            except approval.DoesNotExist:
                return None
        return Approval.model_validate(item.body)

    def list_case_approvals(self, case_id: str) -> list[Approval]:
        approval = self._d.approval
        with _translated():
            items = approval.query(_case_key(case_id), approval.sk.startswith("APPROVAL#"), consistent_read=True)
            return sorted((Approval.model_validate(item.body) for item in items), key=approval_number)

    def list_inbox(self, key: str) -> list[Approval]:
        approval = self._d.approval
        with _translated():
            items = approval.inbox.query(key, approval.inbox_sk.startswith("APPROVAL#"))
            return [Approval.model_validate(item.body) for item in items]

    def add_approval(self, approval: Approval, write: CaseWrite) -> None:
        item = self._d.approval
        with _stale_on_condition(), _translated(), TransactWrite(connection=self._m.connection) as tx:
            self._write_case(tx, write)
            tx.save(self._approval_item(approval), condition=item.pk.does_not_exist())

    def update_approval(
        self, approval: Approval, expected_version: int, write: CaseWrite, opened: Optional[Approval] = None
    ) -> None:
        item = self._d.approval
        with _stale_on_condition(), _translated(), TransactWrite(connection=self._m.connection) as tx:
            self._write_case(tx, write)
            tx.save(
                self._approval_item(approval),
                condition=(item.status == ApprovalStatus.PENDING.value) & (item.version == expected_version),
            )
            if opened is not None:
                tx.save(self._approval_item(opened), condition=item.pk.does_not_exist())

    # -- compensation --------------------------------------------------------------------------------

    def get_compensation(self, case_id: str) -> Optional[Compensation]:
        record, ledger = self._d.compensation, self._d.ledger
        with _translated():
            try:
                item = record.get(_case_key(case_id), COMPENSATION_SK, consistent_read=True)
            except record.DoesNotExist:
                return None
            entries = [
                LedgerEntry.model_validate(entry.body)
                for entry in ledger.query(_case_key(case_id), ledger.sk.startswith("LEDGER#"), consistent_read=True)
            ]
        return Compensation.model_validate({**item.body, "ledger": [e.to_api() for e in entries]})

    def add_compensation(self, record: Compensation, write: CaseWrite) -> None:
        item = self._d.compensation
        with _stale_on_condition(), _translated(), TransactWrite(connection=self._m.connection) as tx:
            self._write_case(tx, write)
            tx.save(self._compensation_item(record), condition=item.pk.does_not_exist())
            self._append_ledger(tx, record.case_id, record.ledger)

    def update_compensation(
        self, record: Compensation, expected_version: int, expected_status: InstructionStatus,
        new_entries: list[LedgerEntry], write: CaseWrite,
    ) -> None:
        item = self._d.compensation
        with _stale_on_condition(), _translated(), TransactWrite(connection=self._m.connection) as tx:
            self._write_case(tx, write)
            tx.save(
                self._compensation_item(record),
                condition=(item.version == expected_version) & (item.instruction_status == expected_status.value),
            )
            self._append_ledger(tx, record.case_id, new_entries)

    # -- mapping -------------------------------------------------------------------------------------

    def _write_case(self, tx: TransactWrite, write: CaseWrite) -> None:
        """The case's side of a transaction: its new state and audit head, and the audit event."""
        m, case = self._m, write.case
        actions = [
            m.case.status.set(case.status.value), m.case.version.set(case.version),
            m.case.updated_at.set(case.updated_at), m.case.updated_by.set(case.updated_by),
            m.case.audit_seq.set(case.audit_seq), m.case.audit_hash.set(case.audit_hash),
        ]
        if case.workflow is not None:
            actions.append(m.case.workflow.set(case.workflow.to_api()))
        tx.update(
            m.case(_case_key(case.id), "CASE"), actions=actions,
            # fails on a missing case, too
            condition=(m.case.version == write.expected_version) & (m.case.audit_seq == write.expected_audit_seq),
        )
        tx.save(
            m.event(_case_key(case.id), _event_sk(write.event.seq), body=write.event.to_api()),
            condition=m.event.pk.does_not_exist(),
        )

    def _approval_item(self, approval: Approval) -> Any:
        key = inbox_key(approval)
        return self._d.approval(
            _case_key(approval.case_id), _approval_sk(approval.id), body=approval.to_api(),
            status=approval.status.value, version=approval.version,
            inbox_pk=key, inbox_sk=inbox_sort_key(approval) if key else None,
        )

    def _compensation_item(self, record: Compensation) -> Any:
        return self._d.compensation(
            _case_key(record.case_id), COMPENSATION_SK,
            body=record.model_dump(mode="json", by_alias=True, exclude={"ledger"}),
            instruction_status=record.instruction.status.value, version=record.version,
        )

    def _append_ledger(self, tx: TransactWrite, case_id: str, entries: list[LedgerEntry]) -> None:
        ledger = self._d.ledger
        for entry in entries:
            tx.save(ledger(_case_key(case_id), _ledger_sk(entry.seq), body=entry.to_api()),
                    condition=ledger.pk.does_not_exist())
