"""Applies a CaseChange as one TransactWriteItems: the case (put if new, or replaced if still at the version
and audit head read, be it moved or only noted, or its audit head moved if still at the head read), its new
audit events (each put only if absent), the change's conditional writes, and the case's copies in the lists of
the people who take part in it (moved with the case). All of it is written, or none of it."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Optional

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from ...domain.access import participants_of
from ...domain.approvals import Approval
from ...domain.changes import CaseChange, Delete, LoadChange, NoLegalHold, Overwrite, Put
from ...domain.compensation import Compensation, LedgerEntry
from ...domain.documents import DocumentRecord, LegalHold, VersionRecord
from ...domain.models import AuditEvent, Case, Comment
from ...domain.records import DueMarker, IdempotencyRecord, RoundRobinCursor
from ...domain.tasks import Task
from ...ports import IdempotencyKeyTaken, StaleWrite
from . import keys
from ..case_listing import month_of
from .errors import failed_conditions, translated
from .models import TableModels

if TYPE_CHECKING:
    from ...domain.changes import Record, Write


def apply_change(m: TableModels, change: CaseChange, list_month: Optional[str] = None) -> None:
    """`list_month`: also enter that month in the months item (keys.CASE_MONTHS_KEY)."""
    pk = keys.case_pk(change.case_id)
    idempotency_ops: list[int] = []  # which operations put an idempotency record
    ops = 0
    try:
        with translated(), TransactWrite(connection=m.connection) as tx:
            if change.new:
                tx.save(case_item(m, change.case), condition=m.case.pk.does_not_exist())
            elif change.moved or change.noted:  # noted: the same version, still only over the one read
                tx.save(
                    case_item(m, change.case),
                    condition=(m.case.version == change.expected_version)
                    & (m.case.audit_seq == change.expected_audit_seq),
                )
            elif change.events:
                head = change.event
                tx.update(
                    m.case(pk, keys.CASE_SK),
                    actions=[m.case.audit_seq.set(head.seq), m.case.audit_hash.set(head.hash)],
                    condition=m.case.audit_seq == change.expected_audit_seq,  # fails on a missing case, too
                )
            ops = 1 if change.writes_case or change.events else 0
            for event in change.events:
                tx.save(_event_item(m, event), condition=m.event.pk.does_not_exist())
                ops += 1
            for write in change.all_writes:
                if isinstance(write, Put) and isinstance(write.record, IdempotencyRecord):
                    idempotency_ops.append(ops)
                _write(m, tx, change.case_id, write)
                ops += 1
            if change.writes_case:
                _move_viewer_copies(m, tx, change)
            if list_month is not None:
                tx.update(m.months(keys.CASE_MONTHS_KEY, keys.MONTHS_SK), actions=[m.months.months.add({list_month})])
    except TransactWriteError as exc:
        failed = failed_conditions(exc)
        if any(failed[i] for i in idempotency_ops if i < len(failed)):
            raise IdempotencyKeyTaken() from None
        if any(failed):
            raise StaleWrite() from None
        raise


def _move_viewer_copies(m: TableModels, tx: TransactWrite, change: CaseChange) -> None:
    """Every person who takes part in the case gets its current copy; people who no longer do lose theirs."""
    case = change.case
    people = participants_of(case)
    for username in sorted(people):
        tx.save(viewer_item(m, username, case))
    if not change.new:
        for username in sorted(participants_of(change.read) - people):
            tx.delete(m.viewer(keys.case_pk(case.id), keys.viewer_sk(username)))


def _write(m: TableModels, tx: TransactWrite, case_id: str, write: Write) -> None:
    if isinstance(write, Put):
        item, condition = _item(m, case_id, write.record), None
        if write.expected is None:
            condition = item.__class__.pk.does_not_exist()
            if isinstance(write.record, IdempotencyRecord):
                # An expired record may linger until TTL deletes it; it no longer holds the key.
                condition = condition | (m.idempotency.expires_at <= _utc(write.record.issued_at))
        else:
            condition = _revision_attr(item) == write.expected
            if write.status is not None:
                condition = condition & (_status_attr(item) == write.status)
        tx.save(item, condition=condition)
    elif isinstance(write, Overwrite):
        tx.save(_item(m, case_id, write.record))
    elif isinstance(write, Delete):
        item = _item(m, case_id, write.record)
        tx.delete(item, condition=item.__class__.pk.exists() if write.must_exist else None)
    elif isinstance(write, LoadChange):
        listed: Condition = m.person.pk.exists()
        if write.at_most is not None:
            listed = listed & (m.person.open_tasks <= write.at_most)
        tx.update(
            m.person(keys.person_pk(write.username), keys.PERSON_SK),
            actions=[m.person.open_tasks.add(write.delta)], condition=listed,
        )
    elif isinstance(write, NoLegalHold):
        unheld = m.hold.pk.does_not_exist() | (m.hold.enabled == False)  # noqa: E712
        tx.condition_check(m.hold, keys.case_pk(case_id), keys.LEGAL_HOLD_SK, condition=unheld)
    else:
        raise TypeError(f"not a write: {write!r}")


def _revision_attr(item: Any) -> Any:
    model = item.__class__
    return model.revision if hasattr(model, "revision") else model.version


def _status_attr(item: Any) -> Any:
    model = item.__class__
    return model.instruction_status if hasattr(model, "instruction_status") else model.status


def _item(m: TableModels, case_id: str, record: Record) -> Any:
    """The item that stores `record` (every record but a cursor and a due marker belongs to the case)."""
    pk = keys.case_pk(case_id)
    if isinstance(record, Task):
        return task_item(m, record)
    if isinstance(record, RoundRobinCursor):
        return m.cursor(keys.cursor_pk(record.team), keys.CURSOR_SK, last=record.last, version=record.version)
    if isinstance(record, DueMarker):
        return m.marker(
            keys.due_pk(record.day), keys.due_sk(record.due_at, record.task_id, record.warning),
            case_id=record.case_id, task_id=record.task_id, due_at=record.due_at,
        )
    if isinstance(record, Approval):
        inbox = keys.approval_inbox_pk(record)
        return m.approval(
            pk, keys.approval_sk(record.id), body=record.to_api(), status=record.status.value,
            version=record.version, inbox_pk=inbox, inbox_sk=keys.approval_inbox_sk(record) if inbox else None,
        )
    if isinstance(record, Compensation):
        return m.compensation(
            pk, keys.COMPENSATION_SK, body=record.model_dump(mode="json", by_alias=True, exclude={"ledger"}),
            instruction_status=record.instruction.status.value, version=record.version,
        )
    if isinstance(record, LedgerEntry):
        return m.ledger(pk, keys.ledger_sk(record.seq), body=record.to_api())
    if isinstance(record, DocumentRecord):
        return m.document(pk, keys.document_sk(record.id), body=record.to_api(), revision=record.revision)
    if isinstance(record, VersionRecord):
        return m.version(
            pk, keys.version_sk(record.document_id, record.version_id), body=record.to_api(),
            revision=record.revision, status=record.status.value,
        )
    if isinstance(record, LegalHold):
        return m.hold(pk, keys.LEGAL_HOLD_SK, body=record.to_api(), revision=record.revision, enabled=record.enabled)
    if isinstance(record, Comment):
        return m.comment(pk, keys.comment_sk(record.created_at, record.id), body=record.to_api())
    return m.idempotency(
        keys.idempotency_pk(record.owner, record.key), keys.IDEMPOTENCY_SK, request_hash=record.request_hash,
        case_id=record.case_id, issued_at=record.issued_at, expires_at=_utc(record.expires_at),
    )


def case_item(m: TableModels, case: Case) -> Any:
    # audit_seq/hash are excluded fields of the model
    data = case.model_dump(exclude={"id", "compensation", "workflow", "customer_snapshot"})
    return m.case(
        keys.case_pk(case.id), keys.CASE_SK,
        list_pk=keys.case_month_pk(month_of(case.created_at)), list_sk=keys.case_list_sk(case.created_at, case.id),
        view_pk=keys.team_cases_pk(case.team) if case.team else None, case_id=case.id,
        compensation=case.compensation.to_api() if case.compensation else None,
        workflow=case.workflow.to_api() if case.workflow else None,
        customer_snapshot=case.customer_snapshot.to_api() if case.customer_snapshot else None,
        audit_seq=case.audit_seq, audit_hash=case.audit_hash,
        **{k: (v.value if hasattr(v, "value") else v) for k, v in data.items()},
    )


def viewer_item(m: TableModels, username: str, case: Case) -> Any:
    return m.viewer(
        keys.case_pk(case.id), keys.viewer_sk(username), view_pk=keys.viewer_cases_pk(username),
        list_sk=keys.case_list_sk(case.created_at, case.id), body=case.to_api(), status=case.status.value,
        priority=case.priority.value, case_type=case.case_type, customer_id=case.customer_id, assignee=case.assignee,
        fields=case.fields,
    )


def task_item(m: TableModels, task: Task) -> Any:
    inbox = keys.task_inbox_pk(task)
    return m.task(
        keys.case_pk(task.case_id), keys.task_sk(task.id),
        task_id=task.id, case_id=task.case_id, task_type=task.type, title=task.title, assignee=task.assignee,
        team=task.team, status=task.status.value, required=task.required, due_at=task.due_at,
        created_at=task.created_at, completed_at=task.completed_at, completed_by=task.completed_by,
        outcome=task.outcome, comment=task.comment, version=task.version, reason=task.reason,
        escalates=task.escalates, escalation=task.escalation, sla_warned_at=task.sla_warned_at, run=task.run,
        warn_at=task.warn_at,
        inbox_pk=inbox, inbox_sk=keys.task_inbox_sk(task) if inbox else None,
    )


def _event_item(m: TableModels, event: AuditEvent) -> Any:
    return m.event(keys.case_pk(event.case_id), keys.event_sk(event.seq), body=event.to_api())


def _utc(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, timezone.utc)
