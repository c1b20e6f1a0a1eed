"""The processor's results: `CASE#<caseId>` / `DOCRESULT#<documentId>#<versionId>`, attribute `result` (JSON)."""
from __future__ import annotations

import json
from typing import Any, Optional

from . import keys
from .errors import translated
from .models import TableModels


class DynamoProcessingResults:
    def __init__(self, models: TableModels) -> None:
        self._connection, self._table = models.connection, models.case.Meta.table_name

    def get(self, case_id: str, document_id: str, version_id: str) -> Optional[dict[str, Any]]:
        with translated():
            item = self._connection.get_item(
                self._table, keys.case_pk(case_id), keys.result_sk(document_id, version_id), consistent_read=True
            ).get("Item")
        return json.loads(item["result"]["S"]) if item and "result" in item else None
