"""Logs, traces and metrics for every function of the app, attached once as Chalice middleware.

Every log line of an invocation carries its correlation ids: the function and its request id, and for the
functions Step Functions calls the case, the execution and (documents) the document version, from the task's
input. Keys are kept per thread (Powertools' thread-safe keys): locally one process runs every function at
once. The code's own `logging` loggers (`chalicelib.*`, `cms.*`) write through the same JSON formatter, so their
lines carry the keys too. Business metrics counted during the invocation are written out at its end.

Tracing is only loaded where it is on (a Lambda execution environment, X-Ray not turned off): there the
Tracer annotates the invocation's trace with the case and execution, and only botocore is patched, which
traces every AWS call, pynamodb's included (it calls botocore's client). Everywhere else the X-Ray SDK is
never imported: it costs a cold start ~40 ms with bytecode, and patching every library it knows imports each.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from chalice import ConvertToMiddleware
from chalice.app import Request

from .metrics import SERVICE, metrics

TRACED_LIBRARIES = ("botocore",)


def tracing_active() -> bool:
    """Powertools' own rule (a Lambda environment, not an emulator, POWERTOOLS_TRACE_DISABLED not set) and the
    X-Ray SDK's switch, which the local stage turns off."""
    env = os.environ
    return (
        bool(env.get("LAMBDA_TASK_ROOT"))
        and not env.get("AWS_SAM_LOCAL")
        and not env.get("AWS_CHALICE_CLI_MODE")
        and not resolve_truthy_env_var_choice(env=env.get("POWERTOOLS_TRACE_DISABLED", "false"))
        and env.get("AWS_XRAY_SDK_ENABLED", "true").lower() != "false"
    )


def _tracer() -> Tracer | None:
    if not tracing_active():
        return None
    active = Tracer(service=SERVICE, auto_patch=False)
    active.patch(TRACED_LIBRARIES)
    return active


logger = Logger(service=SERVICE)
tracer = _tracer()

# Task input fields that say what an invocation is about, and the log key each becomes.
CORRELATION_FIELDS = {"caseId": "case_id", "executionId": "execution_id", "documentId": "document_id",
                      "versionId": "version_id", "stage": "stage"}
TRACE_ANNOTATIONS = ("case_id", "execution_id")
LIBRARY_LOGGERS = ("chalicelib", "cms")  # the `logging` loggers of the code that ships (cms.cache: the read cache)
_cold_start = True


def attach(app: Any) -> None:
    """Once, where the app is defined: the Tracer's segment outermost, then the correlation ids and metrics."""
    if tracer is not None:
        active = tracer

        def traced(handler: Callable[..., Any]) -> Callable[..., Any]:
            return active.capture_lambda_handler(handler, capture_response=False)  # responses hold case data

        app.register_middleware(ConvertToMiddleware(traced), "all")
    app.register_middleware(observe, "all")
    _route_library_logs()


def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    keys = correlation_keys(event)
    logger.thread_safe_append_keys(**keys)
    if tracer is not None:
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
