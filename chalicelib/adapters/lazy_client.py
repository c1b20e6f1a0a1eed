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
