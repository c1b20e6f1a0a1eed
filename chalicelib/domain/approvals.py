"""Approvals: the decisions a case waits for before it is compensated or closed.

How many levels a case needs is the case type's policy (amount and priority); level 2 opens only once
level 1 approves, and a rejection at any level is final. Four-eyes: nobody decides a case they created or
work on, and the level-2 decider differs from the level-1 decider.

An approval id is `<caseId>-a<n>`, n counting the case's approvals (1, 2 for the first run's two levels):
unique per case, and the case id (and so the item's key) can be read back from it.
"""
from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Iterable, Optional

from pydantic import Field, StringConstraints

from ..errors import Conflict, Forbidden
from .base import NOT_BLANK
from .access import Principal, Role, participants_of, sees_as_worker, visibility
from .base import ApiModel, ApiPage, RequestModel
from .case_ids import CaseScopedIds
from .case_types import CaseType
from .changes import CaseChange
from .lifecycle import check_move
from .models import AuditEvent, Case, CaseStatus
from .personnel import Username

APPROVER_QUEUE = f"ROLE#{Role.APPROVER.value}"
_IDS = CaseScopedIds("a", max_digits=6)
_READERS = frozenset({Role.APPROVER, Role.ADMIN, Role.AUDITOR})
_DECISION_STATUSES = frozenset({
    CaseStatus.PENDING_APPROVAL, CaseStatus.APPROVED, CaseStatus.REJECTED, CaseStatus.COMPENSATION,
    CaseStatus.RESOLVED, CaseStatus.CLOSED,
})
_DECISION_STAGES = frozenset({"APPROVAL", "COMPENSATION", "PAYMENT"})
# Audit events that are not work on the case for four-eyes: reading it, asking about it, governing it, and
# the approval and payment steps themselves (else a level-1 approver would be barred from a later run).
_NOT_WORK = frozenset({
    "DOCUMENT_DOWNLOADED", "DOCUMENTS_EXPORTED", "COMMENT_ADDED", "LEGAL_HOLD_SET", "LEGAL_HOLD_RELEASED",
    "APPROVAL_REQUESTED", "APPROVAL_DECIDED", "APPROVAL_EXPIRED", "COMPENSATION_INSTRUCTED",
    "COMPENSATION_RESUMED", "PAYMENT_CONFIRMED", "PAYMENT_VOIDED", "PAYMENT_HELD",
})


class ApprovalStatus(str, Enum):
    """Where one approval level of a case stands; every status but PENDING is final."""

    PENDING = "PENDING"  # waiting for an approver's decision
    APPROVED = "APPROVED"  # an approver approved it
    REJECTED = "REJECTED"  # an approver rejected it
    EXPIRED = "EXPIRED"  # undecided when the workflow undid its run: no decision counts for it any more


