"""Delegation of approvals: a person names who may decide approvals in their name (`onBehalfOf`) for a bounded
period. A decision names a delegator only where the delegator's delegation, as stored when the decision is
taken, is to the decider, not revoked, and covers that moment; the decision records which delegation it relied on.

One delegation per person, replaced by the next one they set; every set and revoke is kept in the person's
delegation log (never rewritten), so what was delegated when stays answerable after a revocation.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Optional

from pydantic import AwareDatetime, Field

from ..errors import FieldIssue, Forbidden
from .access import Action, Principal, Role, require
from .base import ApiModel, RequestModel
from .clock import ISO_FORM, iso
from .personnel import Username

# Long enough for a holiday or a parental leave's first months, short enough to be reviewed again.
MAX_PERIOD = timedelta(days=92)
LOG_SHOWN = 50  # the newest log entries a read shows


class DelegationRequest(RequestModel):
    to: Username = Field(description="who may decide approvals in this person's name")
    from_: AwareDatetime = Field(
        alias="from", description="ISO 8601 instant with its offset, e.g. 2026-03-01T08:00:00Z",
    )
    until: AwareDatetime = Field(
        description=f"ISO 8601 instant with its offset; at most {MAX_PERIOD.days} days after `from`",
    )


class Delegation(ApiModel):
    username: str = Field(description="the person whose approvals the delegate may decide")
    to: str
    from_: str = Field(alias="from", description=ISO_FORM)
    until: str = Field(description=ISO_FORM)
    set_by: str
    set_at: str
    revoked_by: Optional[str] = None
    revoked_at: Optional[str] = None
    version: int = Field(description="1 for the person's first delegation, +1 on every set or revoke")


class DelegationChange(str, Enum):
    SET = "DELEGATION_SET"
    REVOKED = "DELEGATION_REVOKED"


class DelegationLogEntry(ApiModel):
    """One set or revoke of a person's delegation, kept for good."""

    username: str
    seq: int = Field(description="the delegation's version this entry made")
    type: DelegationChange
    to: str
    from_: str = Field(alias="from")
    until: str
    actor: str
    at: str


class DelegationView(ApiModel):
    delegation: Optional[Delegation] = Field(description="the current delegation (revoked ones show who revoked them)")
    log: list[DelegationLogEntry] = Field(description=f"the newest {LOG_SHOWN} sets and revokes, newest first")


def check_may_manage(principal: Principal, username: str) -> None:
    """The person themselves, if they decide approvals, or an admin."""
    if principal.username == username:
        require(principal, Action.DECIDE_APPROVAL)  # only approvers have approvals to delegate
    elif Role.ADMIN not in principal.roles:
        raise Forbidden(f"only {username} or an admin may set or revoke {username}'s delegation")


def check_may_read(principal: Principal, username: str, current: Optional[Delegation]) -> None:
    """The person, their delegate, and those who read the personnel directory."""
    if principal.username == username or (current is not None and current.to == principal.username):
        return
    require(principal, Action.READ_PERSONNEL)


def request_issues(username: str, request: DelegationRequest, now: datetime) -> list[FieldIssue]:
    issues = []
    if request.to == username:
        issues.append(FieldIssue("to", "must name someone else: a person decides in their own name without delegating"))
    if request.until <= request.from_:
        issues.append(FieldIssue("until", "must be after `from`"))
    elif request.until - request.from_ > MAX_PERIOD:
        issues.append(FieldIssue("until", f"must be at most {MAX_PERIOD.days} days after `from`"))
    elif request.until <= now:
        issues.append(FieldIssue("until", "is already past"))
    return issues


def delegation_set(
    username: str, request: DelegationRequest, by: str, at: str, current: Optional[Delegation],
) -> tuple[Delegation, DelegationLogEntry]:
    version = (current.version if current else 0) + 1
    delegation = Delegation.model_validate({
        "username": username, "to": request.to, "from": iso(request.from_), "until": iso(request.until),
        "setBy": by, "setAt": at, "version": version,
    })
    return delegation, _logged(delegation, DelegationChange.SET, by, at)


def delegation_revoked(current: Delegation, by: str, at: str) -> tuple[Delegation, DelegationLogEntry]:
    revoked = current.model_copy(update={"revoked_by": by, "revoked_at": at, "version": current.version + 1})
    return revoked, _logged(revoked, DelegationChange.REVOKED, by, at)


def _logged(delegation: Delegation, change: DelegationChange, by: str, at: str) -> DelegationLogEntry:
    return DelegationLogEntry.model_validate({
        "username": delegation.username, "seq": delegation.version, "type": change, "to": delegation.to,
        "from": delegation.from_, "until": delegation.until, "actor": by, "at": at,
    })


def check_covers(delegation: Optional[Delegation], delegator: str, decider: str, at: datetime) -> None:
    """Raise Forbidden, saying why, unless `delegator` delegated to `decider` for the moment `at`."""
    if delegation is None:
        raise Forbidden(f"onBehalfOf: {delegator} has recorded no delegation")
    if delegation.revoked_at is not None:
        raise Forbidden(
            f"onBehalfOf: {delegator}'s delegation was revoked by {delegation.revoked_by} at {delegation.revoked_at}"
        )
    if delegation.to != decider:
        raise Forbidden(f"onBehalfOf: {delegator} delegated to someone else, not to {decider}")
    if at < _instant(delegation.from_):
        raise Forbidden(f"onBehalfOf: {delegator}'s delegation to {decider} starts at {delegation.from_}")
    if at >= _instant(delegation.until):
        raise Forbidden(f"onBehalfOf: {delegator}'s delegation to {decider} ended at {delegation.until}")


def relied_on(delegation: Delegation) -> dict[str, Any]:
    """What a decision records of the delegation it was taken under."""
    return {"from": delegation.from_, "until": delegation.until, "setBy": delegation.set_by,
            "setAt": delegation.set_at, "version": delegation.version}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
