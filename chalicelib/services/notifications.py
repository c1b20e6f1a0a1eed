"""Notifications for people: the fan-out that turns the table stream's audit events into notifications (and
e-mails for the kinds a person opted into), and each person's own API over theirs.

The fan-out is safe to repeat: a notification's id is derived from the case, the audit event and the recipient
and stored only if absent, so a re-delivered stream record notifies (and mails) nobody twice. E-mail is best
effort: a failure is logged and never keeps the in-app notification from being stored."""
from __future__ import annotations

import logging
import re
from typing import Any, Iterable, Optional

from ..adapters.dynamo import keys
from ..adapters.dynamo.stream import item_key
from ..domain.access import Principal, Role
from ..domain.case_rows import image
from ..domain.clock import Clock, iso, utc_now
from ..domain.models import AuditEvent, Case
from ..domain.notification_rules import NOTIFYING_EVENTS, notifications_for
from ..domain.notifications import (
    UNREAD_COUNTED, Notification, NotificationPage, Preferences, PreferencesUpdate, ReadAllResult, UnreadCount,
)
from ..domain.queries import MAX_PAGE
from ..domain.tasks import Task
from ..errors import FieldIssue, InvalidInput, NotFound
from ..ports import (
    ApprovalStore, CaseRepository, InvalidStartKey, Mailer, NotificationStore, PersonnelRepository, StartKey,
    TaskRepository, UserDirectory,
)
from . import cursor

log = logging.getLogger(__name__)
READ_ALL_PAGES = 10  # read-all marks at most this many pages of MAX_PAGE per call; the answer says how many
_ID = re.compile(r"^[0-9]{1,17}-[0-9a-f]{20}$")  # domain/notifications.py: notification_id


class NotificationService:
    """A person's own notifications: nobody reads or marks another's (theirs are not found)."""

    def __init__(self, store: NotificationStore, clock: Clock = utc_now) -> None:
        self._store, self._clock = store, clock

    def list(
        self, principal: Principal, unread: Optional[str], limit: int, page_cursor: Optional[str],
    ) -> NotificationPage:
        if unread not in (None, "true", "false"):
            raise InvalidInput("unread must be true or false", [FieldIssue("unread", "must be true or false")])
        unread_only = unread == "true"

        def read(page_limit: int, start: StartKey) -> tuple[list[Notification], StartKey]:
            after = start.get("after") if start else None
            if start is not None and not (isinstance(after, str) and _ID.match(after)):
                raise InvalidStartKey(after)
            items, last = self._store.page(principal.username, unread_only, page_limit, after)
            return items, ({"after": last} if last else None)

        # The shared opaque cursor (services/cursor.py), bound to the caller and the filter.
        items, next_cursor = cursor.paged(
            "notifications", {"user": principal.username, "unread": unread_only}, limit, page_cursor, read,
        )
        return NotificationPage(items=items, next_cursor=next_cursor)

    def unread_count(self, principal: Principal) -> UnreadCount:
        counted = self._store.count_unread(principal.username, UNREAD_COUNTED)
        return UnreadCount(unread=counted, more=counted >= UNREAD_COUNTED)

    def mark_read(self, principal: Principal, notification_id: str) -> Notification:
        marked = self._store.mark_read(principal.username, notification_id, iso(self._clock()))
        if marked is None:
            raise NotFound(f"notification {notification_id} not found")
        return marked

    def mark_all_read(self, principal: Principal) -> ReadAllResult:
        at, marked, after = iso(self._clock()), 0, None
        for _ in range(READ_ALL_PAGES):
            unread, after = self._store.page(principal.username, True, MAX_PAGE, after)
            for notification in unread:
                done = self._store.mark_read(principal.username, notification.id, at)
                marked += bool(done and done.read_at == at)
            if after is None:
                break
        return ReadAllResult(marked=marked)

    def preferences(self, principal: Principal) -> Preferences:
        return self._store.get_preferences(principal.username)

    def update_preferences(self, principal: Principal, update: PreferencesUpdate) -> Preferences:
        preferences = Preferences(email_kinds=list(dict.fromkeys(update.email_kinds)))
        self._store.save_preferences(principal.username, preferences)
        return preferences


