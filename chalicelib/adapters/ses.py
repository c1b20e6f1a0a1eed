"""E-mail through Amazon SES (locally moto's, which keeps the messages: `python -m local mail`)."""
from __future__ import annotations

from typing import Any, Callable

from .lazy_client import LazyClient


class SesMailer:
    def __init__(self, sender: str, client_factory: Callable[[], Any]) -> None:
        """`sender`: a verified SES identity (a stage setting, NOTIFICATION_SENDER)."""
        self._sender, self._client = sender, LazyClient(client_factory)

    def send(self, to: str, subject: str, text: str) -> None:
        self._client().send_email(
            Source=self._sender, Destination={"ToAddresses": [to]},
            Message={
                "Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
            },
        )
