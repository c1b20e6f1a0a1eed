"""In-memory twin of the DynamoDB case repository, for unit tests: it is the in-memory table itself, which
the other in-memory stores share, so a change to a case's tasks, decisions or documents and its audit head
move together, as one DynamoDB transaction does."""
from __future__ import annotations

from typing import Optional

from ...domain.access import participants_of
from ...domain.models import AuditEvent, Case, Comment
from ...domain.records import IdempotencyRecord
from ...ports import CaseQuery, InvalidStartKey, StartKey
from .table import InMemoryTable


class InMemoryCaseRepository(InMemoryTable):
    def get_case(self, case_id: str) -> Optional[Case]:
        return self.cases.get(case_id)

    def get_event(self, case_id: str, seq: int) -> Optional[AuditEvent]:
        return next((e for e in self.events.get(case_id, []) if e.seq == seq), None)

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
        return sorted(self.comments.get(case_id, {}).values(), key=lambda c: (c.created_at, c.id))

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
