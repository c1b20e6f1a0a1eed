"""The small interfaces services depend on; adapters implement them for AWS and in memory."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol

from .domain.access import Visibility
from .domain.models import AuditEvent, Case, Comment
from .domain.personnel import Person
from .domain.tasks import Task

StartKey = Optional[dict[str, Any]]


class StaleWrite(Exception):
    """A conditional write lost: the case's version or audit head moved since it was read."""


class IdempotencyKeyTaken(Exception):
    """Another request already used this idempotency key."""


class InvalidStartKey(Exception):
    """A pagination key the store cannot resume from."""


@dataclass(frozen=True)
class IdempotencyRecord:
    owner: str
    key: str
    request_hash: str
    case_id: str
    issued_at: int  # epoch seconds; a stored record that expired by then may be replaced
    expires_at: int  # epoch seconds; the store deletes the record some time after this


@dataclass(frozen=True)
class CaseQuery:
    visibility: Visibility
    status: Optional[str] = None
    assignee: Optional[str] = None
    priority: Optional[str] = None
    customer_id: Optional[str] = None
    case_type: Optional[str] = None


class CaseRepository(Protocol):
    def create_case(self, case: Case, event: AuditEvent, idempotency: Optional[IdempotencyRecord]) -> None:
        """Write the case, its first audit event and the idempotency record atomically."""

    def get_case(self, case_id: str) -> Optional[Case]: ...

    def save_case(self, case: Case, expected_version: int, expected_audit_seq: int, event: AuditEvent) -> None:
        """Replace the case and append its audit event atomically, or raise StaleWrite."""

    def add_comment(self, comment: Comment, expected_audit_seq: int, event: AuditEvent) -> None:
        """Store the comment and append its audit event atomically, or raise StaleWrite."""

    def list_cases(self, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
        """Newest first; returns at most `limit` cases and the key to resume after them."""

    def list_comments(self, case_id: str) -> list[Comment]: ...

    def list_events(self, case_id: str) -> list[AuditEvent]: ...

    def get_event(self, case_id: str, seq: int) -> Optional[AuditEvent]: ...

    def get_idempotency(self, owner: str, key: str) -> Optional[IdempotencyRecord]: ...

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        """Atomically advance the scope's counter by `count`; return the last number reserved."""


# -- personnel and tasks ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskWrite:
    task: Task
    expected_version: Optional[int] = None  # None: a new task, which must not exist yet


@dataclass(frozen=True)
class LoadChange:
    """Add `delta` to a person's openTasks; with `at_most`, only while openTasks <= at_most
    (capacity minus delta: the change must not take the person over capacity)."""

    username: str
    delta: int
    at_most: Optional[int] = None


@dataclass(frozen=True)
class RoundRobinCursor:
    team: str
    last: Optional[str]  # the username given work last
    version: int  # 0: no cursor stored yet


@dataclass(frozen=True)
class DueMarker:
    """`DUE#<day>` / `<dueAt>#<taskId>`: an OPEN task due that day, removed once it is finished or escalated."""

    case_id: str
    task_id: str
    due_at: str

    @property
    def day(self) -> str:
        return self.due_at[:10]


@dataclass(frozen=True)
class TaskChange:
    """Everything one task operation writes, applied atomically (one TransactWriteItems)."""

    case_id: str
    expected_audit_seq: int  # the case's audit head must still be here
    events: list[AuditEvent]  # appended to the case's chain, in order; the last one becomes the head
    tasks: list[TaskWrite] = field(default_factory=list)
    loads: list[LoadChange] = field(default_factory=list)
    cursor: Optional[RoundRobinCursor] = None  # the new cursor, written if the stored version is version - 1
    add_markers: list[DueMarker] = field(default_factory=list)
    remove_markers: list[DueMarker] = field(default_factory=list)
    consume_marker: Optional[DueMarker] = None  # removed, and must exist: only one escalation per overdue task


class TaskRepository(Protocol):
    def apply(self, change: TaskChange) -> None:
        """Write the change atomically, or raise StaleWrite when any of its conditions fails."""

    def get_task(self, task_id: str) -> Optional[Task]: ...

    def list_case_tasks(self, case_id: str) -> list[Task]:
        """The case's tasks, oldest first."""

    def list_inbox(self, key: str) -> list[Task]:
        """OPEN tasks listed under `USER#<username>` or `TEAM#<team>`, soonest due first."""

    def get_cursor(self, team: str) -> RoundRobinCursor: ...

    def due_markers(self, day: str, before: str) -> list[DueMarker]:
        """Markers of tasks due on `day` (YYYY-MM-DD) strictly before the instant `before`."""

    def get_sweep_day(self) -> Optional[str]:
        """The first day that may still hold due markers (the overdue sweep's position)."""

    def set_sweep_day(self, day: str) -> None: ...


class PersonnelRepository(Protocol):
    def save_person(self, person: Person) -> Person:
        """Create or update the person's profile; the open-task counter is kept. Returns what is stored."""

    def get_person(self, username: str) -> Optional[Person]: ...

    def list_people(self, team: str) -> list[Person]:
        """The team's directory entries, by username."""

    def list_teams(self) -> list[str]:
        """Every team a person was ever filed under, sorted."""
