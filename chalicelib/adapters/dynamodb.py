"""The case repository on one DynamoDB table (single-table design, pynamodb).

Items (PK / SK):
  CASE#<id> / CASE                 the case; GSIs list it newest first, by assignee, by customer
  CASE#<id> / EVENT#<seq>          audit events, hash-chained, in order
  CASE#<id> / COMMENT#<at>#<id>    comments
  COUNTER#<scope> / COUNTER        atomic counters (case numbers)
  IDEMPOTENCY#<user>#<key> / IDEMPOTENCY   replay records, deleted by TTL
Every multi-item change is one TransactWriteItems request, so nothing is half-written.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Optional

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.models import AuditEvent, Case, Comment
from ..errors import DependencyUnavailable
from ..ports import CaseQuery, IdempotencyKeyTaken, IdempotencyRecord, InvalidStartKey, StaleWrite, StartKey

CASE_LIST_PK = "CASE"
INBOX_INDEX = "inbox"
_UNAVAILABLE = {
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "InternalServerError", "ServiceUnavailable",
}


@dataclass(frozen=True)
class TableModels:
    case: Any
    event: Any
    comment: Any
    counter: Any
    idempotency: Any
    connection: Connection


@lru_cache(maxsize=8)
def table_models(table_name: str, region: str, host: Optional[str] = None) -> TableModels:
    """The pynamodb models of one table; built per (table, region, endpoint) so nothing is fixed at import."""

    class BaseMeta:
        pass

    BaseMeta.table_name, BaseMeta.region, BaseMeta.host = table_name, region, host
    BaseMeta.billing_mode = "PAY_PER_REQUEST"
    BaseMeta.stream_view_type = "NEW_AND_OLD_IMAGES"
    BaseMeta.connect_timeout_seconds, BaseMeta.read_timeout_seconds, BaseMeta.max_retry_attempts = 2, 5, 2

    class ByCreated(GlobalSecondaryIndex):
        class Meta:
            index_name = "cases-by-created"
            projection = AllProjection()

        list_pk = UnicodeAttribute(hash_key=True, attr_name="listPk")
        list_sk = UnicodeAttribute(range_key=True, attr_name="listSk")

    class ByAssignee(GlobalSecondaryIndex):
        class Meta:
            index_name = "cases-by-assignee"
            projection = AllProjection()

        assignee = UnicodeAttribute(hash_key=True)
        list_sk = UnicodeAttribute(range_key=True, attr_name="listSk")

    class ByCustomer(GlobalSecondaryIndex):
        class Meta:
            index_name = "cases-by-customer"
            projection = AllProjection()

        customer_id = UnicodeAttribute(hash_key=True, attr_name="customerId")
        list_sk = UnicodeAttribute(range_key=True, attr_name="listSk")

    class Inbox(GlobalSecondaryIndex):  # "my work": tasks, approvals, team members (docs/workflow.md)
        class Meta:
            index_name = INBOX_INDEX
            projection = AllProjection()

        inbox_pk = UnicodeAttribute(hash_key=True, attr_name="inboxPk")
        inbox_sk = UnicodeAttribute(range_key=True, attr_name="inboxSk")

    class Item(Model):
        Meta = BaseMeta
        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")

    class CaseItem(Item):
        list_pk = UnicodeAttribute(attr_name="listPk")
        list_sk = UnicodeAttribute(attr_name="listSk")
        case_id = UnicodeAttribute(attr_name="id")
        number = UnicodeAttribute()
        title = UnicodeAttribute()
        description = UnicodeAttribute(null=True)
        case_type = UnicodeAttribute(attr_name="caseType")
        priority = UnicodeAttribute()
        customer_id = UnicodeAttribute(attr_name="customerId")
        compensation = JSONAttribute(null=True)
        required_documents = ListAttribute(of=UnicodeAttribute, attr_name="requiredDocuments", default=list)
        tags = ListAttribute(of=UnicodeAttribute, default=list)
        status = UnicodeAttribute()
        version = NumberAttribute()
        team = UnicodeAttribute(null=True)
        assignee = UnicodeAttribute(null=True)
        participants = ListAttribute(of=UnicodeAttribute, default=list)
        created_at = UnicodeAttribute(attr_name="createdAt")
        created_by = UnicodeAttribute(attr_name="createdBy")
        updated_at = UnicodeAttribute(attr_name="updatedAt")
        updated_by = UnicodeAttribute(attr_name="updatedBy")
        due_at = UnicodeAttribute(attr_name="dueAt")
        workflow = JSONAttribute(null=True)
        customer_snapshot = JSONAttribute(attr_name="customerSnapshot", null=True)
        audit_seq = NumberAttribute(attr_name="auditSeq")
        audit_hash = UnicodeAttribute(attr_name="auditHash")
        by_created = ByCreated()
        by_assignee = ByAssignee()
        by_customer = ByCustomer()
        # Declared here so create_table creates the index; case items never carry these (sparse).
        inbox_pk = UnicodeAttribute(attr_name="inboxPk", null=True)
        inbox_sk = UnicodeAttribute(attr_name="inboxSk", null=True)
        inbox = Inbox()


    class EventItem(Item):
        body = JSONAttribute()

    class CommentItem(Item):
        body = JSONAttribute()

    class CounterItem(Item):
        value = NumberAttribute(default=0)

    class IdempotencyItem(Item):
        request_hash = UnicodeAttribute(attr_name="requestHash")
        case_id = UnicodeAttribute(attr_name="caseId")
        issued_at = NumberAttribute(attr_name="issuedAt")
        expires_at = TTLAttribute(attr_name="expiresAt")

    # One connection (one botocore client, its timeouts and retries) for every item type and for
    # transactions: each pynamodb model would otherwise build its own, ~0.1 s apiece on a cold start.
    shared = CaseItem._get_connection()
    for model in (EventItem, CommentItem, CounterItem, IdempotencyItem):
        model._connection = shared
    return TableModels(CaseItem, EventItem, CommentItem, CounterItem, IdempotencyItem, shared.connection)


def create_table(models: TableModels) -> None:
    """Create the table, its indexes, stream and TTL (the local system and tests use this)."""
    if not models.case.exists():
        models.case.create_table(wait=True, ignore_update_ttl_errors=True)
    models.idempotency.update_ttl(ignore_update_ttl_errors=True)


def _case_key(case_id: str) -> str:
    return f"CASE#{case_id}"


def _event_sk(seq: int) -> str:
    return f"EVENT#{seq:010d}"


class DynamoCaseRepository:
    def __init__(self, models: TableModels) -> None:
        self._m = models

    # -- writes ------------------------------------------------------------------------------

    def create_case(self, case: Case, event: AuditEvent, idempotency: Optional[IdempotencyRecord]) -> None:
        m = self._m
        try:
            with _translated(), TransactWrite(connection=m.connection) as tx:
                tx.save(self._case_item(case), condition=m.case.pk.does_not_exist())
                tx.save(self._event_item(event), condition=m.event.pk.does_not_exist())
                if idempotency is not None:
                    tx.save(
                        m.idempotency(
                            _idempotency_pk(idempotency.owner, idempotency.key), "IDEMPOTENCY",
                            request_hash=idempotency.request_hash, case_id=idempotency.case_id,
                            issued_at=idempotency.issued_at, expires_at=_utc(idempotency.expires_at),
                        ),
                        # An expired record may linger until TTL deletes it; it no longer holds the key.
                        condition=m.idempotency.pk.does_not_exist()
                        | (m.idempotency.expires_at <= _utc(idempotency.issued_at)),
                    )
        except TransactWriteError as exc:
            if idempotency is not None and _failed_conditions(exc)[2:3] == [True]:
                raise IdempotencyKeyTaken() from None
            if any(_failed_conditions(exc)):
                raise StaleWrite() from None
            raise

    def save_case(self, case: Case, expected_version: int, expected_audit_seq: int, event: AuditEvent) -> None:
        m = self._m
        with _stale_on_condition(), _translated(), TransactWrite(connection=m.connection) as tx:
            tx.save(
                self._case_item(case),
                condition=(m.case.version == expected_version) & (m.case.audit_seq == expected_audit_seq),
            )
            tx.save(self._event_item(event), condition=m.event.pk.does_not_exist())

    def add_comment(self, comment: Comment, expected_audit_seq: int, event: AuditEvent) -> None:
        m = self._m
        pk = _case_key(comment.case_id)
        with _stale_on_condition(), _translated(), TransactWrite(connection=m.connection) as tx:
            tx.update(
                m.case(pk, "CASE"),
                actions=[m.case.audit_seq.set(event.seq), m.case.audit_hash.set(event.hash)],
                condition=m.case.audit_seq == expected_audit_seq,
            )
            tx.save(
                m.comment(pk, f"COMMENT#{comment.created_at}#{comment.id}", body=comment.to_api()),
                condition=m.comment.pk.does_not_exist(),
            )
            tx.save(self._event_item(event), condition=m.event.pk.does_not_exist())

    def reserve_case_numbers(self, scope: str, count: int) -> int:
        counter = self._m.counter(f"COUNTER#{scope}", "COUNTER")
        with _translated():
            counter.update(actions=[self._m.counter.value.add(count)])
        return int(counter.value)

    # -- reads -------------------------------------------------------------------------------

    def get_case(self, case_id: str) -> Optional[Case]:
        with _translated():
            try:
                # Strongly consistent: a client that just wrote must read its own write (If-Match, replays).
                return _to_case(self._m.case.get(_case_key(case_id), "CASE", consistent_read=True))
            except self._m.case.DoesNotExist:
                return None

    def list_cases(self, query: CaseQuery, limit: int, start_key: StartKey) -> tuple[list[Case], StartKey]:
        m = self._m
        if query.assignee is not None:
            index, index_attr, hash_key = m.case.by_assignee, "assignee", query.assignee
        elif query.customer_id is not None:
            index, index_attr, hash_key = m.case.by_customer, "customerId", query.customer_id
        else:
            index, index_attr, hash_key = m.case.by_created, "listPk", CASE_LIST_PK
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
        with _translated():
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
        with _translated():
            items = m.comment.query(_case_key(case_id), m.comment.sk.startswith("COMMENT#"))
            return [Comment.model_validate(item.body) for item in items]

    def list_events(self, case_id: str) -> list[AuditEvent]:
        m = self._m
        with _translated():
            items = m.event.query(_case_key(case_id), m.event.sk.startswith("EVENT#"), consistent_read=True)
            return [AuditEvent.model_validate(item.body) for item in items]

    def get_event(self, case_id: str, seq: int) -> Optional[AuditEvent]:
        with _translated():
            try:
                item = self._m.event.get(_case_key(case_id), _event_sk(seq), consistent_read=True)
            except self._m.event.DoesNotExist:
                return None
        return AuditEvent.model_validate(item.body)

    def get_idempotency(self, owner: str, key: str) -> Optional[IdempotencyRecord]:
        m = self._m
        with _translated():
            try:
                item = m.idempotency.get(_idempotency_pk(owner, key), "IDEMPOTENCY", consistent_read=True)
            except m.idempotency.DoesNotExist:
                return None
        return IdempotencyRecord(
            owner=owner, key=key, request_hash=item.request_hash, case_id=item.case_id,
            issued_at=int(item.issued_at), expires_at=int(item.expires_at.timestamp()),
        )

    # -- mapping -----------------------------------------------------------------------------

    def _case_item(self, case: Case) -> Any:
        data = case.model_dump(exclude={"id", "compensation", "workflow", "customer_snapshot"})  # audit_seq/hash are excluded fields
        return self._m.case(
            _case_key(case.id), "CASE",
            list_pk=CASE_LIST_PK, list_sk=f"{case.created_at}#{case.id}", case_id=case.id,
            compensation=case.compensation.to_api() if case.compensation else None,
            workflow=case.workflow.to_api() if case.workflow else None,
            customer_snapshot=case.customer_snapshot.to_api() if case.customer_snapshot else None,
            audit_seq=case.audit_seq, audit_hash=case.audit_hash,
            **{k: (v.value if hasattr(v, "value") else v) for k, v in data.items()},
        )

    def _event_item(self, event: AuditEvent) -> Any:
        return self._m.event(_case_key(event.case_id), _event_sk(event.seq), body=event.to_api())


def _idempotency_pk(owner: str, key: str) -> str:
    return f"IDEMPOTENCY#{owner}#{key}"


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


def _utc(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc)


def _is_start_key(key: dict[str, Any], index_attr: str, hash_key: str) -> bool:
    """A resume key must name a case item inside the partition being queried, or DynamoDB refuses it."""
    values = {name: v.get("S") if isinstance(v, dict) and set(v) == {"S"} else None for name, v in key.items()}
    return (
        set(values) == {"PK", "SK", "listSk", index_attr}
        and all(isinstance(v, str) and 0 < len(v) <= 1024 for v in values.values())
        and values["PK"].startswith("CASE#") and values["SK"] == "CASE" and values[index_attr] == hash_key
    )


def _failed_conditions(exc: TransactWriteError) -> list[bool]:
    return [bool(r and r.code == "ConditionalCheckFailed") for r in (exc.cancellation_reasons or [])]


class _translated:
    """Map unreachable or throttled DynamoDB to 503, so clients know to retry, never a 500."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if not isinstance(exc, PynamoDBException):
            return False
        code = exc.cause_response_code
        if code in _UNAVAILABLE or (code is None and exc.cause is not None):  # no code: never reached DynamoDB
            raise DependencyUnavailable("the case store is unavailable; retry shortly") from exc
        if isinstance(exc, TransactWriteError) and any(
            r and r.code in _UNAVAILABLE | {"TransactionConflict"} for r in (exc.cancellation_reasons or [])
        ):
            raise DependencyUnavailable("the case store is busy; retry shortly") from exc
        return False


class _stale_on_condition:
    """A failed condition in a transaction means another writer got there first."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        if isinstance(exc, TransactWriteError) and any(_failed_conditions(exc)):
            raise StaleWrite() from None
        return False
