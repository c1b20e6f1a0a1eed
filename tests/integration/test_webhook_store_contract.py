"""The webhook store's contract, on its in-memory twin and on DynamoDB: webhooks by id and all of them, a
delivery recorded once per (webhook, event), saved as it moves on, listed newest first."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo.webhooks import DynamoWebhookStore
from chalicelib.adapters.memory.webhooks import InMemoryWebhookStore
from chalicelib.domain.webhooks import Delivery, DeliveryStatus, StoredWebhook


@pytest.fixture(params=["memory", "dynamo"])
def store(request):
    if request.param == "memory":
        return InMemoryWebhookStore()
    return DynamoWebhookStore(request.getfixturevalue("dynamo_models"))


def webhook(webhook_id: str) -> StoredWebhook:
    return StoredWebhook(id=webhook_id, url="https://hooks.example.org/in", events=["case.created"],
                         created_at="2026-03-01T12:00:00.000Z", created_by="ada", secret="whsec_c2VjcmV0")


def delivery(webhook_id: str, minute: int, **changes) -> Delivery:
    return Delivery(webhook_id=webhook_id, event_id=f"e{minute}", event_type="case.created", case_id="c1",
                    event_time=f"2026-03-01T12:{minute:02d}:00Z", status=DeliveryStatus.PENDING, attempts=0).model_copy(
        update=changes)


def test_webhooks_are_kept_with_their_secret_listed_and_deleted(store):
    store.add(webhook("wh_b"))
    store.add(webhook("wh_a"))
    assert store.get("wh_a") == webhook("wh_a") and store.get("wh_x") is None
    assert [w.id for w in store.list_webhooks()] == ["wh_a", "wh_b"]
    assert store.delete("wh_a") is True and store.delete("wh_a") is False
    assert [w.id for w in store.list_webhooks()] == ["wh_b"]


def test_a_delivery_is_started_once_saved_as_it_moves_on_and_listed_newest_first(store):
    assert store.start_delivery(delivery("wh_a", 1)) is True
    assert store.start_delivery(delivery("wh_a", 1, attempts=5)) is False
    assert store.get_delivery("wh_a", "2026-03-01T12:01:00Z", "e1").attempts == 0
    store.save_delivery(delivery("wh_a", 1, status=DeliveryStatus.DELIVERED, attempts=1))
    store.start_delivery(delivery("wh_a", 3))
    store.start_delivery(delivery("wh_a", 2))
    store.start_delivery(delivery("wh_b", 4))
    assert [d.event_id for d in store.deliveries("wh_a", 10)] == ["e3", "e2", "e1"]
    assert [d.event_id for d in store.deliveries("wh_a", 2)] == ["e3", "e2"]
    assert store.deliveries("wh_a", 10)[-1].status == DeliveryStatus.DELIVERED
