"""The one place that knows the table's key formats (PK / SK) and the inbox index's keys.

  CASE#<id> / CASE                                 the case; GSIs list it newest first: listPk = CASES#<yyyy-mm>
                                                   (its month), by assignee, by customer, viewPk = CASES#TEAM#<team>
  CASE#<id> / VIEWER#<username>                    a copy of the case for a person who takes part in it;
                                                   viewPk = CASES#USER#<username> (written with the case)
  CASES#MONTHS / MONTHS                            every month that holds a case (the all-cases list's shards)
  CASE#<id> / EVENT#<seq>                          audit events, hash-chained, in order
  CASE#<id> / COMMENT#<at>#<id>                    comments
  CASE#<id> / TASK#<taskId>                        a task; inboxPk = USER#<assignee> | TEAM#<team> while OPEN
  CASE#<id> / APPROVAL#<approvalId>                an approval; inboxPk = USER#<assignee> | ROLE#approver while PENDING
  CASE#<id> / COMPENSATION, LEDGER#<seq>           the compensation record, its append-only ledger
  CASE#<id> / DOC#<docId>, DOCVER#<docId>#<verId>  a document, one S3 object version of it
  CASE#<id> / LEGALHOLD                            the case's legal hold
  CASE#<id> / TOKEN#<stage>                        the task token of a waiting workflow stage
  CASE#<id> / DOCRESULT#<docId>#<verId>            the processor's result (written by fargate/, which keeps
                                                   its own copy of this format: it ships without chalicelib)
  PERSON#<username> / PERSON                       a directory entry; inboxPk = MEMBERS#<team>
  PERSON#<username> / DELEGATION                   the person's delegation of approvals (any person, in the
                                                   directory or not)
  PERSON#<username> / DELEGATIONLOG#<seq>          every set and revoke of it, kept for good
  TEAMS / TEAMS                                    every team a person was filed under
  ROUNDROBIN#<team> / CURSOR                       the team's round-robin position
  DUE#<yyyy-mm-dd> / <dueAt>#<taskId>              an OPEN task due that day; the overdue sweep reads these
  DUE#<yyyy-mm-dd> / <warnAt>#<taskId>#WARNING     an OPEN task 80 % through its SLA window that day
  SWEEP#OVERDUE / CURSOR                           the first day that may still hold due markers
  COUNTER#<scope> / COUNTER                        atomic counters (case numbers)
  IDEMPOTENCY#<len(user)>#<user>#<key> / IDEMPOTENCY  replay records, deleted by TTL (the length makes the
                                                   join unambiguous: user and key may both contain '#')
  CUSTOMER#<id> / SOURCE#<product>                 the last record a data product answered for a customer
  WEBHOOKS / WEBHOOK#<id>                          a webhook subscription (with its signing secret)
  WEBHOOK#<id> / DELIVERY#<eventTime>#<eventId>    one event's delivery to it, newest last
  NOTIFY#<username> / NOTE#<notificationId>        a person's notification, newest first (ids sort by time);
                                                   inboxPk = UNREAD#<username> while unread; deleted by TTL
  NOTIFY#<username> / PREFERENCES                  the person's notification preferences
  CALENDARS / CALENDAR#<id>                        a business calendar (few: one partition, listed by id)
  CASETYPES / CASETYPE#<id>                        a case type's head: its current version (and retired flag),
                                                   all in one partition, so listing the types is one query
  CASETYPE#<id> / V#<version, 6 digits>            one published version of it, never changed
"""
from __future__ import annotations

from typing import Callable, Optional

from ...domain.approvals import APPROVER_QUEUE, Approval, ApprovalStatus
from ...domain.calendars import Calendar
from ...domain.case_types import CaseType
from ...domain.documents import DocumentRecord
from ...domain.models import AuditEvent, Comment
from ...domain.personnel import Person
from ...domain.tasks import Task, TaskStatus, team_queue, user_inbox
from ..keyed_pages import KeyedList, Position

