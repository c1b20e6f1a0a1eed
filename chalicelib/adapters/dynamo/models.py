"""The table's pynamodb models, declared once: one `Item` base (the table's Meta and keys), the case lists'
indexes, one `inbox` index, and an item class per kind of item (key formats: `keys`). Built per (table,
region, endpoint) on first use, so nothing is fixed at import time and tests can point them at any table."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional, cast

from pynamodb.attributes import (
    BooleanAttribute, JSONAttribute, ListAttribute, MapAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import MetaProtocol, Model

INBOX_INDEX = "inbox"


@dataclass(frozen=True)
class TableModels:
    """The item classes of one table (built at run time, so typed Any) and its shared connection."""

    case: Any
    event: Any
    comment: Any
    counter: Any
    idempotency: Any
    task: Any
    person: Any
    teams: Any
    cursor: Any
    marker: Any
    sweep: Any
    approval: Any
    compensation: Any
    ledger: Any
    document: Any
    version: Any
    hold: Any
    last_known: Any
    viewer: Any
    months: Any
    delegation: Any
    delegation_log: Any
    notification: Any
    preferences: Any
    calendar: Any
    case_type_head: Any
    case_type_version: Any
    connection: Connection


def _index(name: str, hash_key: tuple[str, str], range_key: tuple[str, str]) -> type[GlobalSecondaryIndex[Any]]:
    """A global secondary index projecting every attribute; each key as (Python name, attribute name)."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    return type(f"Index[{name}]", (GlobalSecondaryIndex,), {
        "Meta": meta,
        hash_key[0]: UnicodeAttribute(hash_key=True, attr_name=hash_key[1]),
        range_key[0]: UnicodeAttribute(range_key=True, attr_name=range_key[1]),
    })


