"""One contract, two work repositories (tasks, personnel, cursors, due markers): the in-memory twin
the unit tests use must behave like DynamoDB.

TestWorkContract runs against InMemoryWorkRepository and against DynamoWorkRepository on a fresh table in the
moto server (the `backend` fixture); TestDynamoWork holds what only DynamoDB has to get right."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterable, Optional

import pytest

from chalicelib.domain import audit
from chalicelib.domain.personnel import AbsenceWindow, Person
from chalicelib.domain.tasks import Task, TaskStatus, completed, reassigned, task_id
from chalicelib.errors import Conflict
from chalicelib.domain.changes import CaseChange, LoadChange
from chalicelib.ports import DueMarker, RoundRobinCursor, StaleWrite
from chalicelib.services.tasks import TaskService
from tests.support import FixedClock, chained, create_case, events_change, new_case, principal, save_case, case_types


@dataclass(frozen=True)
class TaskWrite:
    task: Task
    expected_version: Optional[int] = None  # None: a new task, which must not exist yet


def task_change(
    *, case_id: str, expected_audit_seq: int, events: list, tasks: Iterable[TaskWrite] = (),
    loads: Iterable[LoadChange] = (), cursor: Optional[RoundRobinCursor] = None, add_markers: Iterable[DueMarker] = (),
    remove_markers: Iterable[DueMarker] = (), consume_marker: Optional[DueMarker] = None,
) -> CaseChange:
    """The writes of one task operation, as the task service makes them."""
    change = events_change(case_id, expected_audit_seq, events, "system")
    for write in tasks:
        change.put(write.task, expected=write.expected_version)
    change.writes.extend(loads)
    if cursor is not None:
        change.put(cursor, expected=cursor.version - 1 or None)
    for due in remove_markers:
        change.delete(due)
    if consume_marker is not None:
        change.delete(consume_marker, must_exist=True)
    for due in add_markers:
        change.overwrite(due)
    return change


def person(username: str, team: str = "claims", **fields) -> Person:
    return Person(**{"username": username, "team": team, "skills": [team], "capacity": 5, **fields})


def a_task(case_id: str, seq: int, **fields) -> Task:
    values = dict(
        id=task_id(case_id, seq), case_id=case_id, type="ASSESS", title="Assess the claim", assignee="alice",
        team="claims", status=TaskStatus.OPEN, required=True, due_at=f"2026-03-04T12:00:{seq % 60:02d}.000Z",
        created_at="2026-03-01T12:00:00.000Z", version=1, run=1,
    )
    values.update(fields)
    return Task(**values)


def marker(task: Task) -> DueMarker:
    return DueMarker(case_id=task.case_id, task_id=task.id, due_at=task.due_at)


def create(cases, work, *tasks: Task, loads=(), cursor=None, markers=True) -> None:
    case_id = tasks[0].case_id
    expected, events = chained(cases, case_id, len(tasks))
    cases.apply(task_change(
        case_id=case_id, expected_audit_seq=expected, events=events, tasks=[TaskWrite(t) for t in tasks],
        loads=list(loads), cursor=cursor, add_markers=[marker(t) for t in tasks] if markers else [],
    ))


def change(cases, before: Task, after: Task, loads=(), **extra) -> CaseChange:
    expected, events = chained(cases, before.case_id, 1, "TASK_CHANGED")
    return task_change(case_id=before.case_id, expected_audit_seq=expected, events=events,
                       tasks=[TaskWrite(after, expected_version=before.version)], loads=list(loads), **extra)


def snapshot(cases, work, case_id: str = "case-1") -> tuple:
    """Everything a change may touch, to check a refused change touched nothing."""
    return (
        cases.get_case(case_id), [e.seq for e in cases.list_events(case_id)], work.list_case_tasks(case_id),
        [(p.username, p.open_tasks) for p in work.list_people("claims")], work.get_cursor("claims"),
        work.due_markers("2026-03-04", "9999"),
    )


@pytest.fixture
def work(backend):
    return backend.work


@pytest.fixture
def staffed(cases, work):
    """case-1 (CLAIM, team claims) and alice, amy, sam in the claims directory."""
    create_case(cases, *new_case("case-1", case_type="CLAIM", team="claims", priority="HIGH"), None)
    for name in ("alice", "amy"):
        work.save_person(person(name))
    work.save_person(person("sam", supervisor=True))


class TestWorkContract:
    # -- personnel -------------------------------------------------------------------------------

    def test_person_round_trip(self, work):
        away = AbsenceWindow.model_validate({"from": "2026-03-02", "to": "2026-03-04"})
        full = person("alice", skills=["claims", "fraud"], capacity=7, supervisor=True,
                      updated_at="2026-03-01T12:00:00.000Z", updated_by="ada", out_of_office=away)
        assert work.save_person(full) == full
        assert work.get_person("alice") == full
        bare = person("bob", "complaints", skills=[], out_of_office=True)
        work.save_person(bare)
        assert work.get_person("bob") == bare
        assert work.get_person("nobody") is None

    def test_saving_a_person_keeps_the_counter_and_moves_teams(self, cases, work, staffed):
        create(cases, work, a_task("case-1", 2), loads=[LoadChange("alice", 1)])
        moved = work.save_person(person("alice", "complaints", capacity=9))
        assert (moved.team, moved.capacity, moved.open_tasks) == ("complaints", 9, 1)
        assert [p.username for p in work.list_people("claims")] == ["amy", "sam"]
        assert [p.username for p in work.list_people("complaints")] == ["alice"]
        assert work.list_teams() == ["claims", "complaints"]
        assert work.list_people("nobody") == []

    def test_an_empty_directory(self, work):
        assert work.list_teams() == [] and work.list_people("claims") == []

    # -- creating tasks ------------------------------------------------------------------------------

    def test_create_tasks_with_events_loads_and_markers(self, cases, work, staffed):
        first, second = a_task("case-1", 2), a_task("case-1", 3, assignee=None, required=False, run=None)
        create(cases, work, first, second, loads=[LoadChange("alice", 1, at_most=4)])
        assert work.get_task(first.id) == first and work.get_task(second.id) == second
        assert work.list_case_tasks("case-1") == [first, second]
        assert [e.seq for e in cases.list_events("case-1")] == [1, 2, 3]
        assert cases.get_case("case-1").audit_seq == 3
        assert work.get_person("alice").open_tasks == 1
        assert [m.task_id for m in work.due_markers("2026-03-04", "9999")] == [first.id, second.id]

    def test_every_task_field_round_trips(self, cases, work, staffed):
        done = a_task("case-1", 2, status=TaskStatus.DONE, completed_at="2026-03-02T08:00:00.000Z", completed_by="sam",
                      outcome="paid 🎉", comment="line one\nline two", reason="why", escalates="case-1-t9",
                      escalation="case-1-t7", version=4, type="ESCALATION", title="Ölschaden — prüfen")
        create(cases, work, done, markers=False)
        assert work.get_task(done.id) == done
        assert work.get_task(done.id).model_dump() == done.model_dump()

    def test_tasks_are_listed_in_number_order_past_nine(self, cases, work, staffed):
        tasks = [a_task("case-1", n) for n in range(2, 13)]
        create(cases, work, *tasks)
        assert [t.id for t in work.list_case_tasks("case-1")] == [t.id for t in tasks]
        assert work.list_case_tasks("other") == []

    def test_unknown_and_malformed_task_ids_are_none(self, work):
        assert work.get_task("case-1-t2") is None and work.get_task("junk") is None

    def test_a_stale_audit_head_writes_nothing(self, cases, work, staffed):
        expected, events = chained(cases, "case-1", 1)
        before = snapshot(cases, work)
        with pytest.raises(StaleWrite):
            cases.apply(task_change(case_id="case-1", expected_audit_seq=expected + 1, events=events,
                                  tasks=[TaskWrite(a_task("case-1", 2))], loads=[LoadChange("alice", 1)],
                                  add_markers=[marker(a_task("case-1", 2))]))
        assert snapshot(cases, work) == before

    def test_a_change_to_a_missing_case_is_stale(self, cases, work, staffed):
        event = audit.next_event(case_id="ghost", prev_seq=1, prev_hash="", type="TASK_CREATED", actor="system",
                                 at="2026-03-01T12:00:00.000Z", data={})
        with pytest.raises(StaleWrite):
            cases.apply(task_change(case_id="ghost", expected_audit_seq=1, events=[event],
                                  tasks=[TaskWrite(a_task("ghost", 2))]))
        assert work.get_task("ghost-t2") is None

    def test_an_existing_task_is_not_created_again(self, cases, work, staffed):
        create(cases, work, a_task("case-1", 2))
        before = snapshot(cases, work)
        with pytest.raises(StaleWrite):
            create(cases, work, a_task("case-1", 2, title="Impostor"), loads=[LoadChange("amy", 1)])
        assert snapshot(cases, work) == before

    def test_a_load_over_capacity_or_of_a_stranger_writes_nothing(self, cases, work, staffed):
        work.save_person(person("alice", capacity=1))
        create(cases, work, a_task("case-1", 2), loads=[LoadChange("alice", 1, at_most=0)])
        before = snapshot(cases, work)
        with pytest.raises(StaleWrite):
            create(cases, work, a_task("case-1", 3), loads=[LoadChange("alice", 1, at_most=0)])
        with pytest.raises(StaleWrite):
            create(cases, work, a_task("case-1", 3, assignee="zed"), loads=[LoadChange("zed", 1)])
        assert snapshot(cases, work) == before
        assert work.get_person("zed") is None

    def test_round_robin_cursor_advances_only_from_the_version_read(self, cases, work, staffed):
        assert work.get_cursor("claims") == RoundRobinCursor("claims", None, 0)
        create(cases, work, a_task("case-1", 2), cursor=RoundRobinCursor("claims", "alice", 1))
        assert work.get_cursor("claims") == RoundRobinCursor("claims", "alice", 1)
        before = snapshot(cases, work)
        with pytest.raises(StaleWrite):  # a second writer that also read "no cursor yet"
            create(cases, work, a_task("case-1", 3, assignee="amy"), cursor=RoundRobinCursor("claims", "amy", 1))
        assert snapshot(cases, work) == before
        create(cases, work, a_task("case-1", 3, assignee="amy"), cursor=RoundRobinCursor("claims", "amy", 2))
        assert work.get_cursor("claims") == RoundRobinCursor("claims", "amy", 2)
        assert work.get_cursor("complaints").version == 0

    # -- changing tasks ------------------------------------------------------------------------------

    def test_completion_leaves_the_inbox_and_releases_the_load(self, cases, work, staffed):
        task = a_task("case-1", 2)
        create(cases, work, task, loads=[LoadChange("alice", 1)])
        done = completed(task, "alice", "2026-03-02T08:00:00.000Z", "ok", None)
        cases.apply(change(cases, task, done, loads=[LoadChange("alice", -1)], remove_markers=[marker(task)]))
        assert work.get_task(task.id) == done
        assert work.list_inbox("USER#alice") == [] and work.get_person("alice").open_tasks == 0
        assert work.due_markers("2026-03-04", "9999") == []

    def test_a_stale_task_version_writes_nothing(self, cases, work, staffed):
        task = a_task("case-1", 2)
        create(cases, work, task, loads=[LoadChange("alice", 1)])
        moved = reassigned(task, "amy")
        cases.apply(change(cases, task, moved, loads=[LoadChange("alice", -1), LoadChange("amy", 1)]))
        before = snapshot(cases, work)
        with pytest.raises(StaleWrite):  # decided on the version before the reassignment
            cases.apply(change(cases, task, completed(task, "alice", "2026-03-02T08:00:00.000Z", None, None),
                              loads=[LoadChange("alice", -1)], remove_markers=[marker(task)]))
        assert snapshot(cases, work) == before

    def test_inboxes_list_open_tasks_soonest_due_first(self, cases, work, staffed):
        later = a_task("case-1", 2, due_at="2026-03-05T00:00:00.000Z")
        sooner = a_task("case-1", 3, due_at="2026-03-04T00:00:00.000Z")
        queued = a_task("case-1", 4, assignee=None)
        other = a_task("case-1", 5, assignee=None, team="complaints")
        create(cases, work, later, sooner, queued, other)
        assert [t.id for t in work.list_inbox("USER#alice")] == [sooner.id, later.id]
        assert work.list_inbox("TEAM#claims") == [queued]
        assert work.list_inbox("TEAM#complaints") == [other]
        assert work.list_inbox("USER#amy") == [] and work.list_inbox("TEAM#nobody") == []
        claimed = queued.model_copy(update={"assignee": "amy", "version": 2})
        cases.apply(change(cases, queued, claimed, loads=[LoadChange("amy", 1)]))
        assert work.list_inbox("TEAM#claims") == [] and work.list_inbox("USER#amy") == [claimed]

    def test_due_markers_are_per_day_and_strictly_before(self, cases, work, staffed):
        due = a_task("case-1", 2, due_at="2026-03-04T10:00:00.000Z")
        later = a_task("case-1", 3, due_at="2026-03-04T18:00:00.000Z")
        next_day = a_task("case-1", 4, due_at="2026-03-05T01:00:00.000Z")
        create(cases, work, due, later, next_day)
        assert [m.task_id for m in work.due_markers("2026-03-04", "2026-03-04T10:00:00.000Z")] == []
        assert work.due_markers("2026-03-04", "2026-03-04T10:00:00.001Z") == [marker(due)]
        assert [m.task_id for m in work.due_markers("2026-03-04", "2026-03-05T00:00:00.000Z")] == [due.id, later.id]
        assert [m.task_id for m in work.due_markers("2026-03-05", "9999")] == [next_day.id]
        assert work.due_markers("2026-03-06", "9999") == []

    def test_a_marker_is_consumed_once(self, cases, work, staffed):
        task = a_task("case-1", 2)
        create(cases, work, task)
        escalated = task.model_copy(update={"escalation": "case-1-t9", "version": 2})
        cases.apply(change(cases, task, escalated, consume_marker=marker(task)))
        assert work.due_markers("2026-03-04", "9999") == []
        before = snapshot(cases, work)
        again = escalated.model_copy(update={"version": 3})
        with pytest.raises(StaleWrite):
            cases.apply(change(cases, escalated, again, consume_marker=marker(task)))
        assert snapshot(cases, work) == before

    def test_a_warning_marker_is_its_own_marker_and_read_back_as_a_warning(self, cases, work, staffed):
        task = a_task("case-1", 2).model_copy(update={"warn_at": "2026-03-04T00:00:00.000Z"})  # kept, not shown
        warning = DueMarker(case_id="case-1", task_id=task.id, due_at=task.due_at, warning=True)  # the same instant
        expected, events = chained(cases, "case-1", 1)
        cases.apply(task_change(case_id="case-1", expected_audit_seq=expected, events=events,
                                tasks=[TaskWrite(task)], add_markers=[marker(task), warning]))
        assert sorted(work.due_markers("2026-03-04", "9999"), key=lambda m: m.warning) == [marker(task), warning]
        warned = task.model_copy(update={"sla_warned_at": "2026-03-04T00:00:00.000Z", "version": 2})
        cases.apply(change(cases, task, warned, consume_marker=warning))
        assert work.due_markers("2026-03-04", "9999") == [marker(task)] and work.get_task(task.id) == warned
        assert work.get_task(task.id).warn_at == "2026-03-04T00:00:00.000Z"

    def test_sweep_day(self, work):
        assert work.get_sweep_day() is None
        work.set_sweep_day("2026-03-01")
        work.set_sweep_day("2026-03-02")
        assert work.get_sweep_day() == "2026-03-02"

    def test_case_writes_and_task_writes_share_the_audit_head(self, cases, work, staffed):
        stored = cases.get_case("case-1")
        create(cases, work, a_task("case-1", 2))
        from tests.support import changed

        updated, event = changed(stored, title="Lost update")
        with pytest.raises(StaleWrite):
            save_case(cases, updated, stored.version, stored.audit_seq, event)
        assert cases.get_case("case-1").title == stored.title

    # -- races ---------------------------------------------------------------------------------------

    def test_two_completions_from_the_same_read_one_wins(self, cases, work, staffed):
        task = a_task("case-1", 2)
        create(cases, work, task, loads=[LoadChange("alice", 1)])
        head = cases.get_case("case-1")
        attempts = [
            change(cases, task, completed(task, who, "2026-03-02T08:00:00.000Z", who, None),
                   loads=[LoadChange("alice", -1)], remove_markers=[marker(task)])
            for who in ("alice", "sam")
        ]
        assert cases.get_case("case-1") == head
        results, barrier = [], threading.Barrier(2)

        def run(attempt):
            barrier.wait()
            try:
                cases.apply(attempt)
                results.append("won")
            except StaleWrite:
                results.append("lost")

        threads = [threading.Thread(target=run, args=(a,)) for a in attempts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == ["lost", "won"]
        assert work.get_person("alice").open_tasks == 0
        assert len(cases.list_events("case-1")) == 3

    def test_two_people_completing_through_the_service_one_gets_409(self, cases, work, staffed):
        service = TaskService(cases, work, work, case_types(), clock=FixedClock())
        tasks = service.create_for_case(cases.get_case("case-1"))
        target = tasks[0]
        people = {
            "alice": principal("alice", "caseworker", team="claims"),
            "sam": principal("sam", "supervisor", team="claims"),
        }
        results, barrier = {}, threading.Barrier(2)

        def run(name):
            barrier.wait()
            try:
                results[name] = service.complete(people[name], target.id, {"outcome": name}).outcome
            except Conflict:
                results[name] = 409

        threads = [threading.Thread(target=run, args=(name,)) for name in people]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(map(str, results.values()))[0] == "409"
        winner = [name for name, outcome in results.items() if outcome != 409]
        assert len(winner) == 1 and work.get_task(target.id).outcome == winner[0]
        assert [t.assignee for t in tasks] == ["alice", "amy"]  # least loaded spreads them
        assert work.get_person("alice").open_tasks == 0  # decremented once
        assert [e.type for e in cases.list_events("case-1")].count("TASK_COMPLETED") == 1

    def test_concurrent_assignments_never_overfill_a_person(self, cases, work, staffed):
        work.save_person(person("alice", capacity=2))
        work.save_person(person("amy", capacity=1))
        service = TaskService(cases, work, work, case_types(), clock=FixedClock())
        for n in range(2, 5):
            create_case(cases, *new_case(f"case-{n}", case_type="CLAIM", team="claims", priority="LOW"), None)
        barrier = threading.Barrier(3)

        def run(case_id):
            barrier.wait()
            service.create_for_case(cases.get_case(case_id))

        threads = [threading.Thread(target=run, args=(f"case-{n}",)) for n in range(2, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert (work.get_person("alice").open_tasks, work.get_person("amy").open_tasks) == (2, 1)
        assigned = [t for n in range(2, 5) for t in work.list_case_tasks(f"case-{n}") if t.type != "ESCALATION"]
        assert len(assigned) == 6 and sum(1 for t in assigned if t.assignee) == 3
        assert work.get_person("sam").open_tasks == 3  # one escalation per queued task


@pytest.mark.parametrize("backend", ["dynamo"], indirect=True)
class TestDynamoWork:
    """What only DynamoDB has to get right."""

    def test_a_completion_is_one_transaction_and_leaves_the_inbox_index(self, cases, work, staffed, dynamo_models,
                                                                        moto_endpoint):
        import boto3

        task = a_task("case-1", 2)
        create(cases, work, task, loads=[LoadChange("alice", 1)])
        table = dynamo_models.case.Meta.table_name
        raw = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_endpoint)
        key = {"PK": {"S": "CASE#case-1"}, "SK": {"S": f"TASK#{task.id}"}}
        stored = raw.get_item(TableName=table, Key=key)["Item"]
        assert (stored["inboxPk"], stored["inboxSk"]) == ({"S": "USER#alice"}, {"S": f"TASK#{task.due_at}#{task.id}"})
        sent: list[list[str]] = []
        dynamo_models.connection.client.meta.events.register(
            "before-parameter-build.dynamodb.TransactWriteItems",
            lambda params, **_: sent.append([next(iter(item)) for item in params["TransactItems"]]),
        )
        done = completed(task, "alice", "2026-03-02T08:00:00.000Z", None, None)
        cases.apply(change(cases, task, done, loads=[LoadChange("alice", -1)], remove_markers=[marker(task)]))
        # marker, event, task, head, counter
        assert [sorted(ops) for ops in sent] == [["Delete", "Put", "Put", "Update", "Update"]]
        stored = raw.get_item(TableName=table, Key=key)["Item"]
        assert "inboxPk" not in stored and "inboxSk" not in stored
        person_item = raw.get_item(TableName=table, Key={"PK": {"S": "PERSON#alice"}, "SK": {"S": "PERSON"}})["Item"]
        assert (person_item["inboxPk"], person_item["openTasks"]) == ({"S": "MEMBERS#claims"}, {"N": "0"})
