"""The case as it stood at an instant, rebuilt by folding its audit chain from CASE_CREATED on.

Every change of a case's fields leaves an audit event that states the change (see the services that write
them); the fold below applies each event type as its writer moved the case: a moving event gives the case a
new version, updated at the event's time by its actor. What the chain cannot state is named in `missing`
instead of being filled in: the customer snapshot's personal fields (kept off the permanent trail on
purpose) and a workflow's `updatedAt` set by WORKFLOW_STARTED (the step reads its clock apart from the
event's). Nor does it state an execution that carried a run on after the run's execution was lost (the local
system restarted): it is noted on the case with no event and no new version (services/workflow.py `_carry_on`),
so the rebuilt workflow names the execution that started the run. An event type the fold does not know is
named in `unknown_events`: the case rebuilt past it may lack whatever that event changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from pydantic import Field, RootModel

from . import audit
from .base import ApiModel
from .models import AuditEvent, Case
from .sla import CaseView

# Events that record work around the case (comments, tasks, documents, holds) but never move the case itself.
ANNOTATIONS = frozenset({
    "COMMENT_ADDED",
    "TASK_CREATED", "TASK_CLAIMED", "TASK_COMPLETED", "TASK_REASSIGNED", "TASK_CANCELLED", "TASK_ESCALATED",
    "TASK_SLA_WARNING",
    "DOCUMENT_UPLOAD_REQUESTED", "DOCUMENT_UPLOAD_REJECTED", "DOCUMENT_UPLOADED", "DOCUMENT_PROCESSING_STARTED",
    "DOCUMENT_VERIFIED",
    "DOCUMENT_QUARANTINED", "DOCUMENT_DOWNLOADED", "DOCUMENT_DELETED", "DOCUMENTS_EXPORTED",
    "LEGAL_HOLD_SET", "LEGAL_HOLD_RELEASED",
})
# The workflow's steps (services/workflow.py `_move`): each event written is one new version of the case.
WORKFLOW_MOVES = frozenset({
    "WORKFLOW_STARTED", "CASE_REOPENED", "WORKFLOW_RESUMED", "TASKS_ASSIGNED", "WORKFLOW_WAITING",
    "WORKFLOW_ESCALATED", "CASE_RESOLVED", "CASE_CLOSED", "WORKFLOW_FAILED",
})
# Decisions and payments (domain/approvals.py `case_write`): they move the case only when they state a new
# status (`from`/`to`) or a new stage (`stage`).
DECISION_MOVES = frozenset({
    "APPROVAL_REQUESTED", "APPROVAL_DECIDED", "APPROVAL_EXPIRED", "COMPENSATION_INSTRUCTED",
    "COMPENSATION_RESUMED", "PAYMENT_HELD", "PAYMENT_VOIDED", "PAYMENT_CONFIRMED",
})
KNOWN_EVENTS = ANNOTATIONS | WORKFLOW_MOVES | DECISION_MOVES | {"CASE_CREATED", "CASE_UPDATED", "CASE_TYPE_MIGRATED"}

CUSTOM_FIELD = "fields."  # a CASE_UPDATED change of one custom field
_CLOSED_STAGE = "COMPLETED"  # a case reopened before it ever ran is treated as having finished a run


class AsOfMark(ApiModel):
    at: str = Field(description="the instant asked for, in UTC")
    seq: int = Field(description="the sequence number of the last audit event applied")
    hash: str = Field(description="that event's SHA-256 chain hash")
    verified: bool = Field(description="the chain from the first event up to that one verifies")


class RebuildNote(ApiModel):
    complete: bool = Field(description="every field was stated by the chain")
    missing: list[str] = Field(
        description="fields the chain cannot state, as dotted paths into the case (e.g. customerSnapshot.fields)",
    )
    unknown_events: list[str] = Field(
        default=[], description="event types applied that the rebuild does not know (what they changed is not shown)",
    )


class CaseAsOf(Case):
    """A case as it stood at an instant, rebuilt from its audit chain."""

    as_of: AsOfMark
    rebuilt: RebuildNote


class CaseRead(RootModel[Union[CaseAsOf, CaseView]]):
    """The answer of GET /cases/{id}: the case now, or with `asOf` the case as it stood then."""


class NotYetCreated(Exception):
    """No event of the case is at or before the instant: the case did not exist yet."""


class UnreadableChain(Exception):
    """The chain does not start with a CASE_CREATED that states the case."""


@dataclass
class _Fold:
    case: dict[str, Any]  # the case as JSON (camelCase), as the API shows it
    missing: set[str]
    unknown: list[str]

    def move(self, event: AuditEvent, **changes: Any) -> None:
        self.case.update(changes, version=self.case["version"] + 1, updatedAt=event.at, updatedBy=event.actor)

    @property
    def workflow(self) -> Optional[dict[str, Any]]:
        return self.case.get("workflow")

    def set_workflow(self, workflow: dict[str, Any], updated_at_known: bool = True) -> None:
        self.case["workflow"] = workflow
        if updated_at_known:
            self.missing.discard("workflow.updatedAt")
        else:
            self.missing.add("workflow.updatedAt")


# RFC 3339's date-time (OpenAPI's `format: date-time`): an ISO 8601 instant with its offset.
INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 date-time as an aware UTC datetime; ValueError when it is none. A leap second (:60) reads as
    the end of its minute; instants beyond what Python can hold read as the earliest or latest it can."""
    found = INSTANT.match(text)
    if found is None:
        raise ValueError("expected an ISO 8601 date and time with an offset, e.g. 2026-03-01T12:00:00Z")
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    if second == "60":
        second, micro = "59", 999_999
    if year == "0000":  # before the first year Python knows: before any case
        return datetime.min.replace(tzinfo=timezone.utc)
    zone = timezone.utc if offset in ("Z", "z") else _offset(offset)
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # within a day of the first or last year Python knows
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=timezone.utc)


