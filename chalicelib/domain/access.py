"""Who may do what: role checks (403) and record-level visibility (404 when not visible)."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..errors import Forbidden
from .models import Case, CaseStatus


class Role(str, Enum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"
    APPROVER = "approver"
    FINANCE = "finance"
    ADMIN = "admin"
    AUDITOR = "auditor"


class Action(str, Enum):
    READ_CASES = "read cases"
    CREATE_CASE = "create cases"
    UPDATE_CASE = "update cases"
    COMMENT = "comment on cases"
    DECIDE_APPROVAL = "decide approvals"
    CONFIRM_PAYMENT = "confirm compensation payments"
    MANAGE_PERSONNEL = "manage the personnel directory"
    READ_PERSONNEL = "read the personnel directory"
    READ_TASKS = "read tasks"
    WORK_TASKS = "work on tasks"
    REASSIGN_TASKS = "reassign tasks"
    RESUME_WORKFLOW = "resume a case's workflow"
    READ_DOCUMENTS = "read documents"
    UPLOAD_DOCUMENTS = "upload documents"
    DELETE_DOCUMENTS = "delete documents"
    EXPORT_DOCUMENTS = "export evidence"
    MANAGE_LEGAL_HOLD = "set or lift a legal hold"
    READ_CUSTOMERS = "read customer data"
    READ_DATA_PRODUCTS = "read data product descriptors"
    MANAGE_WEBHOOKS = "manage webhooks"
    MANAGE_CALENDARS = "define business calendars"
    MANAGE_CASE_TYPES = "create, publish and retire case types"


_ALLOWED: dict[Action, frozenset[Role]] = {
    Action.READ_CASES: frozenset(Role),
    Action.CREATE_CASE: frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN}),
    Action.UPDATE_CASE: frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN}),
    Action.COMMENT: frozenset(
        {Role.CASEWORKER, Role.SUPERVISOR, Role.APPROVER, Role.FINANCE, Role.ADMIN}
    ),
    Action.DECIDE_APPROVAL: frozenset({Role.APPROVER, Role.ADMIN}),
    Action.CONFIRM_PAYMENT: frozenset({Role.FINANCE, Role.ADMIN}),
    Action.MANAGE_PERSONNEL: frozenset({Role.ADMIN}),
    Action.READ_PERSONNEL: frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR}),
    Action.READ_TASKS: frozenset(Role),
    Action.WORK_TASKS: frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.APPROVER, Role.FINANCE, Role.ADMIN}),
    Action.REASSIGN_TASKS: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Action.RESUME_WORKFLOW: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Action.READ_DOCUMENTS: frozenset(Role),
    Action.UPLOAD_DOCUMENTS: frozenset({Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN}),
    Action.DELETE_DOCUMENTS: frozenset({Role.ADMIN}),
    Action.EXPORT_DOCUMENTS: frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR}),
    Action.MANAGE_LEGAL_HOLD: frozenset({Role.ADMIN}),
    # Every role works cases or reads them (auditors), and needs to know whose case it is.
    Action.READ_CUSTOMERS: frozenset(Role),
    Action.READ_DATA_PRODUCTS: frozenset(Role),
    Action.MANAGE_WEBHOOKS: frozenset({Role.ADMIN}),
    Action.MANAGE_CALENDARS: frozenset({Role.ADMIN}),
    Action.MANAGE_CASE_TYPES: frozenset({Role.ADMIN}),
}
# Roles that see every case; team roles see their team's cases; everyone sees cases they take part in.
_SEES_ALL = frozenset({Role.ADMIN, Role.AUDITOR})
_SEES_TEAM = frozenset({Role.SUPERVISOR, Role.CASEWORKER})


@dataclass(frozen=True)
class Principal:
    username: str
    groups: frozenset[str] = field(default_factory=frozenset)
    team: str | None = None

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(g) for g in self.groups if g in Role._value2member_map_)


@dataclass(frozen=True)
class Visibility:
    """What a principal may see, in a form a repository can turn into a query filter."""

    everything: bool
    team: str | None
    username: str


def require(principal: Principal, action: Action) -> None:
    if not principal.roles & _ALLOWED[action]:
        raise Forbidden(f"your role may not {action.value}")


def visibility(principal: Principal) -> Visibility:
    roles = principal.roles
    return Visibility(
        everything=bool(roles & _SEES_ALL),
        team=principal.team if roles & _SEES_TEAM else None,
        username=principal.username,
    )


def can_view(principal: Principal, case: Case) -> bool:
    return sees_as_worker(principal, case) or bool(awaits_role(case) & principal.roles)


def sees_as_worker(principal: Principal, case: Case) -> bool:
    """Visibility by role scope, team and participation (what listings filter on)."""
    scope = visibility(principal)
    if scope.everything:
        return True
    if scope.team is not None and case.team == scope.team:
        return True
    return principal.username in participants_of(case)


def awaits_role(case: Case) -> frozenset[Role]:
    """Roles whose decision the case is waiting for: they read it (details, documents, history) to decide,
    though they work on no team's cases. Not participants: four-eyes keeps deciders and workers apart."""
    if case.status == CaseStatus.PENDING_APPROVAL:
        return frozenset({Role.APPROVER})
    if case.status == CaseStatus.COMPENSATION:
        return frozenset({Role.FINANCE})
    return frozenset()


def participants_of(case: Case) -> set[str]:
    people = {case.created_by, *case.participants}
    if case.assignee:
        people.add(case.assignee)
    return people
