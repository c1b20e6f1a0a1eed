"""The task and personnel services on the in-memory adapters: assignment when the workflow creates a
case's tasks, claiming, completing, reassigning, cancelling, escalating, and the audit trail of all."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.domain import audit
from chalicelib.domain.clock import iso
from chalicelib.domain.models import WorkflowState
from chalicelib.domain.personnel import AbsenceWindow, Person
from chalicelib.domain.tasks import ESCALATION, TaskStatus
from chalicelib.errors import Conflict, Forbidden, InvalidInput, NotFound
from chalicelib.ports import RoundRobinCursor, StaleWrite
from chalicelib.services.personnel import PersonnelService, seed_personnel
from chalicelib.services.tasks import TaskFilters, TaskService
from tests.support import FixedClock, changed, create_case, fields_of, new_case, principal, save_case, case_types

ALICE = principal("alice", "caseworker", team="claims")
AMY = principal("amy", "caseworker", team="claims")
BOB = principal("bob", "caseworker", team="complaints")
SAM = principal("sam", "supervisor", team="claims")
SID = principal("sid", "supervisor", team="complaints")
ADA = principal("ada", "admin", team="ops")
AUD = principal("aud", "auditor")


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def cases():
    return InMemoryCaseRepository()


@pytest.fixture
def work(cases):
    return InMemoryWorkRepository(cases)


@pytest.fixture
def completed_cases():
    return []


@pytest.fixture
def service(cases, work, clock, completed_cases):
    return TaskService(cases, work, work, case_types(), clock=clock, on_task_completed=completed_cases.append)


def file(work, username, team="claims", **fields) -> Person:
    defaults = dict(skills=[team], capacity=5, out_of_office=False, supervisor=False)
    return work.save_person(Person(username=username, team=team, **{**defaults, **fields}))


@pytest.fixture
def staff(work):
    """claims: alice, amy (caseworkers), sam (supervisor); complaints: bob, sid (supervisor)."""
    for name, team, supervisor in [("alice", "claims", False), ("amy", "claims", False), ("sam", "claims", True),
                                   ("bob", "complaints", False), ("sid", "complaints", True)]:
        file(work, name, team, supervisor=supervisor)


def open_case(cases, case_id="case-1", **fields):
    defaults = dict(case_type="CLAIM", priority="HIGH", team="claims", created_by="alice")
    case, event = new_case(case_id, **{**defaults, **fields})
    create_case(cases, case, event, None)
    return case


def load(work, username) -> int:
    return work.get_person(username).open_tasks


def chain_is_valid(cases, case_id) -> bool:
    head = cases.get_case(case_id)
    return audit.verify_chain(cases.list_events(case_id), head=(head.audit_seq, head.audit_hash)).valid


# -- create_for_case -----------------------------------------------------------------------------------


def test_claim_tasks_go_to_the_least_loaded_skilled_member_with_an_audit_event_each(service, cases, work, staff):
    file(work, "alice", "claims", skills=["claims"])
    work.people["alice"] = work.people["alice"].model_copy(update={"open_tasks": 2})
    case = open_case(cases)
    tasks = service.create_for_case(case)
    assert [t.type for t in tasks] == ["VERIFY_DOCUMENTS", "ASSESS_CLAIM"]
    assert [t.id for t in tasks] == ["case-1-t2", "case-1-t3"]  # the seq of each TASK_CREATED event
    assert [t.assignee for t in tasks] == ["amy", "amy"]  # amy 0 → 1 < alice 2
    assert all(t.status == TaskStatus.OPEN and t.required and t.team == "claims" for t in tasks)
    assert tasks[0].due_at == "2026-03-04T12:00:00.000Z"  # CLAIM HIGH: 72 hours
    assert (load(work, "amy"), load(work, "alice")) == (2, 2)
    assert [e.type for e in cases.list_events("case-1")] == ["CASE_CREATED", "TASK_CREATED", "TASK_CREATED"]
    assert chain_is_valid(cases, "case-1")
    assert [t.id for t in work.list_inbox("USER#amy")] == ["case-1-t2", "case-1-t3"]


def test_high_priority_claims_need_the_claims_skill(service, cases, work, staff):
    file(work, "amy", "claims", skills=[])
    tasks = service.create_for_case(open_case(cases, priority="HIGH"))
    assert {t.assignee for t in tasks} == {"alice"}
    low = service.create_for_case(open_case(cases, "case-2", priority="LOW"))
    assert {t.assignee for t in low} == {"amy"}  # any claims member; amy is less loaded now


def test_create_for_case_is_idempotent_per_workflow_run(service, cases, work, staff):
    case = open_case(cases)
    first = service.create_for_case(case)
    again = service.create_for_case(cases.get_case(case.id))
    assert again == first
    assert len(cases.list_events(case.id)) == 3 and load(work, "alice") + load(work, "amy") == 2
    stored = cases.get_case(case.id)
    rerun, event = changed(stored, workflow=WorkflowState(stage="ASSIGNED", run=2))  # the case was reopened
    save_case(cases, rerun, stored.version, stored.audit_seq, event)
    second_run = service.create_for_case(rerun)
    assert {t.id for t in second_run}.isdisjoint({t.id for t in first}) and len(second_run) == 2


def test_no_one_eligible_queues_the_task_and_escalates_to_the_supervisor(service, cases, work, staff):
    file(work, "alice", "claims", out_of_office=True)
    file(work, "amy", "claims", out_of_office=AbsenceWindow.model_validate({"from": "2026-02-27", "to": "2026-03-02"}))
    tasks = service.create_for_case(open_case(cases))
    assert [t.assignee for t in tasks] == [None, None]
    assert [t.id for t in work.list_inbox("TEAM#claims")] == [t.id for t in tasks]
    escalations = [t for t in work.list_case_tasks("case-1") if t.type == ESCALATION]
    assert [(e.assignee, e.escalates, e.required) for e in escalations] == [
        ("sam", tasks[0].id, False), ("sam", tasks[1].id, False)
    ]
    assert load(work, "sam") == 2 and service.open_required_tasks("case-1") == 2
    assert chain_is_valid(cases, "case-1")


def test_without_a_supervisor_the_escalation_waits_in_the_team_queue_too(service, cases):
    tasks = service.create_for_case(open_case(cases))  # nobody filed in claims
    queue = service.list(ADA, TaskFilters(team="claims")).items
    assert {t.type for t in queue} == {"VERIFY_DOCUMENTS", "ASSESS_CLAIM", ESCALATION} and len(queue) == 4
    assert all(t.assignee is None for t in tasks)


def test_capacity_is_respected_across_cases(service, cases, work, staff):
    file(work, "alice", "claims", capacity=1)
    file(work, "amy", "claims", capacity=2)
    service.create_for_case(open_case(cases, "case-1"))  # alice (a tie, by name), then amy: alice is full
    second = service.create_for_case(open_case(cases, "case-2"))
    assert (load(work, "alice"), load(work, "amy")) == (1, 2)
    assert [t.assignee for t in second] == ["amy", None]


def test_round_robin_is_durable_across_service_instances(cases, work, staff, clock):
    def fresh_service():  # a new Lambda container: nothing remembered but the table
        return TaskService(cases, work, work, case_types(), clock=clock)

    turns = []
    for n in range(4):
        case = open_case(cases, f"g-{n}", case_type="GENERAL", priority="LOW")
        turns += [t.assignee for t in fresh_service().create_for_case(case)]
    assert turns == ["alice", "amy", "alice", "amy"]
    cursor = work.get_cursor("claims")
    assert (cursor.last, cursor.version) == ("amy", 4)


class RacingCases:
    """The case repository, where a rival writes first once: `rival(change)` does the rival's write and answers
    True before the first change it races, which then loses (StaleWrite)."""

    def __init__(self, cases, rival) -> None:
        self._cases, self._rival, self._raced = cases, rival, False

    def __getattr__(self, name):
        return getattr(self._cases, name)

    def apply(self, change):
        if not self._raced and self._rival(change):
            self._raced = True
            raise StaleWrite()
        self._cases.apply(change)


def test_a_lost_race_on_the_round_robin_cursor_is_decided_again(cases, work, staff, clock):
    def rival(change):
        moved = [getattr(w, "record", None) for w in change.writes]
        cursor = next((r for r in moved if isinstance(r, RoundRobinCursor)), None)
        if cursor is not None:  # another container assigns first and moves the cursor to alice
            work.cursors["claims"] = cursor.__class__("claims", "alice", cursor.version)
        return cursor is not None

    service = TaskService(RacingCases(cases, rival), work, work, case_types(), clock=clock)
    [task] = service.create_for_case(open_case(cases, "g-1", case_type="GENERAL"))
    assert task.assignee == "amy" and work.get_cursor("claims").version == 2


def test_a_case_type_without_templates_creates_nothing(cases, work, clock):
    from chalicelib.domain.case_types import CaseType

    bare = CaseType(id="BARE", name="Bare", sla_hours={p: 1 for p in ("LOW", "MEDIUM", "HIGH", "CRITICAL")})
    service = TaskService(cases, work, work, case_types(bare), clock=clock)
    assert service.create_for_case(open_case(cases, case_type="BARE")) == []


# -- claim, complete ---------------------------------------------------------------------------------


@pytest.fixture
def queued(service, cases, work, staff):
    """Two tasks of case-1 waiting in the claims queue (everyone was away when they were created)."""
    for name in ("alice", "amy"):
        file(work, name, "claims", out_of_office=True)
    tasks = service.create_for_case(open_case(cases))
    for name in ("alice", "amy"):
        file(work, name, "claims", out_of_office=False)
    return tasks


def test_a_member_claims_a_queued_task_once(service, work, queued):
    task = service.claim(ALICE, queued[0].id)
    assert (task.assignee, task.version, load(work, "alice")) == ("alice", 2, 1)
    assert [t.id for t in service.list(ALICE, TaskFilters(assignee="me")).items] == [task.id]
    with pytest.raises(Conflict):
        service.claim(AMY, queued[0].id)
    with pytest.raises(Forbidden):
        service.claim(principal("zed", "caseworker", team="claims"), queued[1].id)  # not in the directory
    with pytest.raises(NotFound):
        service.claim(BOB, queued[1].id)  # cannot see the case


def test_the_assignee_completes_and_the_counter_and_marker_follow(service, cases, work, queued, completed_cases):
    service.claim(ALICE, queued[0].id)
    assert len(work.due_markers(queued[0].due_at[:10], "9999")) == 2
    done = service.complete(ALICE, queued[0].id, {"outcome": "verified", "comment": "all there"})
    assert (done.status, done.outcome, done.comment, done.completed_by) == (
        TaskStatus.DONE, "verified", "all there", "alice",
    )
    assert load(work, "alice") == 0 and completed_cases == ["case-1"]
    assert [m.task_id for m in work.due_markers(queued[0].due_at[:10], "9999")] == [queued[1].id]
    assert service.list(ALICE, TaskFilters(assignee="me")).items == []
    assert service.open_required_tasks("case-1") == 1
    with pytest.raises(Conflict):
        service.complete(ALICE, queued[0].id, {})
    assert cases.list_events("case-1")[-1].data == {
        "taskId": queued[0].id, "outcome": "verified", "comment": "all there",
    }
    assert chain_is_valid(cases, "case-1")


def test_a_repeated_completion_answers_the_same_and_resumes_again(service, cases, queued, completed_cases):
    # The first answer was lost (e.g. a client or SDK retry after a timeout): the repeat is not a 409.
    service.claim(ALICE, queued[0].id)
    body = {"outcome": "verified", "comment": "all there"}
    first = service.complete(ALICE, queued[0].id, body)
    events = len(cases.list_events("case-1"))
    again = service.complete(ALICE, queued[0].id, body)
    assert again == first and len(cases.list_events("case-1")) == events
    assert completed_cases == ["case-1", "case-1"]  # the resume runs again: it is idempotent
    with pytest.raises(Conflict):
        service.complete(ALICE, queued[0].id, {"outcome": "rejected"})  # another answer is a conflict
    with pytest.raises(Conflict):
        service.complete(SAM, queued[0].id, body)  # and so is someone else's


def test_who_may_complete(service, queued):
    service.claim(ALICE, queued[0].id)
    with pytest.raises(Forbidden):
        service.complete(AMY, queued[0].id, {})  # a teammate who is not the assignee
    with pytest.raises(Forbidden):
        service.complete(AUD, queued[0].id, {})
    with pytest.raises(NotFound):
        service.complete(SID, queued[0].id, {})  # another team's supervisor cannot see it
    assert service.complete(SAM, queued[0].id, {}).completed_by == "sam"
    assert service.complete(ADA, queued[1].id, {}).status == TaskStatus.DONE  # even from the queue


def test_bad_completion_bodies_are_400(service, queued):
    service.claim(ALICE, queued[0].id)
    invalid = [({"outcome": ""}, "outcome"), ({"colour": "red"}, "colour"), ({"comment": "x" * 5001}, "comment")]
    for body, field in invalid:
        with pytest.raises(InvalidInput) as caught:
            service.complete(ALICE, queued[0].id, body)
        assert fields_of(caught.value) == [field]


def test_two_people_completing_at_once_one_wins_the_other_gets_409(service, work, queued):
    service.claim(ALICE, queued[0].id)
    barrier, results = threading.Barrier(2), []

    def finish(who):
        barrier.wait()
        try:
            results.append(service.complete(who, queued[0].id, {}).completed_by)
        except Conflict:
            results.append("409")

    threads = [threading.Thread(target=finish, args=(who,)) for who in (ALICE, SAM)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(results)[0] == "409" and sorted(results)[1] in {"alice", "sam"}
    assert load(work, "alice") == 0


def test_a_failing_completion_hook_does_not_undo_the_completion(cases, work, clock, queued):
    def broken(case_id):
        raise RuntimeError("workflow down")

    service = TaskService(cases, work, work, case_types(), clock=clock, on_task_completed=broken)
    assert service.complete(ADA, queued[0].id, {}).status == TaskStatus.DONE


# -- reassign --------------------------------------------------------------------------------------------


@pytest.fixture
def alices(service, cases, work, staff):
    file(work, "amy", "claims", out_of_office=True)
    tasks = service.create_for_case(open_case(cases))
    file(work, "amy", "claims")
    assert {t.assignee for t in tasks} == {"alice"}
    return tasks


def test_supervisor_reassigns_to_an_eligible_member(service, work, alices):
    moved = service.reassign(SAM, alices[0].id, {"assignee": "amy"})
    assert moved.assignee == "amy" and (load(work, "alice"), load(work, "amy")) == (1, 1)
    assert service.reassign(SAM, alices[0].id, {"assignee": "amy"}) == moved  # no change, no write
    back = service.reassign(ADA, alices[0].id, {"assignee": None})
    assert back.assignee is None and load(work, "amy") == 0
    assert [t.id for t in service.list(SAM, TaskFilters(team="claims")).items] == [alices[0].id]


def test_reassignment_targets_must_be_eligible(service, work, alices):
    file(work, "amy", "claims", out_of_office=True)
    with pytest.raises(Conflict, match="out of office"):
        service.reassign(SAM, alices[0].id, {"assignee": "amy"})
    file(work, "amy", "claims", capacity=1)
    work.people["amy"] = work.people["amy"].model_copy(update={"open_tasks": 1})
    with pytest.raises(Conflict, match="capacity"):
        service.reassign(SAM, alices[0].id, {"assignee": "amy"})
    for target in ("bob", "nobody"):
        with pytest.raises(InvalidInput) as caught:
            service.reassign(SAM, alices[0].id, {"assignee": target})
        assert fields_of(caught.value) == ["assignee"]
    with pytest.raises(InvalidInput):
        service.reassign(SAM, alices[0].id, {})
    assert load(work, "alice") == 2


def test_only_the_teams_supervisor_or_an_admin_reassigns(service, alices):
    with pytest.raises(Forbidden):
        service.reassign(ALICE, alices[0].id, {"assignee": "amy"})
    with pytest.raises(Forbidden):
        sue = principal("sue", "supervisor", "auditor", team="complaints")
        service.reassign(sue, alices[0].id, {"assignee": "amy"})
    with pytest.raises(NotFound):
        service.reassign(SID, alices[0].id, {"assignee": "amy"})


def test_bulk_reassign_from_a_person(service, work, alices):
    result = service.bulk_reassign(SAM, {"from": "alice", "to": "amy"})
    assert [t.id for t in result.reassigned] == [t.id for t in alices] and result.failed == []
    assert (load(work, "alice"), load(work, "amy")) == (0, 2)


def test_bulk_reassign_of_listed_tasks_reports_each_failure(service, work, alices):
    file(work, "amy", "claims", capacity=1)
    result = service.bulk_reassign(SAM, {"taskIds": [t.id for t in alices] + ["case-9-t2", "junk"], "to": "amy"})
    assert [t.id for t in result.reassigned] == [alices[0].id]
    assert [(f.id, f.code) for f in result.failed] == [
        (alices[1].id, "CONFLICT"), ("case-9-t2", "NOT_FOUND"), ("junk", "NOT_FOUND")
    ]
    with pytest.raises(Forbidden):
        service.bulk_reassign(ALICE, {"from": "alice", "to": "amy"})


# -- listing ---------------------------------------------------------------------------------------------


def test_listing_rules(service, cases, work, alices):
    assert [t.id for t in service.list(ALICE, TaskFilters()).items] == [t.id for t in alices]  # default: my inbox
    assert service.list(AMY, TaskFilters(assignee="me")).items == []
    assert len(service.list(SAM, TaskFilters(assignee="alice")).items) == 2  # the team's supervisor
    assert len(service.list(AUD, TaskFilters(assignee="alice")).items) == 2
    with pytest.raises(Forbidden):
        service.list(AMY, TaskFilters(assignee="alice"))
    with pytest.raises(Forbidden):
        service.list(SID, TaskFilters(assignee="alice"))
    with pytest.raises(Forbidden):
        service.list(BOB, TaskFilters(team="claims"))
    assert service.list(AMY, TaskFilters(team="claims")).items == []
    open_tasks = service.list(AMY, TaskFilters(case_id="case-1", status="OPEN")).items
    assert [t.id for t in open_tasks] == [t.id for t in alices]
    with pytest.raises(NotFound):
        service.list(BOB, TaskFilters(case_id="case-1"))
    service.complete(ALICE, alices[0].id, {})
    assert [t.id for t in service.list(ALICE, TaskFilters(case_id="case-1", status="DONE")).items] == [alices[0].id]
    assert [t.id for t in service.list(ALICE, TaskFilters(case_id="case-1", assignee="me", status="OPEN")).items] == [
        alices[1].id
    ]


@pytest.mark.parametrize(
    "filters, field",
    [(TaskFilters(status="DONE"), "status"), (TaskFilters(status="NOPE", case_id="case-1"), "status"),
     (TaskFilters(team=" "), "team"), (TaskFilters(team="claims", assignee="me"), "team"),
     (TaskFilters(case_id=""), "caseId")],
)
def test_bad_listing_filters_are_400(service, alices, filters, field):
    with pytest.raises(InvalidInput) as caught:
        service.list(SAM, filters)
    assert fields_of(caught.value) == [field]


# -- cancel, escalate ------------------------------------------------------------------------------------


def test_cancel_open_tasks_is_idempotent_and_releases_the_load(service, cases, work, alices):
    service.complete(ALICE, alices[0].id, {})
    escalation = service.escalate("case-1", None, "the tasks stage is overdue")
    assert service.cancel_open_tasks("case-1", "workflow") == [alices[1].id, escalation.id]
    assert service.cancel_open_tasks("case-1", "workflow") == []
    statuses = {t.id: t.status for t in work.list_case_tasks("case-1")}
    assert statuses == {alices[0].id: TaskStatus.DONE, alices[1].id: TaskStatus.CANCELLED,
                        escalation.id: TaskStatus.CANCELLED}
    assert load(work, "alice") == 0 and load(work, "sam") == 0 and service.open_required_tasks("case-1") == 0
    assert work.markers == {} and chain_is_valid(cases, "case-1")


def test_cancelling_many_tasks_takes_several_transactions(cases, work, clock, staff):
    from chalicelib.domain.case_types import CaseType
    from chalicelib.domain.tasks import TaskTemplate

    one_hour = dict.fromkeys(("LOW", "MEDIUM", "HIGH", "CRITICAL"), 1)
    busy = CaseType(id="BUSY", name="Busy", team="claims", sla_hours=one_hour,
                    tasks=[TaskTemplate(type=f"STEP_{n}", title=f"Step {n}") for n in range(25)])
    file(work, "alice", "claims", capacity=100)
    service = TaskService(cases, work, work, case_types(busy), clock=clock)
    assert len(service.create_for_case(open_case(cases, case_type="BUSY"))) == 25
    assert len(service.cancel_open_tasks("case-1", "workflow")) == 25
    assert load(work, "alice") == 0 and chain_is_valid(cases, "case-1")


def test_escalate_goes_to_the_cases_team_supervisor_once_per_reason(service, cases, work, staff):
    open_case(cases)
    first = service.escalate("case-1", None, "the approval stage is overdue")
    assert (first.type, first.assignee, first.team, first.required) == (ESCALATION, "sam", "claims", False)
    assert service.escalate("case-1", "claims", "the approval stage is overdue") == first
    other = service.escalate("case-1", "complaints", "the approval stage is overdue")
    assert other.assignee == "sid" and load(work, "sam") == 1
    with pytest.raises(NotFound):
        service.escalate("nope", None, "x")


def test_overdue_tasks_escalate_once(service, cases, work, clock, alices):
    service.complete(ALICE, alices[0].id, {})
    assert service.escalate_overdue() == []
    clock.advance(hours=71)
    assert service.escalate_overdue() == []
    clock.advance(hours=2)  # CLAIM HIGH: due after 72 hours
    [escalation] = service.escalate_overdue()
    assert (escalation.escalates, escalation.assignee) == (alices[1].id, "sam")
    assert work.get_task(alices[1].id).escalation == escalation.id
    assert service.escalate_overdue() == []  # the marker is consumed
    clock.advance(days=3)
    assert service.escalate_overdue() == []  # escalations themselves are not escalated
    assert work.get_sweep_day() == clock.now.date().isoformat()
    assert [e.type for e in cases.list_events("case-1")][-2:] == ["TASK_CREATED", "TASK_ESCALATED"]
    assert chain_is_valid(cases, "case-1")


def test_a_task_80_percent_through_its_sla_is_warned_once(service, cases, work, clock, alices):
    service.complete(ALICE, alices[0].id, {})  # a finished task is never warned: its warning marker went with it
    clock.advance(hours=57)  # CLAIM HIGH: 72 hours, so the warning is due after 57.6
    service.escalate_overdue()
    assert work.get_task(alices[1].id).sla_warned_at is None
    clock.advance(hours=1)
    assert service.escalate_overdue() == []  # a warning escalates nothing
    warned = work.get_task(alices[1].id)
    assert warned.sla_warned_at == "2026-03-03T22:00:00.000Z" and warned.version == 2
    service.escalate_overdue()
    warnings = [e for e in cases.list_events("case-1") if e.type == "TASK_SLA_WARNING"]
    assert [(e.actor, e.data) for e in warnings] == [("system", {"taskId": alices[1].id, "dueAt": alices[1].due_at})]
    clock.advance(hours=15)  # past its due time: escalated as ever
    [escalation] = service.escalate_overdue()
    assert escalation.escalates == alices[1].id
    service.complete(ALICE, alices[1].id, {})
    assert [m.task_id for m in work.markers.values()] == [] and chain_is_valid(cases, "case-1")


def test_a_sweep_losing_the_warning_to_another_sweep_warns_nothing_more(cases, work, clock, staff, caplog):
    def rival(change):
        warns = change.event.type == "TASK_SLA_WARNING"
        if warns:  # another sweep warns first
            cases.apply(change)
        return warns

    service = TaskService(RacingCases(cases, rival), work, work, case_types(), clock=clock)
    [task] = service.create_for_case(open_case(cases, case_type="GENERAL", priority="CRITICAL"))  # due in 8 hours
    clock.advance(hours=6, minutes=25)  # past 80 % of 8 hours
    service.escalate_overdue()
    assert [e.type for e in cases.list_events("case-1")].count("TASK_SLA_WARNING") == 1
    assert "could not act" not in caplog.text  # the retry saw the task warned and wrote nothing
    assert not any(m.warning for m in work.markers.values()) and work.markers  # the due marker stays


def test_the_warning_marker_is_80_percent_of_the_way_from_creation_to_due_time(service, cases, work, staff, clock):
    [task] = service.create_for_case(open_case(cases, case_type="GENERAL", priority="CRITICAL"))
    markers = sorted(work.markers.values(), key=lambda m: m.due_at)
    assert [(m.task_id, m.warning, m.due_at) for m in markers] == [
        (task.id, True, "2026-03-01T18:24:00.000Z"), (task.id, False, "2026-03-01T20:00:00.000Z"),
    ]


def test_overdue_sweep_reads_only_the_days_since_the_last_sweep(service, cases, work, clock, staff):
    read_days = []
    original = work.due_markers
    work.due_markers = lambda day, before: read_days.append(day) or original(day, before)
    service.escalate_overdue()
    assert len(read_days) == 32  # the first sweep looks back a month
    read_days.clear()
    clock.advance(days=2)
    service.escalate_overdue()
    assert read_days == ["2026-03-01", "2026-03-02", "2026-03-03"]


def test_a_task_completed_after_its_escalation_is_fine(service, work, clock, alices):
    clock.advance(days=4)
    escalations = service.escalate_overdue()
    assert len(escalations) == 2
    service.complete(ALICE, alices[0].id, {})
    service.complete(SAM, escalations[0].id, {"outcome": "chased"})
    assert load(work, "alice") == 1 and load(work, "sam") == 1


def test_task_events_and_case_edits_interleave(service, cases, clock, alices):
    from chalicelib.services.cases import CaseNumbers, CaseService

    case_service = CaseService(cases, case_types(), CaseNumbers(cases), clock=clock)
    updated = case_service.update(ALICE, "case-1", {"title": "Renamed"}, '"1"')
    service.complete(ALICE, alices[0].id, {})
    case_service.add_comment(ALICE, "case-1", {"text": "done with the documents"})
    assert updated.version == 2 and chain_is_valid(cases, "case-1")
    assert [e.type for e in case_service.history(ALICE, "case-1").items] == [
        "CASE_CREATED", "TASK_CREATED", "TASK_CREATED", "CASE_UPDATED", "TASK_COMPLETED", "COMMENT_ADDED"
    ]


# -- personnel -----------------------------------------------------------------------------------------


@pytest.fixture
def personnel(work, clock):
    return PersonnelService(work, clock)


def test_admins_file_people_and_the_counter_survives_an_edit(personnel, work):
    body = {"team": "claims", "skills": ["claims", "fraud", "claims"], "capacity": 3}
    filed = personnel.put(ADA, "alice", body)
    assert (filed.skills, filed.open_tasks, filed.updated_by, filed.out_of_office) == (
        ["claims", "fraud"], 0, "ada", False,
    )
    work.people["alice"] = work.people["alice"].model_copy(update={"open_tasks": 2})
    edited = personnel.put(ADA, "alice", {**body, "outOfOffice": {"from": "2026-03-02", "to": "2026-03-05"}})
    assert edited.open_tasks == 2 and edited.out_of_office.to.isoformat() == "2026-03-05"
    with pytest.raises(Forbidden):
        personnel.put(SAM, "alice", body)
    with pytest.raises(InvalidInput) as caught:
        personnel.put(ADA, "alice", {"team": "claims", "capacity": 0})
    assert fields_of(caught.value) == ["capacity"]


def test_reading_the_directory(personnel):
    personnel.put(ADA, "alice", {"team": "claims", "capacity": 3})
    personnel.put(ADA, "sam", {"team": "claims", "capacity": 3, "supervisor": True})
    personnel.put(ADA, "bob", {"team": "complaints", "capacity": 3})
    assert [p.username for p in personnel.list(SAM, "claims").items] == ["alice", "sam"]
    assert [p.username for p in personnel.list(ADA).items] == ["alice", "sam", "bob"]
    assert personnel.list(AUD, "nobody").items == []
    assert personnel.get(ALICE, "alice").username == "alice"
    assert personnel.get(SAM, "bob").team == "complaints"
    with pytest.raises(Forbidden):
        personnel.get(ALICE, "bob")
    with pytest.raises(Forbidden):
        personnel.list(ALICE, "claims")
    with pytest.raises(NotFound):
        personnel.get(ADA, "nobody")


def test_seeding_files_caseworkers_and_supervisors_once(work):
    users = [("alice", "claims", ["caseworker"]), ("sam", "claims", ["supervisor"]), ("ava", "claims", ["approver"]),
             ("ada", "ops", ["admin"])]
    assert seed_personnel(work, users) == 2
    assert (work.get_person("alice").skills, work.get_person("sam").supervisor) == (["claims"], True)
    work.save_person(work.get_person("alice").model_copy(update={"capacity": 1}))
    assert seed_personnel(work, users) == 0 and work.get_person("alice").capacity == 1
    assert work.get_person("ava") is None


def test_due_dates_follow_the_case_types_sla(service, cases, staff, clock):
    clock.advance(minutes=30)
    [task] = service.create_for_case(open_case(cases, case_type="GENERAL", priority="CRITICAL"))
    assert task.due_at == (clock.now + timedelta(hours=8)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_template_with_hours_for_some_priorities_leaves_the_others_to_the_case_type(cases, work, clock, staff):
    from chalicelib.domain.case_types import CaseType
    from chalicelib.domain.tasks import TaskTemplate

    hours = {"LOW": 40, "MEDIUM": 24, "HIGH": 8, "CRITICAL": 4}
    calls = CaseType(id="CALLS", name="Calls", team="claims", sla_hours=hours,
                     tasks=[TaskTemplate(type="CALL", title="Call", sla_hours={"HIGH": 1})])
    service = TaskService(cases, work, work, case_types(calls), clock=clock)
    [high] = service.create_for_case(open_case(cases, case_id="case-1", case_type="CALLS", priority="HIGH"))
    [critical] = service.create_for_case(open_case(cases, case_id="case-2", case_type="CALLS", priority="CRITICAL"))
    assert high.due_at == iso(clock.now + timedelta(hours=1))
    assert critical.due_at == iso(clock.now + timedelta(hours=4))


def test_overdue_tasks_escalated_are_counted_as_sla_breaches(service, clock, alices):
    from chalicelib import metrics

    metrics.metrics.clear_metrics()
    clock.advance(hours=73)  # past both of alice's CLAIM HIGH tasks (due after 72 hours)
    escalated = service.escalate_overdue()
    counted = {name: sum(m["Value"]) for name, m in metrics.metrics.metric_set.items()}
    metrics.metrics.clear_metrics()
    assert escalated and counted == {metrics.SLA_BREACHES: len(escalated)}
