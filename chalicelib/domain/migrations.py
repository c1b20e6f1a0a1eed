"""Moving a running case to another version of its type: what would change, and why a case cannot move.

A case keeps the rules of the version it was opened under; an admin may move it on. The plan compares the case
(its fields, documents, due date and the tasks its workflow created) with the target version. A case moves in
one write (the case's new version, due date, documents and fields, and a CASE_TYPE_MIGRATED event stating the
plan); its tasks follow right after through the tasks service."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional

from pydantic import ConfigDict, Field, StrictBool, model_validator

from ..errors import InvalidInput
from .approvals import priority_locked
from .base import ApiModel, RequestModel, WholeNumber
from .calendars import Calendar
from .case_types import CaseType
from .sla import repriced_due
from .clock import iso
from .custom_fields import validate_field_values
from .models import Case, CaseStatus, Identifier
from .tasks import ESCALATION, Task, TaskStatus

MIGRATED = "CASE_TYPE_MIGRATED"
MAX_CASE_IDS = 100
RUNNING_PAGE = 50  # cases planned per call with allRunning: each applied case is a write or three


class MigrationRequest(RequestModel):
    """The body of POST /case-types/{id}/migrations: listed cases, or a page of every running case."""

    # What `_one_selection` checks, stated for clients: caseIds (no cursor), or allRunning: true (no caseIds).
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["caseIds"], "properties": {
            "caseIds": {"type": "array"}, "allRunning": {"not": {"const": True}}, "cursor": {"type": "null"},
        }},
        {"required": ["allRunning"], "properties": {"allRunning": {"const": True}, "caseIds": {"type": "null"}}},
    ]})
    target_version: WholeNumber = Field(ge=1, description="the version to move the cases to")
    case_ids: Optional[Annotated[list[Identifier], Field(min_length=1, max_length=MAX_CASE_IDS)]] = None
    all_running: Optional[StrictBool] = Field(
        default=None, description="every case of the type not CLOSED and not at the target, a page per call",
    )
    cursor: Optional[Annotated[str, Field(max_length=2048)]] = Field(
        default=None, description="with allRunning: the nextCursor of the previous call",
    )
    apply: StrictBool = Field(default=False, description="false: only a preview; true: migrate the movable cases")

    @model_validator(mode="after")
    def _one_selection(self) -> "MigrationRequest":
        if (self.case_ids is None) == (self.all_running is not True):
            raise ValueError("send either caseIds or allRunning: true")
        if self.cursor is not None and self.case_ids is not None:
            raise ValueError("a cursor pages allRunning, not caseIds")
        return self


class TaskRef(ApiModel):
    task_id: str
    type: str


class DueAtMove(ApiModel):
    from_: str = Field(alias="from")
    to: str


class MigrationChanges(ApiModel):
    tasks_added: list[str] = Field(default=[], description="task types created (only once the workflow made tasks)")
    tasks_cancelled: list[TaskRef] = Field(default=[], description="open tasks whose type the target drops")
    missing_fields: list[str] = Field(default=[], description="required fields of the target the case has no value for")
    removed_fields: list[str] = Field(default=[], description="the case's field values the target no longer defines")
    due_at: Optional[DueAtMove] = Field(default=None, description="set when the SLA for the case's priority differs")
    required_documents_added: list[str] = []


class CaseMigration(ApiModel):
    case_id: str
    from_version: Optional[int] = Field(description="the case's type version; null when not found or of another type")
    to_version: int
    can_migrate: bool
    reasons: list[str] = Field(description="why the case cannot move (empty when it can)")
    changes: Optional[MigrationChanges] = Field(description="what moving changes; null: not found, another type")


class MigrationAnswer(ApiModel):
    applied: bool = Field(description="whether the movable cases were migrated (false: a preview)")
    target_version: int
    cases: list[CaseMigration]
    migrated: list[str] = Field(description="ids of the cases this call migrated")
    refused: list[str] = Field(description="ids of the cases that cannot move (see their reasons)")
    next_cursor: Optional[str] = Field(default=None, description="with allRunning: the next page of running cases")


def not_found(case_id: str, target: CaseType) -> CaseMigration:
    return _refused(case_id, None, target, f"case {case_id} not found")


def plan(
    case: Case, source: CaseType, target: CaseType, tasks: list[Task], calendar: Optional[Calendar] = None,
) -> CaseMigration:
    """What moving `case` (opened under `source`, its type's version) to `target` changes, and what stops it.
    `tasks`: the case's tasks; `calendar`: the one the target's SLAs run on (None: wall-clock time)."""
    if case.case_type != target.id:
        return _refused(case.id, None, target, f"case {case.id} is of type {case.case_type}, not {target.id}")
    changes = _changes(case, source, target, tasks, calendar)
    reasons = []
    if case.status == CaseStatus.CLOSED:
        reasons.append("the case is CLOSED")
    elif case.case_type_version == target.version:
        reasons.append(f"the case is already at version {target.version}")
    elif priority_locked(case):
        reasons.append(
            f"the case is {case.status.value}: its approval levels and compensation caps were fixed by its "
            "version when the approval opened; migrate it once the case is reopened or starts a new run"
        )
    # A case's fields are checked against its own version, so a field new in the target cannot be filled in first.
    reasons += [
        f"required field {name} has no value; a case sets only its own version's fields: publish the field as "
        "optional, migrate, fill it in, then make it required"
        for name in changes.missing_fields
    ]
    reasons += _invalid_values(case, target, changes.removed_fields)
    return CaseMigration(
        case_id=case.id, from_version=case.case_type_version, to_version=target.version, can_migrate=not reasons,
        reasons=reasons, changes=changes,
    )


def migrated_case(case: Case, migration: CaseMigration) -> dict[str, Any]:
    """The case's fields after the move (what the CASE_TYPE_MIGRATED event's fold sets again)."""
    changes = migration.changes or MigrationChanges()
    moved: dict[str, Any] = {"case_type_version": migration.to_version}
    if changes.due_at is not None:
        moved["due_at"] = changes.due_at.to
    if changes.required_documents_added:
        moved["required_documents"] = [*case.required_documents, *changes.required_documents_added]
    if changes.removed_fields:
        moved["fields"] = {k: v for k, v in case.fields.items() if k not in changes.removed_fields}
    return moved


def event_data(migration: CaseMigration, version: int) -> dict[str, Any]:
    """The CASE_TYPE_MIGRATED event: the versions, the case's new version and the plan (names, no values)."""
    changes = (migration.changes or MigrationChanges()).to_api()
    return {"fromVersion": migration.from_version, "toVersion": migration.to_version, "version": version,
            "changes": changes}


