"""In-memory twin of the DynamoDB repository, for unit tests. The integration suite runs the
same contract tests against both, so the twin stays honest."""
from __future__ import annotations

import threading
from typing import Optional

from ..domain.access import participants_of
from ..domain.models import AuditEvent, Case, Comment
from ..ports import CaseQuery, IdempotencyKeyTaken, IdempotencyRecord, InvalidStartKey, StaleWrite, StartKey


class InMemoryCaseRepository:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cases: dict[str, Case] = {}
        self.events: dict[str, list[AuditEvent]] = {}
        self.comments: dict[str, list[Comment]] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.counters: dict[str, int] = {}

    def create_case(self, case: Case, event: AuditEvent, idempotency: Optional[IdempotencyRecord]) -> None:
        with self._lock:
            held = idempotency and self.idempotency.get((idempotency.owner, idempotency.key))
            if held and held.expires_at > idempotency.issued_at:
                raise IdempotencyKeyTaken()
            if case.id in self.cases:
                raise StaleWrite()
            self.cases[case.id] = case
            self.events[case.id] = [event]
            if idempotency:
                self.idempotency[(idempotency.owner, idempotency.key)] = idempotency

    def get_case(self, case_id: str) -> Optional[Case]:
        return self.cases.get(case_id)

    def get_event(self, case_id: str, seq: int) -> Optional[AuditEvent]:
        return next((e for e in self.events.get(case_id, []) if e.seq == seq), None)

    def save_case(self, case: Case, expected_version: int, expected_audit_seq: int, event: AuditEvent) -> None:
        with self._lock:
            current = self.cases.get(case.id)
            if current is None or current.version != expected_version or current.audit_seq != expected_audit_seq:
                raise StaleWrite()
            self.cases[case.id] = case
            self.events[case.id].append(event)

    def add_comment(self, comment: Comment, expected_audit_seq: int, event: AuditEvent) -> None:
        with self._lock:
            current = self.cases.get(comment.case_id)
            if current is None or current.audit_seq != expected_audit_seq:
                raise StaleWrite()
            self.cases[comment.case_id] = current.model_copy(update={"audit_seq": event.seq, "audit_hash": event.hash})
            self.comments.setdefault(comment.case_id, []).append(comment)
            self.events[comment.case_id].append(event)

    def list_cases(self, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
        ordered = sorted(self.cases.values(), key=_sort_key, reverse=True)
        if start_key is not None:
            after = start_key.get("after")
            if not isinstance(after, str):
                raise InvalidStartKey()
            ordered = [c for c in ordered if _sort_key(c) < after]
        matches = [c for c in ordered if _matches(c, query)]
        page = matches[:limit]
        more = len(matches) > limit
        return page, ({"after": _sort_key(page[-1])} if more else None)

    def list_comments(self, case_id: str) -> list[Comment]:
        return sorted(self.comments.get(case_id, []), key=lambda c: (c.created_at, c.id))

    def list_events(self, case_id: str) -> list[AuditEvent]:
        return list(self.events.get(case_id, []))

    def get_idempotency(self, owner: str, key: str) -> Optional[IdempotencyRecord]:
        return self.idempotency.get((owner, key))

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        with self._lock:
            self.counters[scope] = self.counters.get(scope, 0) + count
            return self.counters[scope]


def _sort_key(case: Case) -> str:
    return f"{case.created_at}#{case.id}"


def _matches(case: Case, query: CaseQuery) -> bool:
    scope = query.visibility
    visible = (
        scope.everything
        or (scope.team is not None and case.team == scope.team)
        or scope.username in participants_of(case)
    )
    wanted = {
        "status": query.status, "assignee": query.assignee, "priority": query.priority,
        "customer_id": query.customer_id, "case_type": query.case_type,
    }
    return visible and all(
        value is None or _plain(getattr(case, name)) == value for name, value in wanted.items()
    )


def _plain(value: object) -> object:
    return getattr(value, "value", value)
