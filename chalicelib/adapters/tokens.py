"""Task tokens of waiting workflow stages, stored as `CASE#<id>` / `TOKEN#<stage>` items."""
from __future__ import annotations

import threading
from typing import Any, Optional

from pynamodb.exceptions import DeleteError
from pynamodb.expressions.operand import Path

from .dynamodb import TableModels, _translated


class DynamoTokenStore:
    def __init__(self, models: TableModels) -> None:
        self._table = models.case._get_connection()  # the table's shared connection

    def put(self, case_id: str, stage: str, token: str, execution_id: str) -> None:
        with _translated():
            self._table.put_item(
                f"CASE#{case_id}", f"TOKEN#{stage}",
                attributes={"token": {"S": token}, "executionId": {"S": execution_id}},
            )

    def take(self, case_id: str, stage: str) -> Optional[str]:
        # A conditional delete returning the old item: of two concurrent takers exactly one gets it.
        with _translated():
            try:
                old = self._table.delete_item(
                    f"CASE#{case_id}", f"TOKEN#{stage}", condition=Path("PK").exists(), return_values="ALL_OLD"
                )
            except DeleteError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    return None
                raise
        return _token(old.get("Attributes"))

    def peek(self, case_id: str, stage: str) -> Optional[str]:
        with _translated():
            item = self._table.get_item(f"CASE#{case_id}", f"TOKEN#{stage}", consistent_read=True)
        return _token(item.get("Item"))


def _token(item: Optional[dict[str, Any]]) -> Optional[str]:
    return item["token"]["S"] if item and "token" in item else None


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
