"""In-memory twin of the last known customer records."""
from __future__ import annotations

import threading

from ...domain.customers import SourceRecord


class InMemoryLastKnownStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: dict[tuple[str, str], SourceRecord] = {}

    def load(self, customer_id: str) -> dict[str, SourceRecord]:
        with self._lock:
            return {product: record for (customer, product), record in self.records.items() if customer == customer_id}

    def save(self, customer_id: str, product: str, record: SourceRecord) -> None:
        with self._lock:
            kept = self.records.get((customer_id, product))
            if kept is None or kept.as_of < record.as_of:
                self.records[(customer_id, product)] = record

