"""SLAs in working time: due dates on a case type's calendar (cases and their tasks), the clock stopped while a case
waits for documents, and the SLA view the case routes answer with. In December London is on UTC, so the standard
calendar's office hours are 09:00-17:00 UTC; 2026-12-04 is a Friday."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest

from chalicelib.adapters.memory.case_types import InMemoryCaseTypeStore
from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.tokens import InMemoryTokenStore
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.domain.calendars import Calendar
from chalicelib.domain.case_as_of import rebuild
from chalicelib.domain.clock import iso
from chalicelib.domain.models import Case, CaseStatus
from chalicelib.domain.personnel import Person
from chalicelib.domain.sla import (
    clock_move, due_after, elapsed, repriced_due, resumed_due, sla_view, time_left, warning_at,
)
from chalicelib.services.calendars import STANDARD
from chalicelib.services.case_types import CaseTypeCatalog
from chalicelib.services.cases import CaseNumbers, CaseService
from chalicelib.services.sla import SlaViews
from chalicelib.services.tasks import TaskService
from chalicelib.services.workflow import Stage, WorkflowService
from chalicelib.settings import DEFAULT_WAIT_SECONDS
from tests.support import FakeEngine, FixedClock, SequentialIds, principal

UTC = timezone.utc
FRIDAY_3PM = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
ADMIN = principal("root", "admin")
ALICE = principal("alice", "caseworker", team="general")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- the arithmetic ------------------------------------------------------------------------------------------


def test_without_a_calendar_hours_are_wall_clock_hours():
    assert due_after(FRIDAY_3PM, 8, None) == at("2026-12-04T23:00")
    assert warning_at(FRIDAY_3PM, at("2026-12-04T23:00"), None) == at("2026-12-04T21:24")
    assert time_left(at("2026-12-04T23:00"), at("2026-12-05T01:00"), None) == timedelta(hours=-2)


def test_on_a_calendar_hours_skip_nights_and_the_weekend():
    due = due_after(FRIDAY_3PM, 8, STANDARD)
    assert due == at("2026-12-07T15:00")  # 2 hours on Friday, 6 on Monday
    assert warning_at(FRIDAY_3PM, due, STANDARD) == at("2026-12-07T13:24")  # 80 % of 8 working hours: 6h24
    assert time_left(due, at("2026-12-05T12:00"), STANDARD) == timedelta(hours=6)  # Saturday: nothing runs
    assert time_left(due, at("2026-12-08T10:00"), STANDARD) == timedelta(hours=-3)  # Monday 15-17, Tuesday 9-10


def test_a_pause_moves_the_due_date_by_the_working_time_it_took():
    due = at("2026-12-07T15:00")
    # Friday 16:00 to Monday 10:00 holds 2 working hours: Monday 15:00 becomes Monday 17:00
    assert resumed_due(due, at("2026-12-04T16:00"), at("2026-12-07T10:00"), STANDARD) == at("2026-12-07T17:00")
    assert resumed_due(due, at("2026-12-05T10:00"), at("2026-12-06T10:00"), STANDARD) == due  # a weekend pause
    assert resumed_due(due, at("2026-12-05T10:00"), at("2026-12-06T10:00"), None) == at("2026-12-08T15:00")


def test_a_new_priority_counts_from_creation_and_keeps_the_time_paused():
    due = resumed_due(due_after(FRIDAY_3PM, 8, STANDARD), at("2026-12-04T16:00"), at("2026-12-07T10:00"), STANDARD)
    assert repriced_due(FRIDAY_3PM, due, 8, 4, STANDARD) == at("2026-12-07T13:00")  # 4 hours + the 2 paused
    paused_5_hours = FRIDAY_3PM + timedelta(hours=8 + 5)
    assert elapsed(FRIDAY_3PM, repriced_due(FRIDAY_3PM, paused_5_hours, 8, 16, None), None) == timedelta(hours=16 + 5)


def test_a_calendar_with_too_little_working_time_falls_back_to_wall_clock_hours():
    hours = 24 * 366 * 4  # more working time than three years of office hours hold
    assert due_after(FRIDAY_3PM, hours, STANDARD) == FRIDAY_3PM + timedelta(hours=hours)


def _case(**changes: Any) -> Case:
    values: dict[str, Any] = dict(
        id="c1", number="CASE-2026-000001", title="t", description="", case_type="OFFICE", priority="MEDIUM",
        customer_id="CUST-1",
        status="IN_PROGRESS", version=3, created_at=iso(FRIDAY_3PM), created_by="alice", updated_at=iso(FRIDAY_3PM),
        updated_by="alice", due_at="2026-12-07T15:00:00.000Z",
    )
    return Case(**{**values, **changes})


def test_entering_pending_documents_stops_the_clock_and_leaving_it_moves_the_due_date():
    waiting = _case()
    updates, audit = clock_move(waiting, CaseStatus.PENDING_DOCUMENTS, at("2026-12-04T16:00"), STANDARD)
    assert updates == {"sla_paused_at": "2026-12-04T16:00:00.000Z"} == {"sla_paused_at": audit["slaPausedAt"]}
    paused = _case(status="PENDING_DOCUMENTS", sla_paused_at="2026-12-04T16:00:00.000Z")
    assert clock_move(paused, CaseStatus.PENDING_DOCUMENTS, at("2026-12-07T10:00"), STANDARD) == ({}, {})
    updates, audit = clock_move(paused, CaseStatus.PENDING_APPROVAL, at("2026-12-07T10:00"), STANDARD)
    assert updates == {"sla_paused_at": None, "due_at": "2026-12-07T17:00:00.000Z"}
    assert audit == {"slaPaused": {
        "from": "2026-12-04T16:00:00.000Z", "to": "2026-12-07T10:00:00.000Z",
        "dueAt": {"from": "2026-12-07T15:00:00.000Z", "to": "2026-12-07T17:00:00.000Z"},
    }}
    assert clock_move(waiting, CaseStatus.RESOLVED, at("2026-12-07T10:00"), STANDARD) == ({}, {})


def test_the_view_shows_the_working_time_left_and_freezes_it_while_paused():
    running = sla_view(_case(), at("2026-12-07T09:30"), STANDARD)
    assert (running.paused, running.time_left_seconds, running.calendar) == (False, 5.5 * 3600, "standard")
    paused = sla_view(_case(sla_paused_at="2026-12-04T16:00:00.000Z"), at("2026-12-09T12:00"), STANDARD)
    assert paused.to_api() == {
        "dueAt": "2026-12-07T15:00:00.000Z", "paused": True, "pausedAt": "2026-12-04T16:00:00.000Z",
        "timeLeftSeconds": 7 * 3600, "calendar": "standard",
    }
    overdue = sla_view(_case(), at("2026-12-07T18:00"), None)
    assert (overdue.time_left_seconds, overdue.calendar) == (-3 * 3600, None)


# -- the services ---------------------------------------------------------------------------------------------


class Calendars:
    """The calendar store as the services see it (CalendarService.calendar): `standard`, until deleted."""

    def __init__(self) -> None:
        self.stored: dict[str, Calendar] = {"standard": STANDARD}

    def __call__(self, calendar_id: str) -> Optional[Calendar]:
        return self.stored.get(calendar_id)


OFFICE = {
    "id": "OFFICE", "name": "Office request", "team": "general", "calendar": "standard",
    "slaHours": {"LOW": 16, "MEDIUM": 8, "HIGH": 4, "CRITICAL": 2},
    "tasks": [{"type": "CHECK", "title": "Check it"}, {"type": "FIX", "title": "Fix it", "slaHours": {"MEDIUM": 2}}],
}


@pytest.fixture
def system():
    repo, clock, calendars = InMemoryCaseRepository(), FixedClock(FRIDAY_3PM), Calendars()
    catalog = CaseTypeCatalog(InMemoryCaseTypeStore(), lambda: ("general",), calendar_exists=lambda _: True)
    catalog.create(ADMIN, OFFICE)
    cases = CaseService(repo, catalog, CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"),
                        calendars=calendars)
    work = InMemoryWorkRepository(repo)
    work.save_person(Person(username="alice", team="general", capacity=10))
    tasks = TaskService(repo, work, work, catalog, clock=clock, calendars=calendars)
    workflow = WorkflowService(repo, FakeEngine, InMemoryTokenStore(), tasks, catalog, dict(DEFAULT_WAIT_SECONDS),
                               clock, calendars=calendars)
    return repo, clock, calendars, catalog, cases, work, tasks, workflow


def _open(cases: CaseService, **changes: Any) -> Case:
    return cases.create(ALICE, {"title": "t", "caseType": "OFFICE", "priority": "MEDIUM", "customerId": "CUST-1",
                                **changes})


def test_a_case_is_due_in_working_time_on_its_types_calendar_and_a_new_priority_counts_so_too(system):
    *_, cases, _work, _tasks, _workflow = system
    case = _open(cases)
    assert case.due_at == "2026-12-07T15:00:00.000Z"  # 8 working hours from Friday 15:00
    assert cases.update(ALICE, case.id, {"priority": "HIGH"}, '"1"').due_at == "2026-12-07T11:00:00.000Z"


def test_a_type_without_a_calendar_keeps_wall_clock_due_dates(system):
    *_, cases, _work, _tasks, _workflow = system
    case = cases.create(ALICE, {"title": "t", "caseType": "GENERAL", "priority": "HIGH", "customerId": "CUST-1"})
    assert case.due_at == iso(FRIDAY_3PM + timedelta(hours=48))  # GENERAL's HIGH: 48 hours, around the clock


def test_a_calendar_deleted_since_the_type_named_it_falls_back_to_wall_clock_with_a_warning(system, caplog):
    _repo, _clock, calendars, _catalog, cases, *_ = system
    del calendars.stored["standard"]
    with caplog.at_level(logging.WARNING, logger="chalicelib.services.sla"):
        case = _open(cases)
    assert case.due_at == "2026-12-04T23:00:00.000Z"
    assert "calendar standard, which does not exist" in caplog.text


def test_the_workflows_tasks_are_due_and_warned_in_working_time(system):
    _repo, _clock, _calendars, _catalog, cases, work, tasks, _workflow = system
    created = tasks.create_for_case(_open(cases))
    assert [(t.type, t.due_at) for t in created] == [
        ("CHECK", "2026-12-07T15:00:00.000Z"),  # the case type's 8 hours
        ("FIX", "2026-12-04T17:00:00.000Z"),  # its own 2 hours
    ]
    markers = sorted((m.task_id, m.due_at, m.warning) for m in work.due_markers("2026-12-07", "2026-12-08"))
    check = created[0].id
    assert markers == [(check, "2026-12-07T13:24:00.000Z", True), (check, "2026-12-07T15:00:00.000Z", False)]
    assert [(m.due_at, m.warning) for m in work.due_markers("2026-12-04", "2026-12-05")] == [
        ("2026-12-04T16:36:00.000Z", True), ("2026-12-04T17:00:00.000Z", False),  # 80 % of 2 hours: 1h36
    ]


def test_waiting_for_documents_stops_the_case_clock_and_the_documents_coming_in_move_its_due_date(system):
    repo, clock, calendars, catalog, cases, work, tasks, workflow = system
    case = _open(cases, requiredDocuments=["id"])
    workflow.initiate(case.id, "run-1")
    workflow.assign(case.id)
    clock.now = at("2026-12-04T16:00")
    workflow.wait(case.id, Stage.DOCUMENTS, "token-1", "run-1")
    paused = repo.get_case(case.id)
    assert (paused.status, paused.sla_paused_at) == (CaseStatus.PENDING_DOCUMENTS, "2026-12-04T16:00:00.000Z")
    view = SlaViews(catalog, calendars, clock=lambda: at("2026-12-09T12:00")).view(paused)
    assert (view.sla.paused, view.sla.time_left_seconds) == (True, 7 * 3600)  # as left when the clock stopped

    clock.now = at("2026-12-07T10:00")  # the documents are in: the case works on its tasks, no approval follows
    workflow.wait(case.id, Stage.TASKS, "token-2", "run-1")
    resumed = repo.get_case(case.id)
    assert (resumed.status, resumed.sla_paused_at) == (CaseStatus.IN_PROGRESS, None)
    assert resumed.due_at == "2026-12-07T17:00:00.000Z"  # 2 working hours later: Friday 16-17, Monday 9-10
    events = repo.list_events(case.id)
    check, fix = sorted(tasks.case_tasks(case.id), key=lambda t: t.type)
    assert events[-1].data["slaPaused"] == {
        "from": "2026-12-04T16:00:00.000Z", "to": "2026-12-07T10:00:00.000Z",
        "dueAt": {"from": "2026-12-07T15:00:00.000Z", "to": "2026-12-07T17:00:00.000Z"},
        "tasks": [  # its open tasks moved by the same 2 working hours, in the same write
            {"taskId": check.id, "dueAt": {"from": "2026-12-07T15:00:00.000Z", "to": "2026-12-07T17:00:00.000Z"}},
            {"taskId": fix.id, "dueAt": {"from": "2026-12-04T17:00:00.000Z", "to": "2026-12-07T11:00:00.000Z"}},
        ],
    }
    assert (check.due_at, check.version, fix.due_at) == ("2026-12-07T17:00:00.000Z", 2, "2026-12-07T11:00:00.000Z")
    markers = sorted((m.due_at, m.task_id, m.warning) for day in ("2026-12-04", "2026-12-07")
                     for m in work.due_markers(day, "2026-12-08"))
    assert markers == [  # the old markers are gone; warnings moved by the same working time
        ("2026-12-07T10:36:00.000Z", fix.id, True), ("2026-12-07T11:00:00.000Z", fix.id, False),
        ("2026-12-07T15:24:00.000Z", check.id, True), ("2026-12-07T17:00:00.000Z", check.id, False),
    ]
    # the audit chain states the pause: the case rebuilt from it is the case stored, at each step
    assert rebuild(events)[0].to_api() == resumed.to_api()
    during = [e for e in events if e.data.get("slaPausedAt")]
    assert rebuild(events[: events.index(during[0]) + 1])[0].sla_paused_at == "2026-12-04T16:00:00.000Z"


# -- the HTTP edge ----------------------------------------------------------------------------------------------


def test_case_answers_carry_the_sla_view_and_the_openapi_document_states_it(client):
    from tests.api_support import POOL

    status, case, _ = POOL.call(client, "POST", "/cases", "alice", {
        "title": "Kettle", "caseType": "GENERAL", "priority": "HIGH", "customerId": "CUST-1",
    })
    assert status == 201 and case["sla"]["dueAt"] == case["dueAt"] and case["slaPausedAt"] is None
    assert (case["sla"]["paused"], case["sla"]["calendar"]) == (False, None)  # GENERAL names no calendar
    assert 0 < case["sla"]["timeLeftSeconds"] <= 48 * 3600
    status, read, _ = POOL.call(client, "GET", f"/cases/{case['id']}", "alice")
    assert status == 200 and set(read["sla"]) == {"dueAt", "paused", "pausedAt", "timeLeftSeconds", "calendar"}
    schemas = POOL.call(client, "GET", "/openapi.json", None)[1]["components"]["schemas"]
    assert set(schemas["SlaView"]["required"]) == {"dueAt", "paused", "timeLeftSeconds"}
    assert "sla" in schemas["CaseView"]["required"] and "slaPausedAt" in schemas["Case"]["properties"]


def test_an_escalated_task_and_the_escalation_keep_their_due_dates_when_the_clock_runs_again(system):
    repo, clock, _calendars, _catalog, cases, _work, tasks, workflow = system
    case = _open(cases, requiredDocuments=["id"])
    workflow.initiate(case.id, "run-1")
    workflow.assign(case.id)
    clock.now = at("2026-12-04T16:00")
    workflow.wait(case.id, Stage.DOCUMENTS, "token-1", "run-1")
    (escalation,) = tasks.escalate_overdue(at("2026-12-04T17:30"))  # FIX was due at 17:00
    clock.now = at("2026-12-07T10:00")
    workflow.wait(case.id, Stage.TASKS, "token-2", "run-1")
    moved = repo.list_events(case.id)[-1].data["slaPaused"]["tasks"]
    check = next(t for t in tasks.case_tasks(case.id) if t.type == "CHECK")
    assert [m["taskId"] for m in moved] == [check.id] and escalation.id not in {m["taskId"] for m in moved}
    assert {t.type: t.due_at for t in tasks.case_tasks(case.id) if t.type == "FIX"} == {
        "FIX": "2026-12-04T17:00:00.000Z",
    }
