"""Integration events, wired: the part of the composition root (bootstrap.py) that builds the event publisher
from settings of its own, read from the same environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Optional

from .settings import Settings

if TYPE_CHECKING:
    from .services.integration_events import EventBus, IntegrationEventPublisher


@dataclass(frozen=True)
class EventSettings:
    bus_name: str  # the stage's EventBridge bus, cms-<stage>

    @classmethod
    def from_env(cls, settings: Settings, environ: Mapping[str, str] = os.environ) -> "EventSettings":
        return cls(bus_name=environ.get("EVENT_BUS_NAME") or f"cms-{settings.stage}")


@dataclass
class Integration:
    settings: EventSettings
    publisher: IntegrationEventPublisher


def build_integration(settings: Settings, in_memory: bool, bus: Optional[EventBus] = None) -> Integration:
    """With `in_memory` (tests over in-memory stores) the bus is in memory too, unless one is given."""
    from .adapters.lazy_client import short_timeout_client_factory
    from .services.integration_events import IntegrationEventPublisher

    config = EventSettings.from_env(settings)
    if bus is None:
        if in_memory:
            from .adapters.memory.event_bus import InMemoryEventBus

            bus = InMemoryEventBus()
        else:
            from .adapters.event_bus import EventBridgeBus

            bus = EventBridgeBus(
                config.bus_name, short_timeout_client_factory("events", settings.region, settings.endpoint_url),
            )
    return Integration(settings=config, publisher=IntegrationEventPublisher(bus))
