"""Logs, traces and metrics for every function of the app, attached once as Chalice middleware.

Every log line of an invocation carries its correlation ids: the function and its request id, and for the
functions Step Functions calls the case, the execution and (documents) the document version, from the task's
input. Keys are kept per thread (Powertools' thread-safe keys): locally one process runs every function at
once. The code's own `logging` loggers (`chalicelib.*`, `cms.*`) write through the same JSON formatter, so their
lines carry the keys too. The Tracer annotates the invocation's trace with the case and execution; it is
off outside Lambda. Business metrics counted during the invocation are written out at its end.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger, Tracer
from chalice import ConvertToMiddleware
from chalice.app import Request

from .metrics import SERVICE, metrics

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)

# Task input fields that say what an invocation is about, and the log key each becomes.
CORRELATION_FIELDS = {"caseId": "case_id", "executionId": "execution_id", "documentId": "document_id",
                      "versionId": "version_id", "stage": "stage"}
TRACE_ANNOTATIONS = ("case_id", "execution_id")
LIBRARY_LOGGERS = ("chalicelib", "cms")  # the `logging` loggers of the code that ships (cms.cache: the read cache)
_cold_start = True


def attach(app: Any) -> None:
    """Once, where the app is defined: the Tracer's segment outermost, then the correlation ids and metrics."""
    def traced(handler: Callable[..., Any]) -> Callable[..., Any]:
        return tracer.capture_lambda_handler(handler, capture_response=False)  # responses hold case data

    app.register_middleware(ConvertToMiddleware(traced), "all")
    app.register_middleware(observe, "all")
    _route_library_logs()


def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    keys = correlation_keys(event)
    logger.thread_safe_append_keys(**keys)
    for name in TRACE_ANNOTATIONS:
        if name in keys:
            tracer.put_annotation(key=name, value=keys[name])
    try:
        return get_response(event)
    finally:
        publish_metrics(keys)
        logger.thread_safe_clear_keys()


def correlation_keys(event: Any) -> dict[str, Any]:
    """The ids of one invocation, from its Lambda context and (for direct invocations) its input."""
    global _cold_start
    context = event.lambda_context if isinstance(event, Request) else getattr(event, "context", None)
    keys: dict[str, Any] = {"cold_start": _cold_start}
    _cold_start = False
    if context is not None:
        keys["function_name"] = getattr(context, "function_name", None)
        keys["function_request_id"] = getattr(context, "aws_request_id", None)
    payload = getattr(event, "event", None)  # a `lambda_function`'s input
    if isinstance(payload, Mapping):
        keys.update({key: str(payload[field]) for field, key in CORRELATION_FIELDS.items() if payload.get(field)})
    return {key: value for key, value in keys.items() if value is not None}


def publish_metrics(keys: Mapping[str, Any]) -> None:
    """Write out the invocation's metrics (one EMF log line), with its ids as metadata to find its logs by."""
    if not metrics.metric_set:
        return
    for name in ("case_id", "execution_id", "function_request_id"):
        if name in keys:
            metrics.add_metadata(key=name, value=keys[name])
    metrics.flush_metrics()
    metrics.clear_metrics()  # flush keeps them when output is disabled (locally): they must not pile up


def _route_library_logs() -> None:
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        if logger.registered_handler not in library.handlers:
            library.addHandler(logger.registered_handler)
        library.setLevel(logger.log_level)
        library.propagate = False  # Lambda's root handler would print each line a second time, as plain text
