"""Which audit events notify whom: an audit event of a case, and what the fan-out looks up about it (`Facts`),
become notifications for the people concerned. Never for the event's actor, at most one per person and event.

  TASK_CREATED, TASK_REASSIGNED  the task's (new) assignee: TASK_ASSIGNED, or ESCALATION for an escalation task
  TASK_SLA_WARNING               the task's assignee: SLA_WARNING
  TASK_ESCALATED                 the overdue task's assignee: SLA_BREACHED
  APPROVAL_REQUESTED             the approval's assignee, else every approver who does not take part in the case
                                 (four-eyes keeps them from deciding it): APPROVAL_WAITING
  APPROVAL_DECIDED (final)       the case's creator and assignee: CASE_DECIDED
  COMMENT_ADDED                  each @mentioned person the directory knows: MENTIONED
  DOCUMENT_QUARANTINED           the case's creator and assignee
A task a person claims names them as its actor, so claiming notifies nobody."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Protocol

from .access import participants_of
from .models import AuditEvent, Case
from .notifications import Notification, NotificationKind, case_label, mentions, notification_id
from .tasks import ESCALATION, Task

Kind = NotificationKind
# The event types a rule below handles; any other notifies nobody, so the fan-out need not read its case.
NOTIFYING_EVENTS = frozenset({
    "TASK_CREATED", "TASK_REASSIGNED", "TASK_SLA_WARNING", "TASK_ESCALATED", "APPROVAL_REQUESTED",
    "APPROVAL_DECIDED", "COMMENT_ADDED", "DOCUMENT_QUARANTINED",
})


class Facts(Protocol):
    """What the rules read beyond the event itself."""

    def task(self, task_id: str) -> Optional[Task]: ...

    def approval_assignee(self, case_id: str, approval_id: str) -> Optional[str]: ...

    def approvers(self) -> list[str]:
        """Everyone with the approver role."""

    def is_person(self, username: str) -> bool:
        """Whether the personnel directory knows the username."""


@dataclass(frozen=True)
class _Draft:
    recipient: str
    kind: NotificationKind
    text: str
    task_id: Optional[str] = None
    approval_id: Optional[str] = None
    document_id: Optional[str] = None


def notifications_for(event: AuditEvent, case: Case, facts: Facts) -> list[Notification]:
    seen: set[str] = set()
    found = []
    for draft in _drafts(event, case, facts):
        if draft.recipient in seen or draft.recipient == event.actor or not draft.recipient:
            continue
        seen.add(draft.recipient)
        found.append(Notification(
            id=notification_id(event.at, case.id, event.seq, draft.recipient), recipient=draft.recipient,
            kind=draft.kind, case_id=case.id, case_number=case.number, task_id=draft.task_id,
            approval_id=draft.approval_id, document_id=draft.document_id, text=draft.text, actor=event.actor,
            created_at=event.at, audit_seq=event.seq,
        ))
    return found


def _drafts(event: AuditEvent, case: Case, facts: Facts) -> Iterable[_Draft]:
    data = event.data
    if event.type not in NOTIFYING_EVENTS:
        return []
    if event.type == "TASK_CREATED":
        created = Task.model_validate(data["task"])
        return _assigned(created, created.assignee, case)
    if event.type == "TASK_REASSIGNED":
        moved = facts.task(str(data["taskId"]))
        return _assigned(moved, data.get("to"), case) if moved else []
    if event.type == "TASK_SLA_WARNING":
        return _about_my_task(facts.task(str(data["taskId"])), case, Kind.SLA_WARNING, "is 80 % through its SLA")
    if event.type == "TASK_ESCALATED":
        return _about_my_task(facts.task(str(data["taskId"])), case, Kind.SLA_BREACHED, "is overdue and was escalated")
    if event.type == "APPROVAL_REQUESTED":
        return _approval_waiting(str(data["approvalId"]), int(data.get("level", 1)), case, facts)
    if event.type == "APPROVAL_DECIDED" and data.get("final"):
        decision = str(data.get("decision", "")).lower()
        return [
            _Draft(person, Kind.CASE_DECIDED, f"{case_label(case, person)} was {decision}",
                   approval_id=str(data["approvalId"]))
            for person in _owners(case)
        ]
    if event.type == "COMMENT_ADDED":
        return [
            _Draft(person, Kind.MENTIONED, f"{event.actor} mentioned you in a comment on {case_label(case, person)}")
            for person in mentions(str(data.get("text", ""))) if facts.is_person(person)
        ]
    if event.type == "DOCUMENT_QUARANTINED":
        document_id = str(data["documentId"])
        return [
            _Draft(person, Kind.DOCUMENT_QUARANTINED, f"A document of {case_label(case, person)} was quarantined",
                   document_id=document_id)
            for person in _owners(case)
        ]
    return []


def _assigned(task: Task, assignee: Optional[str], case: Case) -> list[_Draft]:
    if not assignee:
        return []  # in a team's queue: nobody's yet
    label = case_label(case, assignee)
    if task.type == ESCALATION:
        text = f"An escalation on {label} came to you: {task.title}"
        return [_Draft(assignee, Kind.ESCALATION, text, task_id=task.id)]
    return [_Draft(assignee, Kind.TASK_ASSIGNED, f"Task \u201c{task.title}\u201d on {label} was assigned to you",
                   task_id=task.id)]


def _about_my_task(task: Optional[Task], case: Case, kind: NotificationKind, what: str) -> list[_Draft]:
    """The task's assignee hears `what` of it (nobody while it is in a team's queue)."""
    if task is None or not task.assignee:
        return []
    text = f"Your task \u201c{task.title}\u201d on {case_label(case, task.assignee)} {what}"
    return [_Draft(task.assignee, kind, text, task_id=task.id)]


def _approval_waiting(approval_id: str, level: int, case: Case, facts: Facts) -> list[_Draft]:
    assignee = facts.approval_assignee(case.id, approval_id)
    people = [assignee] if assignee else [p for p in facts.approvers() if p not in participants_of(case)]
    return [
        _Draft(person, Kind.APPROVAL_WAITING, f"Level {level} approval of {case_label(case, person)} waits for you",
               approval_id=approval_id)
        for person in people
    ]


def _owners(case: Case) -> list[str]:
    """Whose case it is: its creator, and its assignee."""
    return [case.created_by] + ([case.assignee] if case.assignee else [])
