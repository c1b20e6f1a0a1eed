"""In-memory twin of the DynamoDB case type store."""
from __future__ import annotations

import threading
from typing import Optional

from ...domain.case_types import CaseType
from ...ports import StartKey, StaleWrite
from .. import keyed_pages
from ..dynamo.keys import case_types_list
from ..keyed_pages import in_memory


class InMemoryCaseTypeStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heads: dict[str, CaseType] = {}
        self._versions: dict[tuple[str, int], CaseType] = {}

    def create(self, case_type: CaseType) -> bool:
        with self._lock:
            if case_type.id in self._heads:
                return False
            self._put(case_type)
            return True

    def publish(self, case_type: CaseType) -> None:
        with self._lock:
            head = self._heads.get(case_type.id)
            if head is None or head.version != case_type.version - 1:
                raise StaleWrite()
            self._put(case_type)

    def retire(self, case_type_id: str, version: int) -> CaseType:
        with self._lock:
            head = self._heads.get(case_type_id)
            if head is None or head.version != version:
                raise StaleWrite()
            retired = self._heads[case_type_id] = head.model_copy(update={"retired": True})
            return retired

    def current(self, case_type_id: str) -> Optional[CaseType]:
        with self._lock:
            return self._heads.get(case_type_id)

    def version(self, case_type_id: str, version: int) -> Optional[CaseType]:
        with self._lock:
            return self._versions.get((case_type_id, version))

    def current_page(self, limit: int, start_key: StartKey) -> tuple[list[CaseType], StartKey]:
        with self._lock:
            heads = list(self._heads.values())
        return keyed_pages.page(in_memory(heads), case_types_list(), limit, start_key)

    def _put(self, case_type: CaseType) -> None:
        self._heads[case_type.id] = case_type
        self._versions[(case_type.id, case_type.version)] = case_type
