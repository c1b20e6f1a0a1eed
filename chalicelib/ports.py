"""The small interfaces services depend on, all in one place; adapters implement them for AWS
(`adapters.dynamo`, S3, Step Functions, the data mesh) and in memory (`adapters.memory`).

Every write to a case goes through one port, `CaseRepository.apply(CaseChange)`: the case's audit events,
its new state and the conditional writes of its tasks, approvals, compensation and documents, atomically.
The other stores only read."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Optional, Protocol, Sequence, Union

from .domain.access import Visibility
from .domain.approvals import Approval
from .domain.calendars import Calendar
from .domain.case_types import CaseType
from .domain.changes import CaseChange
from .domain.compensation import Compensation
from .domain.customers import SourceRecord
from .domain.data_products import DataProductDescriptor
from .domain.delegations import Delegation, DelegationLogEntry
from .domain.documents import DocumentRecord, LegalHold, UploadForm, VersionRecord
from .domain.models import AuditEvent, Case, Comment
from .domain.notifications import Notification, Preferences
from .domain.personnel import Person
from .domain.records import DueMarker, IdempotencyRecord, RoundRobinCursor
from .domain.tasks import Task

StartKey = Optional[dict[str, Any]]

__all__ = ["DueMarker", "IdempotencyRecord", "RoundRobinCursor"]  # records the stores' ports exchange


class StaleWrite(Exception):
    """A conditional write lost: the case's version or audit head moved since it was read."""


class IdempotencyKeyTaken(Exception):
    """Another request already used this idempotency key."""


class InvalidStartKey(Exception):
    """A pagination key the store cannot resume from."""


class SourceUnavailable(Exception):
    """A data product's output port did not answer in time, or answered with an error."""


# -- cases -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseQuery:
    visibility: Visibility
    status: Optional[str] = None
    assignee: Optional[str] = None
    priority: Optional[str] = None
    customer_id: Optional[str] = None
    case_type: Optional[str] = None
    # custom field values a case must hold (enum and boolean fields: `custom_fields.parse_field_filters`)
    fields: Mapping[str, Union[str, bool]] = field(default_factory=dict)


class CaseRepository(Protocol):
    def apply(self, change: CaseChange) -> None:
        """Write the change atomically, or raise StaleWrite when any of its conditions fails (IdempotencyKeyTaken
        when its idempotency record's key is held) and write nothing."""

    def get_case(self, case_id: str) -> Optional[Case]: ...

    def get_cases(self, case_ids: Iterable[str]) -> dict[str, Case]:
        """The stored cases among `case_ids`, by id, read together (a listing never reads one case per item)."""

    def list_cases(self, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
        """Newest first; returns at most `limit` cases and the key to resume after them."""

    def comments_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Comment], StartKey]:
        """Oldest first; at most `limit` comments and the key to resume after them (None at the end). Every
        `*_page` method pages alike (adapters/keyed_pages.py) and raises InvalidStartKey for a key it did not
        issue."""

    def events_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[AuditEvent], StartKey]:
        """The case's audit events in chain order."""

    def list_events(self, case_id: str) -> list[AuditEvent]: ...

    def get_event(self, case_id: str, seq: int) -> Optional[AuditEvent]: ...

    def get_idempotency(self, owner: str, key: str) -> Optional[IdempotencyRecord]: ...

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        """Atomically advance the scope's counter by `count`; return the last number reserved."""


# -- personnel and tasks -----------------------------------------------------------------------------
class TaskRepository(Protocol):
    def get_task(self, task_id: str) -> Optional[Task]: ...

    def list_case_tasks(self, case_id: str) -> list[Task]:
        """The case's tasks, oldest first."""

    def list_inbox(self, key: str) -> list[Task]:
        """OPEN tasks listed under `USER#<username>` or `TEAM#<team>`, soonest due first."""

    def case_tasks_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Task], StartKey]:
        """The case's tasks by id."""

    def inbox_page(self, key: str, limit: int, start_key: StartKey) -> tuple[list[Task], StartKey]:
        """`list_inbox`, a page at a time."""

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

    def people_page(self, team: Optional[str], limit: int, start_key: StartKey) -> tuple[list[Person], StartKey]:
        """The team's entries by username; without a team, every team's in team order."""


class WorkRepository(TaskRepository, PersonnelRepository, Protocol):
    """Tasks and the personnel directory, kept together (one table)."""


class DelegationStore(Protocol):
    def get_delegation(self, username: str) -> Optional[Delegation]:
        """The person's current delegation (a revoked one too), read strongly consistent: a decision relies on it."""

    def save_delegation(self, delegation: Delegation, entry: DelegationLogEntry) -> None:
        """Store `delegation` and append `entry` to the person's log, in one write, only while the stored
        delegation is at `delegation.version - 1` (none stored for version 1); StaleWrite otherwise."""

    def list_delegation_log(self, username: str, limit: int) -> list[DelegationLogEntry]:
        """The person's newest `limit` log entries, newest first."""


