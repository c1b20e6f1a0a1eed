"""A boto3 client built on first use, once, whichever thread asks first: never at import, so a cold start
pays only for the clients a request really uses."""
from __future__ import annotations

import threading
from typing import Any, Callable


class LazyClient:
    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            return self._client


def short_timeout_client_factory(service: str, region: str, endpoint_url: str | None) -> Callable[[], Any]:
    """A factory of a boto3 client that gives up soon (2 s to connect, 5 s to read, 3 attempts): for callers
    that a retry of their own covers (a stream batch, a queue message)."""

    def build() -> Any:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})
        return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)

    return build