@lru_cache(maxsize=8)
def table_models(table_name: str, region: str, host: Optional[str] = None) -> TableModels:
    # Only what differs from pynamodb's defaults: its metaclass fills in the rest of MetaProtocol.
    table_meta = cast(MetaProtocol, type("Meta", (), {
        "table_name": table_name, "region": region, "host": host, "billing_mode": "PAY_PER_REQUEST",
        "stream_view_type": "NEW_AND_OLD_IMAGES",
        "connect_timeout_seconds": 2, "read_timeout_seconds": 5, "max_retry_attempts": 2,
    }))

    by_created_index = _index("cases-by-created", ("list_pk", "listPk"), ("list_sk", "listSk"))
    by_assignee_index = _index("cases-by-assignee", ("assignee", "assignee"), ("list_sk", "listSk"))
    by_customer_index = _index("cases-by-customer", ("customer_id", "customerId"), ("list_sk", "listSk"))
    # a team's cases (case items) and a person's (their viewer copies): the lists of who may see a case
    by_viewer_index = _index("cases-by-viewer", ("view_pk", "viewPk"), ("list_sk", "listSk"))
    inbox_index = _index(INBOX_INDEX, ("inbox_pk", "inboxPk"), ("inbox_sk", "inboxSk"))  # "my work" (docs/workflow.md)

    class Item(Model):
        Meta = table_meta
        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")

    class InboxItem(Item):
        """An item listed in the sparse inbox index while it waits for someone."""

        inbox_pk = UnicodeAttribute(attr_name="inboxPk", null=True)
        inbox_sk = UnicodeAttribute(attr_name="inboxSk", null=True)
        inbox = inbox_index()

    class CaseItem(InboxItem):  # declares every index, so create_table creates them; cases carry no inbox keys
        list_pk = UnicodeAttribute(attr_name="listPk")
        list_sk = UnicodeAttribute(attr_name="listSk")
        case_id = UnicodeAttribute(attr_name="id")
        number = UnicodeAttribute()
        title = UnicodeAttribute()
        description = UnicodeAttribute(null=True)
        case_type = UnicodeAttribute(attr_name="caseType")
        case_type_version = NumberAttribute(attr_name="caseTypeVersion", null=True)  # absent: opened before versions
        priority = UnicodeAttribute()
        customer_id = UnicodeAttribute(attr_name="customerId")
        compensation = JSONAttribute(null=True)
        required_documents = ListAttribute(of=UnicodeAttribute, attr_name="requiredDocuments", default=list)
        tags = ListAttribute(of=UnicodeAttribute, default=list)
        # a map, not JSON text: a listing filters on `fields.<name>` (absent: opened before custom fields)
        fields: MapAttribute[Any, Any] = MapAttribute(null=True)
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
        sla_paused_at = UnicodeAttribute(attr_name="slaPausedAt", null=True)
        workflow = JSONAttribute(null=True)
        customer_snapshot = JSONAttribute(attr_name="customerSnapshot", null=True)
        audit_seq = NumberAttribute(attr_name="auditSeq")
        audit_hash = UnicodeAttribute(attr_name="auditHash")
        by_created = by_created_index()
        by_assignee = by_assignee_index()
        by_customer = by_customer_index()
        view_pk = UnicodeAttribute(attr_name="viewPk", null=True)  # its team's list; none without a team
        by_viewer = by_viewer_index()

    class MonthsItem(Item):
        months = UnicodeSetAttribute(default=set)

    class BodyItem(Item):
        """An item kept as its model's JSON."""

        body = JSONAttribute()

    class ViewerItem(BodyItem):
        """A copy of a case in the list of one person who takes part in it: the case as JSON, and the fields
        listings filter on under names no other index keys on (`assignee`, `customerId` are index keys)."""

        view_pk = UnicodeAttribute(attr_name="viewPk")
        list_sk = UnicodeAttribute(attr_name="listSk")
        status = UnicodeAttribute()
        priority = UnicodeAttribute()
        case_type = UnicodeAttribute(attr_name="caseType")
        customer_id = UnicodeAttribute(attr_name="customer")
        assignee = UnicodeAttribute(attr_name="assignedTo", null=True)
        fields: MapAttribute[Any, Any] = MapAttribute(null=True)
        by_viewer = by_viewer_index()

    class CounterItem(Item):
        value = NumberAttribute(default=0)

    class IdempotencyItem(Item):
        request_hash = UnicodeAttribute(attr_name="requestHash")
        case_id = UnicodeAttribute(attr_name="caseId")
        issued_at = NumberAttribute(attr_name="issuedAt")
        expires_at = TTLAttribute(attr_name="expiresAt")

    class TaskItem(InboxItem):
        task_id = UnicodeAttribute(attr_name="id")
        case_id = UnicodeAttribute(attr_name="caseId")
        task_type = UnicodeAttribute(attr_name="type")
        title = UnicodeAttribute()
        assignee = UnicodeAttribute(null=True)
        team = UnicodeAttribute()
        status = UnicodeAttribute()
        required = BooleanAttribute()
        due_at = UnicodeAttribute(attr_name="dueAt")
        created_at = UnicodeAttribute(attr_name="createdAt")
        completed_at = UnicodeAttribute(attr_name="completedAt", null=True)
        completed_by = UnicodeAttribute(attr_name="completedBy", null=True)
        outcome = UnicodeAttribute(null=True)
        comment = UnicodeAttribute(null=True)
        version = NumberAttribute()
        reason = UnicodeAttribute(null=True)
        escalates = UnicodeAttribute(null=True)
        escalation = UnicodeAttribute(null=True)
        sla_warned_at = UnicodeAttribute(attr_name="slaWarnedAt", null=True)
        warn_at = UnicodeAttribute(attr_name="warnAt", null=True)
        run = NumberAttribute(null=True)

    class PersonItem(InboxItem):
        username = UnicodeAttribute()
        team = UnicodeAttribute()
        skills = ListAttribute(of=UnicodeAttribute, default=list)
        capacity = NumberAttribute()
        out_of_office = JSONAttribute(attr_name="outOfOffice")
        supervisor = BooleanAttribute()
        open_tasks = NumberAttribute(attr_name="openTasks", default=0)
        updated_at = UnicodeAttribute(attr_name="updatedAt", null=True)
        updated_by = UnicodeAttribute(attr_name="updatedBy", null=True)

    class TeamsItem(Item):
        teams = UnicodeSetAttribute(default=set)

    class CursorItem(Item):
        last = UnicodeAttribute(null=True)
        version = NumberAttribute()

    class MarkerItem(Item):
        case_id = UnicodeAttribute(attr_name="caseId")
        task_id = UnicodeAttribute(attr_name="taskId")
        due_at = UnicodeAttribute(attr_name="dueAt")

    class SweepItem(Item):
        day = UnicodeAttribute()

    class ApprovalItem(InboxItem):
        body = JSONAttribute()
        status = UnicodeAttribute()
        version = NumberAttribute()

    class CompensationItem(BodyItem):
        instruction_status = UnicodeAttribute(attr_name="instructionStatus")
        version = NumberAttribute()

    class RevisedItem(BodyItem):
        """A document, a version, a legal hold, a delegation, a calendar or a case type's head: written only at
        the revision read."""

        revision = NumberAttribute()

    class VersionItem(RevisedItem):
        status = UnicodeAttribute()

    class HoldItem(RevisedItem):
        enabled = BooleanAttribute()

    class NotificationItem(InboxItem):
        """A person's notification as JSON; listed in the inbox index under UNREAD#<username> while unread."""

        body = JSONAttribute()
        expires_at = TTLAttribute(attr_name="expiresAt")

    class LastKnownItem(Item):
        fields = JSONAttribute()
        as_of = UnicodeAttribute(attr_name="asOf")

    # One connection (one botocore client, its timeouts and retries) for every item type and for
    # transactions: each model would otherwise build its own, ~0.1 s apiece on a cold start. pynamodb keeps
    # it on the class, so the base's is every item class's; built from CaseItem, which knows every index.
    Item._connection = CaseItem._get_connection()
    return TableModels(
        case=CaseItem, event=BodyItem, comment=BodyItem, counter=CounterItem, idempotency=IdempotencyItem,
        task=TaskItem, person=PersonItem, teams=TeamsItem, cursor=CursorItem, marker=MarkerItem, sweep=SweepItem,
        approval=ApprovalItem, compensation=CompensationItem, ledger=BodyItem, document=RevisedItem,
        version=VersionItem, hold=HoldItem, last_known=LastKnownItem, viewer=ViewerItem,
        months=MonthsItem, delegation=RevisedItem, delegation_log=BodyItem, notification=NotificationItem,
        preferences=BodyItem, calendar=RevisedItem, case_type_head=RevisedItem, case_type_version=BodyItem,
        connection=Item._connection.connection,
    )


class OnTable:
    """A store over the table's models."""

    def __init__(self, models: TableModels) -> None:
        self._m = models


def create_table(models: TableModels) -> None:
    """Create the table, its indexes, stream and TTL (the local system and tests use this)."""
    if not models.case.exists():
        models.case.create_table(wait=True, ignore_update_ttl_errors=True)
    models.idempotency.update_ttl(ignore_update_ttl_errors=True)