class Decision(str, Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class Approval(ApiModel):
    id: str
    case_id: str
    level: int = Field(description="1, or 2 once level 1 approved a case its type's policy sends further")
    levels: Optional[int] = Field(
        default=None, description="how many levels the case's approval needs, fixed when its first level opened",
    )
    assignee: Optional[str] = Field(description="username, or null while the approval is in the approvers' queue")
    status: ApprovalStatus
    amount: Optional[str] = Field(description="the compensation asked for (decimal string), or null")
    currency: Optional[str] = None
    created_at: str
    decided_by: Optional[str] = None
    on_behalf_of: Optional[str] = Field(default=None, description="the approver the decider acted for (delegation)")
    decided_at: Optional[str] = None
    comment: Optional[str] = None
    final: bool = Field(default=False, description="this decision ended the case's approval")
    run: int = Field(default=1, description="the workflow run the approval belongs to")
    version: int


class ApprovalDetail(Approval):
    on_reject: list[str] = Field(default=[], description="what a rejection would undo, e.g. open tasks it cancels")


class ApprovalList(ApiPage):
    items: list[Approval]


Comment = Annotated[str, StringConstraints(min_length=1, max_length=2_000, pattern=NOT_BLANK)]


class DecisionRequest(RequestModel):
    decision: Decision
    comment: Optional[Comment] = None
    on_behalf_of: Optional[Username] = Field(
        default=None, description="decide for this named approver (delegation); both names are recorded"
    )


def case_write(
    case: Case, *, type: str, actor: str, at: str, data: dict[str, Any], status: Optional[CaseStatus] = None,
    stage: Optional[str] = None,
) -> CaseChange:
    """A change appending `type` to the case's audit chain; with `status` (checked against the lifecycle) or
    `stage`, moving the case too (a new version). Data records the move as the workflow's own events do."""
    change = CaseChange(case, actor, at)
    updates: dict[str, Any] = {}
    body = dict(data)
    if status is not None and status != case.status:
        check_move(case.status, status)
        updates["status"] = status
        body.update({"from": case.status.value, "to": status.value})
    if stage is not None and case.workflow is not None and case.workflow.stage != stage:
        updates["workflow"] = case.workflow.model_copy(update={"stage": stage, "updated_at": at})
        body["stage"] = stage
    change.append(type, body)
    if updates:
        change.move(**updates)
    return change


# -- ids and keys ----------------------------------------------------------------------------------


approval_id = _IDS.make
case_id_of = _IDS.case_of


def approval_number(approval: Approval) -> int:
    return _IDS.number_of(approval.id)


# -- policy ----------------------------------------------------------------------------------------


def levels_required(case: Case, case_type: CaseType) -> int:
    """Two levels when the compensation is above its currency's threshold or the priority is a risky one."""
    if case.compensation is not None:
        rules = case_type.currencies.get(case.compensation.currency)
        threshold = rules.second_level_above if rules else None
        if threshold is not None and Decimal(case.compensation.amount) > Decimal(threshold):
            return 2
    return 2 if case.priority in case_type.approval_policy.second_level_priorities else 1


def fixed_levels(approval: Approval, case: Case, case_type: CaseType) -> int:
    """The levels recorded when the approval opened; computed from the case only for an approval stored
    before they were recorded."""
    return approval.levels if approval.levels is not None else levels_required(case, case_type)


def priority_locked(case: Case) -> bool:
    """Priority and compensation decide the approval levels: from the moment the approval opens until the
    case closes they stay as they were decided on (a reopened case's new run may change them again)."""
    if case.status == CaseStatus.NEEDS_ATTENTION:  # a failed run keeps the lock of the stage it failed in
        return case.workflow is not None and case.workflow.stage in _DECISION_STAGES
    return case.status in _DECISION_STATUSES


def new_approval(
    case: Case, n: int, level: int, at: str, assignee: Optional[str] = None, levels: Optional[int] = None,
) -> Approval:
    return Approval(
        id=approval_id(case.id, n), case_id=case.id, level=level, levels=levels, assignee=assignee,
        status=ApprovalStatus.PENDING, amount=case.compensation.amount if case.compensation else None,
        currency=case.compensation.currency if case.compensation else None, created_at=at,
        run=case.workflow.run if case.workflow else 1, version=1,
    )


def decided(
    approval: Approval, decision: Decision, by: str, on_behalf_of: Optional[str], at: str, comment: Optional[str],
    final: bool,
) -> Approval:
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(f"approval {approval.id} is already {approval.status.value}")
    status = ApprovalStatus.APPROVED if decision == Decision.APPROVE else ApprovalStatus.REJECTED
    return approval.model_copy(update={
        "status": status, "decided_by": by, "on_behalf_of": on_behalf_of, "decided_at": at, "comment": comment,
        "final": final, "version": approval.version + 1,
    })


def expired(approval: Approval, by: str, at: str) -> Approval:
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(f"approval {approval.id} is already {approval.status.value}")
    return approval.model_copy(update={
        "status": ApprovalStatus.EXPIRED, "decided_by": by, "decided_at": at, "version": approval.version + 1,
    })


def outcome(approvals: Iterable[Approval], run: int) -> Optional[dict[str, Optional[str]]]:
    """The run's final decision as the workflow's APPROVAL stage hands it on, or None while undecided."""
    current = [a for a in approvals if a.run == run]
    if any(a.status == ApprovalStatus.REJECTED for a in current):
        return {"decision": "REJECTED"}
    for approval in current:
        if approval.status == ApprovalStatus.APPROVED and approval.final:
            return {"decision": "APPROVED", "approvedAmount": approval.amount}
    return None


# -- who may read and decide -----------------------------------------------------------------------


def require_reader(principal: Principal) -> None:
    if not principal.roles & _READERS:
        raise Forbidden("only approvers, admins and auditors may read approvals")


def may_see(principal: Principal, case: Case, approval: Approval) -> bool:
    """Those who may see the case; and approvers (whose role is to decide cases they do not work on) the
    approvals in their queue, assigned to them, or decided by or for them."""
    return sees_whatever_the_case(principal, approval) or sees_as_worker(principal, case)


def sees_whatever_the_case(principal: Principal, approval: Approval) -> bool:
    """`may_see` without reading the case: those who see every case, and approvers by their role. A listing
    reads the cases of only the approvals this leaves undecided."""
    if visibility(principal).everything:
        return True
    me = principal.username
    return Role.APPROVER in principal.roles and (
        approval.assignee in (None, me) or me in (approval.decided_by, approval.on_behalf_of)
    )


def involved(case: Case, task_assignees: Iterable[str] = (), events: Iterable[AuditEvent] = ()) -> set[str]:
    """Everyone who works on the case: its creator, assignee, participants, its tasks' assignees, and the actor
    of any of its audit events (edits, uploads, task work, reassignments, ...) that is not a read, a comment
    or a step of the decision itself. New kinds of events count as work until listed here."""
    actors = {event.actor for event in events if event.type not in _NOT_WORK}
    return participants_of(case) | {name for name in task_assignees if name} | actors


def approvers_of(approvals: Iterable[Approval]) -> set[str]:
    """Who approved (or had an approval taken for them) any level of the case: segregation of duties keeps
    them from confirming the payment of what they approved."""
    return {name for a in approvals if a.status == ApprovalStatus.APPROVED
            for name in (a.decided_by, a.on_behalf_of) if name}


def check_may_decide(
    approval: Approval, decider: Principal, on_behalf_of: Optional[str], involved_people: set[str],
    earlier: Iterable[Approval],
) -> None:
    """Raise Forbidden unless `decider` (acting for `on_behalf_of`, if named) may decide `approval`."""
    me = decider.username
    if on_behalf_of == me:
        raise Forbidden("onBehalfOf names yourself; leave it out to decide in your own name")
    if approval.assignee is not None and me != approval.assignee and on_behalf_of != approval.assignee \
            and Role.ADMIN not in decider.roles:
        raise Forbidden(
            f"approval {approval.id} is assigned to {approval.assignee}; decide with onBehalfOf "
            f"{approval.assignee!r} if they delegated it to you"
        )
    deciders = {me} | ({on_behalf_of} if on_behalf_of else set())
    conflicted = sorted(deciders & involved_people)
    if conflicted:
        raise Forbidden(
            f"four-eyes: {', '.join(conflicted)} created or works on this case and may not decide its approval"
        )
    for other in earlier:
        if other.id == approval.id or other.run != approval.run or other.level >= approval.level:
            continue
        if other.status == ApprovalStatus.APPROVED and deciders & {other.decided_by, other.on_behalf_of}:
            raise Forbidden(
                f"four-eyes: level {approval.level} must be decided by someone other than the level "
                f"{other.level} approver"
            )