class CalendarStore(Protocol):
    """Business calendars (services/calendars.py), by id."""

    def get_calendar(self, calendar_id: str) -> Optional[Calendar]:
        """Read strongly consistent: a PUT with If-Match relies on it."""

    def save_calendar(self, calendar: Calendar) -> None:
        """Store it only while the stored calendar is at `calendar.version - 1` (none stored for version 1);
        StaleWrite otherwise."""

    def calendars_page(self, limit: int, start_key: StartKey) -> tuple[list[Calendar], StartKey]:
        """Every calendar by id."""


# -- approvals and compensation ----------------------------------------------------------------------
class ApprovalStore(Protocol):
    def get_approval(self, case_id: str, approval_id: str) -> Optional[Approval]: ...

    def list_case_approvals(self, case_id: str) -> list[Approval]:
        """The case's approvals, oldest first."""

    def case_approvals_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Approval], StartKey]:
        """The case's approvals by id."""

    def inbox_page(self, keys: Sequence[str], limit: int, start_key: StartKey) -> tuple[list[Approval], StartKey]:
        """PENDING approvals listed under any of `keys` (`USER#<username>`, the approvers' queue), merged
        oldest first."""


class CompensationStore(Protocol):
    def get_compensation(self, case_id: str) -> Optional[Compensation]:
        """The case's record with its ledger, oldest entry first; None when the case has none."""


class DecisionStore(ApprovalStore, CompensationStore, Protocol):
    """Approvals and compensation, kept together (one table)."""


# -- documents ---------------------------------------------------------------------------------------
class DocumentStore(Protocol):
    def get_document(self, case_id: str, document_id: str) -> Optional[DocumentRecord]: ...

    def list_documents(self, case_id: str) -> tuple[list[DocumentRecord], list[VersionRecord]]:
        """Every document of the case (deleted ones too) and every version of them."""

    def documents_page(
        self, case_id: str, limit: int, start_key: StartKey,
    ) -> tuple[list[DocumentRecord], list[VersionRecord], StartKey]:
        """The case's documents by id (deleted ones too), with every version of those documents."""

    def list_versions(self, case_id: str, document_id: str) -> list[VersionRecord]: ...

    def get_version(self, case_id: str, document_id: str, version_id: str) -> Optional[VersionRecord]: ...

    def get_legal_hold(self, case_id: str) -> LegalHold:
        """The case's hold; not enabled (revision 0) when none was ever set."""


class ObjectStorage(Protocol):
    bucket: str

    def upload_form(
        self, key: str, content_type: str, max_size: int, expires_in: int, metadata: Mapping[str, str],
    ) -> UploadForm:
        """A presigned POST for exactly `key`, `content_type` and 1..max_size bytes."""

    def download_url(self, key: str, version_id: str, content_type: str, disposition: str, expires_in: int) -> str:
        """A presigned GET of one version, answered with the given Content-Type and Content-Disposition."""

    def set_legal_hold(self, key: str, version_id: str, enabled: bool) -> bool:
        """Put (or lift) the S3 Object Lock legal hold on one version; False when the bucket has no Object Lock."""

    def put_object(self, key: str, body: bytes, content_type: str) -> Optional[str]:
        """Store a small object the system writes itself (an export manifest); its version id."""

    def object_metadata(self, key: str, version_id: str) -> Optional[Mapping[str, str]]:
        """One version's user metadata (`x-amz-meta-*`, names without the prefix); None when it is gone."""


class ProcessingResults(Protocol):
    def get(self, case_id: str, document_id: str, version_id: str) -> Optional[dict[str, Any]]:
        """The processor's result for one version, or None while there is none."""


# -- the workflow ------------------------------------------------------------------------------------
class WorkflowEngine(Protocol):
    """The orchestration engine (Step Functions)."""

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start a run named `name` (idempotent: an existing run of that name is returned); its id."""

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        """Hand the waiting state its result; False when the token is no longer valid (timed out, done)."""

    def history(self, execution_id: str) -> list[dict[str, Any]]:
        """The run's state history: [{"state", "enteredAt", "exitedAt"|None}], oldest first."""

    def status(self, execution_id: str) -> Optional[str]:
        """RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED, or None when the engine has no such run."""


class TokenStore(Protocol):
    """The task tokens a waiting stage hands out. Tokens never leave the server."""

    def put(self, case_id: str, stage: str, token: str, execution_id: str) -> None:
        """Remember the token of a waiting stage (a newer token for the same stage replaces it)."""

    def take(self, case_id: str, stage: str) -> Optional[str]:
        """Remove and return the stage's token atomically: of two concurrent takers, one gets it."""

    def peek(self, case_id: str, stage: str) -> Optional[str]: ...


