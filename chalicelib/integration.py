"""Integration events and webhooks, wired: the part of the composition root (bootstrap.py) that builds the
event publisher, the webhooks' management and their delivery from settings of their own, read from the same
environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from .settings import Settings

if TYPE_CHECKING:
    from .services.integration_events import EventBus, IntegrationEventPublisher
    from .services.webhook_delivery import RetryQueue, Sender, WebhookDelivery
    from .services.webhooks import WebhookService, WebhookStore


@dataclass(frozen=True)
class EventSettings:
    bus_name: str  # the stage's EventBridge bus, cms-<stage>
    webhook_queue_url: Optional[str]  # the delivery queue the bus's rule feeds; retries go back on it
    webhook_dead_letter_url: Optional[str]  # deliveries that failed every attempt
    allow_loopback_http: bool  # webhooks may be http://127.0.0.1/... (the local stage); https only otherwise
    webhook_timeout_seconds: float  # a receiver's time to answer one attempt
    webhook_max_attempts: int
    webhook_retry_base_seconds: int  # the delay after the first failed attempt; doubles with each one

    @classmethod
    def from_env(cls, settings: Settings, environ: Mapping[str, str] = os.environ) -> "EventSettings":
        return cls(
            bus_name=environ.get("EVENT_BUS_NAME") or f"cms-{settings.stage}",
            webhook_queue_url=environ.get("WEBHOOK_QUEUE_URL") or None,
            webhook_dead_letter_url=environ.get("WEBHOOK_DLQ_URL") or None,
            allow_loopback_http=environ.get("WEBHOOK_ALLOW_HTTP_LOOPBACK", "false").lower() == "true",
            webhook_timeout_seconds=float(environ.get("WEBHOOK_TIMEOUT_SECONDS", "3")),
            webhook_max_attempts=int(environ.get("WEBHOOK_MAX_ATTEMPTS", "6")),
            webhook_retry_base_seconds=int(environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30")),
        )


@dataclass
class Integration:
    settings: EventSettings
    publisher: IntegrationEventPublisher
    webhooks: WebhookService
    delivery: WebhookDelivery


def build_integration(
    settings: Settings, in_memory: bool, bus: Optional[EventBus] = None, store: Optional[WebhookStore] = None,
    sender: Optional[Sender] = None, queue: Optional[RetryQueue] = None,
) -> Integration:
    """With `in_memory` (tests over in-memory stores) the bus, the webhook store and the retry queue are in
    memory too, unless given."""
    from .adapters.lazy_client import short_timeout_client_factory
    from .adapters.webhook_sender import HttpSender
    from .services.integration_events import IntegrationEventPublisher
    from .services.webhook_delivery import RetryPolicy, WebhookDelivery
    from .services.webhooks import WebhookService

    config = EventSettings.from_env(settings)

    def aws(service: str) -> Callable[[], Any]:
        return short_timeout_client_factory(service, settings.region, settings.endpoint_url)

    if in_memory:
        from .adapters.memory.event_bus import InMemoryEventBus
        from .adapters.memory.webhooks import InMemoryRetryQueue, InMemoryWebhookStore

        bus, store, queue = bus or InMemoryEventBus(), store or InMemoryWebhookStore(), queue or InMemoryRetryQueue()
    else:
        from .adapters.dynamo.models import table_models
        from .adapters.dynamo.webhooks import DynamoWebhookStore
        from .adapters.event_bus import EventBridgeBus
        from .adapters.sqs_queue import SqsRetryQueue

        bus = bus or EventBridgeBus(config.bus_name, aws("events"))
        store = store or DynamoWebhookStore(table_models(settings.table_name, settings.region, settings.endpoint_url))
        queue = queue or SqsRetryQueue(config.webhook_queue_url or "", config.webhook_dead_letter_url or "", aws("sqs"))
    return Integration(
        settings=config,
        publisher=IntegrationEventPublisher(bus),
        webhooks=WebhookService(store, config.allow_loopback_http),
        delivery=WebhookDelivery(
            store, sender or HttpSender(config.webhook_timeout_seconds), queue,
            RetryPolicy(config.webhook_max_attempts, config.webhook_retry_base_seconds),
        ),
    )
