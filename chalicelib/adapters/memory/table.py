"""The in-memory twin of the table: every kind of record the DynamoDB adapters keep, and one `apply` that
checks a CaseChange's conditions and writes all of it under one lock, or raises and writes nothing, as one
TransactWriteItems does. The contract tests run the same tests against both, so the twin stays honest."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Hashable

from ...domain.approvals import Approval
from ...domain.changes import CaseChange, Delete, LoadChange, NoLegalHold, Overwrite, Put
from ...domain.compensation import Compensation, LedgerEntry
from ...domain.documents import DocumentRecord, LegalHold, VersionRecord
from ...domain.models import AuditEvent, Case, Comment
from ...domain.personnel import Person
from ...domain.records import DueMarker, IdempotencyRecord, RoundRobinCursor
from ...domain.tasks import Task
from ...ports import IdempotencyKeyTaken, StaleWrite
from ..dynamo.keys import due_sk

if TYPE_CHECKING:
    from ...domain.changes import Record, Write


def marker_sort(marker: DueMarker) -> str:
    return due_sk(marker.due_at, marker.task_id, marker.warning)


class InMemoryTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cases: dict[str, Case] = {}
        self.events: dict[str, list[AuditEvent]] = {}
        self.comments: dict[str, dict[str, Comment]] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.counters: dict[str, int] = {}
        self.tasks: dict[str, Task] = {}
        self.people: dict[str, Person] = {}
        self.cursors: dict[str, RoundRobinCursor] = {}
        self.markers: dict[tuple[str, str], DueMarker] = {}
        self.approvals: dict[str, dict[str, Approval]] = {}
        self.compensations: dict[str, Compensation] = {}  # without their ledgers
        self.ledgers: dict[str, dict[int, LedgerEntry]] = {}
        self.documents: dict[tuple[str, str], DocumentRecord] = {}
        self.versions: dict[tuple[str, str, str], VersionRecord] = {}
        self.holds: dict[str, LegalHold] = {}

    def apply(self, change: CaseChange) -> None:
        with self._lock:
            self._check(change)
            case_id = change.case_id
            if change.writes_case:
                self.cases[case_id] = change.case
            elif change.events:
                head = change.event
                current = self.cases[case_id]
                self.cases[case_id] = current.model_copy(update={"audit_seq": head.seq, "audit_hash": head.hash})
            self.events.setdefault(case_id, []).extend(change.events)
            for write in change.all_writes:
                self._write(case_id, write)

    # -- conditions ----------------------------------------------------------------------------------

    def _check(self, change: CaseChange) -> None:
        puts = [w for w in change.all_writes if isinstance(w, Put)]
        if any(isinstance(p.record, IdempotencyRecord) and not self._holds(change.case_id, p) for p in puts):
            raise IdempotencyKeyTaken()
        current = self.cases.get(change.case_id)
        if change.new:
            stale = current is not None
        elif change.moved or change.noted or change.events:
            stale = current is None or current.audit_seq != change.expected_audit_seq or (
                (change.moved or change.noted) and current.version != change.expected_version
            )
        else:
            stale = False
        if stale or not all(self._holds(change.case_id, w) for w in change.all_writes):
            raise StaleWrite()

    def _holds(self, case_id: str, write: Write) -> bool:
        if isinstance(write, Put):
            slot, key = self._slot(case_id, write.record)
            stored = slot.get(key)
            if write.expected is None:
                if isinstance(stored, IdempotencyRecord) and isinstance(write.record, IdempotencyRecord):
                    return stored.expires_at <= write.record.issued_at  # an expired record no longer holds it
                return stored is None
            return stored is not None and _revision(stored) == write.expected and (
                write.status is None or _status(stored) == write.status
            )
        if isinstance(write, Delete):
            slot, key = self._slot(case_id, write.record)
            return not write.must_exist or key in slot
        if isinstance(write, LoadChange):
            person = self.people.get(write.username)
            return person is not None and (write.at_most is None or person.open_tasks <= write.at_most)
        if isinstance(write, NoLegalHold):
            hold = self.holds.get(case_id)
            return hold is None or not hold.enabled
        return True  # Overwrite

    # -- writes --------------------------------------------------------------------------------------

    def _write(self, case_id: str, write: Write) -> None:
        if isinstance(write, (Put, Overwrite)):
            slot, key = self._slot(case_id, write.record)
            record = write.record
            slot[key] = record.model_copy(update={"ledger": []}) if isinstance(record, Compensation) else record
        elif isinstance(write, Delete):
            slot, key = self._slot(case_id, write.record)
            slot.pop(key, None)
        elif isinstance(write, LoadChange):
            person = self.people[write.username]
            self.people[write.username] = person.model_copy(update={"open_tasks": person.open_tasks + write.delta})

    def _slot(self, case_id: str, record: Record) -> tuple[dict[Any, Any], Hashable]:
        """Where `record` is kept, and under which key."""
        if isinstance(record, Task):
            return self.tasks, record.id
        if isinstance(record, RoundRobinCursor):
            return self.cursors, record.team
        if isinstance(record, DueMarker):
            return self.markers, (record.day, marker_sort(record))
        if isinstance(record, Approval):
            return self.approvals.setdefault(case_id, {}), record.id
        if isinstance(record, Compensation):
            return self.compensations, case_id
        if isinstance(record, LedgerEntry):
            return self.ledgers.setdefault(case_id, {}), record.seq
        if isinstance(record, DocumentRecord):
            return self.documents, (case_id, record.id)
        if isinstance(record, VersionRecord):
            return self.versions, (case_id, record.document_id, record.version_id)
        if isinstance(record, LegalHold):
            return self.holds, case_id
        if isinstance(record, Comment):
            return self.comments.setdefault(case_id, {}), record.id
        return self.idempotency, (record.owner, record.key)


def _revision(record: Record) -> int:
    if isinstance(record, (DocumentRecord, VersionRecord, LegalHold)):
        return record.revision
    if isinstance(record, (Task, RoundRobinCursor, Approval, Compensation)):
        return record.version
    raise TypeError(f"{type(record).__name__} has no revision")


def _status(record: Record) -> str:
    if isinstance(record, Compensation):
        return record.instruction.status.value
    if isinstance(record, Approval):
        return record.status.value
    raise TypeError(f"{type(record).__name__} has no status")
