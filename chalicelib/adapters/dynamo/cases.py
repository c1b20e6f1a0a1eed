"""The case repository on the table: cases, their audit events and comments, counters, idempotency records.
Every write is a CaseChange applied as one TransactWriteItems (`changes.apply_change`)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from pynamodb.expressions.condition import Condition

from ...domain.changes import CaseChange
from ...domain.models import AuditEvent, Case, Comment
from ...domain.records import IdempotencyRecord
from ...ports import CaseQuery, StartKey
from .. import case_listing, keyed_pages
from ..case_listing import CaseList, Listed
from . import keys
from .changes import apply_change
from .errors import stored, translated
from .models import OnTable, TableModels
from .pages import reader


class DynamoCaseRepository(OnTable):
    def __init__(self, models: TableModels) -> None:
        super().__init__(models)
        self._months_listed: set[str] = set()  # months this repository has entered in the months item

    def apply(self, change: CaseChange) -> None:
        # A new case's month enters the months item (the all-cases list's shards) with it, once per month and
        # repository: the months item takes a handful of writes a month, not one per case.
        month = case_listing.month_of(change.case.created_at) if change.new else None
        new_month = month if month is not None and month not in self._months_listed else None
        apply_change(self._m, change, list_month=new_month)
        if new_month is not None:
            self._months_listed.add(new_month)

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        counter = self._m.counter(keys.counter_pk(scope), keys.COUNTER_SK)
        with translated():
            counter.update(actions=[self._m.counter.value.add(count)])
        return int(counter.value)

    # -- reads -------------------------------------------------------------------------------

    def get_case(self, case_id: str) -> Optional[Case]:
        item = stored(self._m.case, keys.case_pk(case_id), keys.CASE_SK)
        return None if item is None else to_case(item)

    def get_cases(self, case_ids: Iterable[str]) -> dict[str, Case]:
        wanted = [(keys.case_pk(case_id), keys.CASE_SK) for case_id in sorted(set(case_ids))]
        with translated():  # BatchGetItem, a hundred keys at a time
            return {item.case_id: to_case(item) for item in self._m.case.batch_get(wanted, consistent_read=True)}

    def list_cases(self, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
        return case_listing.page(_CaseLists(self._m), query, limit, start_key)

    def comments_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Comment], StartKey]:
        read = reader(self._m.comment, lambda item: Comment.model_validate(item.body))
        return keyed_pages.page(read, keys.comments_list(case_id), limit, start_key)

    def events_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[AuditEvent], StartKey]:
        read = reader(self._m.event, lambda item: AuditEvent.model_validate(item.body), consistent_read=True)
        return keyed_pages.page(read, keys.events_list(case_id), limit, start_key)

    def list_events(self, case_id: str) -> list[AuditEvent]:
        m = self._m
        with translated():
            # Only the event's JSON: its keys are in it, and a case's whole chain is read (asOf, a closing's outcome).
            items = m.event.query(keys.case_pk(case_id), m.event.sk.startswith(keys.EVENT_PREFIX), consistent_read=True,
                                  attributes_to_get=["body"])
            return [AuditEvent.model_validate(item.body) for item in items]

    def get_event(self, case_id: str, seq: int) -> Optional[AuditEvent]:
        item = stored(self._m.event, keys.case_pk(case_id), keys.event_sk(seq))
        return None if item is None else AuditEvent.model_validate(item.body)

    def get_idempotency(self, owner: str, key: str) -> Optional[IdempotencyRecord]:
        item = stored(self._m.idempotency, keys.idempotency_pk(owner, key), keys.IDEMPOTENCY_SK)
        return None if item is None else IdempotencyRecord(
            owner=owner, key=key, request_hash=item.request_hash, case_id=item.case_id,
            issued_at=int(item.issued_at), expires_at=int(item.expires_at.timestamp()),
        )

def to_case(item: Any) -> Case:
    return Case(
        id=item.case_id, number=item.number, title=item.title, description=item.description or "",
        case_type=item.case_type, case_type_version=int(item.case_type_version or 1), priority=item.priority,
        customer_id=item.customer_id,
        compensation=item.compensation, required_documents=list(item.required_documents or []),
        tags=list(item.tags or []), fields=item.fields.as_dict() if item.fields else {}, status=item.status,
        version=int(item.version), team=item.team,
        assignee=item.assignee, participants=list(item.participants or []), created_at=item.created_at,
        created_by=item.created_by, updated_at=item.updated_at, updated_by=item.updated_by, due_at=item.due_at,
        workflow=item.workflow, customer_snapshot=item.customer_snapshot,
        sla_paused_at=item.sla_paused_at,
        audit_seq=int(item.audit_seq), audit_hash=item.audit_hash,
    )


class _CaseLists:
    """The case lists on the table: month shards (cases-by-created), a team's cases and a person's copies
    (cases-by-viewer), by assignee, by customer (key formats: `keys`)."""

    def __init__(self, m: TableModels) -> None:
        self._m = m

    def read(self, case_list: CaseList, query: CaseQuery, before: Optional[str], limit: int) -> list[Listed]:
        if not case_list.value:
            return []  # no item has an empty key attribute; DynamoDB would refuse the query
        m = self._m
        lists: dict[str, tuple[Any, Any, Callable[[str], str], Callable[[Any], Case]]] = {
            "month": (m.case, m.case.by_created, keys.case_month_pk, to_case),
            "team": (m.case, m.case.by_viewer, keys.team_cases_pk, to_case),
            "viewer": (m.viewer, m.viewer.by_viewer, keys.viewer_cases_pk, _copy_to_case),
            "assignee": (m.case, m.case.by_assignee, str, to_case),
            "customer": (m.case, m.case.by_customer, str, to_case),
        }
        model, index, hash_key, convert = lists[case_list.kind]
        condition = _filter_condition(model, query)
        with translated():
            items = index.query(
                hash_key(case_list.value), model.list_sk < before if before is not None else None,
                filter_condition=condition, scan_index_forward=False, limit=limit,
                page_size=limit if condition is None else max(limit, 25),
            )
            return [Listed(item.list_sk, convert(item)) for item in items]

    def months(self) -> list[str]:
        item = stored(self._m.months, keys.CASE_MONTHS_KEY, keys.MONTHS_SK)
        return [] if item is None else sorted(item.months or ())


def _copy_to_case(item: Any) -> Case:
    """A viewer copy: the case as of its last write, without its audit head (only the case item has it)."""
    return Case.model_validate(item.body)


def _filter_condition(model: Any, query: CaseQuery) -> Optional[Condition]:
    """The query's filters on a case item or a viewer copy (both name the fields alike in Python)."""
    condition = None
    for attr, value in (
        (model.status, query.status), (model.priority, query.priority), (model.case_type, query.case_type),
        (model.customer_id, query.customer_id), (model.assignee, query.assignee),
        *((model.fields[name], wanted) for name, wanted in query.fields.items()),
    ):
        if value is not None:
            condition = attr == value if condition is None else condition & (attr == value)
    return condition