class CaseWork(Protocol):
    """What the workflow needs of the tasks service."""

    def create_within(self, change: CaseChange, now: datetime) -> list[Task]:
        """Within `change`, create the run's tasks it has none of yet; returns the run's tasks."""

    def open_required_tasks(self, case_id: str) -> int: ...

    def cancel_open_tasks(self, case_id: str, actor: str) -> list[str]: ...

    def escalate(self, case_id: str, team: Optional[str], reason: str) -> Task: ...

    def postpone_open_tasks(
        self, change: CaseChange, paused_at: datetime, resumed_at: datetime, calendar: Optional[Calendar],
    ) -> list[dict[str, Any]]:
        """Within `change`, move the case's open tasks' due dates later by the SLA time the case waited."""


class StageResumer(Protocol):
    """Resumes a case's waiting workflow stage once its condition holds (the workflow service). Services the
    workflow itself depends on (tasks, approvals, payments, documents) reach it through this port, which
    breaks the cycle between them."""

    def resume_if_ready(self, case_id: str, stage: str) -> bool: ...


# -- the data mesh -----------------------------------------------------------------------------------
class DataCatalog(Protocol):
    def products(self) -> list[DataProductDescriptor]:
        """Every registered data product, in a stable order."""


class CustomerSource(Protocol):
    def fetch(self, customer_id: str) -> Optional[SourceRecord]:
        """The product's record of the customer; None when it has none. Raises SourceUnavailable."""


class LastKnownStore(Protocol):
    def load(self, customer_id: str) -> dict[str, SourceRecord]:
        """The last record each product answered for the customer, by product id."""

    def save(self, customer_id: str, product: str, record: SourceRecord) -> None:
        """Keep `record` unless a newer one (by as_of) is kept already."""


class ObjectStore(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None:
        """Write the object; writing the same key again replaces it (keys are deterministic)."""

    def keys(self, prefix: str) -> list[str]:
        """Every key under the prefix, sorted."""

    def get(self, key: str) -> bytes: ...

    def newest_write(self, prefix: str) -> Optional[datetime]:
        """When the most recently written object under the prefix was written; None when there is none."""


# -- notifications for people (services/notifications.py) -------------------------------------------
class NotificationStore(Protocol):
    """Each person's notifications, newest first, and their e-mail preferences."""

    def add(self, notification: Notification) -> bool:
        """Store it unless one with its id is stored (a re-delivered event); whether it was stored now."""

    def get(self, username: str, notification_id: str) -> Optional[Notification]: ...

    def page(
        self, username: str, unread_only: bool, limit: int, after: Optional[str],
    ) -> tuple[list[Notification], Optional[str]]:
        """Up to `limit` of the person's notifications (only unread ones with `unread_only`), newest first, older
        than the id `after`; and the id to resume after, None at the end."""

    def mark_read(self, username: str, notification_id: str, at: str) -> Optional[Notification]:
        """Mark it read at `at` (a read one stays as it is); None when the person has no such notification."""

    def count_unread(self, username: str, at_most: int) -> int: ...

    def get_preferences(self, username: str) -> Preferences: ...

    def save_preferences(self, username: str, preferences: Preferences) -> None: ...


class UserDirectory(Protocol):
    """The identity provider's users (Cognito): the roles the personnel directory does not record."""

    def members(self, group: str) -> list[str]:
        """The usernames in a group (role)."""

    def email(self, username: str) -> Optional[str]: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str) -> None:
        """Send a plain-text e-mail; raises when the mail service refuses it."""


# -- case types -------------------------------------------------------------------------------------
class CaseTypeStore(Protocol):
    """Published case type versions (immutable) and each type's head: its current version and retired flag."""

    def create(self, case_type: CaseType) -> bool:
        """Write version 1 and the head; False (and nothing written) when the type exists."""

    def publish(self, case_type: CaseType) -> None:
        """Write version n (n > 1) and move the head to it in one transaction; StaleWrite unless the head is at
        n - 1 (another admin published first)."""

    def retire(self, case_type_id: str, version: int) -> CaseType:
        """Mark the head retired; StaleWrite unless it is at `version`. Returns the retired head."""

    def current(self, case_type_id: str) -> Optional[CaseType]:
        """The head: the current version, with the type's retired flag."""

    def version(self, case_type_id: str, version: int) -> Optional[CaseType]:
        """One published version, as published."""

    def current_page(self, limit: int, start_key: StartKey) -> tuple[list[CaseType], StartKey]:
        """Every type's head by id, a page at a time."""
