"""Integration events and webhooks, wired: the part of the composition root (bootstrap.py) that builds the
event publisher, the webhooks' management and their delivery from the settings (settings.py: the bus, the
delivery queues, the receivers' timeout and the retry policy)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from .settings import Settings

if TYPE_CHECKING:
    from .services.integration_events import EventBus, IntegrationEventPublisher
    from .services.webhook_delivery import RetryQueue, Sender, WebhookDelivery
    from .services.webhooks import WebhookService, WebhookStore


@dataclass
class Integration:
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

        bus = bus or EventBridgeBus(settings.event_bus_name, aws("events"))
        store = store or DynamoWebhookStore(table_models(settings.table_name, settings.region, settings.endpoint_url))
        queue = queue or SqsRetryQueue(
            settings.webhook_queue_url or "", settings.webhook_dead_letter_url or "", aws("sqs"),
        )
    return Integration(
        publisher=IntegrationEventPublisher(bus),
        webhooks=WebhookService(store, settings.webhook_allow_loopback_http),
        delivery=WebhookDelivery(
            store, sender or HttpSender(settings.webhook_timeout_seconds), queue,
            RetryPolicy(settings.webhook_max_attempts, settings.webhook_retry_base_seconds),
        ),
    )