def _offset(text: str) -> timezone:
    hours, minutes = int(text[1:3]), int(text[4:6])
    if hours > 23 or minutes > 59:
        raise ValueError("the offset must be within ±23:59")
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def events_until(events: Iterable[AuditEvent], instant: datetime) -> list[AuditEvent]:
    """The chain's events up to `instant`, in chain order: it stops at the first event stamped later, so the
    result is always a state the case passed through (an event may carry an earlier time than the one before
    it, e.g. an upload stamped when it was requested)."""
    applied = []
    for event in sorted(events, key=lambda e: e.seq):
        if datetime.fromisoformat(event.at) > instant:
            break
        applied.append(event)
    return applied


def rebuild(events: Sequence[AuditEvent]) -> tuple[Case, RebuildNote]:
    """The case after `events` (its chain from the first event on, in order), and what the chain left unstated."""
    if not events:
        raise NotYetCreated("no event")
    first = events[0]
    if first.type != "CASE_CREATED" or not isinstance(first.data.get("case"), dict):
        raise UnreadableChain(f"the chain starts with {first.type}, not a CASE_CREATED stating the case")
    fold = _Fold(case=dict(first.data["case"]), missing=set(), unknown=[])
    snapshot = first.data.get("customerSnapshot")
    if isinstance(snapshot, dict):  # the trail keeps the sources and their ages, never the personal fields
        fold.case["customerSnapshot"] = {**snapshot, "fields": {}}
        fold.missing.add("customerSnapshot.fields")
    for event in events[1:]:
        _apply(fold, event)
    head = {"audit_seq": events[-1].seq, "audit_hash": events[-1].hash}
    case = Case.model_validate(fold.case).model_copy(update=head)
    note = RebuildNote(complete=not fold.missing and not fold.unknown, missing=sorted(fold.missing),
                       unknown_events=fold.unknown)
    return case, note


def as_of(events: Sequence[AuditEvent], instant: datetime, head: tuple[int, str]) -> CaseAsOf:
    """The case as it stood at `instant` (aware), with the last event applied and whether
    the chain up to it verifies. `head`: the case's current (seq, hash); when no stored event is later than the
    instant, the chain must reach that head, so newest events removed from the store do not pass unnoticed."""
    ordered = sorted(events, key=lambda e: e.seq)
    applied = events_until(ordered, instant)
    case, note = rebuild(applied)
    last = applied[-1]
    reaches_head = len(applied) == len(ordered) and last.seq <= head[0]
    verified = audit.verify_chain(applied, head=head if reaches_head else None).valid
    at = instant.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    mark = AsOfMark(at=at, seq=last.seq, hash=last.hash, verified=verified)
    return CaseAsOf.model_validate({**dict(case), "as_of": mark, "rebuilt": note})


# -- the fold, one rule per event type ----------------------------------------------------------------------


def _apply(fold: _Fold, event: AuditEvent) -> None:
    if event.type in ANNOTATIONS:
        return
    rule = _RULES.get(event.type)
    if rule is None:
        fold.unknown.append(event.type)
        return
    rule(fold, event)


