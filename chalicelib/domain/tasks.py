"""Tasks: the units of work people do on a case, their states and how they move between them.

A task id is `<caseId>-t<seq>`, seq being the audit sequence number of the event that created it:
unique per case (the audit chain's conditional head guarantees it) and addressable on its own,
since the case id (and so the item's key) can be read back from it.
"""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

from pydantic import ConfigDict, Field, StrictBool, StringConstraints, model_validator

from ..errors import Conflict
from .base import NOT_BLANK, ApiModel, ApiPage, RequestModel, WholeNumber
from .case_ids import CaseScopedIds
from .clock import ISO_FORM
from .models import Priority
from .personnel import Username

ESCALATION = "ESCALATION"
ESCALATION_DUE_HOURS = 8
_IDS = CaseScopedIds("t", max_digits=10)


class TaskStatus(str, Enum):
    OPEN = "OPEN"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


class TaskTemplate(ApiModel):
    """One task a case type's workflow creates for every case of that type."""

    type: str
    title: str
    required: StrictBool = True  # the workflow waits for required tasks
    sla_hours: Optional[dict[Priority, WholeNumber]] = None  # None: the case type's SLA


class Task(ApiModel):
    id: str
    case_id: str
    type: str
    title: str
    assignee: Optional[str] = Field(description="username, or null while the task is in its team's queue")
    team: str = Field(description="the team whose queue holds the task")
    status: TaskStatus
    required: bool = Field(description="whether the case's workflow waits for the task")
    due_at: str = Field(description=f"when the task is due: {ISO_FORM}")
    created_at: str = Field(description=f"when the task was created: {ISO_FORM}")
    completed_at: Optional[str] = Field(default=None, description=f"when the task was completed: {ISO_FORM}")
    completed_by: Optional[str] = Field(default=None, description="username of who completed the task")
    outcome: Optional[str] = Field(default=None, description="the outcome its completer gave")
    comment: Optional[str] = Field(default=None, description="the comment its completer gave")
    version: int = Field(description="1 at creation, +1 on every change")
    reason: Optional[str] = Field(default=None, description="why an escalation task was raised")
    escalates: Optional[str] = Field(default=None, description="the task an escalation is about")
    escalation: Optional[str] = Field(default=None, description="the escalation raised because this task is overdue")
    sla_warned_at: Optional[str] = Field(
        default=None, description=f"when the sweep warned that 80 % of the task's SLA window had passed: {ISO_FORM}",
    )
    # When the sweep warns about the task (80 % of its SLA time, on its case type's calendar); internal. None: a
    # task stored before it was recorded, warned 80 % of the wall-clock way from creation to dueAt.
    warn_at: Optional[str] = Field(default=None, exclude=True)
    # The workflow run that created a template task (idempotency of create_for_case); internal.
    run: Optional[int] = Field(default=None, exclude=True)


class TaskList(ApiPage):
    items: list[Task]


Text = Annotated[str, StringConstraints(min_length=1, max_length=5_000, pattern=NOT_BLANK)]
TaskId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class TaskCompletion(RequestModel):
    outcome: Optional[Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK)]] = None
    comment: Optional[Text] = None


class TaskReassignment(RequestModel):
    assignee: Optional[Username] = Field(description="the new assignee; null puts the task back in the team queue")


class BulkReassignment(RequestModel):
    """Move every open task of one person (`from`), or the listed tasks (`taskIds`), to `to`."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["from"], "properties": {"from": {"type": "string"}}},
        {"required": ["taskIds"], "properties": {"taskIds": {"type": "array"}}},
    ]})
    from_: Optional[Username] = Field(default=None, alias="from")
    task_ids: Optional[Annotated[list[TaskId], Field(min_length=1, max_length=100)]] = None
    to: Username

    @model_validator(mode="after")
    def _one_source(self) -> "BulkReassignment":
        if (self.from_ is None) == (self.task_ids is None):
            raise ValueError("send exactly one of `from` and `taskIds`")
        return self


class BulkFailure(ApiModel):
    id: str
    code: str
    message: str


class BulkReassignmentResult(ApiModel):
    reassigned: list[Task]
    failed: list[BulkFailure]


# -- ids and keys ----------------------------------------------------------------------------------


task_id = _IDS.make
case_id_of = _IDS.case_of


def task_number(task: Task) -> int:
    return _IDS.number_of(task.id)


def user_inbox(username: str) -> str:
    """The inbox of a person's own work (tasks and approvals assigned to them)."""
    return f"USER#{username}"


def team_queue(team: str) -> str:
    return f"TEAM#{team}"


def due_hours(template: TaskTemplate, case_sla_hours: dict[Priority, int], priority: Priority) -> int:
    # A template may set hours for some priorities only: the others take the case type's.
    return (template.sla_hours or {}).get(priority, case_sla_hours[priority])


# -- transitions (pure: each returns the next version of the task or raises Conflict) ---------------


def _require_open(task: Task) -> None:
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task {task.id} is {task.status.value}, not OPEN")


def claimed(task: Task, username: str) -> Task:
    _require_open(task)
    if task.assignee is not None:
        raise Conflict(f"task {task.id} is already assigned to {task.assignee}")
    return task.model_copy(update={"assignee": username, "version": task.version + 1})


def completed(task: Task, by: str, at: str, outcome: Optional[str], comment: Optional[str]) -> Task:
    _require_open(task)
    return task.model_copy(
        update={
            "status": TaskStatus.DONE, "completed_at": at, "completed_by": by, "outcome": outcome,
            "comment": comment, "version": task.version + 1,
        }
    )


def reassigned(task: Task, to: Optional[str]) -> Task:
    _require_open(task)
    return task.model_copy(update={"assignee": to, "version": task.version + 1})


def cancelled(task: Task, by: str, at: str) -> Task:
    _require_open(task)
    return task.model_copy(
        update={"status": TaskStatus.CANCELLED, "completed_at": at, "completed_by": by, "version": task.version + 1}
    )


def marked_escalated(task: Task, escalation_id: str) -> Task:
    _require_open(task)
    return task.model_copy(update={"escalation": escalation_id, "version": task.version + 1})


def marked_warned(task: Task, at: str) -> Task:
    _require_open(task)
    return task.model_copy(update={"sla_warned_at": at, "version": task.version + 1})
