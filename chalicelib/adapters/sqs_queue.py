"""The webhook delivery queue on SQS: a retry goes back on it with a delay, a delivery that failed every
attempt goes to its dead-letter queue."""
from __future__ import annotations

import json
from typing import Any, Callable

from .lazy_client import LazyClient


class SqsRetryQueue:
    def __init__(self, queue_url: str, dead_letter_url: str, client_factory: Callable[[], Any]) -> None:
        self._queue_url, self._dead_letter_url = queue_url, dead_letter_url
        self._client = LazyClient(client_factory)

    def send(self, message: dict[str, Any], delay_seconds: int) -> None:
        self._client().send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(message),
                                    DelaySeconds=delay_seconds)

    def dead_letter(self, message: dict[str, Any]) -> None:
        self._client().send_message(QueueUrl=self._dead_letter_url, MessageBody=json.dumps(message))