def _case_updated(fold: _Fold, event: AuditEvent) -> None:
    """services/cases.py `update`: each edited field with its new value (`dueAt` follows `priority`); a custom
    field as `fields.<name>`, cleared when its new value is null."""
    changes = {name: change for name, change in (event.data.get("changes") or {}).items() if isinstance(change, dict)}
    fields = dict(fold.case.get("fields") or {})
    for name, change in changes.items():
        if name.startswith(CUSTOM_FIELD):
            fields[name[len(CUSTOM_FIELD):]] = change["to"]
    fold.move(event, **{_camel(name): change["to"] for name, change in changes.items()
                        if not name.startswith(CUSTOM_FIELD)})
    fold.case["fields"] = {name: value for name, value in fields.items() if value is not None}
    if isinstance(event.data.get("version"), int):
        fold.case["version"] = event.data["version"]


def _case_type_migrated(fold: _Fold, event: AuditEvent) -> None:
    """services/migrations.py: the new type version, and what domain/migrations.py `migrated_case` moved."""
    changes = event.data.get("changes") or {}
    moved: dict[str, Any] = {"caseTypeVersion": event.data["toVersion"]}
    if changes.get("dueAt"):
        moved["dueAt"] = changes["dueAt"]["to"]
    if changes.get("requiredDocumentsAdded"):
        moved["requiredDocuments"] = [*fold.case.get("requiredDocuments", []), *changes["requiredDocumentsAdded"]]
    if changes.get("removedFields"):
        moved["fields"] = {k: v for k, v in fold.case.get("fields", {}).items() if k not in changes["removedFields"]}
    fold.move(event, **moved)


def _workflow_started(fold: _Fold, event: AuditEvent) -> None:
    _status(fold, event)
    if "stage" in event.data:  # the run was recorded on the case
        before = fold.workflow or {}
        runs = list(before.get("executions") or [])
        execution = event.data.get("executionId")
        fold.set_workflow({
            "stage": event.data["stage"], "executionId": execution, "run": before.get("run", 1),
            "executions": runs if execution in runs else [*runs, execution], "updatedAt": None,
        }, updated_at_known=False)
    fold.move(event)


def _new_run(stage_if_none: str) -> Callable[[_Fold, AuditEvent], None]:
    """CASE_REOPENED and WORKFLOW_RESUMED: the next run number, the stage stated, the time left as it was."""

    def apply(fold: _Fold, event: AuditEvent) -> None:
        _status(fold, event)
        if "stage" in event.data:
            before = fold.workflow or {"stage": stage_if_none, "run": 1, "executions": [], "updatedAt": None}
            fold.case["workflow"] = {**before, "run": before.get("run", 1) + 1, "stage": event.data["stage"]}
        fold.move(event)

    return apply


def _workflow_step(fold: _Fold, event: AuditEvent) -> None:
    """Every other workflow step: the status and stage it states; WORKFLOW_ESCALATED states the stage it
    escalated, not a new one."""
    _status(fold, event)
    if event.type != "WORKFLOW_ESCALATED":
        _stage(fold, event)
    fold.move(event)


def _decision(fold: _Fold, event: AuditEvent) -> None:
    if "to" in event.data or "stage" in event.data:
        _status(fold, event)
        _stage(fold, event)
        fold.move(event)


def _status(fold: _Fold, event: AuditEvent) -> None:
    if "to" in event.data:
        fold.case["status"] = event.data["to"]
    _sla_clock(fold, event)


def _sla_clock(fold: _Fold, event: AuditEvent) -> None:
    """domain/sla.py `clock_move`: a status move that stopped the SLA clock, or started it again later."""
    if "slaPausedAt" in event.data:
        fold.case["slaPausedAt"] = event.data["slaPausedAt"]
    pause = event.data.get("slaPaused")
    if isinstance(pause, dict) and isinstance(pause.get("dueAt"), dict):
        fold.case.update(slaPausedAt=None, dueAt=pause["dueAt"]["to"])


def _stage(fold: _Fold, event: AuditEvent) -> None:
    """A new stage is stamped with the event's time; a stage the case is already in changes nothing."""
    stage, workflow = event.data.get("stage"), fold.workflow
    if stage and workflow is not None and workflow.get("stage") != stage:
        fold.set_workflow({**workflow, "stage": stage, "updatedAt": event.at})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_RULES: dict[str, Callable[[_Fold, AuditEvent], None]] = {
    "CASE_UPDATED": _case_updated,
    "CASE_TYPE_MIGRATED": _case_type_migrated,
    "WORKFLOW_STARTED": _workflow_started,
    "CASE_REOPENED": _new_run(_CLOSED_STAGE),
    "WORKFLOW_RESUMED": _new_run(_CLOSED_STAGE),
    **{name: _workflow_step for name in WORKFLOW_MOVES - {"WORKFLOW_STARTED", "CASE_REOPENED", "WORKFLOW_RESUMED"}},
    **{name: _decision for name in DECISION_MOVES},
}
