"""Webhooks as admins manage them: register (the signing secret is answered once), list, delete, and read
a webhook's deliveries."""
from __future__ import annotations

import secrets
from typing import Callable, Optional, Protocol

from ..domain.access import Action, Principal, require
from ..domain.clock import Clock, iso, utc_now
from ..domain.webhooks import (
    Delivery, RegisteredWebhook, StoredWebhook, Webhook, WebhookRequest, check_url, new_secret,
)
from ..errors import NotFound

DELIVERIES_SHOWN = 50


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

    def deliveries(self, webhook_id: str, limit: int) -> list[Delivery]:
        """The newest `limit`, newest first."""


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

    def deliveries(self, principal: Principal, webhook_id: str) -> list[Delivery]:
        require(principal, Action.MANAGE_WEBHOOKS)
        if self._store.get(webhook_id) is None:
            raise NotFound(f"webhook {webhook_id} not found")
        return self._store.deliveries(webhook_id, DELIVERIES_SHOWN)
