"""Tasks and the personnel directory on the table: task queries (a case's, an inbox), round-robin cursors,
due markers and the overdue sweep's position, people and teams. Task writes are CaseChanges."""
from __future__ import annotations

from typing import Any, Optional

from pynamodb.transactions import TransactWrite

from ...domain.personnel import Person
from ...domain.records import DueMarker, RoundRobinCursor
from ...domain.tasks import Task, case_id_of, task_number
from ...ports import StartKey
from .. import keyed_pages
from . import keys
from .errors import stored, translated
from .models import OnTable
from .pages import reader


class DynamoWorkRepository(OnTable):
    """The task repository and the personnel repository on one table."""

    def get_task(self, task_id: str) -> Optional[Task]:
        case_id = case_id_of(task_id)
        if case_id is None:
            return None
        item = stored(self._m.task, keys.case_pk(case_id), keys.task_sk(task_id))
        return None if item is None else _to_task(item)

    def list_case_tasks(self, case_id: str) -> list[Task]:
        task = self._m.task
        with translated():
            items = task.query(keys.case_pk(case_id), task.sk.startswith(keys.TASK_PREFIX), consistent_read=True)
            return sorted((_to_task(item) for item in items), key=task_number)

    def list_inbox(self, key: str) -> list[Task]:
        task = self._m.task
        with translated():
            return [_to_task(item) for item in task.inbox.query(key, task.inbox_sk.startswith(keys.TASK_PREFIX))]

    def case_tasks_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Task], StartKey]:
        return keyed_pages.page(reader(self._m.task, _to_task), keys.case_tasks_list(case_id), limit, start_key)

    def inbox_page(self, key: str, limit: int, start_key: StartKey) -> tuple[list[Task], StartKey]:
        return keyed_pages.page(reader(self._m.task, _to_task), keys.task_inbox_list(key), limit, start_key)

    def get_cursor(self, team: str) -> RoundRobinCursor:
        item = stored(self._m.cursor, keys.cursor_pk(team), keys.CURSOR_SK)
        if item is None:
            return RoundRobinCursor(team=team, last=None, version=0)
        return RoundRobinCursor(team=team, last=item.last, version=int(item.version))

    def due_markers(self, day: str, before: str) -> list[DueMarker]:
        marker = self._m.marker
        with translated():
            items = marker.query(keys.due_pk(day), marker.sk < f"{before}#", consistent_read=True)
            return [_to_marker(item) for item in items]

    def get_sweep_day(self) -> Optional[str]:
        item = stored(self._m.sweep, keys.SWEEP_KEY, keys.CURSOR_SK)
        return None if item is None else item.day

    def set_sweep_day(self, day: str) -> None:
        with translated():
            self._m.sweep(keys.SWEEP_KEY, keys.CURSOR_SK, day=day).save()

    # -- personnel ---------------------------------------------------------------------------

    def save_person(self, person: Person) -> Person:
        m, p = self._m, self._m.person
        data = person.to_api()
        actions = [
            p.username.set(person.username), p.team.set(person.team), p.skills.set(list(person.skills)),
            p.capacity.set(person.capacity), p.out_of_office.set(data["outOfOffice"]),
            p.supervisor.set(person.supervisor), p.open_tasks.set(p.open_tasks | 0),  # the counter is kept
            p.inbox_pk.set(keys.members_key(person.team)), p.inbox_sk.set(keys.person_pk(person.username)),
        ]
        for attr, value in ((p.updated_at, person.updated_at), (p.updated_by, person.updated_by)):
            if value:
                actions.append(attr.set(value))
        with translated(), TransactWrite(connection=m.connection) as tx:
            tx.update(p(keys.person_pk(person.username), keys.PERSON_SK), actions=actions)
            tx.update(self._m.teams(keys.TEAMS_KEY, keys.TEAMS_KEY), actions=[self._m.teams.teams.add({person.team})])
        stored = self.get_person(person.username)
        assert stored is not None
        return stored

    def get_person(self, username: str) -> Optional[Person]:
        item = stored(self._m.person, keys.person_pk(username), keys.PERSON_SK)
        return None if item is None else _to_person(item)

    def list_people(self, team: str) -> list[Person]:
        p = self._m.person
        with translated():
            items = p.inbox.query(keys.members_key(team), p.inbox_sk.startswith(keys.PERSON_PREFIX))
            return [_to_person(item) for item in items]

    def list_teams(self) -> list[str]:
        item = stored(self._m.teams, keys.TEAMS_KEY, keys.TEAMS_KEY)
        return [] if item is None else sorted(item.teams or ())

    def people_page(self, team: Optional[str], limit: int, start_key: StartKey) -> tuple[list[Person], StartKey]:
        read = reader(self._m.person, _to_person)
        if team is not None:
            return keyed_pages.page(read, keys.team_members_list(team), limit, start_key)
        lists = [keys.team_members_list(name) for name in self.list_teams()]
        return keyed_pages.chained_page(read, lists, limit, start_key)

def _to_task(item: Any) -> Task:
    return Task(
        id=item.task_id, case_id=item.case_id, type=item.task_type, title=item.title, assignee=item.assignee,
        team=item.team, status=item.status, required=item.required, due_at=item.due_at, created_at=item.created_at,
        completed_at=item.completed_at, completed_by=item.completed_by, outcome=item.outcome, comment=item.comment,
        version=int(item.version), reason=item.reason, escalates=item.escalates, escalation=item.escalation,
        sla_warned_at=item.sla_warned_at, warn_at=item.warn_at,
        run=int(item.run) if item.run is not None else None,
    )


def _to_marker(item: Any) -> DueMarker:
    warning = item.sk.endswith(keys.WARNING_SUFFIX)
    return DueMarker(case_id=item.case_id, task_id=item.task_id, due_at=item.due_at, warning=warning)


def _to_person(item: Any) -> Person:
    return Person.model_validate(
        {
            "username": item.username, "team": item.team, "skills": list(item.skills or []),
            "capacity": int(item.capacity), "outOfOffice": item.out_of_office, "supervisor": item.supervisor,
            "openTasks": int(item.open_tasks or 0), "updatedAt": item.updated_at, "updatedBy": item.updated_by,
        }
    )
