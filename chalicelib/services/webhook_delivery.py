"""Delivering integration events to webhooks, off the request path: the bus's rule puts every event on a queue,
and the delivery function takes each message from it. A message is either an event from the bus (delivered to
every webhook that wants its type: attempt 1) or a retry of one delivery (attempt n), which a failed attempt
queues with a growing delay; after the last attempt the delivery is dead-lettered.

Each delivery is recorded (status, attempts, last error) before its first attempt, and only once: an event that
comes again (a publisher's retry) finds its record and is not delivered again. Receivers are called in parallel
with a short timeout, so one that answers slowly or never costs the others nothing."""
from __future__ import annotations

import contextvars
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Optional, Protocol

from ..domain.clock import Clock, iso, utc_now
from ..domain.webhooks import Delivery, DeliveryStatus, StoredWebhook, sign
from .webhooks import WebhookStore

log = logging.getLogger(__name__)
USER_AGENT = "cms-webhooks/1"
MAX_ERROR_CHARS = 300
SQS_MAX_DELAY_SECONDS = 900


@dataclass(frozen=True)
class SendResult:
    status_code: Optional[int]  # None: no answer (refused, timed out)
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult: ...


class RetryQueue(Protocol):
    def send(self, message: dict[str, Any], delay_seconds: int) -> None:
        """Queue a retry of one delivery, visible after the delay."""

    def dead_letter(self, message: dict[str, Any]) -> None:
        """Keep a delivery that failed every attempt, for an operator to replay."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay_seconds: int = 30  # doubles with each attempt, up to SQS's longest delay

    def delay(self, attempt: int) -> int:
        """Seconds before the attempt after `attempt`."""
        return int(min(SQS_MAX_DELAY_SECONDS, self.base_delay_seconds * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class _Attempt:
    message_id: str
    webhook: StoredWebhook
    event: dict[str, Any]
    number: int
    delivery: Delivery


class WebhookDelivery:
    def __init__(
        self, store: WebhookStore, sender: Sender, queue: RetryQueue, policy: RetryPolicy = RetryPolicy(),
        clock: Clock = utc_now, unix_time: Callable[[], float] = time.time, parallel: int = 8,
    ) -> None:
        self._store, self._sender, self._queue, self._policy = store, sender, queue, policy
        self._clock, self._unix_time, self._parallel = clock, unix_time, parallel

    def handle(self, messages: list[tuple[str, str]]) -> list[str]:
        """Deliver what the queue's messages (id, body) ask for; return the ids of the messages to receive again
        (their store or queue was unreachable). A receiver's failure is not one: it is retried by a message of
        its own."""
        failed: set[str] = set()
        attempts: list[_Attempt] = []
        for message_id, body in messages:
            try:
                attempts += self._attempts(message_id, json.loads(body))
            except Exception:
                log.exception("could not read queue message %s", message_id)
                failed.add(message_id)
        if attempts:
            # Each attempt runs in the caller's context (its logging keys, tracing), one copy per thread.
            contexts = [contextvars.copy_context() for _ in attempts]
            with ThreadPoolExecutor(max_workers=min(self._parallel, len(attempts))) as pool:
                outcomes = pool.map(lambda job: job[0].run(self._safely, job[1]), zip(contexts, attempts))
                for attempt, outcome in zip(attempts, outcomes):
                    if not outcome:
                        failed.add(attempt.message_id)
        return [message_id for message_id, _ in messages if message_id in failed]

    # -- which deliveries a message asks for ---------------------------------------------------------

    def _attempts(self, message_id: str, message: dict[str, Any]) -> list[_Attempt]:
        if "retry" in message:
            return self._retry(message_id, message)
        event = message["detail"]  # an event from the bus, in EventBridge's envelope
        found = []
        for webhook in self._store.list_webhooks():
            if not webhook.wants(event["type"]):
                continue
            delivery = _first_delivery(webhook, event)
            if not self._store.start_delivery(delivery):
                known = self._store.get_delivery(webhook.id, event["time"], event["id"])
                if known is None or known.status != DeliveryStatus.PENDING:
                    continue  # the event came again: its delivery is under way or done
                delivery = known  # recorded, then the function stopped before the attempt
            found.append(_Attempt(message_id, webhook, event, 1, delivery))
        return found

    def _retry(self, message_id: str, message: dict[str, Any]) -> list[_Attempt]:
        retry, event = message["retry"], message["event"]
        webhook = self._store.get(retry["webhookId"])
        if webhook is None:
            return []  # deleted meanwhile
        delivery = self._store.get_delivery(webhook.id, event["time"], event["id"])
        number = int(retry["attempt"])
        if delivery is None or delivery.status != DeliveryStatus.RETRYING or delivery.attempts >= number:
            return []  # a copy of a retry already made
        return [_Attempt(message_id, webhook, event, number, delivery)]

    # -- one attempt ---------------------------------------------------------------------------------

    def _safely(self, attempt: _Attempt) -> bool:
        try:
            self._attempt(attempt)
            return True
        except Exception:
            log.exception("delivery of %s to webhook %s failed", attempt.event.get("id"), attempt.webhook.id)
            return False

    def _attempt(self, attempt: _Attempt) -> None:
        webhook, event, number = attempt.webhook, attempt.event, attempt.number
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(self._unix_time())
        result = self._sender.post(webhook.url, body, {
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": event["id"],
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(webhook.secret, event["id"], timestamp, body),
        })
        now = self._clock()
        update: dict[str, Any] = {
            "attempts": number, "last_attempt_at": iso(now), "last_status_code": result.status_code,
            "last_error": None if result.ok else (result.error or f"HTTP {result.status_code}")[:MAX_ERROR_CHARS],
            "next_attempt_at": None,
        }
        if result.ok:
            update["status"] = DeliveryStatus.DELIVERED
        elif number < self._policy.max_attempts:
            delay = self._policy.delay(number)
            self._queue.send({"retry": {"webhookId": webhook.id, "attempt": number + 1}, "event": event}, delay)
            update.update(status=DeliveryStatus.RETRYING, next_attempt_at=iso(now + timedelta(seconds=delay)))
        else:
            self._queue.dead_letter({"webhookId": webhook.id, "attempts": number, "lastError": update["last_error"],
                                     "event": event})
            update["status"] = DeliveryStatus.DEAD
        self._store.save_delivery(attempt.delivery.model_copy(update=update))


def _first_delivery(webhook: StoredWebhook, event: dict[str, Any]) -> Delivery:
    return Delivery(
        webhook_id=webhook.id, event_id=event["id"], event_type=event["type"], case_id=event["caseId"],
        event_time=event["time"], status=DeliveryStatus.PENDING, attempts=0,
    )
