"""In-memory twin of the task token store."""
from __future__ import annotations

import threading
from typing import Optional


class InMemoryTokenStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tokens: dict[tuple[str, str], str] = {}

    def put(self, case_id: str, stage: str, token: str, execution_id: str) -> None:
        with self._lock:
            self.tokens[(case_id, stage)] = token

    def take(self, case_id: str, stage: str) -> Optional[str]:
        with self._lock:
            return self.tokens.pop((case_id, stage), None)

    def peek(self, case_id: str, stage: str) -> Optional[str]:
        return self.tokens.get((case_id, stage))
