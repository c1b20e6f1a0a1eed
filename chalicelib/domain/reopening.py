"""Who may reopen a closed case. Any case worker may reopen a case that closed resolved; a case whose approval was
rejected is reopened only by a supervisor or an admin, with a reason: reopening it asks for the decision again,
so it is a decision about the rejection itself, recorded with its reason on the case's audit trail."""
from __future__ import annotations

from typing import Annotated, Iterable, Optional

from pydantic import Field, StringConstraints

from ..errors import FieldIssue, Forbidden, InvalidInput
from .access import Action, Principal, Role, require
from .base import NOT_BLANK, RequestModel
from .models import AuditEvent

REJECTED = "REJECTED"
_REOPEN_REJECTED = frozenset({Role.SUPERVISOR, Role.ADMIN})

Reason = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=NOT_BLANK)]


class ReopenRequest(RequestModel):
    reason: Optional[Reason] = Field(
        default=None, description="why the case opens again: required for a case closed after a rejection, "
                                  "recorded on the audit trail whenever given",
    )


def closed_as(events: Iterable[AuditEvent]) -> Optional[str]:
    """The outcome the case's last close recorded (`RESOLVED`, `REJECTED`), or None if it never closed."""
    outcome = None
    for event in events:
        if event.type == "CASE_CLOSED":
            outcome = event.data.get("outcome")
    return outcome


def check_may_reopen(principal: Principal, outcome: Optional[str], request: ReopenRequest) -> None:
    require(principal, Action.UPDATE_CASE)
    if outcome != REJECTED:
        return
    if not principal.roles & _REOPEN_REJECTED:
        raise Forbidden("only a supervisor or an admin may reopen a case whose approval was rejected")
    if request.reason is None:
        raise InvalidInput(
            "a reason is required to reopen a rejected case",
            [FieldIssue("reason", "required to reopen a case closed after its approval was rejected")],
        )
