"""The case lifecycle of API.md: which status may follow which. The workflow moves cases;
an illegal move is a Conflict (409), never a silent overwrite."""
from __future__ import annotations

from ..errors import Conflict
from .models import CaseStatus as S

OPEN_STATUSES = frozenset(
    {S.NEW, S.OPEN, S.IN_PROGRESS, S.PENDING_DOCUMENTS, S.PENDING_APPROVAL, S.APPROVED, S.REJECTED,
     S.COMPENSATION, S.RESOLVED, S.REOPENED}
)
_NEXT: dict[S, frozenset[S]] = {
    S.NEW: frozenset({S.OPEN}),
    S.OPEN: frozenset({S.IN_PROGRESS}),
    S.REOPENED: frozenset({S.OPEN, S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.PENDING_DOCUMENTS, S.PENDING_APPROVAL, S.RESOLVED}),
    S.PENDING_DOCUMENTS: frozenset({S.IN_PROGRESS, S.PENDING_APPROVAL, S.RESOLVED}),
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED}),
    S.APPROVED: frozenset({S.COMPENSATION, S.IN_PROGRESS, S.RESOLVED}),
    S.REJECTED: frozenset({S.CLOSED}),
    S.COMPENSATION: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.REOPENED}),
    # A failed or lost run leaves the case here; resuming puts it back where its stage says.
    S.NEEDS_ATTENTION: frozenset(OPEN_STATUSES - {S.NEW}),
}


def can_move(current: S, target: S) -> bool:
    if target == S.NEEDS_ATTENTION:
        return current in OPEN_STATUSES
    return target in _NEXT.get(current, frozenset())


def check_move(current: S, target: S) -> None:
    if current != target and not can_move(current, target):
        raise Conflict(f"a case cannot go from {current.value} to {target.value}")
