"""In-memory twin of the processor's results."""
from __future__ import annotations

from typing import Any, Optional


class InMemoryProcessingResults:
    def __init__(self) -> None:
        self.results: dict[tuple[str, str, str], dict[str, Any]] = {}

    def get(self, case_id: str, document_id: str, version_id: str) -> Optional[dict[str, Any]]:
        return self.results.get((case_id, document_id, version_id))