class NotificationFanOut:
    """The table stream's consumer: a notification for each person an audit event concerns."""

    def __init__(
        self, cases: CaseRepository, tasks: TaskRepository, approvals: ApprovalStore, people: PersonnelRepository,
        store: NotificationStore, users: UserDirectory, mailer: Optional[Mailer],
    ) -> None:
        """`mailer`: None when no sender is configured (no e-mail at all)."""
        self._cases, self._store, self._users, self._mailer = cases, store, users, mailer
        self._tasks, self._approvals, self._people = tasks, approvals, people

    def on_records(self, records: Iterable[dict[str, Any]]) -> list[str]:
        """Notify for each audit event inserted in the batch; the sequence numbers of the records that failed
        (Lambda's ReportBatchItemFailures retries from the first of them)."""
        facts = self._facts()
        failed = []
        for record in records:
            try:
                event = inserted_event(record)
                if event is not None:
                    self.notify(event, facts)
            except Exception:  # one bad record must not hold back the rest of the batch
                log.exception("could not notify for stream record %s", record.get("eventID"))
                failed.append(str((record.get("dynamodb") or {}).get("SequenceNumber") or record.get("eventID")))
        return failed

    def notify(self, event: AuditEvent, facts: Optional["_Facts"] = None) -> list[Notification]:
        """Store the event's notifications; the ones stored now (not before)."""
        if event.type not in NOTIFYING_EVENTS:
            return []  # most of a case's events (created, workflow steps): no case read for nothing
        facts = facts or self._facts()
        case = facts.case(event.case_id)
        if case is None:
            return []
        stored = [n for n in notifications_for(event, case, facts) if self._store.add(n)]
        for notification in stored:
            self._email(notification)
        return stored

    def _facts(self) -> "_Facts":
        return _Facts(self._cases, self._tasks, self._approvals, self._people, self._users)

    def _email(self, notification: Notification) -> None:
        if self._mailer is None:
            return
        try:
            if notification.kind not in self._store.get_preferences(notification.recipient).email_kinds:
                return
            address = self._users.email(notification.recipient)
            if address:
                self._mailer.send(address, f"[Case management] {notification.text}"[:200], mail_text(notification))
        except Exception:  # best effort: the notification is stored whatever happens to the e-mail
            log.exception("could not e-mail notification %s", notification.id)


def mail_text(notification: Notification) -> str:
    refs = [
        f"{label}: {value}" for label, value in (
            ("Case", notification.case_number or notification.case_id), ("Task", notification.task_id),
            ("Approval", notification.approval_id), ("Document", notification.document_id),
        ) if value
    ]
    return "\n".join([notification.text, "", *refs, "", "Open the case management console to see it."])


def inserted_event(record: dict[str, Any]) -> Optional[AuditEvent]:
    """The audit event a stream record inserts; None for any other record (including notifications' own)."""
    if record.get("eventName") != "INSERT" or not item_key(record)[1].startswith(keys.EVENT_PREFIX):
        return None
    return AuditEvent.model_validate_json(image((record.get("dynamodb") or {}).get("NewImage"))["body"])


class _Facts:
    """What the rules read, for one batch: the approvers are listed once, and each case read once (a batch
    holds several events of a case: ~6 reads of ~3 cases a batch at 5 cases a second). Every read is the case
    as it is now, not as of the event, so one read serves the batch as well as several."""

    def __init__(
        self, cases: CaseRepository, tasks: TaskRepository, approvals: ApprovalStore, people: PersonnelRepository,
        users: UserDirectory,
    ) -> None:
        self._cases, self._tasks, self._approvals, self._people, self._users = cases, tasks, approvals, people, users
        self._approver_names: Optional[list[str]] = None
        self._cases_read: dict[str, Optional[Case]] = {}

    def case(self, case_id: str) -> Optional[Case]:
        if case_id not in self._cases_read:
            self._cases_read[case_id] = self._cases.get_case(case_id)
        return self._cases_read[case_id]

    def task(self, task_id: str) -> Optional[Task]:
        return self._tasks.get_task(task_id)

    def approval_assignee(self, case_id: str, approval_id: str) -> Optional[str]:
        approval = self._approvals.get_approval(case_id, approval_id)
        return approval.assignee if approval else None

    def approvers(self) -> list[str]:
        if self._approver_names is None:
            self._approver_names = self._users.members(Role.APPROVER.value)
        return self._approver_names

    def is_person(self, username: str) -> bool:
        return self._people.get_person(username) is not None
