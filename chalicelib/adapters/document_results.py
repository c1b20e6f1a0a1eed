"""The processor's results: `CASE#<caseId>` / `DOCRESULT#<documentId>#<versionId>`, attribute `result` (JSON)."""
from __future__ import annotations

import json
from typing import Any, Optional

from .dynamodb import TableModels, _translated


class DynamoProcessingResults:
    def __init__(self, models: TableModels) -> None:
        self._table = models.case._get_connection()

    def get(self, case_id: str, document_id: str, version_id: str) -> Optional[dict[str, Any]]:
        with _translated():
            item = self._table.get_item(
                f"CASE#{case_id}", f"DOCRESULT#{document_id}#{version_id}", consistent_read=True
            ).get("Item")
        return json.loads(item["result"]["S"]) if item and "result" in item else None


class InMemoryProcessingResults:
    def __init__(self) -> None:
        self.results: dict[tuple[str, str, str], dict[str, Any]] = {}

    def get(self, case_id: str, document_id: str, version_id: str) -> Optional[dict[str, Any]]:
        return self.results.get((case_id, document_id, version_id))
