"""The workflow's steps on in-memory adapters with a fake engine: idempotent steps, one resume
per wait, the saga, and the stream trigger's handling of duplicates and poison records."""
from __future__ import annotations

import threading

import pytest

from chalicelib.adapters.memory.cases import InMemoryCaseRepository
from chalicelib.adapters.memory.tokens import InMemoryTokenStore
from chalicelib.adapters.memory.work import InMemoryWorkRepository
from chalicelib.domain.models import CaseStatus
from chalicelib.domain.personnel import Person
from chalicelib.errors import Conflict, Forbidden
from chalicelib.services.cases import CaseNumbers, CaseService
from chalicelib.services.tasks import TaskService
from chalicelib.services.workflow import Stage, WorkflowService
from chalicelib.settings import DEFAULT_WAIT_SECONDS
from tests.support import FakeEngine, FixedClock, SequentialIds, principal, case_types


class FakeWork:
    def __init__(self):
        self.open = 0
        self.created: list[str] = []
        self.cancelled: list[str] = []
        self.escalations: list[tuple] = []

    def create_within(self, change, now):
        if change.case_id not in self.created:
            self.created.append(change.case_id)
            self.open += 1
        return ["t1"]

    def open_required_tasks(self, case_id):
        return self.open

    def cancel_open_tasks(self, case_id, actor):
        cancelled = ["t1"] if self.open else []
        self.open = 0
        self.cancelled += cancelled
        return cancelled

    def escalate(self, case_id, team, reason):
        self.escalations.append((case_id, team, reason))

    def postpone_open_tasks(self, change, paused_at, resumed_at, calendar):
        return []


