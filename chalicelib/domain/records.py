"""Records the stores keep beside the API's models: a team's round-robin cursor, an open task's due marker
and the replay record of an idempotent create."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class RoundRobinCursor:
    team: str
    last: Optional[str]  # the username given work last
    version: int  # 0: no cursor stored yet


@dataclass(frozen=True)
class DueMarker:
    """`DUE#<day>` / `<dueAt>#<taskId>`: an OPEN task due that day, removed once it is finished or escalated.
    A warning marker (`<dueAt>#<taskId>#WARNING`) is due when 80 % of the task's SLA window has passed and is
    removed once the task is finished or warned."""

    case_id: str
    task_id: str
    due_at: str  # when the sweep acts on the marker
    warning: bool = False

    @property
    def day(self) -> str:
        return self.due_at[:10]


@dataclass(frozen=True)
class IdempotencyRecord:
    owner: str
    key: str
    request_hash: str
    case_id: str
    issued_at: int  # epoch seconds; a stored record that expired by then may be replaced
    expires_at: int  # epoch seconds; the store deletes the record some time after this
