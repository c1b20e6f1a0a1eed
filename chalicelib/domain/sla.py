"""SLA clocks: due instants, warnings, pauses and the time left, in wall-clock time when a case type names no
calendar and in working time on its calendar when it does. Every SLA computation goes through here, so a case's
due date, its tasks' due dates and their warnings agree on what an hour is.

A calendar that holds too little working time for a span (working_time.NoWorkingTimeWithin: years of SLA, or
holidays blotting out years) falls back to wall-clock time for that computation: a deadline must never stop a
case from opening or moving."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

from pydantic import Field

from .base import ApiModel
from .calendars import Calendar
from .clock import ISO_FORM, iso
from .models import Case, CaseStatus
from .working_time import NoWorkingTimeWithin, add_working_time, working_time_between

WARNING_SHARE = 0.8  # the share of an SLA window after which its assignee is warned
PAUSED_STATUSES = frozenset({CaseStatus.PENDING_DOCUMENTS})  # waiting for the customer: the SLA does not run


def due_after(start: datetime, hours: float, calendar: Optional[Calendar]) -> datetime:
    """The instant `hours` of SLA time after `start` (aware): wall-clock hours without a calendar, working
    hours on it otherwise (0 hours: the first working instant at or after `start`)."""
    return _later(start, timedelta(hours=hours), calendar)


def elapsed(start: datetime, end: datetime, calendar: Optional[Calendar]) -> timedelta:
    """The SLA time in [start, end): zero when `end` is not after `start`."""
    if end <= start:
        return timedelta(0)
    if calendar is not None:
        try:
            return working_time_between(calendar, start, end)
        except NoWorkingTimeWithin:
            pass
    return end - start


def warning_at(start: datetime, due: datetime, calendar: Optional[Calendar]) -> datetime:
    """The instant WARNING_SHARE of the SLA time from `start` to `due` has passed."""
    return _later(start, elapsed(start, due, calendar) * WARNING_SHARE, calendar)


def resumed_due(due: datetime, paused_at: datetime, resumed_at: datetime, calendar: Optional[Calendar]) -> datetime:
    """The due instant after a pause from `paused_at` to `resumed_at`: later by the SLA time the pause took."""
    paused = elapsed(paused_at, resumed_at, calendar)
    return due if paused == timedelta(0) else _later(due, paused, calendar)


def time_left(due: datetime, now: datetime, calendar: Optional[Calendar]) -> timedelta:
    """The SLA time from `now` to `due`; negative (the SLA time since `due`) once overdue."""
    return elapsed(now, due, calendar) if now <= due else -elapsed(due, now, calendar)


def repriced_due(
    created: datetime, due: datetime, hours_before: float, hours_after: float, calendar: Optional[Calendar],
) -> datetime:
    """The due instant once the SLA's hours change (a new priority): counted again from `created`, keeping the SLA
    time earlier pauses added to `due`."""
    waited = max(elapsed(created, due, calendar) - timedelta(hours=hours_before), timedelta(0))
    return _later(created, timedelta(hours=hours_after) + waited, calendar)


def clock_move(
    case: Case, status: CaseStatus, at: datetime, calendar: Optional[Calendar],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What moving `case` to `status` at `at` does to its SLA clock: the case's new fields and what the move's
    audit event states. Entering a waiting status stops the clock (`slaPausedAt`); leaving it starts the clock
    again with `dueAt` later by the SLA time spent waiting (`slaPaused: {from, to, dueAt: {from, to}}`)."""
    waiting, stamp = status in PAUSED_STATUSES, iso(at)
    if waiting and case.sla_paused_at is None:
        return {"sla_paused_at": stamp}, {"slaPausedAt": stamp}
    if waiting or case.sla_paused_at is None:
        return {}, {}
    # computed from the instants as recorded, so the audit event states exactly what the due date moved by
    stopped, resumed = datetime.fromisoformat(case.sla_paused_at), datetime.fromisoformat(stamp)
    due = iso(resumed_due(datetime.fromisoformat(case.due_at), stopped, resumed, calendar))
    pause = {"from": case.sla_paused_at, "to": stamp, "dueAt": {"from": case.due_at, "to": due}}
    return {"sla_paused_at": None, "due_at": due}, {"slaPaused": pause}


def _later(start: datetime, duration: timedelta, calendar: Optional[Calendar]) -> datetime:
    if calendar is not None:
        try:
            return add_working_time(calendar, start, duration)
        except NoWorkingTimeWithin:
            pass
    return start + duration


class SlaView(ApiModel):
    """A case's SLA as of the response: computed on every read, never stored."""

    due_at: str = Field(description=f"when the case is due, paused time included: {ISO_FORM}")
    paused: bool = Field(description="the clock is stopped: the case waits for documents from the customer")
    paused_at: Optional[str] = Field(default=None, description=f"since when the clock is stopped: {ISO_FORM}")
    time_left_seconds: int = Field(
        description="SLA time left until dueAt (working time on the calendar), negative when overdue; while "
                    "paused, what was left when the clock stopped",
    )
    calendar: Optional[str] = Field(
        default=None, description="the calendar the SLA runs on; null: wall-clock time",
    )


class CaseView(Case):
    """A case as the API shows it now: the stored case and its SLA clock."""

    sla: SlaView


def sla_view(case: Case, now: datetime, calendar: Optional[Calendar]) -> SlaView:
    due = datetime.fromisoformat(case.due_at)
    stopped = datetime.fromisoformat(case.sla_paused_at) if case.sla_paused_at else None
    return SlaView(
        due_at=case.due_at, paused=stopped is not None, paused_at=case.sla_paused_at,
        time_left_seconds=int(time_left(due, stopped or now, calendar).total_seconds()),
        calendar=calendar.id if calendar else None,
    )
