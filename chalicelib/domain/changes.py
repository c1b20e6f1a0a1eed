"""One atomic change of one case: the audit events appended to its hash chain, optionally the case's new
state, and conditional writes of other items (tasks, approvals, documents, counters...). A store applies a
change whole or not at all (DynamoDB: one TransactWriteItems) and raises StaleWrite when a condition fails:
the chain's head moved, the case's version moved, or one of the writes' own conditions failed.
Services build a change from what they read and hand it to `services.retry.retrying`, which reads and
decides again when the change lost a race."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

from . import audit
from .models import AuditEvent, Case

if TYPE_CHECKING:
    from .approvals import Approval
    from .compensation import Compensation, LedgerEntry
    from .documents import DocumentRecord, LegalHold, VersionRecord
    from .models import Comment
    from .records import DueMarker, IdempotencyRecord, RoundRobinCursor
    from .tasks import Task

    Record = Union[
        Task, RoundRobinCursor, DueMarker, Approval, Compensation, LedgerEntry, DocumentRecord, VersionRecord,
        LegalHold, Comment, IdempotencyRecord,
    ]


@dataclass(frozen=True)
class Put:
    """Store `record` (an item of the change's case, or a cursor). `expected` None: only if none is stored
    yet (an idempotency record: or only an expired one); else only if the stored one is at that version (or
    revision) and, with `status`, in that status (an approval's; a compensation's instruction's)."""

    record: Record
    expected: Optional[int] = None
    status: Optional[str] = None


@dataclass(frozen=True)
class Overwrite:
    """Store `record` whatever is stored (a due marker: the task's id and due time are its key)."""

    record: Record


@dataclass(frozen=True)
class Delete:
    """Remove `record`; with `must_exist`, only if it is still stored (one escalation per overdue task)."""

    record: Record
    must_exist: bool = False


@dataclass(frozen=True)
class LoadChange:
    """Add `delta` to a person's openTasks; with `at_most`, only while openTasks <= at_most
    (capacity minus delta: the change must not take the person over capacity)."""

    username: str
    delta: int
    at_most: Optional[int] = None


@dataclass(frozen=True)
class NoLegalHold:
    """Only while the case is not under legal hold (a hold set meanwhile wins over a deletion)."""


Write = Union[Put, Overwrite, Delete, LoadChange, NoLegalHold]


@dataclass
class CaseChange:
    """Collects one atomic change of the case `read`, chaining its audit events as it goes."""

    read: Case  # the case as read; for a new case, as built, before its first event
    actor: str
    at: str
    new: bool = False  # the case itself is new: it must not exist yet
    events: list[AuditEvent] = field(default_factory=list)
    updates: dict[str, Any] = field(default_factory=dict)
    moved: bool = False  # the case gets a new version (written only if it is still at the version read)
    noted: bool = False  # only the system's bookkeeping on the case changes: no new version (see `note`)
    writes: list[Write] = field(default_factory=list)
    loads: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # username -> (delta, capped, capacity)

    @property
    def case_id(self) -> str:
        return self.read.id

    @property
    def expected_version(self) -> int:
        return self.read.version

    @property
    def expected_audit_seq(self) -> int:
        return self.read.audit_seq

    @property
    def next_seq(self) -> int:
        return (self.events[-1].seq if self.events else self.read.audit_seq) + 1

    @property
    def event(self) -> AuditEvent:
        """The last event appended: the chain's head once the change is applied."""
        return self.events[-1]

    @property
    def case(self) -> Case:
        """The case as this change leaves it: moved, with its new version, and its new audit head."""
        bump = {"version": self.read.version + 1, "updated_at": self.at, "updated_by": self.actor} if self.moved else {}
        head = {"audit_seq": self.events[-1].seq, "audit_hash": self.events[-1].hash} if self.events else {}
        return self.read.model_copy(update={**self.updates, **bump, **head})

    @property
    def writes_case(self) -> bool:
        """The whole case item is written (new, moved or noted); otherwise only its audit head moves."""
        return self.new or self.moved or self.noted

    def append(self, type: str, data: dict[str, Any], actor: Optional[str] = None) -> AuditEvent:
        """`actor`: the event's, when not the change's (the system's task events within the workflow's move)."""
        return audit.append_to_chain(
            self.events, case_id=self.read.id, head_seq=self.read.audit_seq, head_hash=self.read.audit_hash,
            type=type, actor=actor or self.actor, at=self.at, data=data,
        )

    def move(self, **updates: Any) -> None:
        """Change the case's fields: it gets a new version, updated at this change's time by its actor."""
        self.updates.update(updates)
        self.moved = True

    def note(self, **updates: Any) -> None:
        """Change fields that record how the system carries the case, not the case itself (which workflow
        execution carries its run): stored with the case, still only if it is at the version read, but with no
        new version and, without an appended event, nothing on its history, its data product or its feeds."""
        self.updates.update(updates)
        self.noted = True

    def put(self, record: Record, expected: Optional[int] = None, status: Optional[str] = None) -> None:
        self.writes.append(Put(record, expected, status))

    def overwrite(self, record: Record) -> None:
        self.writes.append(Overwrite(record))

    def delete(self, record: Record, must_exist: bool = False) -> None:
        self.writes.append(Delete(record, must_exist))

    def add_load(self, username: str, delta: int, capacity: Optional[int] = None) -> None:
        """Add `delta` to the person's open tasks; with `capacity`, that part must not take them over it.
        A person's load changes within one change are summed into one counter update."""
        total, capped, cap = self.loads.get(username, (0, 0, 0))
        if capacity is not None:
            capped, cap = capped + delta, capacity
        self.loads[username] = (total + delta, capped, cap)

    @property
    def load_changes(self) -> list[LoadChange]:
        return [
            LoadChange(username, delta, at_most=capacity - capped if capped > 0 else None)
            for username, (delta, capped, capacity) in sorted(self.loads.items())
            if delta != 0
        ]

    @property
    def all_writes(self) -> list[Write]:
        """Every conditional write besides the case and its events, the summed load changes included."""
        return [*self.writes, *self.load_changes]

    def require_no_hold(self) -> None:
        self.writes.append(NoLegalHold())