@pytest.fixture
def parts():
    repo, clock = InMemoryCaseRepository(), FixedClock()
    cases = CaseService(repo, case_types(), CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))
    engine, work, tokens = FakeEngine(), FakeWork(), InMemoryTokenStore()
    workflow = WorkflowService(
        repo, lambda: engine, tokens, work, case_types(), dict(DEFAULT_WAIT_SECONDS), clock,
    )
    case = cases.create(principal("alice", "caseworker", team="claims"),
                        {"title": "t", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-1"})
    return repo, workflow, engine, work, tokens, case


def _insert(case_id, event_id="e1", sk="CASE", name="INSERT"):
    keys = {"PK": {"S": f"CASE#{case_id}"}, "SK": {"S": sk}}
    return {"eventID": event_id, "eventName": name, "dynamodb": {"Keys": keys}}


def test_only_case_inserts_start_a_run_and_a_redelivery_starts_nothing_new(parts):
    repo, workflow, engine, *_ , case = parts
    failed = workflow.on_table_records([
        _insert(case.id), _insert(case.id, "e2"), _insert(case.id, "e3", sk="EVENT#0000000001"),
        _insert(case.id, "e4", name="MODIFY"),
    ])
    assert failed == [] and list(engine.started) == [case.id]


def test_a_poison_record_is_reported_and_does_not_block_the_others(parts):
    _, workflow, engine, *_, case = parts
    poison = {
        "eventID": "bad", "eventName": "INSERT", "dynamodb": {"Keys": {"SK": {"S": "CASE"}}, "SequenceNumber": "42"},
    }
    assert workflow.on_table_records([poison, _insert(case.id, "good")]) == ["42"]  # what Lambda's response names
    assert case.id in engine.started


def test_happy_path_steps_move_the_case_and_are_idempotent(parts):
    repo, workflow, engine, work, tokens, case = parts
    facts = workflow.initiate(case.id, "exec-1")
    assert facts["needsDocuments"] is False and facts["needsApproval"] is False
    assert workflow.initiate(case.id, "exec-1") == facts  # a Step Functions retry changes nothing
    stored = repo.get_case(case.id)
    assert stored.status == CaseStatus.OPEN and stored.workflow.execution_id == "exec-1"
    assert stored.workflow.executions == ["exec-1"]
    workflow.assign(case.id)
    workflow.assign(case.id)
    assert work.created == [case.id] and repo.get_case(case.id).status == CaseStatus.IN_PROGRESS
    workflow.wait(case.id, Stage.TASKS, "token-1", "exec-1")
    assert engine.resumed == [] and tokens.peek(case.id, Stage.TASKS) == "token-1"  # a task is still open
    work.open = 0
    assert workflow.resume_if_ready(case.id, Stage.TASKS) is True
    assert workflow.resume_if_ready(case.id, Stage.TASKS) is False  # the token is spent
    assert engine.resumed == [("token-1", {})]
    workflow.complete(case.id)
    workflow.complete(case.id)
    closed = repo.get_case(case.id)
    assert closed.status == CaseStatus.CLOSED and closed.workflow.stage == Stage.COMPLETED
    types = [e.type for e in repo.list_events(case.id)]
    assert types == [
        "CASE_CREATED", "WORKFLOW_STARTED", "TASKS_ASSIGNED", "WORKFLOW_WAITING", "CASE_RESOLVED", "CASE_CLOSED",
    ]


def test_a_wait_whose_condition_already_holds_resumes_at_once(parts):
    repo, workflow, engine, work, tokens, case = parts
    workflow.initiate(case.id, "exec-1")
    workflow.assign(case.id)
    work.open = 0
    workflow.wait(case.id, Stage.TASKS, "token-1", "exec-1")
    assert engine.resumed == [("token-1", {})] and tokens.peek(case.id, Stage.TASKS) is None


def test_concurrent_resumers_resume_once(parts):
    repo, workflow, engine, work, tokens, case = parts
    workflow.initiate(case.id, "exec-1")
    workflow.assign(case.id)
    workflow.wait(case.id, Stage.TASKS, "token-1", "exec-1")
    work.open = 0
    threads = [threading.Thread(target=workflow.resume_if_ready, args=(case.id, Stage.TASKS)) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(engine.resumed) == 1


def test_rollback_undoes_partial_work_and_flags_the_case(parts):
    repo, workflow, engine, work, tokens, case = parts
    workflow.initiate(case.id, "exec-1")
    workflow.assign(case.id)
    workflow.wait(case.id, Stage.TASKS, "token-1", "exec-1")
    result = workflow.rollback(case.id, {"Error": "Boom", "Cause": "disk on fire"})
    assert result["undone"] == ["cancelled task t1"]
    assert workflow.rollback(case.id, {"Error": "Boom"})["undone"] == []  # idempotent
    failed = repo.get_case(case.id)
    assert failed.status == CaseStatus.NEEDS_ATTENTION and failed.workflow.stage == Stage.FAILED
    assert tokens.peek(case.id, Stage.TASKS) is None
    last = repo.list_events(case.id)[-1]  # the repeated rollback wrote nothing
    assert last.type == "WORKFLOW_FAILED"
    assert last.data["undone"] == ["cancelled task t1"] and last.data["error"] == "Boom"


def test_an_illegal_move_is_a_conflict(parts):
    repo, workflow, engine, work, tokens, case = parts
    with pytest.raises(Conflict):
        workflow.complete(case.id)  # a NEW case cannot be resolved


def test_escalation_records_an_event_and_asks_the_work_service(parts):
    repo, workflow, engine, work, tokens, case = parts
    workflow.initiate(case.id, "exec-1")
    workflow.escalate(case.id, Stage.TASKS)
    assert work.escalations == [(case.id, "claims", "the tasks stage is overdue")]
    assert repo.list_events(case.id)[-1].type == "WORKFLOW_ESCALATED"


def _close(workflow, work, case_id):
    workflow.initiate(case_id, "exec-1")
    workflow.assign(case_id)
    work.open = 0
    workflow.wait(case_id, Stage.TASKS, "token-1", "exec-1")
    workflow.complete(case_id)


def test_reopen_starts_a_new_run_with_fresh_work(parts):
    repo, workflow, engine, work, tokens, case = parts
    supervisor = principal("sam", "supervisor", team="claims")
    with pytest.raises(Conflict):
        workflow.reopen(supervisor, repo.get_case(case.id))  # not closed yet
    _close(workflow, work, case.id)
    with pytest.raises(Forbidden):
        workflow.reopen(principal("aud", "auditor"), repo.get_case(case.id))
    reopened = workflow.reopen(supervisor, repo.get_case(case.id))
    assert reopened.status == CaseStatus.REOPENED and reopened.workflow.run == 2
    assert f"{case.id}-2" in engine.started
    workflow.initiate(case.id, "exec-2")
    again = repo.get_case(case.id)
    assert again.status == CaseStatus.OPEN
    assert again.workflow.executions == ["exec-1", "exec-2"] and again.workflow.run == 2
    assert "CASE_REOPENED" in [e.type for e in repo.list_events(case.id)]


def test_resume_after_a_failure_redoes_the_work_in_a_new_run(parts):
    repo, workflow, engine, work, tokens, case = parts
    admin = principal("ada", "admin")
    workflow.initiate(case.id, "exec-1")
    with pytest.raises(Conflict):
        workflow.resume(admin, repo.get_case(case.id))  # its run is still going
    with pytest.raises(Forbidden):
        workflow.resume(principal("alice", "caseworker", team="claims"), repo.get_case(case.id))
    workflow.rollback(case.id, {"Error": "Boom"})
    engine.status_of["exec-1"] = "FAILED"
    resumed = workflow.resume(admin, repo.get_case(case.id))
    assert resumed.workflow.run == 2 and f"{case.id}-2" in engine.started
    workflow.initiate(case.id, "exec-2")
    assert repo.get_case(case.id).status == CaseStatus.OPEN


def test_recover_starts_only_runs_the_engine_lost(parts):
    repo, workflow, engine, work, tokens, case = parts
    assert workflow.recover(repo.get_case(case.id)) == f"arn:exec:{case.id}"  # NEW, its trigger never ran
    workflow.initiate(case.id, "exec-1")
    assert workflow.recover(repo.get_case(case.id)) is None  # RUNNING
    engine.status_of["exec-1"] = None  # the engine forgot it (local restart)
    engine.started.clear()
    workflow.recover(repo.get_case(case.id))
    assert f"{case.id}-2" in engine.started
    workflow.initiate(case.id, "exec-2")
    workflow.assign(case.id)
    work.open = 0
    workflow.wait(case.id, Stage.TASKS, "token-2", "exec-2")
    workflow.complete(case.id)
    engine.started.clear()
    assert workflow.recover(repo.get_case(case.id)) is None and not engine.started  # closed


def test_each_step_reads_the_case_once_when_no_race_is_lost(parts):
    repo, workflow, engine, work, tokens, case = parts
    reads: list[str] = []
    get_case = repo.get_case
    repo.get_case = lambda case_id: reads.append(case_id) or get_case(case_id)
    workflow.initiate(case.id, "exec-1")
    assert len(reads) == 1
    workflow.assign(case.id)  # its read: the tasks and the move are one write
    assert len(reads) == 2
    workflow.wait(case.id, Stage.TASKS, "token-1", "exec-1")  # the move's read; the resume check uses its result
    assert len(reads) == 3 and engine.resumed == [] and tokens.peek(case.id, Stage.TASKS) == "token-1"
    work.open = 0
    workflow.wait(case.id, Stage.TASKS, "token-1", "exec-1")  # a redelivered wait: nothing to move, resumes
    assert len(reads) == 4 and engine.resumed == [("token-1", {})]
    assert repo.get_case(case.id).status == CaseStatus.IN_PROGRESS


def test_assignment_writes_the_tasks_and_the_move_at_once_each_event_by_its_actor():
    """One write (on DynamoDB: one TransactWriteItems, one new version of the case); the tasks' events stay the
    system's and the assignment the workflow's, in that order. A retried assignment writes nothing."""
    repo, clock, catalog = InMemoryCaseRepository(), FixedClock(), case_types()
    cases = CaseService(repo, catalog, CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))
    people = InMemoryWorkRepository(repo)
    people.save_person(Person(username="amy", team="claims", skills=("claims",), capacity=5))
    tasks = TaskService(repo, people, people, catalog, clock=clock)
    workflow = WorkflowService(
        repo, FakeEngine, InMemoryTokenStore(), tasks, catalog, dict(DEFAULT_WAIT_SECONDS), clock,
    )
    case = cases.create(principal("amy", "caseworker", team="claims"),
                        {"title": "t", "caseType": "CLAIM", "priority": "LOW", "customerId": "CUST-1"})
    workflow.initiate(case.id, "exec-1")
    writes = []
    apply = repo.apply
    repo.apply = lambda change: writes.append(change) or apply(change)
    assert workflow.assign(case.id) == {"tasks": 2}
    assert len(writes) == 1
    events = repo.list_events(case.id)[-3:]
    assert [(e.type, e.actor) for e in events] == [
        ("TASK_CREATED", "system"), ("TASK_CREATED", "system"), ("TASKS_ASSIGNED", "workflow"),
    ]
    stored = repo.get_case(case.id)
    assert (stored.status, stored.workflow.stage, stored.updated_by) == (CaseStatus.IN_PROGRESS, Stage.ASSIGNED,
                                                                         "workflow")
    assert people.get_person("amy").open_tasks == 2
    assert workflow.assign(case.id) == {"tasks": 2} and len(writes) == 1


# -- a run carried on by a new execution (the local system restarted and moto forgot the first) -----------


def _workflow_on(repo, clock, engine, work, tokens, ready=None):
    """The workflow with the documents and approval stages waiting on `ready`'s flags."""
    ready = ready if ready is not None else {}
    return WorkflowService(
        repo, lambda: engine, tokens, work, case_types(), dict(DEFAULT_WAIT_SECONDS), clock,
        conditions={
            Stage.DOCUMENTS: lambda case: {} if ready.get("documents") else None,
            Stage.APPROVAL: lambda case: {"decision": "APPROVED"} if ready.get("approval") else None,
        },
    )


@pytest.fixture
def claim():
    """A claim (documents, then approval) whose run waits for its approval, its documents in."""
    repo, clock, engine, tokens = InMemoryCaseRepository(), FixedClock(), FakeEngine(), InMemoryTokenStore()
    ready = {"documents": False, "approval": False}
    workflow = _workflow_on(repo, clock, engine, FakeWork(), tokens, ready)
    cases = CaseService(repo, case_types(), CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))
    case = cases.create(principal("alice", "caseworker", team="claims"),
                        {"title": "t", "caseType": "CLAIM", "priority": "LOW", "customerId": "CUST-1"})
    facts = workflow.initiate(case.id, "exec-1")
    assert facts["needsDocuments"] and facts["needsApproval"]
    workflow.assign(case.id)
    workflow.wait(case.id, Stage.DOCUMENTS, "documents-1", "exec-1")
    ready["documents"] = True
    assert workflow.resume_if_ready(case.id, Stage.DOCUMENTS) is True
    workflow.wait(case.id, Stage.APPROVAL, "approval-1", "exec-1")
    waiting = repo.get_case(case.id)
    assert (waiting.status, waiting.workflow.stage) == (CaseStatus.PENDING_APPROVAL, Stage.APPROVAL)
    clock.advance(minutes=5)
    return repo, workflow, engine, tokens, ready, waiting


def _carried_on_by(case, *executions):
    return case.model_copy(update={"workflow": case.workflow.model_copy(update={
        "execution_id": executions[-1], "executions": list(executions)})})


def test_a_new_execution_carries_the_run_on_without_writing_to_the_case(claim):
    """Its steps find the case where they would leave it: no event, no new version, the same status and stage;
    the documents stage it went past resumes at once, the approval it waits for keeps the new token."""
    repo, workflow, engine, tokens, ready, waiting = claim
    events = repo.list_events(waiting.id)
    engine.status_of["exec-1"] = None  # the engine forgot it
    assert workflow.recover(waiting) == f"arn:exec:{waiting.id}-2"
    facts = workflow.initiate(waiting.id, "exec-2")
    assert facts["needsDocuments"] and facts["needsApproval"]
    workflow.assign(waiting.id)
    workflow.wait(waiting.id, Stage.DOCUMENTS, "documents-2", "exec-2")
    workflow.wait(waiting.id, Stage.APPROVAL, "approval-2", "exec-2")
    assert repo.list_events(waiting.id) == events
    assert repo.get_case(waiting.id) == _carried_on_by(waiting, "exec-1", "exec-2")
    assert engine.resumed[-1] == ("documents-2", {}) and tokens.peek(waiting.id, Stage.DOCUMENTS) is None
    assert tokens.peek(waiting.id, Stage.APPROVAL) == "approval-2"
    ready["approval"] = True  # the decision resumes the new execution
    assert workflow.resume_if_ready(waiting.id, Stage.APPROVAL) is True
    assert engine.resumed[-1] == ("approval-2", {"decision": "APPROVED"})


def test_each_lost_execution_is_carried_on_by_the_next(claim):
    repo, workflow, engine, tokens, ready, waiting = claim
    for execution in ("exec-2", "exec-3"):
        engine.status_of[repo.get_case(waiting.id).workflow.execution_id] = None
        workflow.recover(repo.get_case(waiting.id))
        workflow.initiate(waiting.id, execution)
        workflow.initiate(waiting.id, execution)  # a retry of the step
    assert f"{waiting.id}-3" in engine.started
    assert repo.get_case(waiting.id) == _carried_on_by(waiting, "exec-1", "exec-2", "exec-3")


def test_a_carried_on_run_passes_a_stage_it_went_past_whatever_happened_since(claim):
    """A required document was deleted after the documents stage: the lost run had gone past it and would not
    have gone back, so neither does the new execution (the stage's output, {}, is not read by the run)."""
    repo, workflow, engine, tokens, ready, waiting = claim
    ready["documents"] = False
    workflow.initiate(waiting.id, "exec-2")
    workflow.assign(waiting.id)
    workflow.wait(waiting.id, Stage.DOCUMENTS, "documents-2", "exec-2")
    assert engine.resumed[-1] == ("documents-2", {}) and tokens.peek(waiting.id, Stage.DOCUMENTS) is None
    assert repo.get_case(waiting.id) == _carried_on_by(waiting, "exec-1", "exec-2")


def test_a_retried_start_writes_once_whatever_the_clock_says():
    """On AWS, Lambda's retry of the Initiate step runs it again a moment later: nothing new to write."""
    repo, clock = InMemoryCaseRepository(), FixedClock()
    workflow = _workflow_on(repo, clock, FakeEngine(), FakeWork(), InMemoryTokenStore())
    cases = CaseService(repo, case_types(), CaseNumbers(repo), clock=clock, new_id=SequentialIds("case"))
    case = cases.create(principal("alice", "caseworker", team="claims"),
                        {"title": "t", "caseType": "GENERAL", "priority": "LOW", "customerId": "CUST-1"})
    workflow.initiate(case.id, "exec-1")
    started = repo.get_case(case.id)
    clock.advance(seconds=2)
    workflow.initiate(case.id, "exec-1")
    assert repo.get_case(case.id) == started
    assert [e.type for e in repo.list_events(case.id)] == ["CASE_CREATED", "WORKFLOW_STARTED"]


def test_a_new_run_after_a_failure_or_a_reopening_still_starts_on_the_record(parts):
    """Only an execution carrying on a run under way is silent: a new run opens the case again, with its event."""
    repo, workflow, engine, work, tokens, case = parts
    admin = principal("ada", "admin")
    workflow.initiate(case.id, "exec-1")
    workflow.rollback(case.id, {"Error": "Boom"})
    engine.status_of["exec-1"] = "FAILED"
    workflow.resume(admin, repo.get_case(case.id))
    workflow.initiate(case.id, "exec-2")
    workflow.assign(case.id)
    workflow.wait(case.id, Stage.TASKS, "token-2", "exec-2")
    workflow.complete(case.id)
    workflow.reopen(principal("sam", "supervisor", team="claims"), repo.get_case(case.id))
    workflow.initiate(case.id, "exec-3")
    types = [e.type for e in repo.list_events(case.id)]
    assert types.count("WORKFLOW_STARTED") == 3 and repo.get_case(case.id).status == CaseStatus.OPEN