CASE_PREFIX = "CASE#"
CASE_SK = "CASE"
CASE_LIST_PK = "CASE"  # the cases-by-created index's one partition before month shards (backfill.py moves it)
CASE_MONTHS_KEY = "CASES#MONTHS"
MONTHS_SK = "MONTHS"
EVENT_PREFIX = "EVENT#"
COMMENT_PREFIX = "COMMENT#"
TASK_PREFIX = "TASK#"
APPROVAL_PREFIX = "APPROVAL#"
COMPENSATION_SK = "COMPENSATION"
LEDGER_PREFIX = "LEDGER#"
DOC_PREFIX = "DOC#"
VERSION_PREFIX = "DOCVER#"
LEGAL_HOLD_SK = "LEGALHOLD"
PERSON_SK = "PERSON"
DELEGATION_SK = "DELEGATION"
DELEGATION_LOG_PREFIX = "DELEGATIONLOG#"
TEAMS_KEY = "TEAMS"
CURSOR_SK = "CURSOR"
SWEEP_KEY = "SWEEP#OVERDUE"
COUNTER_SK = "COUNTER"
IDEMPOTENCY_SK = "IDEMPOTENCY"
MEMBERS_PREFIX = "MEMBERS#"
PERSON_PREFIX = "PERSON#"
SOURCE_PREFIX = "SOURCE#"
NOTE_PREFIX = "NOTE#"
PREFERENCES_SK = "PREFERENCES"
CASE_TYPES_KEY = "CASETYPES"
CASE_TYPE_PREFIX = "CASETYPE#"


def _prefixed(prefix: str) -> Callable[[str], str]:
    def key(value: str) -> str:
        return f"{prefix}{value}"

    return key


def _unprefixed(prefix: str) -> Callable[[str], Optional[str]]:
    """What follows `prefix` in a key; None for a key without it."""

    def value(key: str) -> Optional[str]:
        return key.removeprefix(prefix) if key.startswith(prefix) else None

    return value


case_pk = _prefixed(CASE_PREFIX)
case_id_of = _unprefixed(CASE_PREFIX)
task_sk = _prefixed(TASK_PREFIX)
approval_sk = _prefixed(APPROVAL_PREFIX)
document_sk = _prefixed(DOC_PREFIX)
token_sk = _prefixed("TOKEN#")
person_pk = _prefixed(PERSON_PREFIX)
username_of = _unprefixed(PERSON_PREFIX)
members_key = _prefixed(MEMBERS_PREFIX)
cursor_pk = _prefixed("ROUNDROBIN#")
due_pk = _prefixed("DUE#")
counter_pk = _prefixed("COUNTER#")
customer_pk = _prefixed("CUSTOMER#")
source_sk = _prefixed(SOURCE_PREFIX)
viewer_sk = _prefixed("VIEWER#")
# the case lists (adapters/case_listing.py): a month's cases, a team's, a person's
case_month_pk = _prefixed("CASES#")
team_cases_pk = _prefixed("CASES#TEAM#")
viewer_cases_pk = _prefixed("CASES#USER#")
# a person's notifications (adapters/dynamo/notifications.py)
notifications_pk = _prefixed("NOTIFY#")
note_sk = _prefixed(NOTE_PREFIX)
unread_pk = _prefixed("UNREAD#")
case_type_key = _prefixed(CASE_TYPE_PREFIX)  # a head's sort key, and the partition of the type's versions
case_type_id_of = _unprefixed(CASE_TYPE_PREFIX)


def case_list_sk(created_at: str, case_id: str) -> str:
    return f"{created_at}#{case_id}"


def event_sk(seq: int) -> str:
    return f"{EVENT_PREFIX}{seq:010d}"


def ledger_sk(seq: int) -> str:
    return f"{LEDGER_PREFIX}{seq:06d}"


def case_type_version_sk(version: int) -> str:
    return f"V#{version:06d}"


def delegation_log_sk(seq: int) -> str:
    return f"{DELEGATION_LOG_PREFIX}{seq:06d}"


def comment_sk(created_at: str, comment_id: str) -> str:
    return f"{COMMENT_PREFIX}{created_at}#{comment_id}"


def versions_prefix(document_id: str) -> str:
    return f"{VERSION_PREFIX}{document_id}#"


def version_sk(document_id: str, version_id: str) -> str:
    return f"{versions_prefix(document_id)}{version_id}"


def result_sk(document_id: str, version_id: str) -> str:
    return f"DOCRESULT#{document_id}#{version_id}"


WARNING_SUFFIX = "#WARNING"


def due_sk(due_at: str, task_id: str, warning: bool) -> str:
    return f"{due_at}#{task_id}{WARNING_SUFFIX if warning else ''}"


WEBHOOKS_KEY = "WEBHOOKS"
WEBHOOK_PREFIX = "WEBHOOK#"
DELIVERY_PREFIX = "DELIVERY#"
webhook_key = _prefixed(WEBHOOK_PREFIX)  # a webhook's sort key, and the partition of its deliveries


def delivery_sk(event_time: str, event_id: str) -> str:
    return f"{DELIVERY_PREFIX}{event_time}#{event_id}"


