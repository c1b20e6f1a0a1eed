"""Approval use cases: the APPROVAL wait stage's condition, decisions, the approvers' inbox.

Every change to an approval appends an audit event to the case's chain in the same transaction, conditional
on the case's audit head (and the approval's status and version), so a decision is taken once: a second
decision on the same approval is a Conflict, and the workflow is resumed once (its token store sees to that).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Callable, Iterable, Optional

from ..domain.access import Action, Principal, require
from ..domain.approvals import (
    APPROVER_QUEUE, Approval, ApprovalDetail, ApprovalStatus, Decision, DecisionRequest,
    approval_number, approvers_of, case_id_of, case_write, check_may_decide, decided, expired, fixed_levels, involved,
    levels_required, may_see, new_approval, outcome, require_reader,
)
from ..domain.approvals import ApprovalList, sees_whatever_the_case
from ..domain.case_types import CaseType
from ..domain.changes import CaseChange
from ..domain.clock import Clock, iso, utc_now
from ..domain.delegations import Delegation, check_covers, relied_on
from ..domain.models import Case, CaseStatus
from ..domain.tasks import user_inbox
from ..errors import Conflict, FieldIssue, InvalidInput, NotFound
from ..domain.queries import DEFAULT_PAGE
from ..ports import ApprovalStore, CaseRepository
from .case_types import CaseTypeCatalog
from . import cursor
from .validation import parse
from .workflow import Stage
from .retry import Decided, retrying
from .. import metrics

log = logging.getLogger(__name__)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ApprovalService:
    def __init__(
        self,
        repository: CaseRepository,
        store: ApprovalStore,
        case_types: CaseTypeCatalog,
        resume: Callable[[str, str], Any] = lambda case_id, stage: False,
        task_assignees: Callable[[str], Iterable[str]] = lambda case_id: (),
        on_reject: Callable[[str], list[str]] = lambda case_id: [],
        delegation_of: Callable[[str], Optional[Delegation]] = lambda username: None,
        clock: Clock = utc_now,
    ) -> None:
        """
        Parameters
        ----------
        resume
            `WorkflowService.resume_if_ready`, injected (the workflow is built after this service).
        task_assignees
            Who is assigned the case's tasks: they work on the case, so four-eyes keeps them from deciding it.
        on_reject
            What a rejection of the case would undo (e.g. the open tasks it cancels), shown to the approver.
        delegation_of
            A person's delegation as stored now (`DelegationService.current`): `onBehalfOf` needs one that
            covers the decision.
        """
        self._repo, self._store = repository, store
        self._case_types = case_types
        self._resume, self._task_assignees, self._on_reject = resume, task_assignees, on_reject
        self._delegation_of = delegation_of
        self._clock = clock

    # -- the workflow's side -------------------------------------------------------------------------

    def decision_if_final(self, case: Case) -> Optional[dict[str, Any]]:
        """The APPROVAL stage's condition: the run's final decision, or None while undecided, opening the
        first approval (idempotently) when the run has none pending."""
        run = _run(case)
        approvals = self._store.list_case_approvals(case.id)
        result = outcome(approvals, run)
        if result is None and not _pending(approvals, run):
            self._open(case.id)
        return result

    def approved_amount(self, case: Case) -> Optional[str]:
        """The amount the run's final approval approved (the compensation asked for), or None."""
        result = outcome(self._store.list_case_approvals(case.id), _run(case))
        return result.get("approvedAmount") if result and result["decision"] == "APPROVED" else None

    def approvers(self, case: Case) -> set[str]:
        """Who approved any level of the case's approvals, in any run (and for whom)."""
        return approvers_of(self._store.list_case_approvals(case.id))

    def expire_pending(self, case_id: str, actor: str) -> list[str]:
        """Saga step: expire the case's PENDING approvals (idempotent); what was undone, for the audit."""
        undone = []
        for approval in self._store.list_case_approvals(case_id):
            if approval.status == ApprovalStatus.PENDING and self._expire(case_id, approval.id, actor):
                undone.append(f"expired approval {approval.id}")
        return undone

    # -- queries -------------------------------------------------------------------------------------

    def list(
        self, principal: Principal, assignee: Optional[str] = None, status: Optional[str] = None,
        case_id: Optional[str] = None, limit: int = DEFAULT_PAGE, page_cursor: Optional[str] = None,
    ) -> ApprovalList:
        """Approvals the principal may see, a page at a time. Without `caseId` the inbox is listed: PENDING
        approvals in the approvers' queue and assigned to the principal (or, with `assignee`, to that user), oldest
        first; with it, the case's approvals by id. Filters and visibility apply while paging, so a page may be
        short of `limit` and still have a next one."""
        require_reader(principal)
        _check_filters(assignee, status, case_id)
        me = principal.username
        who = me if assignee == "me" else assignee
        bound_to = {"assignee": who, "status": status, "case": case_id, "me": me}
        if case_id is not None:
            candidates, next_cursor = cursor.paged(
                "case approvals", bound_to, limit, page_cursor,
                lambda size, start: self._store.case_approvals_page(case_id, size, start),
            )
        else:
            if status not in (None, ApprovalStatus.PENDING.value):
                raise InvalidInput(
                    "only pending approvals are listed across cases",
                    [FieldIssue("caseId", "required to list approvals that are no longer PENDING")],
                )
            inboxes = [user_inbox(who or me)] + ([APPROVER_QUEUE] if who in (None, me) else [])
            candidates, next_cursor = cursor.paged(
                "approval inbox", bound_to, limit, page_cursor,
                lambda size, start: self._store.inbox_page(inboxes, size, start),
            )
        wanted = [
            approval for approval in candidates
            if (status is None or approval.status.value == status) and (who is None or (
                approval.assignee == who
                or (who == me and approval.assignee is None and approval.status == ApprovalStatus.PENDING)
            ))
        ]
        # Only approvals the principal's role does not show are checked against their cases, read together.
        cases = self._repo.get_cases(
            {approval.case_id for approval in wanted if not sees_whatever_the_case(principal, approval)}
        )
        items = [
            approval for approval in wanted
            if sees_whatever_the_case(principal, approval)
            or (approval.case_id in cases and may_see(principal, cases[approval.case_id], approval))
        ]
        return ApprovalList(items=items, next_cursor=next_cursor)

    def get(self, principal: Principal, approval_id: str) -> ApprovalDetail:
        require_reader(principal)
        case, approval = self._visible(principal, approval_id)
        on_reject = self._on_reject(case.id) if approval.status == ApprovalStatus.PENDING else []
        return ApprovalDetail(**approval.model_dump(), on_reject=list(on_reject))

    # -- commands ------------------------------------------------------------------------------------

    def decide(self, principal: Principal, approval_id: str, payload: Any) -> Approval:
        require(principal, Action.DECIDE_APPROVAL)
        request = parse(DecisionRequest, payload)

        def decide(seen: tuple[Case, Approval]) -> Decided[Approval]:
            case, approval = seen
            if approval.status != ApprovalStatus.PENDING:
                by = f" by {approval.decided_by}" if approval.decided_by else ""
                raise Conflict(f"approval {approval.id} is already {approval.status.value}{by}")
            if case.status != CaseStatus.PENDING_APPROVAL:
                raise Conflict(f"case {case.id} is {case.status.value}, not awaiting approval")
            approvals = self._store.list_case_approvals(case.id)
            people = involved(case, self._task_assignees(case.id), self._repo.list_events(case.id))
            check_may_decide(approval, principal, request.on_behalf_of, people, approvals)
            moment = self._clock()
            delegation = None
            if request.on_behalf_of is not None:
                delegation = self._delegation_of(request.on_behalf_of)
                check_covers(delegation, request.on_behalf_of, principal.username, moment)
            levels = fixed_levels(approval, case, self._case_type(case))
            final = request.decision == Decision.REJECT or approval.level >= levels
            now = iso(moment)
            updated = decided(approval, request.decision, principal.username, request.on_behalf_of, now,
                              request.comment, final)
            opened = None
            if not final:
                opened = new_approval(case, _next_number(approvals), approval.level + 1, now, levels=levels)
            status = None
            if final:
                status = CaseStatus.APPROVED if request.decision == Decision.APPROVE else CaseStatus.REJECTED
            change = case_write(
                case, type="APPROVAL_DECIDED", actor=principal.username, at=now, status=status,
                data={
                    "approvalId": approval.id, "level": approval.level, "decision": updated.status.value,
                    "decidedBy": principal.username, "onBehalfOf": request.on_behalf_of,
                    "delegation": relied_on(delegation) if delegation is not None else None,
                    "comment": request.comment, "final": final, "opened": opened.id if opened else None,
                },
            )
            _replace(change, updated, approval)
            if opened is not None:
                change.put(opened)
            return change, updated

        # A lost race is read again: either the approval was decided meanwhile (409) or only the case moved.
        updated = retrying(
            self._repo.apply, lambda: self._visible(principal, approval_id), decide,
            f"case of approval {approval_id} is changing too fast; retry",
        )
        approved = request.decision == Decision.APPROVE
        metrics.count(metrics.APPROVALS_APPROVED if approved else metrics.APPROVALS_REJECTED)
        self._resume_safely(updated.case_id)
        return updated

    # -- internals -----------------------------------------------------------------------------------

    def _visible(self, principal: Principal, approval_id: str) -> tuple[Case, Approval]:
        case_id = case_id_of(approval_id)
        case = self._repo.get_case(case_id) if case_id else None
        approval = self._store.get_approval(case.id, approval_id) if case else None
        if case is None or approval is None or not may_see(principal, case, approval):
            raise NotFound(f"approval {approval_id} not found")
        return case, approval

    def _open(self, case_id: str) -> None:
        def decide(case: Optional[Case]) -> Decided[None]:
            if case is None or case.status != CaseStatus.PENDING_APPROVAL:
                return None, None  # only a case waiting for approval gets one
            run = _run(case)
            approvals = self._store.list_case_approvals(case_id)
            if outcome(approvals, run) is not None or _pending(approvals, run):
                return None, None  # decided, or opened by a concurrent caller
            approved_levels = [a.level for a in approvals if a.run == run and a.status == ApprovalStatus.APPROVED]
            level = max(approved_levels, default=0) + 1
            # The run's levels are fixed by its first approval: an expired one re-opened keeps them.
            earlier = [a for a in approvals if a.run == run]
            levels = fixed_levels(earlier[0], case, self._case_type(case)) if earlier \
                else levels_required(case, self._case_type(case))
            now = iso(self._clock())
            approval = new_approval(case, _next_number(approvals), level, now, levels=levels)
            change = case_write(
                case, type="APPROVAL_REQUESTED", actor="workflow", at=now,
                data={"approvalId": approval.id, "level": level, "levels": levels, "amount": approval.amount,
                      "currency": approval.currency},
            )
            change.put(approval)
            return change, None

        retrying(
            self._repo.apply, lambda: self._repo.get_case(case_id), decide,
            f"case {case_id} is changing too fast; retry",
        )

    def _expire(self, case_id: str, approval_id: str, actor: str) -> bool:
        def read() -> tuple[Optional[Case], Optional[Approval]]:
            return self._repo.get_case(case_id), self._store.get_approval(case_id, approval_id)

        def decide(seen: tuple[Optional[Case], Optional[Approval]]) -> Decided[bool]:
            case, approval = seen
            if case is None or approval is None or approval.status != ApprovalStatus.PENDING:
                return None, False
            now = iso(self._clock())
            change = case_write(case, type="APPROVAL_EXPIRED", actor=actor, at=now,
                                data={"approvalId": approval.id, "level": approval.level})
            _replace(change, expired(approval, actor, now), approval)
            return change, True

        return retrying(self._repo.apply, read, decide, f"case {case_id} is changing too fast; retry")

    def _case_type(self, case: Case) -> CaseType:
        return self._case_types.of_case(case)

    def _resume_safely(self, case_id: str) -> None:
        # The decision is stored; if the engine cannot be reached now, the stage re-checks its condition
        # when its wait times out, escalates and waits again, so the run is not lost.
        try:
            self._resume(case_id, Stage.APPROVAL)
        except Exception:
            log.exception("could not resume the approval stage of case %s", case_id)


def _replace(change: CaseChange, updated: Approval, read: Approval) -> None:
    """Write the approval only while it is still PENDING at the version read: a decision is taken once."""
    change.put(updated, expected=read.version, status=ApprovalStatus.PENDING.value)


def _run(case: Case) -> int:
    return case.workflow.run if case.workflow else 1


def _pending(approvals: Iterable[Approval], run: int) -> bool:
    return any(a.run == run and a.status == ApprovalStatus.PENDING for a in approvals)


def _next_number(approvals: Iterable[Approval]) -> int:
    return max((approval_number(a) for a in approvals), default=0) + 1


def _check_filters(assignee: Optional[str], status: Optional[str], case_id: Optional[str]) -> None:
    issues = []
    if assignee is not None and assignee != "me" and not _NAME.match(assignee):
        issues.append(FieldIssue("assignee", "must be `me` or a username"))
    if status is not None and status not in ApprovalStatus._value2member_map_:
        issues.append(FieldIssue("status", f"must be one of {', '.join(ApprovalStatus._value2member_map_)}"))
    if case_id is not None and not _NAME.match(case_id):
        issues.append(FieldIssue("caseId", "is not a case id"))
    if issues:
        raise InvalidInput("invalid approval filter", issues)