def _refused(case_id: str, from_version: Optional[int], target: CaseType, reason: str) -> CaseMigration:
    return CaseMigration(case_id=case_id, from_version=from_version, to_version=target.version, can_migrate=False,
                         reasons=[reason], changes=None)


def _changes(
    case: Case, source: CaseType, target: CaseType, tasks: list[Task], calendar: Optional[Calendar],
) -> MigrationChanges:
    defined = {d.name for d in target.fields}
    return MigrationChanges(
        **_task_changes(case, target, tasks),
        missing_fields=[d.name for d in target.fields if d.required and case.fields.get(d.name) in (None, "")],
        removed_fields=[name for name in case.fields if name not in defined],
        due_at=_due_at_move(case, source, target, calendar),
        required_documents_added=[d for d in target.required_documents if d not in case.required_documents],
    )


def _task_changes(case: Case, target: CaseType, tasks: list[Task]) -> dict[str, Any]:
    """Only tasks the workflow created in the case's current run count: before it creates them there is
    nothing to change (it will create the target's), and tasks of earlier runs are history."""
    run = case.workflow.run if case.workflow else 1
    created = [t for t in tasks if t.type != ESCALATION and t.run == run]
    if not created:
        return {}
    kept_types = {template.type for template in target.tasks}
    has = {t.type for t in created}
    return {
        "tasks_added": [template.type for template in target.tasks if template.type not in has],
        "tasks_cancelled": [
            TaskRef(task_id=t.id, type=t.type) for t in created
            if t.status == TaskStatus.OPEN and t.type not in kept_types
        ],
    }


def _due_at_move(
    case: Case, source: CaseType, target: CaseType, calendar: Optional[Calendar],
) -> Optional[DueAtMove]:
    """The SLA counted again from the case's creation on the target's hours and calendar, keeping the time
    its clock was stopped (as a priority change does)."""
    before, after = source.sla_hours.get(case.priority), target.sla_hours.get(case.priority)
    if before is None or after is None or (before == after and source.calendar == target.calendar):
        return None
    created, due = datetime.fromisoformat(case.created_at), datetime.fromisoformat(case.due_at)
    moved = iso(repriced_due(created, due, before, after, calendar))
    return None if moved == case.due_at else DueAtMove(from_=case.due_at, to=moved)


def _invalid_values(case: Case, target: CaseType, removed: list[str]) -> list[str]:
    """Values the target's definitions refuse (a field whose type or bounds changed)."""
    kept = {name: value for name, value in case.fields.items() if name not in removed and value is not None}
    try:
        validate_field_values(target.fields, kept, partial=True)
    except InvalidInput as fault:
        return [f"{issue.field}: {issue.issue} under version {target.version}" for issue in fault.details]
    return []