CALENDARS_KEY = "CALENDARS"
CALENDAR_PREFIX = "CALENDAR#"
calendar_sk = _prefixed(CALENDAR_PREFIX)


def idempotency_pk(owner: str, key: str) -> str:
    """One user's one Idempotency-Key. The owner's length comes first, so no other (owner, key) pair joins to the
    same string: "a#b" with "c" and "a" with "b#c" are IDEMPOTENCY#3#a#b#c and IDEMPOTENCY#1#a#b#c."""
    return f"IDEMPOTENCY#{len(owner)}#{owner}#{key}"


# -- the inbox index: a record waiting for someone is listed under their inbox or its queue (sparse) --------


def _waiting_in(waiting: bool, assignee: Optional[str], queue: str) -> Optional[str]:
    return (user_inbox(assignee) if assignee else queue) if waiting else None


def task_inbox_pk(task: Task) -> Optional[str]:
    """An OPEN task's assignee's inbox, or its team's queue."""
    return _waiting_in(task.status == TaskStatus.OPEN, task.assignee, team_queue(task.team))


def task_inbox_sk(task: Task) -> str:
    return f"{TASK_PREFIX}{task.due_at}#{task.id}"


def approval_inbox_pk(approval: Approval) -> Optional[str]:
    """A PENDING approval's assignee's inbox, or the approvers' queue."""
    return _waiting_in(approval.status == ApprovalStatus.PENDING, approval.assignee, APPROVER_QUEUE)


def approval_inbox_sk(approval: Approval) -> str:
    return f"{APPROVAL_PREFIX}{approval.created_at}#{approval.id}"


# -- the keyed lists (adapters/keyed_pages.py): what each listing reads, and each item's key attributes ----------


def _in_table(pk: str, sk: str) -> Position:
    return {"PK": pk, "SK": sk}


def comments_list(case_id: str) -> KeyedList[Comment]:
    return KeyedList(
        case_pk(case_id), COMMENT_PREFIX, lambda c: _in_table(case_pk(c.case_id), comment_sk(c.created_at, c.id)),
    )


def events_list(case_id: str) -> KeyedList[AuditEvent]:
    return KeyedList(case_pk(case_id), EVENT_PREFIX, lambda e: _in_table(case_pk(e.case_id), event_sk(e.seq)))


def case_tasks_list(case_id: str) -> KeyedList[Task]:
    return KeyedList(case_pk(case_id), TASK_PREFIX, lambda t: _in_table(case_pk(t.case_id), task_sk(t.id)))


def task_inbox_list(inbox: str) -> KeyedList[Task]:
    def key_of(task: Task) -> Position:
        return {**_in_table(case_pk(task.case_id), task_sk(task.id)), "inboxPk": task_inbox_pk(task) or "",
                "inboxSk": task_inbox_sk(task)}

    return KeyedList(inbox, TASK_PREFIX, key_of, in_index=True)


def case_approvals_list(case_id: str) -> KeyedList[Approval]:
    return KeyedList(case_pk(case_id), APPROVAL_PREFIX, lambda a: _in_table(case_pk(a.case_id), approval_sk(a.id)))


def approval_inbox_list(inbox: str) -> KeyedList[Approval]:
    def key_of(approval: Approval) -> Position:
        return {**_in_table(case_pk(approval.case_id), approval_sk(approval.id)),
                "inboxPk": approval_inbox_pk(approval) or "", "inboxSk": approval_inbox_sk(approval)}

    return KeyedList(inbox, APPROVAL_PREFIX, key_of, in_index=True)


def team_members_list(team: str) -> KeyedList[Person]:
    def key_of(person: Person) -> Position:
        return {**_in_table(person_pk(person.username), PERSON_SK), "inboxPk": members_key(person.team),
                "inboxSk": person_pk(person.username)}

    return KeyedList(members_key(team), PERSON_PREFIX, key_of, in_index=True)


def documents_list(case_id: str) -> KeyedList[DocumentRecord]:
    return KeyedList(case_pk(case_id), DOC_PREFIX, lambda d: _in_table(case_pk(d.case_id), document_sk(d.id)))


def calendars_list() -> KeyedList[Calendar]:
    return KeyedList(CALENDARS_KEY, CALENDAR_PREFIX, lambda c: _in_table(CALENDARS_KEY, calendar_sk(c.id)))
def case_types_list() -> KeyedList[CaseType]:
    return KeyedList(CASE_TYPES_KEY, CASE_TYPE_PREFIX, lambda t: _in_table(CASE_TYPES_KEY, case_type_key(t.id)))
