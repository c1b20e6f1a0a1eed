"""Webhooks as admins manage them: register (the signing secret is answered once), list, delete, and read
a webhook's deliveries."""
from __future__ import annotations

import secrets
from typing import Any, Callable, Optional, Protocol

from ..domain.access import Action, Principal, require
from ..domain.clock import Clock, iso, utc_now
from ..domain.webhooks import (
    Delivery, DeliveryKey, DeliveryList, RegisteredWebhook, StoredWebhook, Webhook, WebhookRequest, check_url,
    new_secret,
)
from ..errors import NotFound
from ..ports import InvalidStartKey, StartKey
from . import cursor

_MAX_KEY_PART_CHARS = 200  # an event's time and id are far shorter; a longer one came from no page of ours


class WebhookStore(Protocol):
    def add(self, webhook: StoredWebhook) -> None: ...

    def get(self, webhook_id: str) -> Optional[StoredWebhook]: ...

    def list_webhooks(self) -> list[StoredWebhook]: ...

    def delete(self, webhook_id: str) -> bool:
        """Whether there was one to delete."""

    def start_delivery(self, delivery: Delivery) -> bool:
        """Record an event's first delivery to a webhook; False when one is recorded already."""

    def get_delivery(self, webhook_id: str, event_time: str, event_id: str) -> Optional[Delivery]: ...

    def save_delivery(self, delivery: Delivery) -> None: ...

    def deliveries(self, webhook_id: str, limit: int, before: Optional[DeliveryKey]) -> list[Delivery]:
        """Newest first: the newest `limit` deliveries, or with `before` the newest `limit` older than it."""


def new_webhook_id() -> str:
    return "wh_" + secrets.token_hex(8)


class WebhookService:
    def __init__(
        self, store: WebhookStore, allow_loopback_http: bool, clock: Clock = utc_now,
        new_id: Callable[[], str] = new_webhook_id,
    ) -> None:
        """`allow_loopback_http`: http URLs to loopback are accepted (the local stage, whose receivers are there)."""
        self._store, self._allow_loopback_http, self._clock, self._new_id = store, allow_loopback_http, clock, new_id

    def register(self, principal: Principal, request: WebhookRequest) -> RegisteredWebhook:
        require(principal, Action.MANAGE_WEBHOOKS)
        webhook = StoredWebhook(
            id=self._new_id(), url=check_url(request.url, self._allow_loopback_http),
            events=list(dict.fromkeys(request.events)), created_at=iso(self._clock()), created_by=principal.username,
            secret=new_secret(),
        )
        self._store.add(webhook)
        return RegisteredWebhook.model_validate(webhook.model_dump())

    def list_webhooks(self, principal: Principal) -> list[Webhook]:
        require(principal, Action.MANAGE_WEBHOOKS)
        return [webhook.public() for webhook in self._store.list_webhooks()]

    def delete(self, principal: Principal, webhook_id: str) -> Webhook:
        """Stop deliveries to it (retries under way find it gone); its delivery records stay."""
        require(principal, Action.MANAGE_WEBHOOKS)
        webhook = self._store.get(webhook_id)
        if webhook is None or not self._store.delete(webhook_id):
            raise NotFound(f"webhook {webhook_id} not found")
        return webhook.public()

    def deliveries(self, principal: Principal, webhook_id: str, limit: int, page_cursor: Optional[str]) -> DeliveryList:
        """A page of the webhook's deliveries, newest first."""
        require(principal, Action.MANAGE_WEBHOOKS)
        if self._store.get(webhook_id) is None:
            raise NotFound(f"webhook {webhook_id} not found")

        def read(page_limit: int, start: StartKey) -> tuple[list[Delivery], StartKey]:
            # One more than asked: a cursor only when there is a next page.
            found = self._store.deliveries(webhook_id, page_limit + 1, _before(start))
            if len(found) <= page_limit:
                return found, None
            last = found[page_limit - 1]
            return found[:page_limit], {"eventTime": last.event_time, "eventId": last.event_id}

        items, next_cursor = cursor.paged("webhook-deliveries", {"webhook": webhook_id}, limit, page_cursor, read)
        return DeliveryList(items=items, next_cursor=next_cursor)


def _before(start: StartKey) -> Optional[DeliveryKey]:
    """The delivery a resume key names; InvalidStartKey unless it is one this listing issued."""
    if start is None:
        return None
    if set(start) != {"eventTime", "eventId"} or not all(_key_part(start[name]) for name in start):
        raise InvalidStartKey()
    return start["eventTime"], start["eventId"]


def _key_part(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_KEY_PART_CHARS
