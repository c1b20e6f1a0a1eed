"""The case workflow's steps, called by the Step Functions Lambda tasks and by the events that
resume a waiting stage. Every step is idempotent: Step Functions retries, streams re-deliver."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from ..adapters.dynamo.stream import inserted_case_id
from ..domain.access import Action, Principal, require
from ..domain.calendars import Calendar
from ..domain.changes import CaseChange
from ..domain.clock import Clock, iso, utc_now
from ..domain.lifecycle import check_move
from ..domain.models import Case, CaseStatus, WorkflowState
from ..domain.reopening import ReopenRequest, check_may_reopen, closed_as
from ..domain.sla import clock_move
from ..errors import Conflict, NotFound
from ..ports import CaseRepository, CaseWork, TokenStore, WorkflowEngine
from .case_types import CaseTypeCatalog
from .retry import Decided, retrying
from .sla import CalendarLookup, calendar_for, no_calendars
from .validation import parse
from .. import metrics

log = logging.getLogger(__name__)
ACTOR = "workflow"


class Stage:
    INITIATED = "INITIATED"
    ASSIGNED = "ASSIGNED"
    DOCUMENTS = "DOCUMENTS"
    APPROVAL = "APPROVAL"
    COMPENSATION = "COMPENSATION"
    PAYMENT = "PAYMENT"
    TASKS = "TASKS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


WAIT_STAGES = (Stage.DOCUMENTS, Stage.APPROVAL, Stage.PAYMENT, Stage.TASKS)
# The stages of one run in the order the state machine goes through them (stepfunctions/case_workflow.asl.json);
# a run that failed (FAILED) is past none of them: only a new run goes on from there.
RUN_ORDER = (
    Stage.INITIATED, Stage.ASSIGNED, Stage.DOCUMENTS, Stage.APPROVAL, Stage.COMPENSATION, Stage.PAYMENT, Stage.TASKS,
    Stage.COMPLETED,
)
# While a stage waits, the case shows this status; any other wait shows the case at work (IN_PROGRESS), so a case
# whose documents came in leaves PENDING_DOCUMENTS (and its SLA clock runs again) even when no approval follows.
_WAIT_STATUS = {Stage.DOCUMENTS: CaseStatus.PENDING_DOCUMENTS, Stage.APPROVAL: CaseStatus.PENDING_APPROVAL}
# A case in one of these starts a run (new, reopened, or resumed after a failed run): it opens again. In any other
# status a case whose run has not ended is under way, and a new execution of its run carries it on.
_RUN_STARTS_FROM = (CaseStatus.NEW, CaseStatus.REOPENED, CaseStatus.NEEDS_ATTENTION)


def run_is_past(state: Optional[WorkflowState], stage: str) -> bool:
    """The case's run has gone past `stage`: a new execution resuming the run (its first was lost) passes the
    stage without writing, since the case is already where the stage would leave it."""
    if state is None or state.stage not in RUN_ORDER:
        return False
    return RUN_ORDER.index(state.stage) > RUN_ORDER.index(stage)


# A wait stage's condition: the output to resume it with, or None while it must wait.
Condition = Callable[[Case], Optional[dict[str, Any]]]
# A compensating step of a stage: (case_id, actor) -> what it undid, for the audit.
UndoStep = Callable[[str, str], list[str]]


class WorkflowResumer:
    """The StageResumer the services a wait stage waits on (tasks, approvals, payments, documents) are built
    with. They are built before the workflow, which takes their conditions; the workflow takes this resumer in
    its constructor too and answers through it. It breaks the one cycle of the graph: a decision resumes the
    stage that waits for it."""

    def __init__(self) -> None:
        self._workflow: Optional[WorkflowService] = None

    def attach(self, workflow: WorkflowService) -> None:
        self._workflow = workflow

    def resume_if_ready(self, case_id: str, stage: str) -> bool:
        if self._workflow is None:
            raise RuntimeError("no workflow service was built with this resumer")
        return self._workflow.resume_if_ready(case_id, stage)


class WorkflowService:
    def __init__(
        self,
        repository: CaseRepository,
        engine: Callable[[], WorkflowEngine],
        tokens: TokenStore,
        work: CaseWork,
        case_types: CaseTypeCatalog,
        wait_seconds: dict[str, int],
        clock: Clock = utc_now,
        conditions: Optional[Mapping[str, Condition]] = None,
        undo_steps: Sequence[UndoStep] = (),
        resumer: Optional[WorkflowResumer] = None,
        calendars: CalendarLookup = no_calendars,
    ) -> None:
        """
        Parameters
        ----------
        conditions
            What the wait stages wait for, by stage (approvals, payments, documents); TASKS waits for the case's
            required tasks, a stage with no condition waits until its timeout.
        undo_steps
            The compensating steps of the later stages, in the order the stages run (the saga runs them in
            reverse).
        resumer
            The resumer the services behind `conditions` were built with: it resumes through this service.
        calendars
            Looks up a case type's calendar: the SLA clock, stopped while the case waits for documents, runs again
            by working time on it.
        """
        self._repo, self._engine, self._tokens, self._work = repository, engine, tokens, work
        self._case_types = case_types
        self._wait_seconds, self._clock = wait_seconds, clock
        self._calendars = calendars
        self._conditions: dict[str, Condition] = {
            Stage.TASKS: lambda case: {} if self._work.open_required_tasks(case.id) == 0 else None,
            Stage.DOCUMENTS: lambda case: None,
            **(conditions or {}),
        }
        self._undo_steps = list(undo_steps)
        if resumer is not None:
            resumer.attach(self)

    # -- trigger -----------------------------------------------------------------------------

    def on_table_records(self, records: Iterable[dict[str, Any]]) -> list[str]:
        """Start a run for each newly inserted case; return the ids of records that failed."""
        failed = []
        for record in records:
            try:
                case_id = inserted_case_id(record)
                if case_id is not None:
                    self._engine().start(case_id, {"caseId": case_id})
            except Exception:  # a poison record must not block the others
                # A DynamoDB stream's partial batch response names records by their SequenceNumber.
                sequence = (record.get("dynamodb") or {}).get("SequenceNumber") or record.get("eventID")
                log.exception("could not start the workflow for stream record %s", sequence)
                failed.append(str(sequence))
        return failed

    # -- steps (Lambda tasks) ----------------------------------------------------------------

    def initiate(self, case_id: str, execution_id: str) -> dict[str, Any]:
        """The run starts: the case opens at stage INITIATED. A retry of this step finds it started by this
        execution and writes nothing; an execution resuming a run that was lost (the local system restarted)
        finds the run under way and only notes itself as the run's execution (see `_carry_on`)."""
        case = self._case(case_id)
        state = case.workflow
        if state is not None and state.execution_id == execution_id:
            pass  # a retry: this execution started the run already
        elif state is not None and case.status not in _RUN_STARTS_FROM and state.stage in RUN_ORDER[:-1]:
            case = self._carry_on(case, execution_id)
        else:
            runs = state.executions if state else []
            started = WorkflowState(
                stage=Stage.INITIATED, execution_id=execution_id, run=state.run if state else 1,
                executions=runs if execution_id in runs else [*runs, execution_id], updated_at=iso(self._clock()),
            )
            target = CaseStatus.OPEN if case.status in _RUN_STARTS_FROM else None
            case = self._move(
                case_id, status=target, workflow=started, event="WORKFLOW_STARTED",
                data={"executionId": execution_id}, seen=case,
            )
        case_type = self._case_types.of_case(case)
        return {
            "needsDocuments": bool(case.required_documents),
            "needsApproval": case_type.approval_required or case.compensation is not None,
            "hasCompensation": case.compensation is not None,
            "timeouts": {stage.lower(): self._wait_seconds[stage] for stage in WAIT_STAGES},
        }

    def _carry_on(self, case: Case, execution_id: str) -> Case:
        """A new execution carries on the case's run from its recorded stage: the case keeps its stage, status,
        version and history; only the execution is noted on it, so that a restart, a resume and the workflow
        view find the run's live execution."""

        def decide(current: Case) -> Decided[Case]:
            state = current.workflow
            if state is None or state.execution_id == execution_id:
                return None, current
            executions = state.executions if execution_id in state.executions else [*state.executions, execution_id]
            change = CaseChange(current, ACTOR, iso(self._clock()))
            change.note(workflow=state.model_copy(update={"execution_id": execution_id, "executions": executions}))
            return change, change.case

        return retrying(
            self._repo.apply, lambda: self._case(case.id), decide, f"case {case.id} is changing too fast; retry",
            first=case,
        )

    def reopen(self, principal: Principal, case: Case, payload: Any = None) -> Case:
        """A closed case opens again: a new run with fresh work (tasks, approvals) for it. A case closed after
        a rejection only by a supervisor or an admin, with a reason (domain/reopening.py)."""
        require(principal, Action.UPDATE_CASE)
        request = parse(ReopenRequest, payload if payload is not None else {})
        if case.status != CaseStatus.CLOSED:
            raise Conflict(f"only a closed case can be reopened; case {case.id} is {case.status.value}")
        outcome = closed_as(self._repo.list_events(case.id))
        check_may_reopen(principal, outcome, request)
        state = case.workflow or WorkflowState(stage=Stage.COMPLETED)
        reopened = self._move(
            case.id, status=CaseStatus.REOPENED, event="CASE_REOPENED",
            data={"by": principal.username, "reason": request.reason, "closedAs": outcome},
            workflow=state.model_copy(update={"run": state.run + 1, "stage": Stage.INITIATED}),
        )
        self._start_run(reopened)
        return reopened  # as the reopen wrote it: a re-read could already find the new run's first move

    def resume(self, principal: Principal, case: Case) -> Case:
        """Start a new run for a case whose run failed or was lost (supervisors, admins). After a failure
        the saga undid the run's work, so the new run does it again; after a loss nothing was undone,
        and the idempotent steps pass through what is done until they reach the recorded stage."""
        require(principal, Action.RESUME_WORKFLOW)
        state = case.workflow
        if case.status == CaseStatus.CLOSED or state is None or state.stage == Stage.COMPLETED:
            raise Conflict(f"case {case.id} has no run to resume")
        running = state.execution_id and self._engine().status(state.execution_id) == "RUNNING"
        if running and state.stage != Stage.FAILED:
            raise Conflict(f"case {case.id}'s run is still going (stage {state.stage})")
        if state.stage == Stage.FAILED:
            self._move(case.id, workflow=state.model_copy(update={"run": state.run + 1}), event="WORKFLOW_RESUMED",
                       data={"by": principal.username, "fromStage": state.stage})
        self._start_run(self._case(case.id))
        return self._case(case.id)

    def recover(self, case: Case) -> Optional[str]:
        """Start a run for an open case whose run the engine no longer has (e.g. the local system restarted
        and moto's executions are gone); returns the new run's id, or None when nothing was lost."""
        state = case.workflow
        if case.status == CaseStatus.CLOSED or (state and state.stage in (Stage.COMPLETED, Stage.FAILED)):
            return None
        if state and state.execution_id and self._engine().status(state.execution_id) == "RUNNING":
            return None
        return self._start_run(case)

    def _start_run(self, case: Case) -> str:
        runs = case.workflow.executions if case.workflow else []
        name = case.id if not runs else f"{case.id}-{len(runs) + 1}"
        return self._engine().start(name, {"caseId": case.id})

    def assign(self, case_id: str) -> dict[str, Any]:
        """The run's tasks and the case's move to IN_PROGRESS: one write (one request, one new version of the
        case). Idempotent: a retry finds the tasks there and the case moved."""

        def decide(case: Case) -> Decided[dict[str, Any]]:
            if run_is_past(case.workflow, Stage.ASSIGNED):
                return None, {"tasks": None}  # a resumed run: assigned before, its tasks are there
            now = self._clock()
            change = CaseChange(case, ACTOR, iso(now))
            tasks = self._work.create_within(change, now)  # their TASK_CREATED events come first, as the system's
            assigned = {"tasks": len(tasks)}
            moved = self._moved(
                change, now, event="TASKS_ASSIGNED", data=assigned, status=CaseStatus.IN_PROGRESS,
                stage=Stage.ASSIGNED, only_from=(CaseStatus.OPEN,),
            )
            return (change if moved or change.events else None), assigned

        return retrying(
            self._repo.apply, lambda: self._case(case_id), decide, f"case {case_id} is changing too fast; retry",
        )

    def wait(self, case_id: str, stage: str, token: str, execution_id: str) -> None:
        """A wait stage began: keep its token, show the waiting status, resume at once if already satisfied.
        An execution carrying a lost run on (see `initiate`) passes a stage the run went past at once and with
        no write, whatever happened since (a document deleted later did not send the run back either): with
        the condition's output, which the approval's choice reads (a decision, once made, stays final)."""
        if stage not in WAIT_STAGES:
            raise ValueError(f"unknown wait stage {stage}")
        case = self._case(case_id)
        if run_is_past(case.workflow, stage):
            # No one else resumes this token: people's actions resume the stage the case shows, a later one.
            self._engine().resume(token, self._conditions[stage](case) or {})
            return
        self._tokens.put(case_id, stage, token, execution_id)
        # Only from a working status: a wait re-entered after an escalation may find the decision made. The case
        # as read before the token was kept will do: a decision that lands meanwhile resumes through the token or
        # is seen by the condition, which reads its own store after the token is kept.
        moved = self._move(
            case_id, status=_WAIT_STATUS.get(stage, CaseStatus.IN_PROGRESS), stage=stage, event="WORKFLOW_WAITING",
            data={"stage": stage},
            only_from=(CaseStatus.IN_PROGRESS, CaseStatus.PENDING_DOCUMENTS), seen=case,
        )
        self._resume_if_ready(moved, stage)  # the case as the move stored it (or found it): no second read

    def resume_if_ready(self, case_id: str, stage: str) -> bool:
        """Resume the waiting stage when its condition holds; only one caller ever resumes it."""
        return self._resume_if_ready(self._case(case_id), stage)

    def _resume_if_ready(self, case: Case, stage: str) -> bool:
        case_id = case.id
        if case.workflow is None or case.workflow.stage != stage:
            return False
        output = self._conditions[stage](case)
        if output is None:
            return False
        token = self._tokens.take(case_id, stage)
        if token is None:
            return False  # someone else resumed it
        return self._engine().resume(token, output)

    def escalate(self, case_id: str, stage: str) -> dict[str, Any]:
        case = self._case(case_id)
        self._work.escalate(case_id, case.team, f"the {stage.lower()} stage is overdue")
        self._move(case_id, event="WORKFLOW_ESCALATED", data={"stage": stage})
        metrics.count(metrics.WORKFLOW_ESCALATIONS)
        return {"escalated": stage}

    def complete(self, case_id: str, outcome: str = "RESOLVED") -> dict[str, Any]:
        case = self._case(case_id)
        if outcome == "REJECTED":  # nothing is left to do on a rejected case
            self._work.cancel_open_tasks(case_id, ACTOR)
        if case.status != CaseStatus.CLOSED:
            if outcome != "REJECTED" and case.status != CaseStatus.RESOLVED:
                self._move(case_id, status=CaseStatus.RESOLVED, event="CASE_RESOLVED", data={})
            self._move(
                case_id, status=CaseStatus.CLOSED, stage=Stage.COMPLETED, event="CASE_CLOSED",
                data={"outcome": outcome},
            )
            metrics.count(metrics.CASES_CLOSED)
        return {"status": CaseStatus.CLOSED.value}

    def rollback(self, case_id: str, error: Optional[dict[str, Any]] = None) -> dict[str, Any]:
        """Saga: undo the run's partial work in reverse order (payments, approvals, then tasks), each
        step idempotent, and show on the case what was undone."""
        undone = [line for undo in reversed(self._undo_steps) for line in undo(case_id, ACTOR)]
        undone += [f"cancelled task {task_id}" for task_id in self._work.cancel_open_tasks(case_id, ACTOR)]
        for stage in WAIT_STAGES:
            self._tokens.take(case_id, stage)
        case = self._case(case_id)
        status = CaseStatus.NEEDS_ATTENTION if case.status != CaseStatus.CLOSED else None
        failure = error or {}
        self._move(case_id, status=status, stage=Stage.FAILED, event="WORKFLOW_FAILED",
                   data={"error": failure.get("Error"), "cause": str(failure.get("Cause", ""))[:500], "undone": undone})
        return {"undone": undone}

    # -- queries and commands for people ------------------------------------------------------

    def view(self, principal: Principal, case: Case) -> dict[str, Any]:
        require(principal, Action.READ_CASES)
        state = case.workflow
        if state is None:
            return {"stage": None, "executionId": None, "executions": [], "status": None, "history": []}
        engine = self._engine()
        return {
            "stage": state.stage, "executionId": state.execution_id, "executions": state.executions,
            "status": engine.status(state.execution_id) if state.execution_id else None,
            "history": engine.history(state.execution_id) if state.execution_id else [],
        }

    # -- internals ---------------------------------------------------------------------------

    def _case(self, case_id: str) -> Case:
        case = self._repo.get_case(case_id)
        if case is None:
            raise NotFound(f"case {case_id} not found")
        return case

    def _calendar(self, case: Case) -> Optional[Calendar]:
        """The calendar the case's SLA runs on; only a case whose clock is stopped needs it (to start it again)."""
        if case.sla_paused_at is None:
            return None
        return calendar_for(self._case_types.of_case(case), self._calendars)

    def _move(
        self, case_id: str, *, event: str, data: dict[str, Any], status: Optional[CaseStatus] = None,
        stage: Optional[str] = None, workflow: Optional[WorkflowState] = None,
        only_from: Optional[tuple[CaseStatus, ...]] = None, seen: Optional[Case] = None,
    ) -> Case:
        """Change status and/or workflow state with an audit event, re-reading on a lost race.
        A step repeated by a retry finds nothing left to change and writes nothing. `seen`: the case as the
        caller has just read it, for the first attempt (one read fewer: see `retrying`)."""

        def decide(case: Case) -> Decided[Case]:
            now = self._clock()
            change = CaseChange(case, ACTOR, iso(now))
            if not self._moved(change, now, event=event, data=data, status=status, stage=stage, workflow=workflow,
                               only_from=only_from):
                return None, case
            return change, change.case

        return retrying(
            self._repo.apply, lambda: self._case(case_id), decide, f"case {case_id} is changing too fast; retry",
            first=seen,
        )

    def _moved(
        self, change: CaseChange, now: datetime, *, event: str, data: dict[str, Any],
        status: Optional[CaseStatus] = None, stage: Optional[str] = None, workflow: Optional[WorkflowState] = None,
        only_from: Optional[tuple[CaseStatus, ...]] = None,
    ) -> bool:
        """Within `change`, the move `_move` makes, with its audit event; False when there is nothing to change."""
        case = change.read
        updates: dict[str, Any] = {}
        clock: dict[str, Any] = {}  # what the move does to the SLA clock, for the audit event
        if status is not None and case.status != status and (only_from is None or case.status in only_from):
            check_move(case.status, status)
            updates["status"] = status
            calendar = self._calendar(case)
            sla_updates, clock = clock_move(case, status, now, calendar)
            updates.update(sla_updates)
        pause = clock.get("slaPaused")
        if pause is not None:  # the clock runs again: the case's open tasks wait no longer either
            pause["tasks"] = self._work.postpone_open_tasks(
                change, datetime.fromisoformat(pause["from"]), datetime.fromisoformat(pause["to"]), calendar,
            )
        new_state = workflow or (
            case.workflow.model_copy(update={"stage": stage, "updated_at": change.at})
            if stage and case.workflow and case.workflow.stage != stage else None
        )
        if new_state is not None and new_state != case.workflow:
            updates["workflow"] = new_state
        if not updates and event not in ("WORKFLOW_ESCALATED",):
            return False
        moved = {"from": case.status.value, "to": updates["status"].value} if "status" in updates else {}
        body = {**data, **moved, **clock}
        if "workflow" in updates:
            body["stage"] = updates["workflow"].stage
        change.append(event, body)
        change.move(**updates)
        return True
