"""The case repository on the table: cases, their audit events and comments, counters, idempotency records.
Every write is a CaseChange applied as one TransactWriteItems (`changes.apply_change`)."""
from __future__ import annotations

from typing import Any, Optional

from pynamodb.exceptions import PynamoDBException
from pynamodb.expressions.condition import Condition

from ...domain.changes import CaseChange
from ...domain.models import AuditEvent, Case, Comment
from ...domain.records import IdempotencyRecord
from ...ports import CaseQuery, InvalidStartKey, StartKey
from . import keys
from .changes import apply_change
from .errors import stored, translated
from .models import OnTable


class DynamoCaseRepository(OnTable):
    def apply(self, change: CaseChange) -> None:
        apply_change(self._m, change)

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        counter = self._m.counter(keys.counter_pk(scope), keys.COUNTER_SK)
        with translated():
            counter.update(actions=[self._m.counter.value.add(count)])
        return int(counter.value)

    # -- reads -------------------------------------------------------------------------------

    def get_case(self, case_id: str) -> Optional[Case]:
        item = stored(self._m.case, keys.case_pk(case_id), keys.CASE_SK)
        return None if item is None else _to_case(item)

    def list_cases(self, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
        m = self._m
        if query.assignee is not None:
            index, index_attr, hash_key = m.case.by_assignee, "assignee", query.assignee
        elif query.customer_id is not None:
            index, index_attr, hash_key = m.case.by_customer, "customerId", query.customer_id
        else:
            index, index_attr, hash_key = m.case.by_created, "listPk", keys.CASE_LIST_PK
        if not hash_key:
            return [], None  # no item has an empty key attribute; DynamoDB would refuse the query
        if start_key is not None and not _is_start_key(start_key, index_attr, hash_key):
            raise InvalidStartKey()
        conditions = [
            attr == value
            for attr, value in (
                (m.case.status, query.status), (m.case.priority, query.priority),
                (m.case.case_type, query.case_type), (m.case.customer_id, query.customer_id),
            )
            if value is not None
        ]
        visible = _visibility_condition(m.case, query)
        if visible is not None:
            conditions.append(visible)
        condition = None
        for c in conditions:
            condition = c if condition is None else condition & c
        with translated():
            try:
                results = index.query(
                    hash_key, filter_condition=condition, scan_index_forward=False, limit=limit,
                    last_evaluated_key=start_key, page_size=max(limit, 25),
                )
                items = [_to_case(item) for item in results]
            except PynamoDBException as exc:
                if start_key is not None and exc.cause_response_code == "ValidationException":
                    raise InvalidStartKey() from None  # e.g. "the starting key is outside query boundaries"
                raise
        return items, results.last_evaluated_key

    def list_comments(self, case_id: str) -> list[Comment]:
        m = self._m
        with translated():
            items = m.comment.query(keys.case_pk(case_id), m.comment.sk.startswith(keys.COMMENT_PREFIX))
            return [Comment.model_validate(item.body) for item in items]

    def list_events(self, case_id: str) -> list[AuditEvent]:
        m = self._m
        with translated():
            items = m.event.query(keys.case_pk(case_id), m.event.sk.startswith(keys.EVENT_PREFIX), consistent_read=True)
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

def _to_case(item: Any) -> Case:
    return Case(
        id=item.case_id, number=item.number, title=item.title, description=item.description or "",
        case_type=item.case_type, priority=item.priority, customer_id=item.customer_id,
        compensation=item.compensation, required_documents=list(item.required_documents or []),
        tags=list(item.tags or []), status=item.status, version=int(item.version), team=item.team,
        assignee=item.assignee, participants=list(item.participants or []), created_at=item.created_at,
        created_by=item.created_by, updated_at=item.updated_at, updated_by=item.updated_by, due_at=item.due_at,
        workflow=item.workflow, customer_snapshot=item.customer_snapshot,
        audit_seq=int(item.audit_seq), audit_hash=item.audit_hash,
    )


def _visibility_condition(case_model: Any, query: CaseQuery) -> Optional[Condition]:
    scope = query.visibility
    if scope.everything:
        return None
    user = scope.username
    condition = (
        (case_model.created_by == user) | (case_model.assignee == user) | case_model.participants.contains(user)
    )
    if scope.team is not None:
        condition = condition | (case_model.team == scope.team)
    return condition


def _is_start_key(key: dict[str, Any], index_attr: str, hash_key: str) -> bool:
    """A resume key must name a case item inside the partition being queried, or DynamoDB refuses it."""
    values: dict[str, str] = {
        name: v["S"] for name, v in key.items() if isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str)
    }
    return (
        set(values) == set(key) == {"PK", "SK", "listSk", index_attr}
        and all(0 < len(v) <= 1024 for v in values.values())
        and keys.case_id_of(values["PK"]) is not None and values["SK"] == keys.CASE_SK
        and values[index_attr] == hash_key
    )
