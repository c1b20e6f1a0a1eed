"""The webhook store's contract, on its in-memory twin and on DynamoDB: webhooks by id and all of them, a
delivery recorded once per (webhook, event), saved as it moves on, listed newest first, and the admins' pages
of a webhook's deliveries (services/webhooks.py over either store) cut alike."""
from __future__ import annotations

import pytest

from chalicelib.adapters.dynamo.webhooks import DynamoWebhookStore
from chalicelib.adapters.memory.webhooks import InMemoryWebhookStore
from chalicelib.domain.webhooks import Delivery, DeliveryStatus, StoredWebhook
from chalicelib.errors import InvalidInput
from chalicelib.services.webhooks import WebhookService
from tests.support import fields_of, principal


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
    assert [d.event_id for d in store.deliveries("wh_a", 10, None)] == ["e3", "e2", "e1"]
    assert [d.event_id for d in store.deliveries("wh_a", 2, None)] == ["e3", "e2"]
    assert store.deliveries("wh_a", 10, None)[-1].status == DeliveryStatus.DELIVERED
    assert [d.event_id for d in store.deliveries("wh_a", 10, ("2026-03-01T12:02:00Z", "e2"))] == ["e1"]
    assert store.deliveries("wh_a", 10, ("2026-03-01T12:01:00Z", "e1")) == []


def test_deliveries_page_newest_first_through_the_cursor_to_a_last_page_without_one(store):
    store.add(webhook("wh_a"))
    for minute in (7, 1, 5, 3, 2, 6, 4):
        store.start_delivery(delivery("wh_a", minute))
    store.start_delivery(delivery("wh_b", 8))
    service, admin = WebhookService(store, allow_loopback_http=False), principal("ada", "admin")
    pages, cursor = [], None
    for _ in range(5):
        page = service.deliveries(admin, "wh_a", 3, cursor)
        pages.append([d.event_id for d in page.items])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == [["e7", "e6", "e5"], ["e4", "e3", "e2"], ["e1"]]
    assert service.deliveries(admin, "wh_a", 7, None).next_cursor is None  # exactly one full page: no cursor


def test_a_cursor_of_another_webhook_or_a_bad_limit_is_refused_naming_it(store):
    for hook in ("wh_a", "wh_b"):
        store.add(webhook(hook))
        for minute in (1, 2):
            store.start_delivery(delivery(hook, minute))
    service, admin = WebhookService(store, allow_loopback_http=False), principal("ada", "admin")
    cursor = service.deliveries(admin, "wh_a", 1, None).next_cursor
    for hook, limit, page_cursor, field in (("wh_b", 1, cursor, "cursor"), ("wh_a", 1, "garbage", "cursor"),
                                            ("wh_a", 0, None, "limit"), ("wh_a", 101, None, "limit")):
        with pytest.raises(InvalidInput) as refused:
            service.deliveries(admin, hook, limit, page_cursor)
        assert fields_of(refused.value) == [field]
