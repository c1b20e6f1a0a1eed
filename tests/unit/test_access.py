"""Role permissions (403) and record visibility (404 when not visible)."""
from __future__ import annotations

import pytest

from chalicelib.domain.access import Action, Role, can_view, require, visibility
from chalicelib.errors import Forbidden
from tests.support import new_case, principal

READ, CREATE, UPDATE, COMMENT = Action.READ_CASES, Action.CREATE_CASE, Action.UPDATE_CASE, Action.COMMENT

PERMITTED = {
    Role.CASEWORKER: {READ, CREATE, UPDATE, COMMENT},
    Role.SUPERVISOR: {READ, CREATE, UPDATE, COMMENT},
    Role.ADMIN: {READ, CREATE, UPDATE, COMMENT},
    Role.APPROVER: {READ, COMMENT},
    Role.FINANCE: {READ, COMMENT},
    Role.AUDITOR: {READ},
}
# Personnel and tasks.
_READ_TASKS, _WORK, _REASSIGN = Action.READ_TASKS, Action.WORK_TASKS, Action.REASSIGN_TASKS
for _role, _actions in {
    Role.CASEWORKER: {_READ_TASKS, _WORK},
    Role.SUPERVISOR: {_READ_TASKS, _WORK, _REASSIGN, Action.READ_PERSONNEL},
    Role.ADMIN: {_READ_TASKS, _WORK, _REASSIGN, Action.READ_PERSONNEL, Action.MANAGE_PERSONNEL},
    Role.APPROVER: {_READ_TASKS, _WORK},
    Role.FINANCE: {_READ_TASKS, _WORK},
    Role.AUDITOR: {_READ_TASKS, Action.READ_PERSONNEL},
}.items():
    PERMITTED[_role] = PERMITTED[_role] | _actions

# The data mesh: every role reads customer views and the case data product's descriptor.
for _role in Role:
    PERMITTED[_role] = PERMITTED[_role] | {Action.READ_CUSTOMERS, Action.READ_DATA_PRODUCTS}
# Webhooks (integration): admins only.
PERMITTED[Role.ADMIN] = PERMITTED[Role.ADMIN] | {Action.MANAGE_WEBHOOKS}
# Business calendars (issue 15): admins define them.
PERMITTED[Role.ADMIN] = PERMITTED[Role.ADMIN] | {Action.MANAGE_CALENDARS}
# Case types (configuration): admins only.
PERMITTED[Role.ADMIN] = PERMITTED[Role.ADMIN] | {Action.MANAGE_CASE_TYPES}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_permission_matrix(role, action):
    user = principal("u", role.value, team="general")
    if action in PERMITTED[role]:
        require(user, action)
    else:
        with pytest.raises(Forbidden):
            require(user, action)


@pytest.mark.parametrize("action", [CREATE, UPDATE, COMMENT])
def test_auditor_changes_nothing(action):
    with pytest.raises(Forbidden, match=action.value):
        require(principal("aud", "auditor"), action)


@pytest.mark.parametrize("role", ["approver", "finance"])
def test_approver_and_finance_comment_but_do_not_create(role):
    user = principal("u", role)
    require(user, COMMENT)
    with pytest.raises(Forbidden):
        require(user, CREATE)


@pytest.mark.parametrize("groups", [("visitor",), (), ("Caseworker",), ("admins",)])
def test_unknown_or_missing_group_may_not_even_read(groups):
    with pytest.raises(Forbidden):
        require(principal("zed", *groups), READ)


def test_roles_combine_across_groups():
    user = principal("u", "auditor", "caseworker", "visitor")
    assert user.roles == {Role.AUDITOR, Role.CASEWORKER}
    require(user, CREATE)


# -- visibility --------------------------------------------------------------------------------

CASE, _ = new_case(team="general", created_by="alice", assignee="carol", participants=["dave"])


@pytest.mark.parametrize(
    "user, visible",
    [
        (principal("root", "admin"), True),
        (principal("aud", "auditor"), True),
        (principal("erin", "caseworker", team="general"), True),
        (principal("sam", "supervisor", team="general"), True),
        (principal("frank", "caseworker", team="claims"), False),
        (principal("sue", "supervisor", team="claims"), False),
        (principal("alice", "caseworker", team="claims"), True),   # created it
        (principal("carol", "caseworker", team="claims"), True),   # assignee
        (principal("dave", "supervisor", team="claims"), True),    # participant
        (principal("ann", "approver", team="general"), False),     # approvers get no team view
        (principal("fin", "finance", team="general"), False),
        (principal("dave", "approver"), True),
        (principal("carol", "finance"), True),
        (principal("alice", "approver"), True),
    ],
    ids=lambda v: f"{v.username}:{'+'.join(sorted(v.groups))}@{v.team}" if hasattr(v, "username") else str(v),
)
def test_can_view(user, visible):
    assert can_view(user, CASE) is visible


@pytest.mark.parametrize("status, approver, finance", [
    ("IN_PROGRESS", False, False),
    ("PENDING_APPROVAL", True, False),
    ("COMPENSATION", False, True),
    ("CLOSED", False, False),
])
def test_the_role_a_case_waits_for_reads_it_meanwhile(status, approver, finance):
    case, _ = new_case(team="claims", status=status)
    assert can_view(principal("ann", "approver"), case) is approver
    assert can_view(principal("fin", "finance"), case) is finance
    assert not can_view(principal("frank", "caseworker", team="complaints"), case)


def test_team_roles_without_a_team_do_not_see_teamless_cases():
    teamless, _ = new_case(team=None, created_by="alice")
    assert not can_view(principal("erin", "caseworker"), teamless)
    assert can_view(principal("alice", "caseworker"), teamless)


def test_unassigned_case_is_not_visible_through_an_empty_assignee():
    unassigned, _ = new_case(team="general", created_by="alice", assignee=None)
    assert not can_view(principal("", "approver"), unassigned)


@pytest.mark.parametrize(
    "user, everything, team",
    [
        (principal("root", "admin", team="general"), True, None),
        (principal("aud", "auditor"), True, None),
        (principal("erin", "caseworker", team="general"), False, "general"),
        (principal("sam", "supervisor", team="claims"), False, "claims"),
        (principal("ann", "approver", team="general"), False, None),
        (principal("fin", "finance", team="general"), False, None),
    ],
)
def test_visibility_scope_for_repository_queries(user, everything, team):
    scope = visibility(user)
    assert (scope.everything, scope.team, scope.username) == (everything, team, user.username)

# Approvals and compensation.
PERMITTED[Role.APPROVER] |= {Action.DECIDE_APPROVAL}
PERMITTED[Role.FINANCE] |= {Action.CONFIRM_PAYMENT}
PERMITTED[Role.ADMIN] |= {Action.DECIDE_APPROVAL, Action.CONFIRM_PAYMENT}
PERMITTED[Role.SUPERVISOR] |= {Action.RESUME_WORKFLOW}
PERMITTED[Role.ADMIN] |= {Action.RESUME_WORKFLOW}
# Documents: everyone who sees the case reads its documents; case workers upload; admins delete and hold.
for _role in Role:
    PERMITTED[_role] |= {Action.READ_DOCUMENTS}
for _role in (Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN):
    PERMITTED[_role] |= {Action.UPLOAD_DOCUMENTS}
PERMITTED[Role.ADMIN] |= {Action.DELETE_DOCUMENTS, Action.MANAGE_LEGAL_HOLD}
# Evidence leaves the system only through supervisors, admins and auditors.
for _role in (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR):
    PERMITTED[_role] |= {Action.EXPORT_DOCUMENTS}
