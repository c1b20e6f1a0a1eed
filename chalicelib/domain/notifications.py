"""Notifications for people: what one holds, its id, who may read its text, the e-mail preferences, and the
@mentions of a comment. Which audit events notify whom is notification_rules.py.

A notification is addressed to one person and carries ids and a short text, never more than its recipient may
already see: a case's title only for those who take part in the case, its number otherwise."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Optional

from pydantic import Field, StringConstraints

from .access import participants_of
from .base import ApiModel, RequestModel
from .clock import ISO_FORM
from .models import Case
from .queries import MAX_PAGE, Cursor, Query

RETENTION = timedelta(days=90)  # then DynamoDB's TTL deletes it, read or not
DEFAULT_PAGE = 25
UNREAD_COUNTED = 100  # the bell counts unread notifications up to this many ("99+")
MAX_MENTIONS = 20  # per comment: each one is a directory lookup
# A username (domain/personnel.py) after an @ that follows no word character: "@alice", not "bob@example.com".
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_-]{1,64})(?![\w-])")


class NotificationKind(str, Enum):
    TASK_ASSIGNED = "TASK_ASSIGNED"  # a task was given to me
    APPROVAL_WAITING = "APPROVAL_WAITING"  # an approval waits for me (assigned, or in the approvers' queue)
    CASE_DECIDED = "CASE_DECIDED"  # the approval of a case I created or am assigned was decided for good
    ESCALATION = "ESCALATION"  # an escalation task came to me
    SLA_WARNING = "SLA_WARNING"  # 80 % of my task's SLA window has passed
    SLA_BREACHED = "SLA_BREACHED"  # my task went past its due time
    MENTIONED = "MENTIONED"  # someone @mentioned me in a comment
    DOCUMENT_QUARANTINED = "DOCUMENT_QUARANTINED"  # a document of a case I created or am assigned


class Notification(ApiModel):
    id: str = Field(description="sorts newest first in reverse; one per audit event and recipient")
    recipient: str
    kind: NotificationKind
    case_id: str
    case_number: Optional[str] = None
    task_id: Optional[str] = None
    approval_id: Optional[str] = None
    document_id: Optional[str] = None
    text: str = Field(description="a short text; a case's title only for those who take part in the case")
    actor: str = Field(description="who did what the notification is about (a username, `workflow`, `system`)")
    created_at: str = Field(description=f"when it happened: {ISO_FORM}")
    read_at: Optional[str] = Field(default=None, description=f"when the recipient marked it read: {ISO_FORM}")
    audit_seq: int = Field(description="the case's audit event it was made from")

    @property
    def read(self) -> bool:
        return self.read_at is not None


class NotificationPage(ApiModel):
    items: list[Notification]
    next_cursor: Optional[str] = None


class UnreadCount(ApiModel):
    unread: int = Field(description=f"unread notifications, counted up to {UNREAD_COUNTED}")
    more: bool = Field(description=f"there may be more than {UNREAD_COUNTED}")


class ReadAllResult(ApiModel):
    marked: int = Field(description="how many notifications this call marked read")


class Preferences(ApiModel):
    email_kinds: list[NotificationKind] = Field(
        default=[], description="the kinds also sent by e-mail (none by default)",
    )
    kinds: list[NotificationKind] = Field(
        default=list(NotificationKind), description="every kind there is (read only)",
    )


class PreferencesUpdate(RequestModel):
    email_kinds: Annotated[list[NotificationKind], Field(max_length=len(NotificationKind))]


class NotificationListQuery(Query):
    unread: Optional[Annotated[str, StringConstraints(pattern=r"^(true|false)$")]] = Field(
        default=None, description="`true`: only unread notifications",
    )
    limit: Optional[int] = Field(default=None, ge=1, le=MAX_PAGE, description=f"page size, {DEFAULT_PAGE} by default")
    cursor: Cursor = Field(default=None, description="the `nextCursor` of the previous page, with the same filter")


def notification_id(at: str, case_id: str, seq: int, recipient: str) -> str:
    """The event's time (so ids sort by it) and a digest of what makes it unique: the same audit event
    delivered again gives the same id, so a re-delivered stream record adds nothing."""
    digest = hashlib.sha256(f"{case_id}#{seq}#{recipient}".encode()).hexdigest()[:20]
    return f"{re.sub(r'[^0-9]', '', at)[:17]}-{digest}"


def expires_at(created_at: str) -> datetime:
    """When DynamoDB's TTL deletes the notification."""
    return datetime.fromisoformat(created_at.replace("Z", "+00:00")) + RETENTION


def case_label(case: Case, recipient: str) -> str:
    """How a text names the case for `recipient`: its title only if they take part in it (so they see it)."""
    if recipient in participants_of(case):
        return f"{case.number} \u201c{case.title}\u201d"
    return case.number


def mentions(text: str) -> list[str]:
    """The usernames @mentioned in a comment, in order, each once, at most MAX_MENTIONS."""
    return list(dict.fromkeys(_MENTION.findall(text)))[:MAX_MENTIONS]

