"""Webhooks: an admin subscribes a URL to integration event types; each event is delivered signed as the
Standard Webhooks convention says (https://www.standardwebhooks.com), retried with growing delays and
dead-lettered after the last attempt.

A delivery's headers: `webhook-id` (the event's id: the same on every attempt, so a receiver drops copies),
`webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature` = `v1,` + base64 of
HMAC-SHA256(key, `<id>.<timestamp>.<body>`), where the key is the base64 after the secret's `whsec_`."""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from enum import Enum
from typing import Annotated, Callable, Optional, Union
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints

from ..errors import FieldIssue, InvalidInput
from .base import ApiModel, ApiPage, RequestModel
from .clock import ISO_FORM
from .integration_events import EVENT_TYPES

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_URL_CHARS = 2048
LOOPBACK_NAMES = frozenset({"localhost"})
_ANY_EVENT_TYPE = "^(" + "|".join(t.replace(".", r"\.") for t in EVENT_TYPES) + ")$"
EventType = Annotated[str, StringConstraints(pattern=_ANY_EVENT_TYPE)]


class WebhookRequest(RequestModel):
    url: Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL_CHARS)] = Field(
        description="where events are POSTed: https (http only to loopback, and only where the stage allows it)",
    )
    events: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES),
                                    description="the integration event types to deliver")


class Webhook(ApiModel):
    id: str
    url: str
    events: list[str]
    created_at: str = Field(description=f"when it was registered: {ISO_FORM}")
    created_by: str = Field(description="username of the admin who registered it")


class RegisteredWebhook(Webhook):
    secret: str = Field(description="the signing secret (whsec_...): shown in this answer only, keep it")


class WebhookList(ApiModel):
    items: list[Webhook]


class StoredWebhook(Webhook):
    """A webhook as stored: with its secret, which no answer but the registration's shows."""

    secret: str

    def public(self) -> Webhook:
        return Webhook.model_validate(self.model_dump(exclude={"secret"}))

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


class DeliveryStatus(str, Enum):
    PENDING = "PENDING"  # recorded, not yet attempted
    RETRYING = "RETRYING"  # failed; the next attempt is queued
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"  # every attempt failed: dead-lettered


class Delivery(ApiModel):
    webhook_id: str
    event_id: str
    event_type: str
    case_id: str
    event_time: str = Field(description="the event's own time")
    status: DeliveryStatus
    attempts: int = Field(description="attempts made so far")
    last_error: Optional[str] = Field(default=None, description="why the last attempt failed")
    last_status_code: Optional[int] = Field(default=None, description="the receiver's last HTTP status, if any")
    last_attempt_at: Optional[str] = None
    next_attempt_at: Optional[str] = Field(default=None, description="when a RETRYING delivery is tried again")


DeliveryKey = tuple[str, str]  # a delivery's place in its webhook's list, newest last: (event_time, event_id)


class DeliveryList(ApiPage):
    items: list[Delivery] = Field(description="newest first")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value for one delivery attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_url(url: str, allow_loopback_http: bool) -> str:
    """The URL, if events may be sent there: https to a named host or a public address; plain http only to
    loopback and only with `allow_loopback_http` (the local stage). Never credentials in the URL."""
    def refuse(issue: str) -> InvalidInput:
        return InvalidInput(f"url {issue}", [FieldIssue("url", issue)])

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError:
        raise refuse("is not a URL") from None
    if not host:
        raise refuse("has no host")
    if parts.username or parts.password:
        raise refuse("must not carry credentials")
    loopback = host in LOOPBACK_NAMES or _is_address(host, lambda a: a.is_loopback)
    if parts.scheme == "http" and loopback and allow_loopback_http:
        return url
    if parts.scheme != "https":
        raise refuse("must use https" + (" (or http to loopback)" if allow_loopback_http else ""))
    if loopback or _is_address(host, lambda a: a.is_private or a.is_link_local or a.is_reserved):
        raise refuse("must name a public host")
    return url


Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def _is_address(host: str, test: Callable[[Address], bool]) -> bool:
    try:
        return bool(test(ipaddress.ip_address(host)))
    except ValueError:
        return False  # a name, not an address
