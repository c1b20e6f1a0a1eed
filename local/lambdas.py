"""In-process Lambda: moto registers the functions, this module runs their code.

moto cannot run function code without Docker, so while the local system runs, the dispatcher takes the
place of `moto.awslambda.models.LambdaFunction.invoke` and calls the Chalice app's own handler of the
same name. Direct invokes and Step Functions Lambda tasks run synchronously, as on AWS. DynamoDB stream
batches (and `InvocationType=Event` invokes) go to a worker thread per function (in order for that function,
and independent of the others, as each event source mapping is on AWS), because moto delivers stream
records synchronously inside the DynamoDB write — while local/moto_atomic.py holds its DynamoDB lock — and
re-sends records until the invoke returns something truthy (facts in /work/shared/LOCAL_AWS.md).
A handler runs where its `Run` says: in this process (`run_in_process`, the default) or in the local system's
Lambda process (local/lambda_process.py), whose failures come back as `FunctionError`s.
"""
from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional

from chalice.app import DynamoDBEventConfig

from .faults import FaultRegistry, fault_message
from .iam_recorder import running
from .lambda_process import FunctionError
from .recent_event_ids import RecentEventIds

# The patched method and the stream delivery it relies on are moto internals of exactly this version.
MOTO_PIN = "5.2.5"
INVOKE_PARAMETERS = ("self", "body", "request_headers", "response_headers")
DEFAULT_BATCH_SIZE = 100
_SEEN_LIMIT = 200_000  # event IDs remembered for de-duplication; moto re-sends only recent ones
_ERRORS_KEPT = 100  # a long-running local system must not grow without bound
_QUEUED = b'{"queued": true}'  # truthy: moto clears the delivered records only after a truthy answer

log = logging.getLogger("local.lambdas")
# Runs function `name` on an event with its context's fields (`context_fields`) and returns its result.
Run = Callable[[str, Any, dict[str, Any]], Any]


class MotoPinError(RuntimeError):
    """The installed moto is not the one the dispatcher was written against."""


def check_moto() -> None:
    """Raise unless moto is the pinned version with the `LambdaFunction.invoke` the dispatcher replaces."""
    import moto
    from moto.awslambda.models import LambdaFunction

    if moto.__version__ != MOTO_PIN:
        raise MotoPinError(
            f"local/lambdas.py patches moto internals of moto {MOTO_PIN}, but moto {moto.__version__} is "
            f"installed: pin moto[server]=={MOTO_PIN} or re-check LambdaFunction.invoke and the stream delivery"
        )
    parameters = tuple(inspect.signature(LambdaFunction.invoke).parameters)
    if parameters != INVOKE_PARAMETERS:
        raise MotoPinError(f"moto's LambdaFunction.invoke{parameters} is not {INVOKE_PARAMETERS}: re-check the patch")


def lambda_function_names(app: Any) -> list[str]:
    """Every handler that runs as its own Lambda function (event handlers and `lambda_function`s), not routes."""
    names = [source.name for source in app.event_sources] + [fn.name for fn in app.pure_lambda_functions]
    return sorted(name for name in dict.fromkeys(names) if name in app.handler_map)


def stream_sources(app: Any) -> list[DynamoDBEventConfig]:
    return [source for source in app.event_sources if isinstance(source, DynamoDBEventConfig)]


def run_in_process(app: Any) -> Run:
    """Handlers called on the caller's thread, in this process (an injected app, `--lambdas-in-process`, no Redis)."""
    def run(name: str, event: Any, context: dict[str, Any]) -> Any:
        with running(name):  # its AWS calls are its own (local/iam_recorder.py)
            return app.handler_map[name](event, _context(context))

    return run


def context_fields(function: Any) -> dict[str, Any]:
    """What a handler's context object is built from, of moto's LambdaFunction."""
    return {"function_name": function.function_name, "memory_size": int(function.memory_size),
            "timeout": int(function.timeout), "function_arn": function.function_arn}


def reported(name: str, exc: Exception, what: str = "") -> tuple[str, str]:
    """Log a function's failure and return the (error type, message) Lambda reports for it."""
    if isinstance(exc, FunctionError):  # its traceback is in the Lambda process's log
        log.error("Lambda %s failed%s: %s", name, what, exc)
        return exc.error_type, exc.message
    log.exception("Lambda %s failed%s", name, what)
    return type(exc).__name__, str(exc)


@dataclass
class DispatchStats:
    invoked: int = 0  # synchronous invokes
    delivered: int = 0  # stream records handed to a handler
    duplicates: int = 0  # stream records moto sent again (dropped)
    failures: int = 0  # handler failures on the asynchronous path
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=_ERRORS_KEPT))  # the latest of them


