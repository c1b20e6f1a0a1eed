"""In-memory twin of the DynamoDB work repository (tasks, personnel, cursors, due markers), for unit
tests. It shares the in-memory case repository's state and lock, so a task change and the case's
audit head move together, as one DynamoDB transaction does. The contract tests keep it honest."""
from __future__ import annotations

from typing import Optional

from ..domain.personnel import Person
from ..domain.tasks import Task, inbox_key, inbox_sort_key, task_number
from ..ports import DueMarker, RoundRobinCursor, StaleWrite, TaskChange
from .memory import InMemoryCaseRepository


def _marker_sort(marker: DueMarker) -> str:
    return f"{marker.due_at}#{marker.task_id}"


class InMemoryWorkRepository:
    def __init__(self, cases: InMemoryCaseRepository) -> None:
        self._cases = cases
        self._lock = cases._lock
        self.tasks: dict[str, Task] = {}
        self.people: dict[str, Person] = {}
        self.teams: set[str] = set()
        self.cursors: dict[str, RoundRobinCursor] = {}
        self.markers: dict[tuple[str, str], DueMarker] = {}
        self.sweep_day: Optional[str] = None

    # -- tasks -------------------------------------------------------------------------------

    def apply(self, change: TaskChange) -> None:
        with self._lock:
            self._check(change)
            head = change.events[-1]
            case = self._cases.cases[change.case_id]
            self._cases.cases[change.case_id] = case.model_copy(update={"audit_seq": head.seq, "audit_hash": head.hash})
            self._cases.events[change.case_id].extend(change.events)
            for write in change.tasks:
                self.tasks[write.task.id] = write.task
            for load in change.loads:
                person = self.people[load.username]
                self.people[load.username] = person.model_copy(update={"open_tasks": person.open_tasks + load.delta})
            if change.cursor is not None:
                self.cursors[change.cursor.team] = change.cursor
            for marker in change.remove_markers:
                self.markers.pop((marker.day, _marker_sort(marker)), None)
            if change.consume_marker is not None:
                del self.markers[(change.consume_marker.day, _marker_sort(change.consume_marker))]
            for marker in change.add_markers:
                self.markers[(marker.day, _marker_sort(marker))] = marker

    def _check(self, change: TaskChange) -> None:
        case = self._cases.cases.get(change.case_id)
        if case is None or case.audit_seq != change.expected_audit_seq:
            raise StaleWrite()
        for write in change.tasks:
            current = self.tasks.get(write.task.id)
            if (current is not None) if write.expected_version is None else (
                current is None or current.version != write.expected_version
            ):
                raise StaleWrite()
        for load in change.loads:
            person = self.people.get(load.username)
            if person is None or (load.at_most is not None and person.open_tasks > load.at_most):
                raise StaleWrite()
        if change.cursor is not None:
            stored = self.cursors.get(change.cursor.team)
            if (stored.version if stored else 0) != change.cursor.version - 1:
                raise StaleWrite()
        consume = change.consume_marker
        if consume is not None and (consume.day, _marker_sort(consume)) not in self.markers:
            raise StaleWrite()

    def get_task(self, task_id: str) -> Optional[Task]:
        return self.tasks.get(task_id)

    def list_case_tasks(self, case_id: str) -> list[Task]:
        return sorted((t for t in self.tasks.values() if t.case_id == case_id), key=task_number)

    def list_inbox(self, key: str) -> list[Task]:
        return sorted((t for t in self.tasks.values() if inbox_key(t) == key), key=inbox_sort_key)

    def get_cursor(self, team: str) -> RoundRobinCursor:
        return self.cursors.get(team) or RoundRobinCursor(team=team, last=None, version=0)

    def due_markers(self, day: str, before: str) -> list[DueMarker]:
        bound = f"{before}#"
        return sorted(
            (m for (d, sort), m in self.markers.items() if d == day and sort < bound), key=_marker_sort
        )

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
