"""In-memory twin of the webhook store."""
from __future__ import annotations

import threading
from typing import Any, Optional

from ...domain.webhooks import Delivery, DeliveryKey, StoredWebhook
from ..dynamo.keys import delivery_sk


class InMemoryWebhookStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._webhooks: dict[str, StoredWebhook] = {}
        self._deliveries: dict[tuple[str, str, str], Delivery] = {}

    def add(self, webhook: StoredWebhook) -> None:
        with self._lock:
            self._webhooks[webhook.id] = webhook

    def get(self, webhook_id: str) -> Optional[StoredWebhook]:
        with self._lock:
            return self._webhooks.get(webhook_id)

    def list_webhooks(self) -> list[StoredWebhook]:
        with self._lock:
            return [self._webhooks[key] for key in sorted(self._webhooks)]

    def delete(self, webhook_id: str) -> bool:
        with self._lock:
            return self._webhooks.pop(webhook_id, None) is not None

    def start_delivery(self, delivery: Delivery) -> bool:
        with self._lock:
            return self._deliveries.setdefault(_key(delivery), delivery) is delivery

    def get_delivery(self, webhook_id: str, event_time: str, event_id: str) -> Optional[Delivery]:
        with self._lock:
            return self._deliveries.get((webhook_id, event_time, event_id))

    def save_delivery(self, delivery: Delivery) -> None:
        with self._lock:
            self._deliveries[_key(delivery)] = delivery

    def deliveries(self, webhook_id: str, limit: int, before: Optional[DeliveryKey]) -> list[Delivery]:
        """In the table's order (adapters/dynamo/keys.py `delivery_sk`), newest first."""
        bound = None if before is None else delivery_sk(*before)
        with self._lock:
            mine = [d for (hook, _, _), d in self._deliveries.items() if hook == webhook_id]
        newest_first = sorted(mine, key=_sort_key, reverse=True)
        return [d for d in newest_first if bound is None or _sort_key(d) < bound][:limit]


def _sort_key(delivery: Delivery) -> str:
    return delivery_sk(delivery.event_time, delivery.event_id)


def _key(delivery: Delivery) -> tuple[str, str, str]:
    return delivery.webhook_id, delivery.event_time, delivery.event_id


class InMemoryRetryQueue:
    """Keeps what would be queued: (message, delay) retries and dead letters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retries: list[tuple[dict[str, Any], int]] = []
        self.dead_letters: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any], delay_seconds: int) -> None:
        with self._lock:
            self.retries.append((message, delay_seconds))

    def dead_letter(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.dead_letters.append(message)
