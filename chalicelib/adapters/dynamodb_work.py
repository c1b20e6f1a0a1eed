"""Tasks and the personnel directory on the cases table (single-table design, pynamodb).

Items (PK / SK):
  CASE#<caseId> / TASK#<taskId>        a task; inboxPk = USER#<assignee> | TEAM#<team>, inboxSk =
                                       TASK#<dueAt>#<taskId> while OPEN, removed after (sparse index)
  PERSON#<username> / PERSON           a directory entry with its openTasks counter; inboxPk =
                                       MEMBERS#<team>, inboxSk = PERSON#<username>
  TEAMS / TEAMS                        every team a person was filed under (lists the whole directory)
  ROUNDROBIN#<team> / CURSOR           the team's round-robin position, advanced conditionally
  DUE#<yyyy-mm-dd> / <dueAt>#<taskId>  an OPEN task due that day; the overdue sweep reads these
  SWEEP#OVERDUE / CURSOR               the first day that may still hold due markers

Every task change, with its load counters, cursor, markers and the case's audit head and events, is
one TransactWriteItems: all of it or none of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from pynamodb.attributes import (
    BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..domain.personnel import Person
from ..domain.tasks import Task, case_id_of, inbox_key, inbox_sort_key, task_number
from ..ports import DueMarker, RoundRobinCursor, TaskChange
from .dynamodb import INBOX_INDEX, TableModels, _case_key, _event_sk, _stale_on_condition, _translated

TEAMS_KEY = "TEAMS"
SWEEP_KEY = "SWEEP#OVERDUE"


@dataclass(frozen=True)
class WorkModels:
    task: Any
    person: Any
    teams: Any
    cursor: Any
    marker: Any
    sweep: Any


@lru_cache(maxsize=8)
def work_models(models: TableModels) -> WorkModels:
    """Item models for tasks and personnel on the table of `models`, sharing its connection."""
    table_meta = models.case.Meta

    class Inbox(GlobalSecondaryIndex):
        class Meta:
            index_name = INBOX_INDEX
            projection = AllProjection()

        inbox_pk = UnicodeAttribute(hash_key=True, attr_name="inboxPk")
        inbox_sk = UnicodeAttribute(range_key=True, attr_name="inboxSk")

    class Item(Model):
        Meta = table_meta
        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")

    class TaskItem(Item):
        task_id = UnicodeAttribute(attr_name="id")
        case_id = UnicodeAttribute(attr_name="caseId")
        task_type = UnicodeAttribute(attr_name="type")
        title = UnicodeAttribute()
        assignee = UnicodeAttribute(null=True)
        team = UnicodeAttribute()
        status = UnicodeAttribute()
        required = BooleanAttribute()
        due_at = UnicodeAttribute(attr_name="dueAt")
        created_at = UnicodeAttribute(attr_name="createdAt")
        completed_at = UnicodeAttribute(attr_name="completedAt", null=True)
        completed_by = UnicodeAttribute(attr_name="completedBy", null=True)
        outcome = UnicodeAttribute(null=True)
        comment = UnicodeAttribute(null=True)
        version = NumberAttribute()
        reason = UnicodeAttribute(null=True)
        escalates = UnicodeAttribute(null=True)
        escalation = UnicodeAttribute(null=True)
        run = NumberAttribute(null=True)
        inbox_pk = UnicodeAttribute(attr_name="inboxPk", null=True)
        inbox_sk = UnicodeAttribute(attr_name="inboxSk", null=True)
        inbox = Inbox()

    class PersonItem(Item):
        username = UnicodeAttribute()
        team = UnicodeAttribute()
        skills = ListAttribute(of=UnicodeAttribute, default=list)
        capacity = NumberAttribute()
        out_of_office = JSONAttribute(attr_name="outOfOffice")
        supervisor = BooleanAttribute()
        open_tasks = NumberAttribute(attr_name="openTasks", default=0)
        updated_at = UnicodeAttribute(attr_name="updatedAt", null=True)
        updated_by = UnicodeAttribute(attr_name="updatedBy", null=True)
        inbox_pk = UnicodeAttribute(attr_name="inboxPk", null=True)
        inbox_sk = UnicodeAttribute(attr_name="inboxSk", null=True)
        inbox = Inbox()

    class TeamsItem(Item):
        teams = UnicodeSetAttribute(default=set)

    class CursorItem(Item):
        last = UnicodeAttribute(null=True)
        version = NumberAttribute()

    class MarkerItem(Item):
        case_id = UnicodeAttribute(attr_name="caseId")
        task_id = UnicodeAttribute(attr_name="taskId")
        due_at = UnicodeAttribute(attr_name="dueAt")

    class SweepItem(Item):
        day = UnicodeAttribute()

    shared = models.case._get_connection()
    for model in (TaskItem, PersonItem, TeamsItem, CursorItem, MarkerItem, SweepItem):
        model._connection = shared
    return WorkModels(TaskItem, PersonItem, TeamsItem, CursorItem, MarkerItem, SweepItem)


def _person_key(username: str) -> str:
    return f"PERSON#{username}"


def _cursor_key(team: str) -> str:
    return f"ROUNDROBIN#{team}"


class DynamoWorkRepository:
    """The task repository and the personnel repository on one table."""

    def __init__(self, models: TableModels) -> None:
        self._m = models
        self._w = work_models(models)

    # -- tasks -------------------------------------------------------------------------------

    def apply(self, change: TaskChange) -> None:
        m, w = self._m, self._w
        head = change.events[-1]
        with _stale_on_condition(), _translated(), TransactWrite(connection=m.connection) as tx:
            tx.update(
                m.case(_case_key(change.case_id), "CASE"),
                actions=[m.case.audit_seq.set(head.seq), m.case.audit_hash.set(head.hash)],
                condition=m.case.audit_seq == change.expected_audit_seq,  # fails on a missing case, too
            )
            for event in change.events:
                tx.save(
                    m.event(_case_key(event.case_id), _event_sk(event.seq), body=event.to_api()),
                    condition=m.event.pk.does_not_exist(),
                )
            for write in change.tasks:
                tx.save(
                    self._task_item(write.task),
                    condition=w.task.pk.does_not_exist() if write.expected_version is None
                    else w.task.version == write.expected_version,
                )
            for load in change.loads:
                condition = w.person.pk.exists()
                if load.at_most is not None:
                    condition = condition & (w.person.open_tasks <= load.at_most)
                tx.update(
                    w.person(_person_key(load.username), "PERSON"),
                    actions=[w.person.open_tasks.add(load.delta)], condition=condition,
                )
            if change.cursor is not None:
                cursor = change.cursor
                tx.save(
                    w.cursor(_cursor_key(cursor.team), "CURSOR", last=cursor.last, version=cursor.version),
                    condition=w.cursor.pk.does_not_exist() if cursor.version == 1
                    else w.cursor.version == cursor.version - 1,
                )
            for marker in change.remove_markers:
                tx.delete(self._marker_item(marker))
            if change.consume_marker is not None:
                tx.delete(self._marker_item(change.consume_marker), condition=w.marker.pk.exists())
            for marker in change.add_markers:
                tx.save(self._marker_item(marker))

    def get_task(self, task_id: str) -> Optional[Task]:
        case_id = case_id_of(task_id)
        if case_id is None:
            return None
        with _translated():
            try:
                return _to_task(self._w.task.get(_case_key(case_id), f"TASK#{task_id}", consistent_read=True))
            except self._w.task.DoesNotExist:
                return None

    def list_case_tasks(self, case_id: str) -> list[Task]:
        task = self._w.task
        with _translated():
            items = task.query(_case_key(case_id), task.sk.startswith("TASK#"), consistent_read=True)
            return sorted((_to_task(item) for item in items), key=task_number)

    def list_inbox(self, key: str) -> list[Task]:
        task = self._w.task
        with _translated():
            return [_to_task(item) for item in task.inbox.query(key, task.inbox_sk.startswith("TASK#"))]

    def get_cursor(self, team: str) -> RoundRobinCursor:
        cursor = self._w.cursor
        with _translated():
            try:
                item = cursor.get(_cursor_key(team), "CURSOR", consistent_read=True)
            except cursor.DoesNotExist:
                return RoundRobinCursor(team=team, last=None, version=0)
        return RoundRobinCursor(team=team, last=item.last, version=int(item.version))

    def due_markers(self, day: str, before: str) -> list[DueMarker]:
        marker = self._w.marker
        with _translated():
            items = marker.query(f"DUE#{day}", marker.sk < f"{before}#", consistent_read=True)
            return [DueMarker(case_id=i.case_id, task_id=i.task_id, due_at=i.due_at) for i in items]

    def get_sweep_day(self) -> Optional[str]:
        sweep = self._w.sweep
        with _translated():
            try:
                return sweep.get(SWEEP_KEY, "CURSOR", consistent_read=True).day
            except sweep.DoesNotExist:
                return None

    def set_sweep_day(self, day: str) -> None:
        with _translated():
            self._w.sweep(SWEEP_KEY, "CURSOR", day=day).save()

    # -- personnel ---------------------------------------------------------------------------

    def save_person(self, person: Person) -> Person:
        m, p = self._m, self._w.person
        data = person.to_api()
        actions = [
            p.username.set(person.username), p.team.set(person.team), p.skills.set(list(person.skills)),
            p.capacity.set(person.capacity), p.out_of_office.set(data["outOfOffice"]),
            p.supervisor.set(person.supervisor), p.open_tasks.set(p.open_tasks | 0),  # the counter is kept
            p.inbox_pk.set(f"MEMBERS#{person.team}"), p.inbox_sk.set(_person_key(person.username)),
        ]
        for attr, value in ((p.updated_at, person.updated_at), (p.updated_by, person.updated_by)):
            if value:
                actions.append(attr.set(value))
        with _translated(), TransactWrite(connection=m.connection) as tx:
            tx.update(p(_person_key(person.username), "PERSON"), actions=actions)
            tx.update(self._w.teams(TEAMS_KEY, TEAMS_KEY), actions=[self._w.teams.teams.add({person.team})])
        stored = self.get_person(person.username)
        assert stored is not None
        return stored

    def get_person(self, username: str) -> Optional[Person]:
        p = self._w.person
        with _translated():
            try:
                return _to_person(p.get(_person_key(username), "PERSON", consistent_read=True))
            except p.DoesNotExist:
                return None

    def list_people(self, team: str) -> list[Person]:
        p = self._w.person
        with _translated():
            return [_to_person(item) for item in p.inbox.query(f"MEMBERS#{team}", p.inbox_sk.startswith("PERSON#"))]

    def list_teams(self) -> list[str]:
        teams = self._w.teams
        with _translated():
            try:
                return sorted(teams.get(TEAMS_KEY, TEAMS_KEY, consistent_read=True).teams or ())
            except teams.DoesNotExist:
                return []

    # -- mapping -----------------------------------------------------------------------------

    def _task_item(self, task: Task) -> Any:
        return self._w.task(
            _case_key(task.case_id), f"TASK#{task.id}",
            task_id=task.id, case_id=task.case_id, task_type=task.type, title=task.title, assignee=task.assignee,
            team=task.team, status=task.status.value, required=task.required, due_at=task.due_at,
            created_at=task.created_at, completed_at=task.completed_at, completed_by=task.completed_by,
            outcome=task.outcome, comment=task.comment, version=task.version, reason=task.reason,
            escalates=task.escalates, escalation=task.escalation, run=task.run,
            inbox_pk=inbox_key(task), inbox_sk=inbox_sort_key(task) if inbox_key(task) else None,
        )

    def _marker_item(self, marker: DueMarker) -> Any:
        return self._w.marker(
            f"DUE#{marker.day}", f"{marker.due_at}#{marker.task_id}",
            case_id=marker.case_id, task_id=marker.task_id, due_at=marker.due_at,
        )


def _to_task(item: Any) -> Task:
    return Task(
        id=item.task_id, case_id=item.case_id, type=item.task_type, title=item.title, assignee=item.assignee,
        team=item.team, status=item.status, required=item.required, due_at=item.due_at, created_at=item.created_at,
        completed_at=item.completed_at, completed_by=item.completed_by, outcome=item.outcome, comment=item.comment,
        version=int(item.version), reason=item.reason, escalates=item.escalates, escalation=item.escalation,
        run=int(item.run) if item.run is not None else None,
    )


def _to_person(item: Any) -> Person:
    return Person.model_validate(
        {
            "username": item.username, "team": item.team, "skills": list(item.skills or []),
            "capacity": int(item.capacity), "outOfOffice": item.out_of_office, "supervisor": item.supervisor,
            "openTasks": int(item.open_tasks or 0), "updatedAt": item.updated_at, "updatedBy": item.updated_by,
        }
    )
