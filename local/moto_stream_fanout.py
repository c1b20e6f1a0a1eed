"""A DynamoDB stream record turned into Lambda's event text once, not once per mapped function (moto 5.2.5,
pinned).

moto's `StreamShard.add` hands each write's records to every event source mapping of the table's stream, and
`LambdaBackend.send_dynamodb_items` builds the event and dumps it to JSON for each of them: the case table has
four mapped functions, so every write was dumped four times (and parsed four times by local/lambdas.py's
dispatcher) inside the write's request, ~a third of a TransactWriteItems' CPU (cProfile of the running system,
issue 13). Here the text of the last records sent is kept (one slot for the process: a thread per waiting
execution would otherwise each keep its last write's records): the next mapping given the very same records (the
same objects, in the same order, from the same backend and stream) gets the same text object, and the
dispatcher parses a text it has just parsed only once. Writes take moto_atomic's one lock, so the mappings of
one write follow each other; a slot read by one thread and replaced by another only misses, never mixes: the
slot is one tuple, compared by identity. Building the event is moto's code, restated;
tests/integration/test_moto_stream_fanout.py compares the texts with moto's own."""
from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any, Callable

from .moto_speedups import digest_of, refuse_changed

SOURCE_PINS = {  # sha256 of inspect.getsource() in moto 5.2.5: the replaced function and the loop that calls it
    "LambdaBackend.send_dynamodb_items": "110b6aaa90f83e444de0a00aed3b624ae407e2de3a6dfc9c319b47fe16d10f32",
    "StreamShard.add": "357dc6da267e5dd7d46e18ee25d14b232a98679677906a2f02e4d454d1f11e03",
}
_lock = threading.Lock()
_installed: dict[str, Callable[..., Any]] = {}
_last_sent: tuple[Any, str, tuple[Any, ...], str] | None = None  # backend, source, records, their event's text


def _classes() -> dict[str, Any]:
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models.table import StreamShard

    return {"LambdaBackend": LambdaBackend, "StreamShard": StreamShard}


def _moto(qualified_name: str) -> Callable[..., Any]:
    owner, name = qualified_name.split(".")
    return _installed.get(qualified_name) or vars(_classes()[owner])[name]


def check_stream_fanout() -> None:
    refuse_changed([name for name, digest in SOURCE_PINS.items() if digest_of(_moto(name)) != digest], __name__)


def event_text(backend: Any, items: list[Any], source: str) -> str:
    """moto's event for `items`, as JSON text; the same text object again for the same records."""
    global _last_sent
    sent = _last_sent
    if (sent is not None and sent[0] is backend and sent[1] == source and len(sent[2]) == len(items)
            and all(kept is item for kept, item in zip(sent[2], items))):
        return sent[3]
    from moto.core.utils import unix_time

    records = []
    for item in items:
        record = item.to_json()
        dynamodb = dict(record["dynamodb"])  # moto's shallow copy: the stream record itself stays as it is
        if isinstance(dynamodb.get("ApproximateCreationDateTime"), datetime):
            dynamodb["ApproximateCreationDateTime"] = unix_time(dynamodb["ApproximateCreationDateTime"])
        records.append({
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record["eventVersion"],
            "eventSource": record["eventSource"],
            "awsRegion": backend.region_name,
            "dynamodb": dynamodb,
            "eventSourceARN": source,
        })
    text = json.dumps({"Records": records})
    _last_sent = (backend, source, tuple(items), text)
    return text


def send_dynamodb_items(self: Any, function_arn: str, items: list[Any], source: str) -> Any:
    func = self._lambdas.get_arn(function_arn)
    return func.invoke(event_text(self, items, source), {}, {})


def install_stream_fanout() -> None:
    """Replace `LambdaBackend.send_dynamodb_items` in this process (idempotent)."""
    with _lock:
        check_stream_fanout()
        if _installed:
            return
        backend = _classes()["LambdaBackend"]
        _installed["LambdaBackend.send_dynamodb_items"] = vars(backend)["send_dynamodb_items"]
        setattr(backend, "send_dynamodb_items", send_dynamodb_items)
