"""Webhooks and their deliveries on the cases table, each kept as its model's JSON (key formats: keys.py).
The webhooks of a stage are few: one partition holds them all, read whole for each event."""
from __future__ import annotations

from typing import Optional

from pynamodb.exceptions import DeleteError, PutError

from ...domain.webhooks import Delivery, DeliveryKey, StoredWebhook
from . import keys
from .errors import response_code, stored, translated
from .models import OnTable


class DynamoWebhookStore(OnTable):
    def add(self, webhook: StoredWebhook) -> None:
        with translated():
            self._m.event(keys.WEBHOOKS_KEY, keys.webhook_key(webhook.id), body=webhook.model_dump()).save()

    def get(self, webhook_id: str) -> Optional[StoredWebhook]:
        item = stored(self._m.event, keys.WEBHOOKS_KEY, keys.webhook_key(webhook_id))
        return StoredWebhook.model_validate(item.body) if item else None

    def list_webhooks(self) -> list[StoredWebhook]:
        item = self._m.event
        with translated():
            rows = item.query(keys.WEBHOOKS_KEY, item.sk.startswith(keys.WEBHOOK_PREFIX), consistent_read=True)
            return [StoredWebhook.model_validate(row.body) for row in rows]

    def delete(self, webhook_id: str) -> bool:
        item = self._m.event
        with translated():
            try:
                item(keys.WEBHOOKS_KEY, keys.webhook_key(webhook_id)).delete(condition=item.pk.exists())
            except DeleteError as exc:
                if response_code(exc) == "ConditionalCheckFailedException":  # there was none
                    return False
                raise
        return True

    def start_delivery(self, delivery: Delivery) -> bool:
        """Record a first delivery of an event to a webhook; False when one is recorded (the event came again)."""
        item = self._m.event
        row = item(keys.webhook_key(delivery.webhook_id), _delivery_sk(delivery), body=delivery.model_dump())
        with translated():
            try:
                row.save(condition=item.pk.does_not_exist())
            except PutError as exc:
                if response_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def get_delivery(self, webhook_id: str, event_time: str, event_id: str) -> Optional[Delivery]:
        item = stored(self._m.event, keys.webhook_key(webhook_id), keys.delivery_sk(event_time, event_id))
        return Delivery.model_validate(item.body) if item else None

    def save_delivery(self, delivery: Delivery) -> None:
        with translated():
            self._m.event(
                keys.webhook_key(delivery.webhook_id), _delivery_sk(delivery), body=delivery.model_dump(),
            ).save()

    def deliveries(self, webhook_id: str, limit: int, before: Optional[DeliveryKey]) -> list[Delivery]:
        """Newest first: the newest `limit` deliveries, or with `before` the newest `limit` older than it."""
        item = self._m.event
        partition = keys.webhook_key(webhook_id)
        start = None if before is None else {"PK": {"S": partition}, "SK": {"S": keys.delivery_sk(*before)}}
        with translated():
            rows = item.query(
                partition, item.sk.startswith(keys.DELIVERY_PREFIX), scan_index_forward=False,
                limit=limit, last_evaluated_key=start, consistent_read=True,
            )
            return [Delivery.model_validate(row.body) for row in rows]


def _delivery_sk(delivery: Delivery) -> str:
    return keys.delivery_sk(delivery.event_time, delivery.event_id)
