"""moto's SQS at the cost of the messages a request touches, not of the queue's backlog (moto 5.2.5, pinned).

The local system's webhook queue receives every integration event (a rule on the bus) and one poller drains
it. moto 5.2.5 decides a message's visibility through two datetime conversions per message (`unix_time_millis`
in `Message.visible` and `Message.delayed`, ~8 µs each), filters the whole queue that way every time it
looks at `Queue.messages`, and builds every queue attribute, three of them counts over the whole queue, for
each message it sends (`ContentBasedDeduplication`) and each message it receives (the retention period).
With a backlog, a 1-second long poll cost the poller 1-2 s of CPU and a `PutEvents` 0.1-0.5 s, so the poller
fell further behind as events arrived: the backlog, and the CPU of every case, grew with the cases created
(CMS_LOCAL_COSTS figures in bench/results.md).

Here each filter and count reads the clock once per call, and the retention check reads the queue's retention
period itself. The answers are moto's (tests/integration/test_moto_sqs.py compares them)."""
from __future__ import annotations

import threading
from typing import Any

from .moto_speedups import digest_of, refuse_changed

SOURCE_PINS = {  # sha256 of inspect.getsource() in moto 5.2.5: the replaced functions and what they imitate
    "Message.visible": "5129b573308de62a700c40541df76673710ff2303258839ac66990eb56f27f27",
    "Message.delayed": "e2fd48abf582683aa4630cbd95daef06deb9f6de33e002a89f8c3d8a3f334838",
    "Queue.messages": "03a531dbcbcf9aee2e61c7254c08946a499f5c57f2447a8f2e534aa85b067dea",
    "Queue.approximate_number_of_messages_delayed":
        "c3c1dadb0c42ed5f8f5e1fddc8384de67db2df9a4055504f10903bd0b55e8d2f",
    "Queue.approximate_number_of_messages_not_visible":
        "5dbecc4dda174358d2aefa96e4b769def47fd6bb2c315241c451e8518c3fabab",
    "SQSBackend.is_message_valid_based_on_retention_period":
        "cca23b94a5f3af9d9c5af1c09ee5e615017bdf6bd032301cb321c06c7e595d4b",
    "SQSBackend.get_queue_attributes": "58417223da457b5a0aac5ccc31b6646ed9b22c3b276a0f0d9fd5f3f13bd797ec",
}
_lock = threading.Lock()
_installed: dict[str, Any] = {}  # qualified name -> moto's original (also marks the patch as done)


def _originals() -> dict[str, Any]:
    from moto.sqs.models import Message, Queue, SQSBackend

    owners = {"Message": Message, "Queue": Queue, "SQSBackend": SQSBackend}
    found: dict[str, Any] = {}
    for qualified_name in SOURCE_PINS:
        owner, name = qualified_name.split(".")
        found[qualified_name] = _installed.get(qualified_name) or vars(owners[owner])[name]
    return found


def _source_of(member: Any) -> Any:
    return member.fget if isinstance(member, property) else member


def check_sqs_speedups() -> None:
    changed = [name for name, member in _originals().items() if digest_of(_source_of(member)) != SOURCE_PINS[name]]
    refuse_changed(changed, __name__)


def messages(queue: Any) -> list[Any]:
    """`Queue.messages`: the visible messages that are not delayed, in order."""
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]


def approximate_number_of_messages_delayed(queue: Any) -> int:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return sum(1 for m in queue._messages if now < m.delayed_until)


def approximate_number_of_messages_not_visible(queue: Any) -> int:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return sum(1 for m in queue._messages if not now > m.visible_at)


def is_message_valid_based_on_retention_period(backend: Any, queue_name: str, message: Any) -> bool:
    """As moto's, which reads the period through `get_queue_attributes` (every attribute of the queue)."""
    from moto.core.utils import unix_time

    retention_period = backend.get_queue(queue_name).message_retention_period
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # moto: False when <=


def install_sqs_speedups() -> None:
    """Replace the functions named in the module doc in this process (idempotent)."""
    from moto.sqs.models import Queue, SQSBackend

    with _lock:
        check_sqs_speedups()
        if _installed:
            return
        _installed.update(_originals())
        for name, replacement in (
            ("messages", messages),
            ("approximate_number_of_messages_delayed", approximate_number_of_messages_delayed),
            ("approximate_number_of_messages_not_visible", approximate_number_of_messages_not_visible),
        ):
            setattr(Queue, name, property(replacement))
        setattr(SQSBackend, "is_message_valid_based_on_retention_period", is_message_valid_based_on_retention_period)
