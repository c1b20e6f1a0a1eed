"""Migrations of running cases between versions of their type (admins): a preview per case, then, on
confirmation, each movable case moved in one audited write; its tasks follow through the tasks service."""
from __future__ import annotations

from typing import Any, Optional

from ..domain import migrations
from ..domain.access import Action, Principal, require, visibility
from ..domain.case_types import CaseType
from ..domain.changes import CaseChange
from ..domain.clock import Clock, iso, utc_now
from ..domain.migrations import CaseMigration, MigrationAnswer, MigrationRequest
from ..domain.models import Case, CaseStatus
from ..errors import NotFound
from ..ports import CaseQuery, CaseRepository
from . import cursor
from .case_types import CaseTypeCatalog
from .retry import Decided, retrying
from .sla import CalendarLookup, calendar_for
from .tasks import TaskService
from .validation import parse


class CaseMigrations:
    def __init__(
        self, cases: CaseRepository, case_types: CaseTypeCatalog, tasks: TaskService, clock: Clock = utc_now,
        calendars: CalendarLookup = lambda _id: None,
    ) -> None:
        """`calendars`: business calendars by id, for due dates on the target version's calendar."""
        self._cases, self._case_types, self._tasks, self._clock = cases, case_types, tasks, clock
        self._calendars = calendars

    def migrate(self, principal: Principal, case_type_id: str, payload: Any) -> MigrationAnswer:
        """Preview (or with `apply`, migrate) the listed cases, or a page of the type's running ones."""
        require(principal, Action.MANAGE_CASE_TYPES)
        request = parse(MigrationRequest, payload)
        target = self._case_types.version(case_type_id, request.target_version)
        if target is None:
            raise NotFound(f"case type {case_type_id} has no version {request.target_version}")
        cases, next_cursor = self._selected(principal, target, request)
        planned = [self._plan(case_id, case, target) for case_id, case in cases]
        if request.apply:
            planned = [self._migrate(principal, p, target) if p.can_migrate else p for p in planned]
        return MigrationAnswer(
            applied=request.apply, target_version=target.version, cases=planned,
            migrated=[p.case_id for p in planned if request.apply and p.can_migrate],
            refused=[p.case_id for p in planned if not p.can_migrate], next_cursor=next_cursor,
        )

    def _selected(
        self, principal: Principal, target: CaseType, request: MigrationRequest,
    ) -> tuple[list[tuple[str, Optional[Case]]], Optional[str]]:
        if request.case_ids is not None:
            ids = list(dict.fromkeys(request.case_ids))
            found = self._cases.get_cases(ids)
            return [(case_id, found.get(case_id)) for case_id in ids], None
        query = CaseQuery(visibility=visibility(principal), case_type=target.id)
        page, next_cursor = cursor.paged(
            "running cases", {"caseType": target.id, "targetVersion": target.version}, migrations.RUNNING_PAGE,
            request.cursor, lambda size, start: self._cases.list_cases(query, size, start),
        )
        # Filtered while paging: a page may hold fewer running cases than it read, and still have a next one.
        running = [c for c in page if c.status != CaseStatus.CLOSED and c.case_type_version != target.version]
        return [(case.id, case) for case in running], next_cursor

    def _plan(self, case_id: str, case: Optional[Case], target: CaseType) -> CaseMigration:
        if case is None:
            return migrations.not_found(case_id, target)
        source = self._case_types.of_case(case) if case.case_type == target.id else target
        calendar = calendar_for(target, self._calendars)
        return migrations.plan(case, source, target, self._tasks.case_tasks(case.id), calendar)

    def _migrate(self, principal: Principal, planned: CaseMigration, target: CaseType) -> CaseMigration:
        """One write moves the case (re-planned on what is stored now: the answer shows that plan); then the
        open tasks of types the target drops are cancelled and, when the workflow made tasks, the new types'
        are created, each an audited write of the tasks service."""

        def read() -> tuple[Optional[Case], CaseMigration]:
            case = self._cases.get_case(planned.case_id)
            return case, self._plan(planned.case_id, case, target)

        def decide(seen: tuple[Optional[Case], CaseMigration]) -> Decided[tuple[CaseMigration, Optional[Case]]]:
            case, migration = seen
            if case is None or not migration.can_migrate:
                return None, (migration, None)
            change = CaseChange(case, principal.username, iso(self._clock()))
            change.append(migrations.MIGRATED, migrations.event_data(migration, case.version + 1))
            change.move(**migrations.migrated_case(case, migration))
            return change, (migration, change.case)

        migration, moved = retrying(
            self._cases.apply, read, decide, f"case {planned.case_id} is changing too fast; retry",
        )
        if moved is None or migration.changes is None:
            return migration
        cancelled = {task.task_id for task in migration.changes.tasks_cancelled}
        if cancelled:
            self._tasks.cancel_open_tasks(moved.id, principal.username, only=cancelled)
        if migration.changes.tasks_added:
            self._tasks.create_for_case(moved)
        return migration
