"""In-memory twin of the DynamoDB work repository (tasks, personnel, cursors, due markers), over the shared
in-memory table."""
from __future__ import annotations

from typing import Optional

from ...domain.personnel import Person
from ...domain.records import DueMarker, RoundRobinCursor
from ...domain.tasks import Task, task_number
from ...ports import StartKey
from .. import keyed_pages
from ..dynamo.keys import case_tasks_list, task_inbox_list, task_inbox_pk, task_inbox_sk, team_members_list
from ..keyed_pages import in_memory
from .table import InMemoryTable, marker_sort


class InMemoryWorkRepository:
    def __init__(self, table: InMemoryTable) -> None:
        self._lock = table._lock
        self.tasks, self.people, self.cursors, self.markers = table.tasks, table.people, table.cursors, table.markers
        self.teams: set[str] = set()
        self.sweep_day: Optional[str] = None

    # -- tasks -------------------------------------------------------------------------------

    def get_task(self, task_id: str) -> Optional[Task]:
        return self.tasks.get(task_id)

    def list_case_tasks(self, case_id: str) -> list[Task]:
        return sorted((t for t in self.tasks.values() if t.case_id == case_id), key=task_number)

    def list_inbox(self, key: str) -> list[Task]:
        return sorted((t for t in self.tasks.values() if task_inbox_pk(t) == key), key=task_inbox_sk)

    def case_tasks_page(self, case_id: str, limit: int, start_key: StartKey) -> tuple[list[Task], StartKey]:
        return keyed_pages.page(in_memory(self.tasks.values()), case_tasks_list(case_id), limit, start_key)

    def inbox_page(self, key: str, limit: int, start_key: StartKey) -> tuple[list[Task], StartKey]:
        return keyed_pages.page(in_memory(self.tasks.values()), task_inbox_list(key), limit, start_key)

    def get_cursor(self, team: str) -> RoundRobinCursor:
        return self.cursors.get(team) or RoundRobinCursor(team=team, last=None, version=0)

    def due_markers(self, day: str, before: str) -> list[DueMarker]:
        bound = f"{before}#"
        return sorted((m for (d, sort), m in self.markers.items() if d == day and sort < bound), key=marker_sort)

    def get_sweep_day(self) -> Optional[str]:
        return self.sweep_day

    def set_sweep_day(self, day: str) -> None:
        self.sweep_day = day

    # -- personnel ---------------------------------------------------------------------------

    def save_person(self, person: Person) -> Person:
        with self._lock:
            current = self.people.get(person.username)
            stored = person.model_copy(update={"open_tasks": current.open_tasks if current else 0})
            self.people[person.username] = stored
            self.teams.add(person.team)
            return stored

    def get_person(self, username: str) -> Optional[Person]:
        return self.people.get(username)

    def list_people(self, team: str) -> list[Person]:
        return sorted((p for p in self.people.values() if p.team == team), key=lambda p: p.username)

    def list_teams(self) -> list[str]:
        return sorted(self.teams)

    def people_page(self, team: Optional[str], limit: int, start_key: StartKey) -> tuple[list[Person], StartKey]:
        read = in_memory(self.people.values())
        if team is not None:
            return keyed_pages.page(read, team_members_list(team), limit, start_key)
        lists = [team_members_list(name) for name in self.list_teams()]
        return keyed_pages.chained_page(read, lists, limit, start_key)
