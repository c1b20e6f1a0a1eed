"""The small interfaces services depend on; adapters implement them for AWS and in memory."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol

from .domain.access import Visibility
from .domain.models import AuditEvent, Case, Comment

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

    def get_idempotency(self, owner: str, key: str) -> Optional[IdempotencyRecord]: ...

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        """Atomically advance the scope's counter by `count`; return the last number reserved."""
