"""Integration events: what other systems learn about a case, one versioned event per audit event that means
something to them. The contract (schemas/events/<type>.v1.json) carries ids, codes and amounts only: no
titles, descriptions, comments, customer data or free text, since the events leave the system.

  CASE_CREATED                                  case.created
  CASE_UPDATED; any event not listed here     case.updated (the fields' names, never their values; or the new
  that moves the case's status (workflow        status)
  steps, an expired approval, a compensation)
  CASE_CLOSED                                   case.closed
  TASK_CREATED with an assignee, TASK_CLAIMED,  task.assigned
  TASK_REASSIGNED to someone
  TASK_COMPLETED                                task.completed
  APPROVAL_REQUESTED                            approval.requested
  APPROVAL_DECIDED                              approval.decided
  PAYMENT_CONFIRMED                             compensation.paid
  DOCUMENT_VERIFIED                             document.ready
  DOCUMENT_QUARANTINED                          document.quarantined
  TASK_SLA_WARNING (80 % of a task's SLA window  sla.warning
  has passed)
  TASK_ESCALATED (a task is past its due time)  sla.breached
Every other audit event publishes nothing.

The event id is derived from the case id and the audit seq, so an event published twice (a stream batch
retried) has the same id both times and consumers drop the copy."""
from __future__ import annotations

import uuid
from typing import Any, Callable, Optional

from .models import AuditEvent

SOURCE = "cms.cases"  # the EventBridge source of every integration event
SCHEMA_VERSION = 1
EVENT_TYPES = (
    "case.created", "case.updated", "case.closed", "task.assigned", "task.completed", "approval.requested",
    "approval.decided", "compensation.paid", "document.ready", "document.quarantined", "sla.warning",
    "sla.breached",
)
# A fixed namespace: the same (case, seq) gives the same id in every deployment and on every retry.
_ID_NAMESPACE = uuid.UUID("6f1c2a8e-2b4d-4c1e-9a57-0d3e8b1f7c42")

Data = dict[str, Any]


def event_id(case_id: str, seq: int) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"{case_id}/{seq}"))


def integration_event(audit: AuditEvent) -> Optional[dict[str, Any]]:
    """The integration event an audit event publishes (as JSON), or None when it publishes none."""
    mapped = _MAPPERS.get(audit.type, _status_move)(audit.data)
    if mapped is None:
        return None
    event_type, data = mapped
    return {
        "id": event_id(audit.case_id, audit.seq),
        "type": event_type,
        "version": SCHEMA_VERSION,
        "time": audit.at,
        "caseId": audit.case_id,
        "actor": audit.actor,
        "audit": {"seq": audit.seq, "hash": audit.hash},
        "data": data,
    }


def _picked(source: Data, *names: str) -> Data:
    return {name: source.get(name) for name in names}


def _case_created(data: Data) -> tuple[str, Data]:
    case = data.get("case") or {}
    return "case.created", _picked(
        case, "number", "caseType", "priority", "status", "team", "customerId", "assignee", "createdBy", "dueAt",
    )


def _case_updated(data: Data) -> tuple[str, Data]:
    return "case.updated", {"fields": sorted(data.get("changes") or {}), "version": data.get("version")}


def _status_move(data: Data) -> Optional[tuple[str, Data]]:
    """An event without a mapping of its own that moved the case to another status (workflow steps, expired
    approvals, compensation); any other publishes nothing."""
    if "to" not in data:
        return None
    return "case.updated", {"status": data["to"], "previousStatus": data.get("from")}


def _case_closed(data: Data) -> tuple[str, Data]:
    return "case.closed", {"outcome": data.get("outcome")}


def _task_created(data: Data) -> Optional[tuple[str, Data]]:
    task = data.get("task") or {}
    if not task.get("assignee"):
        return None  # in the team's queue: assigned to nobody yet
    return "task.assigned", {
        "taskId": task.get("id"), "assignee": task["assignee"], "taskType": task.get("type"),
        "team": task.get("team"), "dueAt": task.get("dueAt"),
    }


def _task_assigned_to(field: str) -> Callable[[Data], Optional[tuple[str, Data]]]:
    def mapped(data: Data) -> Optional[tuple[str, Data]]:
        if not data.get(field):
            return None  # put back in the team's queue
        return "task.assigned", {
            "taskId": data.get("taskId"), "assignee": data[field], "taskType": None, "team": None, "dueAt": None,
        }

    return mapped


def _task_completed(data: Data) -> tuple[str, Data]:
    return "task.completed", {"taskId": data.get("taskId")}  # the outcome and comment are free text


def _approval_requested(data: Data) -> tuple[str, Data]:
    return "approval.requested", _picked(data, "approvalId", "level", "levels", "amount", "currency")


def _approval_decided(data: Data) -> tuple[str, Data]:
    return "approval.decided", {
        **_picked(data, "approvalId", "level", "decision", "final", "decidedBy"), "caseStatus": data.get("to"),
    }


def _payment_confirmed(data: Data) -> tuple[str, Data]:
    return "compensation.paid", _picked(data, "instructionId", "amount", "currency")


def _document(event_type: str, *names: str) -> Callable[[Data], tuple[str, Data]]:
    def mapped(data: Data) -> tuple[str, Data]:
        return event_type, _picked(data, "documentId", "versionId", *names)

    return mapped


def _task_sla_warning(data: Data) -> tuple[str, Data]:
    return "sla.warning", {"scope": "task", "taskId": data.get("taskId"), "dueAt": data.get("dueAt")}


def _task_escalated(data: Data) -> tuple[str, Data]:
    return "sla.breached", {"scope": "task", "taskId": data.get("taskId"), "escalationTaskId": data.get("escalation")}


_MAPPERS: dict[str, Callable[[Data], Optional[tuple[str, Data]]]] = {
    "CASE_CREATED": _case_created,
    "CASE_UPDATED": _case_updated,
    "CASE_CLOSED": _case_closed,
    "TASK_CREATED": _task_created,
    "TASK_CLAIMED": _task_assigned_to("assignee"),
    "TASK_REASSIGNED": _task_assigned_to("to"),
    "TASK_COMPLETED": _task_completed,
    "APPROVAL_REQUESTED": _approval_requested,
    "APPROVAL_DECIDED": _approval_decided,
    "PAYMENT_CONFIRMED": _payment_confirmed,
    "DOCUMENT_VERIFIED": _document("document.ready", "sha256", "size"),
    "DOCUMENT_QUARANTINED": _document("document.quarantined", "reasons"),
    "TASK_SLA_WARNING": _task_sla_warning,
    "TASK_ESCALATED": _task_escalated,
}
