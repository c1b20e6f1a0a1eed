"""Task tokens of waiting workflow stages, stored as `CASE#<id>` / `TOKEN#<stage>` items."""
from __future__ import annotations

from typing import Any, Optional

from pynamodb.exceptions import DeleteError
from pynamodb.expressions.operand import Path

from . import keys
from .errors import translated
from .models import TableModels


class DynamoTokenStore:
    def __init__(self, models: TableModels) -> None:
        self._connection, self._table = models.connection, models.case.Meta.table_name

    def put(self, case_id: str, stage: str, token: str, execution_id: str) -> None:
        with translated():
            self._connection.put_item(
                self._table, keys.case_pk(case_id), keys.token_sk(stage),
                attributes={"token": {"S": token}, "executionId": {"S": execution_id}},
            )

    def take(self, case_id: str, stage: str) -> Optional[str]:
        # A conditional delete returning the old item: of two concurrent takers exactly one gets it.
        with translated():
            try:
                old = self._connection.delete_item(
                    self._table, keys.case_pk(case_id), keys.token_sk(stage), condition=Path("PK").exists(),
                    return_values="ALL_OLD",
                )
            except DeleteError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    return None
                raise
        return _token(old.get("Attributes"))

    def peek(self, case_id: str, stage: str) -> Optional[str]:
        with translated():
            item = self._connection.get_item(
                self._table, keys.case_pk(case_id), keys.token_sk(stage), consistent_read=True,
            )
        return _token(item.get("Item"))


def _token(item: Optional[dict[str, Any]]) -> Optional[str]:
    return item["token"]["S"] if item and "token" in item else None