@dataclass(frozen=True)
class _Job:
    function: Any  # moto's LambdaFunction: name, memory, timeout, ARN for the context
    events: tuple[dict[str, Any], ...] = ()
    # Stream records stay JSON text ({"Records": [...]}, as moto sent them) until their batch runs: a slow
    # consumer's queue held thousands of parsed batches (~100 MB at 800 cases, issue 13); text takes a third.
    stream_texts: tuple[str, ...] = ()
    stream_records: int = 0

    def payloads(self) -> tuple[dict[str, Any], ...]:
        if not self.stream_texts:
            return self.events
        return ({"Records": [record for text in self.stream_texts for record in json.loads(text)["Records"]]},)


_install_lock = threading.Lock()
_installed: Optional["LambdaDispatcher"] = None


class LambdaDispatcher:
    """`with LambdaDispatcher(app): ...` — every moto Lambda invoke in this process runs `app`'s handler."""

    def __init__(self, app: Any, run: Optional[Run] = None) -> None:
        """`run`: where handlers run (default: on the dispatching thread, in this process)."""
        self.app = app
        self.run = run or run_in_process(app)
        self.stats = DispatchStats()
        self.faults = FaultRegistry()  # tests make functions fail through it (local/faults.py)
        self._batch_sizes = {s.name: s.batch_size or DEFAULT_BATCH_SIZE for s in stream_sources(app)}
        self._seen = RecentEventIds(_SEEN_LIMIT)
        self._seen_lock = threading.Lock()
        # One queue and worker per function, started on its first job: a slow consumer (e.g. the data product's
        # publisher) never holds back another's records (e.g. the workflow's start).
        self._queues: dict[str, deque[Optional[_Job]]] = {}  # None: the stop signal
        self._workers: list[threading.Thread] = []
        self._accepting = False
        self._halted = False  # set by halt(): the workers take no further batch
        self._in_hand: dict[str, list[_Job]] = {}  # per function: the batches its worker took and has not finished
        self._pending = 0  # jobs queued or running
        # Also guards _queues, _in_hand, _workers, _accepting, _halted and the stats counters; notified on every
        # change of them (the workers wait on it for jobs, drain() for none left).
        self._idle = threading.Condition()
        self._original: Optional[Callable[..., Any]] = None
        # Per function: fills in what moto leaves out of an event (e.g. an S3 record's versionId) before it is queued.
        self.event_fillers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        # The last stream batch's text and its parse (one slot, replaced whole: compared by identity). moto sends one
        # write's records to every mapped function as the very same text (local/moto_stream_fanout.py): parsed
        # once, read by each (never changed).
        self._last_batch: Optional[tuple[Any, list[dict[str, Any]]]] = None

    # -- lifecycle ---------------------------------------------------------------------------

    def install(self) -> None:
        global _installed
        from moto.awslambda.models import LambdaFunction
        from moto.core.models import default_user_config

        check_moto()
        if default_user_config.get("lambda", {}).get("use_docker", True) is False:
            # The "simple" Lambda backend answers invokes itself and never calls LambdaFunction.invoke.
            raise MotoPinError("moto's lambda.use_docker=False bypasses LambdaFunction.invoke; leave it unset")
        with _install_lock:
            if _installed is not None:
                raise RuntimeError("a LambdaDispatcher is already installed in this process")
            self._original = LambdaFunction.__dict__["invoke"]
            dispatcher = self

            def invoke(function: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
                return dispatcher.invoke(function, body, request_headers, response_headers)

            LambdaFunction.invoke = invoke
            _installed = self
        with self._idle:
            self._accepting = True

    def uninstall(self, drain_timeout: float = 10.0) -> None:
        global _installed
        from moto.awslambda.models import LambdaFunction

        if self._accepting or self._queues:
            if not self._halted and not self.drain(drain_timeout):
                log.warning("stopping with %d Lambda jobs still queued", self._pending)
            with self._idle:
                self._accepting = False
                queues, workers = list(self._queues.values()), list(self._workers)
                self._queues, self._workers = {}, []
                for jobs in queues:
                    jobs.append(None)
                self._idle.notify_all()
            deadline = time.monotonic() + drain_timeout
            for worker in workers:
                worker.join(timeout=max(0.0, deadline - time.monotonic()))
        with _install_lock:
            if _installed is self and self._original is not None:
                LambdaFunction.invoke = self._original
                _installed, self._original = None, None

    def __enter__(self) -> "LambdaDispatcher":
        self.install()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.uninstall()

    # -- what tests and the local system use ---------------------------------------------------

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued stream batch / async invoke has been handled (including the records those
        handlers' own writes produced, which are queued before their write returns). False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def stream_functions(self) -> frozenset[str]:
        return frozenset(self._batch_sizes)

    def halt(self) -> None:
        """The workers take no further batch (the one a worker is running ends): what is left is `backlog()`'s,
        for a snapshot to keep and the next start to `replay`."""
        with self._idle:
            self._halted = True

    def backlog(self) -> dict[str, list[dict[str, Any]]]:
        """Per stream function, the records not yet handled, in order: those queued, and those of the batches
        its worker took and has not finished (a batch running now runs again after a restart: at least once, as a
        stream's records after a Lambda's failure on AWS)."""
        backlog: dict[str, list[dict[str, Any]]] = {}
        with self._idle:
            for name, jobs in self._queues.items():
                if name not in self._batch_sizes:
                    continue  # S3 notifications and asynchronous invokes: not a stream's, nothing keeps them
                queued = [job for job in jobs if job is not None]
                records = [r for job in [*self._in_hand.get(name, []), *queued] for e in job.payloads()
                           for r in e.get("Records", [])]
                if records:
                    backlog[name] = records
        return backlog

    def replay(self, function: Any, records: list[dict[str, Any]]) -> None:
        """Queue `records` for `function` as if its stream had delivered them (a backlog saved at a stop)."""
        with self._seen_lock:
            for record in records:
                self._remember(function.function_name, str(record.get("eventID")))
        size = self._batch_sizes[function.function_name]
        for start in range(0, len(records), size):
            self._enqueue(_Job(function, ({"Records": records[start:start + size]},)))

    def skip_records(self, function_name: str, event_ids: Iterable[str]) -> None:
        """Mark stream records as handled by a function, e.g. those written before its mapping existed
        (StartingPosition LATEST: moto ignores it and would deliver the whole shard, restored snapshot included)."""
        with self._seen_lock:
            for event_id in event_ids:
                self._remember(function_name, event_id)

    # -- the patched LambdaFunction.invoke -----------------------------------------------------

    def invoke(self, function: Any, body: Any, request_headers: Any, response_headers: dict[str, Any]) -> bytes:
        name = function.function_name
        last = self._last_batch
        if name in self._batch_sizes and last is not None and last[0] is body:
            return self._enqueue_records(function, last[1], body)  # the records another function was just given
        try:
            event = json.loads(body) if body else {}
        except ValueError as exc:
            return _error(response_headers, "Runtime.InvalidPayload", str(exc))
        if name in self._batch_sizes and _is_stream_batch(event):
            self._last_batch = (body, event["Records"])
            return self._enqueue_records(function, event["Records"], body)  # never raises: see the module doc
        if (fill := self.event_fillers.get(name)) is not None:
            try:
                event = fill(event)
            except Exception:  # the handler still gets the event, as moto sent it
                log.exception("could not fill in the event for %s", name)
        # S3 notifications are asynchronous on AWS; moto sends them inside the upload request (no invocation type).
        invocation = _header(request_headers, "x-amz-invocation-type")
        if invocation == "Event" or (invocation is None and _is_s3_notification(event)):
            self._enqueue(_Job(function, (event,)))
            return b""
        handler = self.app.handler_map.get(name)
        if handler is None:
            return _error(response_headers, "Runtime.HandlerNotFound", f"the app has no handler named {name!r}")
        self.stats.invoked += 1
        if (fault := self.faults.take(name, event)) is not None:
            log.warning("Lambda %s: injected %s before the handler", name, fault.error)
            return _error(response_headers, fault.error, fault_message(fault))
        try:
            result = self.run(name, event, context_fields(function))
        except Exception as exc:  # noqa: BLE001 - logged by reported(); the caller decides, as on Lambda
            return _error(response_headers, *reported(name, exc))
        if (fault := self.faults.take(name, event, "after")) is not None:
            log.warning("Lambda %s: injected %s after the handler", name, fault.error)
            return _error(response_headers, fault.error, fault_message(fault))
        try:
            return json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            return _error(response_headers, "Runtime.MarshalError", f"Unable to marshal response: {exc}")

    def _enqueue_records(self, function: Any, records: list[dict[str, Any]], body: Any) -> bytes:
        try:
            with self._seen_lock:
                fresh = [r for r in records if self._remember(function.function_name, str(r.get("eventID")))]
                self.stats.duplicates += len(records) - len(fresh)
            size = self._batch_sizes[function.function_name]
            for start in range(0, len(fresh), size):
                chunk = fresh[start:start + size]
                # moto's own text when it is the whole of what moto sent (the usual case: one record per write)
                text = _text(body) if len(chunk) == len(records) else json.dumps({"Records": chunk})
                self._enqueue(_Job(function, stream_texts=(text,), stream_records=len(chunk)))
        except Exception:  # raising here would fail the DynamoDB write that carried the records
            log.exception("could not queue stream records for %s", function.function_name)
        return _QUEUED

    def _remember(self, function_name: str, event_id: str) -> bool:
        """True when `event_id` is new to the function (each function mapped to a stream gets every record).
        Caller holds `_seen_lock`."""
        return self._seen.remember(function_name, event_id)

    def _enqueue(self, job: _Job) -> None:
        name = job.function.function_name
        with self._idle:
            self._pending += 1
            jobs = self._queues.get(name)
            if jobs is None:
                jobs = self._queues[name] = deque()
                worker = threading.Thread(target=self._work, args=(name, jobs), name=f"lambda-{name}", daemon=True)
                self._workers.append(worker)
                worker.start()
            jobs.append(job)
            self._idle.notify_all()

    # -- the workers ---------------------------------------------------------------------------

    def _work(self, name: str, queued: deque[Optional[_Job]]) -> None:
        while True:
            with self._idle:  # taken and put in hand at once: backlog() sees every job in one place or the other
                self._idle.wait_for(lambda: bool(queued) or self._halted)
                if self._halted:
                    return
                jobs = list(queued)  # everything queued meanwhile is handled in this round
                queued.clear()
                work = [job for job in jobs if job is not None]  # None, the stop signal, can only be last
                batches = self._in_hand[name] = _batched(work, self._batch_sizes)
            try:
                for job in list(batches):
                    with self._idle:
                        if self._halted:
                            return  # what is left stays in hand: backlog() reports it
                    for event in job.payloads():
                        self._run_async(job.function, event)
                    with self._idle:
                        batches.pop(0)
            finally:
                with self._idle:
                    self._pending -= len(work)
                    self._idle.notify_all()
            if jobs[-1] is None:
                return

    def _run_async(self, function: Any, event: dict[str, Any]) -> None:
        name = function.function_name
        handler = self.app.handler_map.get(name)
        records = event.get("Records") if name in self._batch_sizes else None
        try:
            if handler is None:
                raise LookupError(f"the app has no handler named {name!r}")
            if (fault := self.faults.take(name, event)) is not None:
                raise InjectedFault(fault.error, fault_message(fault))
            result = self.run(name, event, context_fields(function))
            if (fault := self.faults.take(name, event, "after")) is not None:
                raise InjectedFault(fault.error, fault_message(fault))
        except Exception as exc:  # noqa: BLE001 - logged by reported() and counted; later records still run
            error_type, message = reported(name, exc, " on an asynchronous event")
            self._failed(f"{name}: {error_type}: {message}")
            return
        if records is not None:
            with self._idle:
                self.stats.delivered += len(records)
            failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
            if failures:  # AWS would retry these; locally the log is where a developer looks
                log.warning("Lambda %s reported batch item failures: %s", name, failures)
                self._failed(f"{name}: batchItemFailures {failures}")

    def _failed(self, description: str) -> None:
        with self._idle:  # the workers of several functions write these
            self.stats.failures += 1
            self.stats.errors.append(description)


class InjectedFault(RuntimeError):
    """A fault from the registry on the asynchronous path (logged and counted like a handler's error)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")


def _batched(jobs: list[_Job], batch_sizes: Mapping[str, int]) -> list[_Job]:
    """The jobs, with each stream function's queued records joined into batches of up to its batch size, in
    their order, as Lambda batches a stream's records: moto sends each write's record on its own, and one
    handler call per record kept the worker minutes behind the writes under load. Other jobs keep their place."""
    out: list[Any] = []
    open_batches: dict[str, list[Any]] = {}  # name: [function, texts, records]
    for job in jobs:
        name = job.function.function_name
        if name not in batch_sizes or not job.stream_texts:
            out.append(job)
            continue
        batch = open_batches.get(name)
        if batch is None or batch[2] + job.stream_records > batch_sizes[name]:
            batch = open_batches[name] = [job.function, [], 0]
            out.append(batch)
        batch[1].extend(job.stream_texts)
        batch[2] += job.stream_records
    return [item if isinstance(item, _Job) else _Job(item[0], stream_texts=tuple(item[1]), stream_records=item[2])
            for item in out]


def _text(body: Any) -> str:
    return body.decode() if isinstance(body, (bytes, bytearray)) else str(body)


def _is_stream_batch(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:dynamodb" for r in records  # type: ignore[union-attr]
    )


def _is_s3_notification(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:s3" for r in records  # type: ignore[union-attr]
    )


def _header(headers: Any, name: str) -> Optional[str]:
    """Header lookup for both werkzeug's case-insensitive headers (HTTP invokes) and plain dicts (moto's
    internal deliveries)."""
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _context(fields: dict[str, Any]) -> Any:
    """A handler's context object, as Chalice's local server builds one (`context_fields`)."""
    from chalice.local import LambdaContext

    context = LambdaContext(fields["function_name"], fields["memory_size"], max_runtime_ms=fields["timeout"] * 1000)
    context.invoked_function_arn = fields["function_arn"]
    return context


def _error(response_headers: dict[str, Any], error_type: str, message: str) -> bytes:
    response_headers["x-amz-function-error"] = "Unhandled"
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()
