"""Ports of the case workflow: the orchestration engine (Step Functions) and the store of the
task tokens a waiting stage hands out. Tokens never leave the server."""
from __future__ import annotations

from typing import Any, Optional, Protocol


class WorkflowEngine(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start a run named `name` (idempotent: an existing run of that name is returned); its id."""

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        """Hand the waiting state its result; False when the token is no longer valid (timed out, done)."""

    def history(self, execution_id: str) -> list[dict[str, Any]]:
        """The run's state history: [{"state", "enteredAt", "exitedAt"|None}], oldest first."""

    def status(self, execution_id: str) -> Optional[str]:
        """RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED, or None when the engine has no such run."""


class TokenStore(Protocol):
    def put(self, case_id: str, stage: str, token: str, execution_id: str) -> None:
        """Remember the token of a waiting stage (a newer token for the same stage replaces it)."""

    def take(self, case_id: str, stage: str) -> Optional[str]:
        """Remove and return the stage's token atomically: of two concurrent takers, one gets it."""

    def peek(self, case_id: str, stage: str) -> Optional[str]: ...
