"""SQS event sources, locally: the webhook delivery queue (and its dead-letter queue) fed by a rule on the
stage's bus, as the merged template declares them, and pollers per `@app.on_sqs_message` handler that do
what Lambda's SQS event source mapping does on AWS: receive a batch, call the handler with it, delete the
messages it did not report as failed (those become visible again after the queue's visibility timeout, and
after maxReceiveCount receives SQS moves them to the dead-letter queue).

moto's EventBridge delivers a rule's matching events to an SQS target itself (inside PutEvents), so the rule
is real; only Lambda's polling is played here, as local/lambdas.py plays its stream delivery."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

from chalice.app import SQSEventConfig

from chalicelib.domain.integration_events import SOURCE

from .lambdas import Run, reported, run_in_process

VISIBILITY_TIMEOUT = 30  # seconds: a batch the handler failed as a whole is received again after it
MAX_RECEIVES = 5  # then SQS dead-letters the message (the template's redrive policy)
POLL_WAIT_SECONDS = 1  # long polling, short enough to stop promptly
# Lambda's SQS event source starts with five pollers, each handing its batches to the function: one poller here
# fell behind the bus at 5 cases a second (it gets the interpreter's lock like any of thousands of threads), and
# the backlog made every SQS request cost more in moto (bench/results.md).
POLLERS = 5
WEBHOOK_QUEUE = "cms-local-webhooks"  # as the template's cms-<Stage>-webhooks (and the app's placeholder ARN)
DEAD_LETTER_QUEUE = "cms-local-webhook-failures"  # as the template's cms-<Stage>-webhook-failures

log = logging.getLogger("local.queues")


@dataclass(frozen=True)
class WebhookQueues:
    queue_url: str
    dead_letter_url: str


def provision_webhook_queues(
    sqs: Any, events: Any, bus_name: str, queue_name: str = WEBHOOK_QUEUE, dead_letter_name: str = DEAD_LETTER_QUEUE,
) -> WebhookQueues:
    """The delivery queue with its dead-letter queue, and the bus's rule that sends every integration event
    to it; created once (found by name on a second run)."""
    dead_letter_url = sqs.create_queue(QueueName=dead_letter_name)["QueueUrl"]
    redrive = {"deadLetterTargetArn": _arn(sqs, dead_letter_url), "maxReceiveCount": str(MAX_RECEIVES)}
    queue_url = sqs.create_queue(QueueName=queue_name, Attributes={
        "VisibilityTimeout": str(VISIBILITY_TIMEOUT), "RedrivePolicy": json.dumps(redrive),
    })["QueueUrl"]
    rule = f"{queue_name}-events"
    events.put_rule(Name=rule, EventBusName=bus_name, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule=rule, EventBusName=bus_name, Targets=[{"Id": "webhooks", "Arn": _arn(sqs, queue_url)}])
    return WebhookQueues(queue_url, dead_letter_url)


def _arn(sqs: Any, queue_url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def sqs_sources(app: Any) -> list[SQSEventConfig]:
    return [source for source in app.event_sources if isinstance(source, SQSEventConfig)]


class SqsPollers:
    """`POLLERS` threads per SQS-triggered handler of `app`, polling its queue (by the name the decorator gives,
    or the last part of its ARN); batches of one queue run concurrently, as on AWS."""

    def __init__(
        self, app: Any, sqs_factory: Callable[[], Any], region: str, function_arns: dict[str, str],
        backend: Any = None, run: Optional[Run] = None,
    ) -> None:
        """`backend`: the embedded moto's SQS backend of `region`, whose queues a poller waits on before it
        asks for messages: an idle long poll is a request (a few ms of CPU, the poller's and moto's) each
        POLL_WAIT_SECONDS per poller, waiting on the queue's condition is not, and a message sent wakes it.
        `run`: where the handler runs (local/lambdas.py; default: on the poller's thread)."""
        self.run = run or run_in_process(app)
        self.app, self._sqs_factory, self._region, self._arns = app, sqs_factory, region, function_arns
        self._backend = backend
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.failures = 0  # handler calls that raised (the batch is received again)
        self._failures_lock = threading.Lock()  # the pollers of a queue count them

    def start(self) -> "SqsPollers":
        for source in sqs_sources(self.app):
            for n in range(POLLERS):
                thread = threading.Thread(target=self._poll, args=(source,), name=f"sqs-{source.name}-{n}", daemon=True)
                thread.start()
                self._threads.append(thread)
        return self

    def request_stop(self) -> None:
        """No further poll: pollers waiting on a queue wake now (a long poll under way ends within
        POLL_WAIT_SECONDS, a batch under way is finished; stop() waits for them)."""
        self._stop.set()
        if self._backend is not None:
            for queue in list(self._backend.queues.values()):
                with queue._messages_lock:
                    queue._messages_lock.notify_all()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads = []

    def _poll(self, source: SQSEventConfig) -> None:
        sqs = self._sqs_factory()
        queue_url = sqs.get_queue_url(QueueName=source.queue or str(source.queue_arn).rsplit(":", 1)[-1])["QueueUrl"]
        queue_arn = _arn(sqs, queue_url)
        while not self._stop.is_set():
            try:
                if not self._visible_messages(queue_url):
                    continue
                messages = sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=min(10, source.batch_size or 10),
                    WaitTimeSeconds=POLL_WAIT_SECONDS, AttributeNames=["All"], MessageAttributeNames=["All"],
                ).get("Messages", [])
                if messages:
                    self._deliver(sqs, source.name, queue_url, queue_arn, messages)
            except Exception:  # moto stopping, or a bug here: keep polling until told to stop
                if not self._stop.is_set():
                    log.exception("polling the queue of %s failed", source.name)
                    self._stop.wait(1)

    def _visible_messages(self, queue_url: str) -> bool:
        """Whether a message is visible, waiting up to POLL_WAIT_SECONDS for one (always True without a backend:
        the long poll waits)."""
        if self._backend is None:
            return True
        queue = self._backend.get_queue(queue_url.rsplit("/", 1)[-1])
        # moto's own wait in its ReceiveMessage (Queue.wait_for_messages: its condition, notified on a send), which
        # request_stop also wakes: Ctrl-C does not wait out an idle poll.
        with queue._messages_lock:
            queue._messages_lock.wait_for(lambda: self._stop.is_set() or queue.messages, timeout=POLL_WAIT_SECONDS)
        return not self._stop.is_set() and bool(queue.messages)

    def _deliver(self, sqs: Any, name: str, queue_url: str, queue_arn: str, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [_record(message, queue_arn, self._region) for message in messages]}
        try:
            result = self.run(name, event, self._context(name))
        except Exception as exc:  # noqa: BLE001 - logged by reported()
            reported(name, exc, " on an SQS batch: it is received again")
            with self._failures_lock:
                self.failures += 1
            return
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done[start:start + 10])
            ])

    def _context(self, name: str) -> dict[str, Any]:
        return {"function_name": name, "memory_size": 512, "timeout": 60, "function_arn": self._arns.get(name)}


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A message as Lambda's SQS event source hands it to a function."""
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
