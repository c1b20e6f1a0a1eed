"""In-memory twin of the DynamoDB case repository, for unit tests: it is the in-memory table itself, which
the other in-memory stores share, so a change to a case's tasks, decisions or documents and its audit head
move together, as one DynamoDB transaction does."""
from __future__ import annotations

from typing import Iterable, Optional

from ...domain.access import participants_of
from ...domain.models import AuditEvent, Case, Comment
from ...domain.records import IdempotencyRecord
from ...ports import CaseQuery, StartKey
from .. import case_listing, keyed_pages
from ..case_listing import CaseList, Listed, month_of, sort_key
from ..dynamo.keys import comments_list, events_list
from ..keyed_pages import in_memory
from .table import InMemoryTable


class InMemoryCaseRepository(InMemoryTable):
    def get_case(self, case_id: str) -> Optional[Case]:
        return self.cases.get(case_id)

    def get_cases(self, case_ids: Iterable[str]) -> dict[str, Case]:
        return {case_id: self.cases[case_id] for case_id in set(case_ids) if case_id in self.cases}

    def get_event(self, case_id: str, seq: int) -> Optional[AuditEvent]:
        return next((e for e in self.events.get(case_id, []) if e.seq == seq), None)

    def list_cases(self, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
        return case_listing.page(_CaseLists(self), query, limit, start_key)

    def comments_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Comment], StartKey]:
        read = in_memory(self.comments.get(case_id, {}).values())
        return keyed_pages.page(read, comments_list(case_id), limit, start_key)

    def events_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[AuditEvent], StartKey]:
        return keyed_pages.page(in_memory(self.events.get(case_id, [])), events_list(case_id), limit, start_key)

    def list_events(self, case_id: str) -> list[AuditEvent]:
        return list(self.events.get(case_id, []))

    def get_idempotency(self, owner: str, key: str) -> Optional[IdempotencyRecord]:
        return self.idempotency.get((owner, key))

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        with self._lock:
            self.counters[scope] = self.counters.get(scope, 0) + count
            return self.counters[scope]


class _CaseLists:
    """The same lists as the table's, derived from the cases on each read (case_listing explains them)."""

    def __init__(self, table: InMemoryTable) -> None:
        self._cases = list(table.cases.values())

    def read(self, case_list: CaseList, query: CaseQuery, before: Optional[str], limit: int) -> list[Listed]:
        listed = sorted(
            (Listed(sort_key(case), _as_listed(case, case_list)) for case in self._cases if _in(case, case_list)),
            key=lambda item: item.sort_key, reverse=True,
        )
        return [
            item for item in listed if (before is None or item.sort_key < before) and _matches(item.case, query)
        ][:limit]

    def months(self) -> list[str]:
        return sorted({month_of(case.created_at) for case in self._cases})


def _in(case: Case, case_list: CaseList) -> bool:
    kind, value = case_list.kind, case_list.value
    if kind == "viewer":
        return value in participants_of(case)
    field = {"month": month_of(case.created_at), "team": case.team, "assignee": case.assignee,
             "customer": case.customer_id}[kind]
    return field == value


def _as_listed(case: Case, case_list: CaseList) -> Case:
    """A person's list holds copies of the cases without their audit head, as the table's does."""
    return case.model_copy(update={"audit_seq": 0, "audit_hash": ""}) if case_list.kind == "viewer" else case


def _matches(case: Case, query: CaseQuery) -> bool:
    wanted = {
        "status": query.status, "assignee": query.assignee, "priority": query.priority,
        "customer_id": query.customer_id, "case_type": query.case_type,
    }
    return all(value is None or _plain(getattr(case, name)) == value for name, value in wanted.items()) and all(
        _same(case.fields.get(name), value) for name, value in query.fields.items()
    )


def _same(stored: object, wanted: object) -> bool:
    """Equal as DynamoDB compares: of one type, so true is not 1 (a field may change type between versions)."""
    return type(stored) is type(wanted) and stored == wanted


def _plain(value: object) -> object:
    return getattr(value, "value", value)
