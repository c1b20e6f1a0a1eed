"""Task use cases: the workflow creates, counts, cancels and escalates a case's tasks; people list,
claim, complete and reassign them. Pure Python over the ports.

Every change is one atomic write (a CaseChange) of the task(s), the open-task counters of
the people concerned, the due markers, and an audit event appended to the case's hash chain; the
write is conditional on the task's version and the chain's head, and a lost race is re-read and
re-decided, so two people completing one task at once leave one winner and one 409.
"""
from __future__ import annotations

import builtins  # the service's own `list` method hides the type in the class body
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Collection, Optional

from pydantic.alias_generators import to_camel

from ..domain.access import Action, Principal, Role, can_view, require
from ..domain.calendars import Calendar
from ..domain.assignment import AssignmentPolicy, pick_supervisor, plan_assignments, rule_for
from ..domain.case_types import CaseType
from ..domain.models import Case
from ..domain.personnel import Person, has_capacity, is_out_of_office
from ..domain.tasks import (
    ESCALATION, ESCALATION_DUE_HOURS, BulkFailure, BulkReassignment, BulkReassignmentResult, Task,
    TaskCompletion, TaskList, TaskReassignment, TaskStatus, cancelled, claimed, completed, due_hours,
    marked_escalated, marked_warned, reassigned, task_id, team_queue, user_inbox,
)
from ..errors import Conflict, FieldIssue, Forbidden, InvalidInput, NotFound
from ..domain.changes import CaseChange
from ..domain.clock import Clock, iso, utc_now
from ..domain.records import DueMarker, RoundRobinCursor
from ..domain.sla import due_after, resumed_due, warning_at
from ..domain.queries import DEFAULT_PAGE
from ..ports import CaseRepository, PersonnelRepository, TaskRepository
from .case_types import CaseTypeCatalog
from .sla import CalendarLookup, calendar_for, no_calendars
from . import cursor
from .validation import parse
from .retry import Decided, retrying
from .. import metrics

log = logging.getLogger(__name__)
SYSTEM = "system"
DEFAULT_TEAM = "general"  # for a case without a team (created by someone in none)
SWEEP_LOOKBACK_DAYS = 31  # how far back the first overdue sweep looks
_CANCEL_CHUNK = 19  # tasks per transaction: 5 items each (event, task, load, two markers), under DynamoDB's 100
_POSTPONE_CHUNK = 19  # tasks per transaction: 5 items each (task, two markers deleted, two written) + case + event
_ERROR_CODES = {InvalidInput: "VALIDATION_ERROR", Forbidden: "FORBIDDEN", NotFound: "NOT_FOUND", Conflict: "CONFLICT"}


@dataclass(frozen=True)
class TaskFilters:
    assignee: Optional[str] = None  # a username or "me"
    team: Optional[str] = None
    status: Optional[str] = None
    case_id: Optional[str] = None


def _create(change: CaseChange, task: Task, capacity: Optional[int] = None, actor: Optional[str] = None) -> None:
    """A new task: `capacity` is its assignee's, when the assignment must respect it; `actor`: the event's, when
    not the change's."""
    change.append("TASK_CREATED", {"task": task.to_api()}, actor=actor)
    change.put(task)
    if task.assignee:
        change.add_load(task.assignee, +1, capacity)
    if task.type != ESCALATION:  # escalations are not escalated (nor warned about) again
        change.overwrite(_marker(task))
        change.overwrite(_warning_marker(task))


def _transition(
    change: CaseChange, before: Task, after: Task, type: str, data: dict[str, Any], capacity: Optional[int] = None,
) -> None:
    """A task moves on, if it is still at the version read; its people's loads and its due marker follow."""
    change.append(type, {"taskId": before.id, **data})
    change.put(after, expected=before.version)
    was_open, is_open = before.status == TaskStatus.OPEN, after.status == TaskStatus.OPEN
    if before.assignee != after.assignee or was_open != is_open:
        if was_open and before.assignee:
            change.add_load(before.assignee, -1)
        if is_open and after.assignee:
            change.add_load(after.assignee, +1, capacity)
    if was_open and not is_open and before.type != ESCALATION:
        change.delete(_marker(before))
        change.delete(_warning_marker(before))  # gone already once the task was warned: deleting it is harmless


def _marker(task: Task) -> DueMarker:
    return DueMarker(case_id=task.case_id, task_id=task.id, due_at=task.due_at)


