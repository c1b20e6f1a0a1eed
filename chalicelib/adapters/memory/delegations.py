"""In-memory twin of the DynamoDB delegation store."""
from __future__ import annotations

import threading
from typing import Optional

from ...domain.delegations import Delegation, DelegationLogEntry
from ...ports import StaleWrite


class InMemoryDelegationStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delegations: dict[str, Delegation] = {}
        self.logs: dict[str, list[DelegationLogEntry]] = {}

    def get_delegation(self, username: str) -> Optional[Delegation]:
        with self._lock:
            return self.delegations.get(username)

    def save_delegation(self, delegation: Delegation, entry: DelegationLogEntry) -> None:
        with self._lock:
            current = self.delegations.get(delegation.username)
            if (current.version if current else 0) != delegation.version - 1:
                raise StaleWrite()
            self.delegations[delegation.username] = delegation
            self.logs.setdefault(delegation.username, []).append(entry)

    def list_delegation_log(self, username: str, limit: int) -> list[DelegationLogEntry]:
        with self._lock:
            return list(reversed(self.logs.get(username, [])))[:limit]