def _warning_marker(task: Task) -> DueMarker:
    warn_at = task.warn_at or iso(warning_at(
        datetime.fromisoformat(task.created_at), datetime.fromisoformat(task.due_at), calendar=None,
    ))
    return DueMarker(case_id=task.case_id, task_id=task.id, due_at=warn_at, warning=True)


def _nothing(case_id: str) -> None:
    return None


class TaskService:
    def __init__(
        self,
        cases: CaseRepository,
        tasks: TaskRepository,
        people: PersonnelRepository,
        case_types: CaseTypeCatalog,
        clock: Clock = utc_now,
        on_task_completed: Callable[[str], None] = _nothing,
        calendars: CalendarLookup = no_calendars,
    ) -> None:
        self._cases, self._tasks, self._people = cases, tasks, people
        self._case_types = case_types
        self._clock = clock
        self._on_task_completed = on_task_completed
        self._calendars = calendars

    # -- the workflow's API ------------------------------------------------------------------

    def create_for_case(self, case: Case) -> list[Task]:
        """Create the case type's tasks for the case's current workflow run and assign them by the
        type's rules. Idempotent: only the types the run has no task of are created (retries are safe; a case
        migrated to a version with more tasks gets the new ones). A task nobody is eligible for waits in the
        team queue, with an escalation to the supervisor. Returns the run's template tasks (escalations are not
        included). `case`: as the caller has just read or written it; the first attempt decides on it (see
        `retrying`), a lost race reads it again."""

        def decide(current: Case) -> Decided[list[Task]]:
            # `current`: the audit head (and run) as stored now (after a lost race: read again)
            now = self._clock()
            change = CaseChange(current, SYSTEM, iso(now))
            created = self.create_within(change, now)
            return (change if change.events else None), created

        # A lost race (the chain, a counter or the cursor moved) is read and decided again.
        return retrying(
            self._cases.apply, lambda: self._case(case.id), decide,
            f"the tasks of case {case.id} are changing too fast; retry", first=case,
        )

    def create_within(self, change: CaseChange, now: datetime) -> builtins.list[Task]:
        """`create_for_case` within `change` (the workflow's assignment, which moves the case in the same write):
        its TASK_CREATED events are the system's whoever makes the change. Returns the run's template tasks."""
        current = change.read
        case_type = self._case_type(current)
        calendar = calendar_for(case_type, self._calendars)
        run = current.workflow.run if current.workflow else 1
        existing = [t for t in self._tasks.list_case_tasks(current.id) if t.type != ESCALATION and t.run == run]
        templates = [t for t in case_type.tasks if t.type not in {task.type for task in existing}]
        if not templates:
            return existing
        rule = rule_for(case_type.assignment, current.priority)
        team = rule.team or current.team or DEFAULT_TEAM
        people = self._people.list_people(team)
        cursor = self._tasks.get_cursor(team) if rule.policy == AssignmentPolicy.ROUND_ROBIN else None
        plan = plan_assignments(
            rule, people, len(templates), team=team, today=now.date(),
            after=cursor.last if cursor else None, wanted=current.tags,
        )
        capacity = {p.username: p.capacity for p in people}
        created: builtins.list[Task] = list(existing)
        for template, assignee in zip(templates, plan.assignees):
            due = due_after(now, due_hours(template, case_type.sla_hours, current.priority), calendar)
            task = Task(
                id=task_id(current.id, change.next_seq), case_id=current.id, type=template.type,
                title=template.title, assignee=assignee, team=team, status=TaskStatus.OPEN,
                required=template.required, due_at=iso(due), created_at=change.at, version=1,
                run=run, warn_at=iso(warning_at(now, due, calendar)),
            )
            _create(change, task, capacity.get(assignee or ""), actor=SYSTEM)
            created.append(task)
            if assignee is None:
                reason = f"no one in team {team} can take task {task.id}"
                self._add_escalation(change, team, reason, people, now, task.id, actor=SYSTEM)
        if cursor is not None and plan.cursor is not None:
            # the cursor moves only from the position read: a lost race assigns again
            moved = RoundRobinCursor(team=team, last=plan.cursor, version=cursor.version + 1)
            change.put(moved, expected=cursor.version or None)
        return created

    def case_tasks(self, case_id: str) -> list[Task]:
        """All the case's tasks, oldest first, for other services (no principal: callers authorise)."""
        return self._tasks.list_case_tasks(case_id)

    def open_required_tasks(self, case_id: str) -> int:
        return sum(1 for t in self._tasks.list_case_tasks(case_id) if t.required and t.status == TaskStatus.OPEN)

    def cancel_open_tasks(self, case_id: str, actor: str, only: Optional[Collection[str]] = None) -> list[str]:
        """Cancel every OPEN task of the case (the saga's undo), or those of them whose ids are `only` (a
        migration's). Idempotent: returns the ids this call cancelled, none when there is nothing left to cancel."""
        done: list[str] = []

        def read() -> tuple[Case, list[Task]]:
            case = self._case(case_id)
            open_tasks = [
                t for t in self._tasks.list_case_tasks(case_id)
                if t.status == TaskStatus.OPEN and (only is None or t.id in only)
            ]
            return case, open_tasks[:_CANCEL_CHUNK]

        def decide(seen: tuple[Case, list[Task]]) -> Decided[list[str]]:
            case, chunk = seen
            if not chunk:
                return None, []
            change = CaseChange(case, actor, iso(self._clock()))
            for task in chunk:
                _transition(change, task, cancelled(task, actor, change.at), "TASK_CANCELLED", {})
            return change, [t.id for t in chunk]

        while True:
            cancelled_now = retrying(
                self._cases.apply, read, decide, f"the tasks of case {case_id} are changing too fast; retry",
            )
            if not cancelled_now:
                return done
            done += cancelled_now

    def escalate(self, case_id: str, team: Optional[str], reason: str) -> Task:
        """An escalation task for the team's supervisor (the team queue when none is present).
        Idempotent: an OPEN escalation of the case with the same team and reason is returned."""

        def decide(case: Case) -> Decided[Task]:
            target = team or case.team or DEFAULT_TEAM
            for task in self._tasks.list_case_tasks(case_id):
                if (task.type, task.status, task.team, task.reason) == (ESCALATION, TaskStatus.OPEN, target, reason):
                    return None, task
            now = self._clock()
            change = CaseChange(case, SYSTEM, iso(now))
            return change, self._add_escalation(change, target, reason, self._people.list_people(target), now)

        return retrying(
            self._cases.apply, lambda: self._case(case_id), decide,
            f"the tasks of case {case_id} are changing too fast; retry",
        )

    def postpone_open_tasks(
        self, change: CaseChange, paused_at: datetime, resumed_at: datetime, calendar: Optional[Calendar],
    ) -> builtins.list[dict[str, Any]]:
        """Within `change` (the case leaving PENDING_DOCUMENTS), move each open task's due date and warning later by
        the SLA time the case waited since the later of the pause and the task's creation, with its markers: the
        customer's delay is not the team's. Escalations and escalated tasks keep theirs (already acted on). Returns
        what moved, for the audit event. At most _POSTPONE_CHUNK tasks fit the one transaction; more are logged."""
        moved: builtins.list[dict[str, Any]] = []
        for task in self._tasks.list_case_tasks(change.case_id):
            if task.status != TaskStatus.OPEN or task.type == ESCALATION or task.escalation is not None:
                continue
            since = max(paused_at, datetime.fromisoformat(task.created_at))
            due = resumed_due(datetime.fromisoformat(task.due_at), since, resumed_at, calendar)
            if iso(due) == task.due_at:
                continue
            if len(moved) == _POSTPONE_CHUNK:
                log.warning("case %s has more open tasks than one write can postpone; task %s keeps dueAt %s",
                            change.case_id, task.id, task.due_at)
                continue
            warn = resumed_due(datetime.fromisoformat(_warning_marker(task).due_at), since, resumed_at, calendar)
            after = task.model_copy(update={"due_at": iso(due), "warn_at": iso(warn), "version": task.version + 1})
            change.put(after, expected=task.version)
            change.delete(_marker(task))
            change.overwrite(_marker(after))
            if task.sla_warned_at is None:  # a warned task's warning marker is consumed: none to move
                change.delete(_warning_marker(task))
                change.overwrite(_warning_marker(after))
            moved.append({"taskId": task.id, "dueAt": {"from": task.due_at, "to": after.due_at}})
        return moved

    def escalate_overdue(self, now: Optional[datetime] = None) -> list[Task]:
        """Escalate every OPEN task past its due time, once (its due marker is consumed with the
        escalation), and warn about every OPEN task 80 % through its SLA window, once (likewise its warning
        marker). Reads the markers of the days since the last sweep; returns the escalations."""
        now = now or self._clock()
        today = now.date()
        stored = self._tasks.get_sweep_day()
        day = date.fromisoformat(stored) if stored else today - timedelta(days=SWEEP_LOOKBACK_DAYS)
        unfinished: Optional[date] = None
        created: list[Task] = []
        while day <= today:
            for marker in self._tasks.due_markers(day.isoformat(), iso(now)):
                try:
                    if marker.warning:
                        self._warn(marker, now)
                        continue
                    escalation = self._escalate_overdue_task(marker, now)
                except (Conflict, NotFound) as exc:
                    log.warning("could not act on the due marker of task %s: %s", marker.task_id, exc)
                    unfinished = unfinished or day
                    continue
                if escalation is not None:
                    created.append(escalation)
            day += timedelta(days=1)
        # Every marker of a day before today is overdue, so a finished sweep never needs those days again.
        self._tasks.set_sweep_day((unfinished or today).isoformat())
        if created:
            metrics.count(metrics.SLA_BREACHES, len(created))
        return created

    # -- people's API ------------------------------------------------------------------------

    def get(self, principal: Principal, task_id: str) -> Task:
        require(principal, Action.READ_TASKS)
        return self._visible(principal, task_id)[0]

    def list(
        self, principal: Principal, filters: TaskFilters, limit: int = DEFAULT_PAGE, page_cursor: Optional[str] = None,
    ) -> TaskList:
        """A case's tasks by id (filtered while paging, so a page may be short of `limit` and still have a next
        one), or an inbox or team queue soonest due first."""
        require(principal, Action.READ_TASKS)
        for name, value in filters.__dict__.items():
            if value is not None and not value.strip():
                raise InvalidInput(f"empty {name} filter", [FieldIssue(to_camel(name), "must not be empty")])
        if filters.status is not None and filters.status not in TaskStatus._value2member_map_:
            allowed = ", ".join(TaskStatus._value2member_map_)
            raise InvalidInput("invalid status", [FieldIssue("status", f"must be one of {allowed}")])
        assignee = principal.username if filters.assignee == "me" else filters.assignee
        if filters.case_id is not None:
            case = self._cases.get_case(filters.case_id)
            if case is None or not can_view(principal, case):
                raise NotFound(f"case {filters.case_id} not found")
            tasks, next_cursor = cursor.paged(
                "case tasks", {**filters.__dict__, "assignee": assignee}, limit, page_cursor,
                lambda size, start: self._tasks.case_tasks_page(case.id, size, start),
            )
            return TaskList(items=[
                t for t in tasks
                if (filters.status is None or t.status.value == filters.status)
                and (assignee is None or t.assignee == assignee) and (filters.team is None or t.team == filters.team)
            ], next_cursor=next_cursor)
        if filters.status not in (None, TaskStatus.OPEN.value):
            raise InvalidInput(
                "only OPEN tasks are listed by assignee or team",
                [FieldIssue("status", "finished tasks are listed with caseId")],
            )
        if filters.team is not None:
            if assignee is not None:
                raise InvalidInput(
                    "filter by assignee or by team, not both", [FieldIssue("team", "drop team or assignee")]
                )
            if not (_sees_all(principal) or principal.team == filters.team):
                raise Forbidden(f"only members of team {filters.team} see its queue")
            return self._inbox_page(team_queue(filters.team), limit, page_cursor)
        assignee = assignee or principal.username
        if assignee != principal.username and not _sees_all(principal):
            person = self._people.get_person(assignee)
            if not (Role.SUPERVISOR in principal.roles and person is not None and person.team == principal.team):
                raise Forbidden("you may list only your own tasks, or a supervisor the team's")
        return self._inbox_page(user_inbox(assignee), limit, page_cursor)

    def _inbox_page(self, inbox: str, limit: int, page_cursor: Optional[str]) -> TaskList:
        tasks, next_cursor = cursor.paged(
            "task inbox", {"inbox": inbox}, limit, page_cursor,
            lambda size, start: self._tasks.inbox_page(inbox, size, start),
        )
        return TaskList(items=tasks, next_cursor=next_cursor)

    def claim(self, principal: Principal, task_id: str) -> Task:
        require(principal, Action.WORK_TASKS)

        def decide(task: Task, change: CaseChange) -> Task:
            person = self._people.get_person(principal.username)
            if person is None or person.team != task.team:
                raise Forbidden(f"only members of team {task.team} may claim its tasks")
            after = claimed(task, principal.username)
            _transition(change, task, after, "TASK_CLAIMED", {"assignee": principal.username})
            return after

        return self._act(principal, task_id, decide)

    def complete(self, principal: Principal, task_id: str, payload: Any) -> Task:
        require(principal, Action.WORK_TASKS)
        request = parse(TaskCompletion, payload)

        def decide(task: Task, change: CaseChange) -> Task:
            if task.assignee != principal.username and not _supervises(principal, task.team):
                raise Forbidden("only the assignee, the team's supervisor or an admin may complete this task")
            if _completed_as_asked(task, principal.username, request):
                # A repeat (a retried request whose answer was lost): the same answer, and the resume below
                # runs again, so a case whose first resume was lost moves on.
                return task
            after = completed(task, principal.username, change.at, request.outcome, request.comment)
            _transition(change, task, after, "TASK_COMPLETED", {"outcome": request.outcome, "comment": request.comment})
            return after

        done = self._act(principal, task_id, decide)
        try:
            self._on_task_completed(done.case_id)
        except Exception:  # the task is done either way; the workflow's own timeout catches a missed resume
            log.exception("on_task_completed failed for case %s", done.case_id)
        return done

    def reassign(self, principal: Principal, task_id: str, payload: Any) -> Task:
        require(principal, Action.REASSIGN_TASKS)
        request = parse(TaskReassignment, payload)
        return self._reassign(principal, task_id, request.assignee)

    def bulk_reassign(self, principal: Principal, payload: Any) -> BulkReassignmentResult:
        """Reassign many tasks, each on its own (tasks of different cases share no transaction);
        reports which moved and which did not, and why."""
        require(principal, Action.REASSIGN_TASKS)
        request = parse(BulkReassignment, payload)
        if request.from_ is not None:
            ids = [
                t.id for t in self._tasks.list_inbox(user_inbox(request.from_)) if _supervises(principal, t.team)
            ]
        else:
            ids = list(dict.fromkeys(request.task_ids or []))
        moved, failed = [], []
        for tid in ids:
            try:
                moved.append(self._reassign(principal, tid, request.to))
            except (InvalidInput, Forbidden, NotFound, Conflict) as exc:
                failed.append(BulkFailure(id=tid, code=_ERROR_CODES[type(exc)], message=exc.message))
        return BulkReassignmentResult(reassigned=moved, failed=failed)

    # -- internals ---------------------------------------------------------------------------

    def _reassign(self, principal: Principal, task_id: str, to: Optional[str]) -> Task:
        def decide(task: Task, change: CaseChange) -> Task:
            if not _supervises(principal, task.team):
                raise Forbidden(f"only team {task.team}'s supervisor or an admin may reassign its tasks")
            if task.status != TaskStatus.OPEN:
                raise Conflict(f"task {task.id} is {task.status.value}, not OPEN")
            if to == task.assignee:
                return task
            capacity = self._eligible_target(to, task.team).capacity if to is not None else None
            after = reassigned(task, to)
            _transition(change, task, after, "TASK_REASSIGNED", {"from": task.assignee, "to": to}, capacity)
            return after

        return self._act(principal, task_id, decide)

    def _eligible_target(self, username: str, team: str) -> Person:
        person = self._people.get_person(username)
        if person is None or person.team != team:
            raise InvalidInput(
                f"{username} is not a member of team {team}",
                [FieldIssue("assignee", "not a member of the task's team")],
            )
        if is_out_of_office(person, self._clock().date()):
            raise Conflict(f"{username} is out of office", [FieldIssue("assignee", "out of office")])
        if not has_capacity(person):
            raise Conflict(
                f"{username} is at capacity ({person.capacity} open tasks)", [FieldIssue("assignee", "at capacity")]
            )
        return person

    def _act(self, principal: Principal, task_id: str, decide: Callable[[Task, CaseChange], Task]) -> Task:
        """Read, decide, write; on a lost race read again and decide again (which may now refuse)."""

        def attempt(seen: tuple[Task, Case]) -> Decided[Task]:
            task, case = seen
            change = CaseChange(case, principal.username, iso(self._clock()))
            after = decide(task, change)
            return (change if change.events else None), after  # no event: nothing to change

        return retrying(
            self._cases.apply, lambda: self._visible(principal, task_id), attempt,
            f"task {task_id} is changing too fast; retry",
        )

    def _visible(self, principal: Principal, task_id: str) -> tuple[Task, Case]:
        task = self._tasks.get_task(task_id)
        case = self._cases.get_case(task.case_id) if task else None
        if task is None or case is None or not (task.assignee == principal.username or can_view(principal, case)):
            raise NotFound(f"task {task_id} not found")
        return task, case

    def _add_escalation(
        self, change: CaseChange, team: str, reason: str, people: builtins.list[Person], now: datetime,
        escalates: Optional[str] = None, actor: Optional[str] = None,
    ) -> Task:
        supervisor = pick_supervisor(people, team=team, today=now.date())
        escalation = Task(
            id=task_id(change.case_id, change.next_seq), case_id=change.case_id, type=ESCALATION,
            title=f"Escalation: {reason}", assignee=supervisor.username if supervisor else None, team=team,
            status=TaskStatus.OPEN, required=False, due_at=iso(now + timedelta(hours=ESCALATION_DUE_HOURS)),
            created_at=change.at, version=1, reason=reason, escalates=escalates,
        )
        _create(change, escalation, actor=actor)
        return escalation

    def _escalate_overdue_task(self, marker: DueMarker, now: datetime) -> Optional[Task]:
        def read() -> tuple[Optional[Task], Optional[Case]]:
            task = self._tasks.get_task(marker.task_id)
            if task is None or task.status != TaskStatus.OPEN or task.escalation is not None:
                return None, None  # finished or escalated meanwhile
            return task, self._case(task.case_id)

        def decide(seen: tuple[Optional[Task], Optional[Case]]) -> Decided[Optional[Task]]:
            task, case = seen
            if task is None or case is None:
                return None, None
            change = CaseChange(case, SYSTEM, iso(now))
            reason = f"task {task.id} is overdue (due {task.due_at})"
            people = self._people.list_people(task.team)
            escalation = self._add_escalation(change, task.team, reason, people, now, task.id)
            _transition(
                change, task, marked_escalated(task, escalation.id), "TASK_ESCALATED", {"escalation": escalation.id}
            )
            change.delete(marker, must_exist=True)  # consumed: one escalation per overdue task
            return change, escalation

        return retrying(self._cases.apply, read, decide, f"task {marker.task_id} is changing too fast; retry")

    def _warn(self, marker: DueMarker, now: datetime) -> None:
        """Record that 80 % of an OPEN task's SLA window has passed, once: the task is marked warned (so a
        retry or a second sweep decides nothing) and the warning marker is consumed in the same write."""

        def read() -> tuple[Optional[Task], Optional[Case]]:
            task = self._tasks.get_task(marker.task_id)
            if task is None or task.status != TaskStatus.OPEN or task.escalation or task.sla_warned_at:
                return None, None  # finished, escalated or warned meanwhile
            return task, self._case(task.case_id)

        def decide(seen: tuple[Optional[Task], Optional[Case]]) -> Decided[None]:
            task, case = seen
            if task is None or case is None:
                return None, None
            change = CaseChange(case, SYSTEM, iso(now))
            _transition(change, task, marked_warned(task, change.at), "TASK_SLA_WARNING", {"dueAt": task.due_at})
            change.delete(marker, must_exist=True)
            return change, None

        retrying(self._cases.apply, read, decide, f"task {marker.task_id} is changing too fast; retry")

    def _case(self, case_id: str) -> Case:
        case = self._cases.get_case(case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    def _case_type(self, case: Case) -> CaseType:
        return self._case_types.of_case(case)


def _sees_all(principal: Principal) -> bool:
    return bool(principal.roles & {Role.ADMIN, Role.AUDITOR})


def _supervises(principal: Principal, team: str) -> bool:
    return Role.ADMIN in principal.roles or (Role.SUPERVISOR in principal.roles and principal.team == team)


def _completed_as_asked(task: Task, username: str, request: TaskCompletion) -> bool:
    return (
        task.status == TaskStatus.DONE and task.completed_by == username
        and (task.outcome, task.comment) == (request.outcome, request.comment)
    )
